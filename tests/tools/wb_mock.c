/* wb_mock.c - a standalone librdkafka mock Kafka cluster for tests and benchmarks.
 *
 * The cluster lives in this process, so a bridge under test can be killed -9 and restarted
 * while the topics, committed offsets and consumer groups survive.
 *
 *   wb-mock [--brokers 3] [--topic name:partitions]...
 *
 * First stdout line (flushed): bootstrap=<host:port,...>. Then one command per stdin line,
 * each answered by one line, `ok` or `error <why>`:
 *   down <broker_id> | up <broker_id> | alldown | allup | rtt <broker_id> <ms>
 *   topic <name> <partitions> | quit
 *   errors <api_key> <count> <error_code>   the next <count> requests of that API (0 =
 *                                           Produce, 1 = Fetch, ...) fail with that error
 *   clear_errors <api_key>                   drop what is left of them
 * Exits 0 on `quit`, stdin EOF, SIGTERM or SIGINT.
 *
 * Thread: single-threaded; librdkafka runs the mock brokers on its own threads. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Parse a non-negative decimal integer; -1 on error. */
static long parse_num(const char *s)
{
    char *end = NULL;
    long v;

    if (s == NULL || *s == '\0') return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > 1000000) return -1;
    return v;
}

/* "name:partitions" -> creates the topic. 0 on success. */
static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec, char *why, size_t whysz)
{
    char name[256];
    const char *colon = strrchr(spec, ':');
    long parts = 1;
    size_t len;
    rd_kafka_resp_err_t err;

    if (colon != NULL) {
        len = (size_t)(colon - spec);
        parts = parse_num(colon + 1);
    } else {
        len = strlen(spec);
    }
    if (len == 0 || len >= sizeof(name) || parts < 1) {
        snprintf(why, whysz, "bad topic spec '%s' (want name:partitions)", spec);
        return -1;
    }
    memcpy(name, spec, len);
    name[len] = '\0';
    err = rd_kafka_mock_topic_create(mc, name, (int)parts, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, whysz, "topic %s: %s", name, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/* Run one command line; writes the reply line into out. Returns 1 when asked to quit. */
static int run_command(rd_kafka_mock_cluster_t *mc, char *line, char *out, size_t outsz)
{
    char *argv[4] = {0};
    int argc = 0;
    char *save = NULL;
    char *tok;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    long id, ms, parts;
    char spec[300];
    char why[300];

    for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL && argc < 4;
         tok = strtok_r(NULL, " \t\r\n", &save))
        argv[argc++] = tok;
    if (argc == 0) {
        snprintf(out, outsz, "error empty command");
        return 0;
    }
    if (strcmp(argv[0], "quit") == 0) {
        snprintf(out, outsz, "ok");
        return 1;
    } else if (strcmp(argv[0], "alldown") == 0 && argc == 1) {
        err = rd_kafka_mock_broker_set_down(mc, -1);
    } else if (strcmp(argv[0], "allup") == 0 && argc == 1) {
        err = rd_kafka_mock_broker_set_up(mc, -1);
    } else if ((strcmp(argv[0], "down") == 0 || strcmp(argv[0], "up") == 0) && argc == 2) {
        id = parse_num(argv[1]);
        if (id < 1) {
            snprintf(out, outsz, "error bad broker id '%s'", argv[1]);
            return 0;
        }
        err = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)id)
                                : rd_kafka_mock_broker_set_up(mc, (int32_t)id);
    } else if (strcmp(argv[0], "rtt") == 0 && argc == 3) {
        id = parse_num(argv[1]);
        ms = parse_num(argv[2]);
        if (id < 1 || ms < 0) {
            snprintf(out, outsz, "error usage: rtt <broker_id> <ms>");
            return 0;
        }
        err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms);
    } else if (strcmp(argv[0], "topic") == 0 && argc == 3) {
        parts = parse_num(argv[2]);
        if (parts < 1) {
            snprintf(out, outsz, "error bad partition count '%s'", argv[2]);
            return 0;
        }
        snprintf(spec, sizeof(spec), "%s:%ld", argv[1], parts);
        if (create_topic(mc, spec, why, sizeof(why)) != 0) {
            snprintf(out, outsz, "error %s", why);
            return 0;
        }
    } else if (strcmp(argv[0], "errors") == 0 && argc == 4) {
        long api = parse_num(argv[1]), cnt = parse_num(argv[2]), code = parse_num(argv[3]);
        if (api < 0 || cnt < 1 || code < 1) {
            snprintf(out, outsz, "error usage: errors <api_key> <count> <error_code>");
            return 0;
        }
        rd_kafka_resp_err_t *errs = malloc(sizeof(*errs) * (size_t)cnt);
        if (!errs) {
            snprintf(out, outsz, "error out of memory");
            return 0;
        }
        for (long i = 0; i < cnt; i++)
            errs[i] = (rd_kafka_resp_err_t)code;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)api, (size_t)cnt, errs);
        free(errs);
    } else if (strcmp(argv[0], "clear_errors") == 0 && argc == 2) {
        long api = parse_num(argv[1]);
        if (api < 0) {
            snprintf(out, outsz, "error usage: clear_errors <api_key>");
            return 0;
        }
        rd_kafka_mock_clear_request_errors(mc, (int16_t)api);
    } else {
        snprintf(out, outsz,
                 "error unknown command '%s' "
                 "(down|up|alldown|allup|rtt|topic|errors|clear_errors|quit)",
                 argv[0]);
        return 0;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(out, outsz, "error %s", rd_kafka_err2str(err));
    else
        snprintf(out, outsz, "ok");
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: wb-mock [--brokers N] [--topic name:partitions]...\n"
               "stdin commands: down ID | up ID | alldown | allup | rtt ID MS | "
               "topic NAME PARTS | quit\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char errstr[512];
    char why[300];
    char line[1024];
    char reply[512];
    const char *topics[256];
    int ntopics = 0;
    long brokers = 3;
    int c, i, rc = 1;
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    struct sigaction sa;

    while ((c = getopt_long(argc, argv, "b:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            brokers = parse_num(optarg);
            if (brokers < 1 || brokers > 16) {
                fprintf(stderr, "wb-mock: --brokers wants 1..16\n");
                return 2;
            }
            break;
        case 't':
            if (ntopics == (int)(sizeof(topics) / sizeof(topics[0]))) {
                fprintf(stderr, "wb-mock: too many topics\n");
                return 2;
            }
            topics[ntopics++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked fgets returns on SIGTERM */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* A dummy producer handle owns the mock cluster; it never produces. */
    conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        goto out;
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "wb-mock: rd_kafka_new: %s\n", errstr);
        goto out;
    }
    conf = NULL;
    mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
    if (mc == NULL) {
        fprintf(stderr, "wb-mock: cannot create mock cluster\n");
        goto out;
    }
    for (i = 0; i < ntopics; i++) {
        if (create_topic(mc, topics[i], why, sizeof(why)) != 0) {
            fprintf(stderr, "wb-mock: %s\n", why);
            goto out;
        }
    }
    printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    while (!stop_requested) {
        if (fgets(line, sizeof(line), stdin) == NULL) {
            if (ferror(stdin) && errno == EINTR && !stop_requested) {
                clearerr(stdin);
                continue;
            }
            break; /* EOF or signal */
        }
        if (run_command(mc, line, reply, sizeof(reply))) {
            printf("%s\n", reply);
            fflush(stdout);
            break;
        }
        printf("%s\n", reply);
        fflush(stdout);
    }
    rc = 0;

out:
    if (mc != NULL) rd_kafka_mock_cluster_destroy(mc);
    if (rk != NULL) rd_kafka_destroy(rk);
    if (conf != NULL) rd_kafka_conf_destroy(conf);
    return rc;
}

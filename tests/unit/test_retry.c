/* test_retry.c - the retry schedule's jitter: within +-20%, spread, and different in every
 * process (regression: an unseeded random() gave every replica the same sequence). */
#include <sys/wait.h>
#include <unistd.h>

#include "outbound/retry.h"
#include "test.h"

static int64_t sched[] = {0, 1000, 60000};

static wb_connector conn(void)
{
    wb_connector cc;
    memset(&cc, 0, sizeof(cc));
    cc.retry_schedule_ms = sched;
    cc.nretry = 3;
    return cc;
}

static void test_bounds_and_spread(void)
{
    wb_connector cc = conn();
    ASSERT_EQ(wb_retry_backoff_ms(&cc, 1), 0); /* 0s stays 0 */
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 2000; i++) {
        int64_t d = wb_retry_backoff_ms(&cc, 2);
        ASSERT(d >= 800 && d <= 1200);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
    }
    ASSERT(hi - lo > 300);         /* actually spread, not a constant */
    for (int a = 3; a < 10; a++) { /* the last interval repeats (on_exhausted: block) */
        int64_t d = wb_retry_backoff_ms(&cc, a);
        ASSERT(d >= 48000 && d <= 72000);
    }
    wb_connector none = conn();
    none.nretry = 0;
    ASSERT_EQ(wb_retry_backoff_ms(&none, 1), 1000);
}

/* Two fresh processes (as two replicas are) draw different delays. */
static void test_replicas_differ(void)
{
    int64_t seq[2][8];
    for (int k = 0; k < 2; k++) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        pid_t pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
            wb_connector cc = conn();
            int64_t v[8];
            for (int i = 0; i < 8; i++)
                v[i] = wb_retry_backoff_ms(&cc, 3);
            ssize_t w = write(fds[1], v, sizeof(v));
            _exit(w == (ssize_t)sizeof(v) ? 0 : 1);
        }
        close(fds[1]);
        ASSERT_EQ(read(fds[0], seq[k], sizeof(seq[k])), (ssize_t)sizeof(seq[k]));
        close(fds[0]);
        int st;
        ASSERT_EQ(waitpid(pid, &st, 0), pid);
        ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ASSERT(memcmp(seq[0], seq[1], sizeof(seq[0])) != 0);
}

int main(void)
{
    RUN(test_bounds_and_spread);
    RUN(test_replicas_differ);
    TEST_DONE();
}

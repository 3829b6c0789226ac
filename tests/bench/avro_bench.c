/* avro_bench.c - CPU per event of the outbound decode step: Confluent-framed Avro -> JSON
 * (writer schema only, and resolved to a pinned contract) beside the JSON-input path
 * (jansson parse of the same event). Figures printed, not asserted.
 *
 *   build/tests/bench/avro_bench [schemas-dir] [iterations]
 *
 * The outbound engine decodes a framed record to JSON and then treats that JSON like any
 * JSON record, so the Avro cost is the decode line *added* to the JSON line.
 *
 * The record is an order.paid v2 with three order lines (~500 bytes of JSON), encoded once
 * with the bridge's own JSON -> Avro encoder; the hot loops then do exactly what the
 * outbound engine does per record. CPU time is the process CPU clock. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/registry.h"

static const char event_json[] =
    "{\"event_id\":\"6f1c2b9e-0d7a-4c55-9a43-1e2f3a4b5c6d\",\"order_id\":\"ord_1001\","
    "\"customer_id\":\"cus_77\",\"amount\":\"1234.50\",\"currency\":\"EUR\","
    "\"payment_method\":\"CARD\",\"paid_at\":\"2026-11-23T17:44:06.123Z\","
    "\"coupon_code\":\"WELCOME10\","
    "\"lines\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price\":\"600.00\"},"
    "{\"sku\":\"SKU-2\",\"quantity\":1,\"unit_price\":\"34.50\"},"
    "{\"sku\":\"SKU-3\",\"quantity\":5,\"unit_price\":\"0.99\"}],"
    "\"sales_channel\":\"web\",\"tax_amount\":\"234.55\"}";

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "schemas";
    long iters = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
    char errstr[512], reason[256];
    wb_schemas *s = wb_schemas_new(dir, NULL, NULL, NULL, NULL, errstr, sizeof(errstr));
    if (!s) {
        fprintf(stderr, "avro_bench: %s\n", errstr);
        return 1;
    }
    wb_buf framed, out;
    wb_buf_init(&framed, 0);
    wb_buf_init(&out, 0);
    if (wb_schemas_from_json(s, "order.paid@2", event_json, strlen(event_json), &framed, reason,
                             sizeof(reason))) {
        fprintf(stderr, "avro_bench: encode: %s\n", reason);
        return 1;
    }
    /* the JSON a JSON-input record would carry: the decoded v2 event itself */
    wb_schemas_to_json(s, framed.data, framed.len, NULL, &out, reason, sizeof(reason));
    char *json = strdup(out.data);
    size_t json_len = out.len;

    struct {
        const char *name;
        const char *contract; /* NULL: writer schema; "-": the JSON path */
    } runs[] = {{"json input (jansson parse)", "-"},
                {"avro -> json (writer v2)", NULL},
                {"avro -> json pinned @1", "order.paid@1"}};
    printf("avro benchmark: order.paid v2, %zu bytes Avro, %zu bytes JSON, %ld iterations\n",
           framed.len, json_len, iters);
    double base = 0;
    for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
        double t0 = cpu_s();
        for (long i = 0; i < iters; i++) {
            if (runs[k].contract && !strcmp(runs[k].contract, "-")) {
                json_t *doc = json_loadb(json, json_len, JSON_DECODE_ANY, NULL);
                json_decref(doc);
            } else {
                wb_buf_reset(&out);
                if (wb_schemas_to_json(s, framed.data, framed.len, runs[k].contract, &out, reason,
                                       sizeof(reason))) {
                    fprintf(stderr, "avro_bench: decode: %s\n", reason);
                    return 1;
                }
            }
        }
        double us = (cpu_s() - t0) * 1e6 / (double)iters;
        if (k == 0) base = us;
        printf("  %-30s %6.2f us/event%s", runs[k].name, us, k ? "" : "\n");
        if (k)
            printf("  (added on top of the json path: the engine then parses the decoded"
                   " JSON like any JSON record, %.2f us in all)\n",
                   us + base);
    }
    free(json);
    wb_buf_free(&framed);
    wb_buf_free(&out);
    wb_schemas_free(s);
    return 0;
}

/* fuzz_avro.c - hostile bytes against Confluent framing, Avro decoding, resolution and the
 * inbound JSON -> Avro encoder, with the fixed local schema set in schemas/ (no network).
 *
 * Input: byte 0 selects the contract (none, or a pinned reader schema) and the rest is the
 * framed value; at 0xf0 and above the rest is an inbound JSON body (encoded, then decoded
 * back); from 0xe0 to 0xef the rest is a schema text: parsed, checked for compatibility
 * against itself and order.paid v1, and compiled into plans both ways.
 * The schemas folder is WB_SOURCE_DIR/schemas, or found from this file's path. */
#include "schema/avro.h"
#include "schema/compat.h"
#include "schema/registry.h"
#include "fuzz_schemas.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static wb_schemas *schemas;
static wb_avro_schema *order_v1;

/* A hostile schema: parser, checker and plan builder must hold. */
static void fuzz_schema(const uint8_t *data, size_t size)
{
    char err[512];
    wb_buf msgs;
    wb_avro_schema *sc = wb_avro_schema_parse((const char *)data, size, err, sizeof(err));
    if (!sc) return;
    wb_buf_init(&msgs, 1 << 20);
    const wb_avro_type *t = wb_avro_schema_root(sc), *o = wb_avro_schema_root(order_v1);
    if (wb_compat_check(t, t, 1, "self", "v1", "v2", &msgs) > 0)
        abort(); /* a schema always reads its own data */
    wb_compat_check(t, o, 1, "x", "v1", "v2", &msgs);
    wb_compat_check(o, t, 0, "x", "v1", "v2", &msgs);
    wb_avro_plan *p = wb_avro_plan_new(sc, NULL, err, sizeof(err));
    wb_avro_plan_free(p);
    p = wb_avro_plan_new(order_v1, sc, err, sizeof(err));
    wb_avro_plan_free(p);
    wb_buf_free(&msgs);
    wb_avro_schema_free(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *contracts[] = {NULL,
                                      "order.paid@1",
                                      "order.paid@2",
                                      "lead.created@1",
                                      "lead.created@2",
                                      "inventory.low@2",
                                      "contract.signed@1",
                                      "booking.created@1"};
    char reason[512];
    wb_buf out;
    if (!schemas) {
        static const char v1[] =
            "{\"type\":\"record\",\"name\":\"OrderPaid\",\"namespace\":\"shop.events\","
            "\"fields\":[{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":"
            "[\"null\",\"int\"],\"default\":null},{\"name\":\"s\",\"type\":{\"type\":"
            "\"enum\",\"name\":\"S\",\"symbols\":[\"A\",\"B\"],\"default\":\"A\"}}]}";
        char err[256];
        schemas = fuzz_load_schemas(__FILE__);
        if (!(order_v1 = wb_avro_schema_parse(v1, sizeof(v1) - 1, err, sizeof(err)))) abort();
    }
    if (size < 1) return 0;
    if (data[0] >= 0xe0 && data[0] < 0xf0) {
        fuzz_schema(data + 1, size - 1);
        return 0;
    }
    wb_buf_init(&out, 1 << 20);
    if (data[0] >= 0xf0) {
        static const char *refs[] = {"order.paid@2", "contract.signed@1", "booking.created@1",
                                     "lead.created@2"};
        wb_err err = wb_schemas_from_json(schemas, refs[data[0] & 3], (const char *)data + 1,
                                          size - 1, &out, reason, sizeof(reason));
        if (!err) {
            /* What we encode must decode. */
            wb_buf back;
            wb_buf_init(&back, 1 << 20);
            err =
                wb_schemas_to_json(schemas, out.data, out.len, NULL, &back, reason, sizeof(reason));
            if (err && err != WB_ERR_TOO_LARGE) {
                fprintf(stderr, "round trip failed: %s\n", reason);
                abort();
            }
            wb_buf_free(&back);
        }
    } else {
        const char *contract = contracts[data[0] % (sizeof(contracts) / sizeof(contracts[0]))];
        size_t before = out.len;
        wb_err err =
            wb_schemas_to_json(schemas, data + 1, size - 1, contract, &out, reason, sizeof(reason));
        if (err && out.len != before) abort(); /* out must be unchanged on error */
        if (!err && !out.data) abort();
    }
    wb_buf_free(&out);
    return 0;
}

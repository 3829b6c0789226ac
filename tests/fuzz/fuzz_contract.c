/* fuzz_contract.c - plain JSON events pinned to a contract (wb_schemas_json_to_contract):
 * the contract_writer rules, the ce_dataschema forms and the JSON -> Avro -> contract path,
 * with the local schema set in schemas/ (no network).
 *
 * Input: byte 0 picks the rule (low two bits) and the contract (the rest); then the
 * ce_dataschema value up to the first newline (empty: none), then the event.
 * Invariants: on error out is unchanged and a reason is given; on success out is one JSON
 * object; the same input gives the same answer.
 * The schemas folder is WB_SOURCE_DIR/schemas, or found from this file's path. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_schemas.h"

static wb_schemas *schemas;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *contracts[] = {"order.paid@1",      "order.paid@2",    "lead.created@1",
                                      "lead.created@2",    "inventory.low@1", "contract.signed@1",
                                      "booking.created@1", "order.paid@9"};
    static const wb_json_writer rules[] = {WB_JSON_WRITER_AUTO, WB_JSON_WRITER_DATASCHEMA,
                                           WB_JSON_WRITER_FIELD, WB_JSON_WRITER_NEWEST};
    if (!schemas) schemas = fuzz_load_schemas(__FILE__);
    if (size < 1) return 0;
    wb_json_writer rule = rules[data[0] & 3];
    const char *contract = contracts[(data[0] >> 2) % (sizeof(contracts) / sizeof(contracts[0]))];
    char *rest = fuzz_cstr(data + 1, size - 1);
    char *nl = memchr(rest, '\n', size - 1);
    const char *ds = NULL, *ev = rest;
    size_t evlen = size - 1;
    if (nl) {
        *nl = 0;
        ds = rest;
        ev = nl + 1;
        evlen = size - 1 - (size_t)(ev - rest);
    }
    char reason[512], reason2[512];
    wb_buf out, again;
    wb_buf_init(&out, 1 << 20);
    wb_buf_init(&again, 1 << 20);
    wb_err err = wb_schemas_json_to_contract(schemas, ev, evlen, rule, ds, contract, &out, reason,
                                             sizeof(reason));
    if (err) {
        if (out.len || !reason[0]) abort();
    } else {
        json_t *doc = json_loadb(out.data, out.len, 0, NULL);
        if (!json_is_object(doc)) abort();
        json_decref(doc);
    }
    wb_err err2 = wb_schemas_json_to_contract(schemas, ev, evlen, rule, ds, contract, &again,
                                              reason2, sizeof(reason2));
    if (err2 != err || out.len != again.len || (out.len && memcmp(out.data, again.data, out.len)))
        abort();
    if (err && strcmp(reason, reason2)) abort();
    wb_buf_free(&out);
    wb_buf_free(&again);
    free(rest);
    return 0;
}

/* fuzz_slack_sig.c - Slack's "v0=<hex>" signature and its timestamp parser. The input is
 * "<signature>\n<timestamp>". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "signing/signing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char *ts = strchr(s, '\n');
    if (ts) *ts++ = 0;
    wb_sig_list l;
    char why[160];
    if (wb_prefixed_sig_parse(s, "v0=", 0, 32, &l, why, sizeof(why)) == WB_OK) {
        if (l.n != 1 || l.e[0].len != 32 || strlen(s) != 67) abort();
    }
    int64_t t;
    if (ts && wb_sig_timestamp_parse(ts, &t) == WB_OK && (t < 0 || strlen(ts) > 12)) abort();
    free(s);
    return 0;
}

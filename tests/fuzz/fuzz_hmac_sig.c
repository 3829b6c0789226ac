/* fuzz_hmac_sig.c - the generic "<prefix><hex|base64 digest>" parser (hmac, GitHub, Shopify).
 * Input: one option byte (bit 0 base64, bit 1 SHA-512), then "<prefix>\n<value>". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "signing/signing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int base64 = data[0] & 1;
    size_t maclen = (data[0] & 2) ? 64 : 32;
    char *s = fuzz_cstr(data + 1, size - 1);
    char *value = strchr(s, '\n');
    const char *prefix = "";
    if (value) {
        *value++ = 0;
        prefix = s;
    } else {
        value = s;
    }
    wb_sig_list l;
    char why[160];
    if (wb_prefixed_sig_parse(value, prefix, base64, maclen, &l, why, sizeof(why)) == WB_OK) {
        if (l.n != 1 || l.e[0].len != maclen) abort();
    } else if (!why[0]) {
        abort();
    }
    free(s);
    return 0;
}

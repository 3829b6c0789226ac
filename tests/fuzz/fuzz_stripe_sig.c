/* fuzz_stripe_sig.c - the Stripe-Signature parser. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "signing/signing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    wb_sig_list l;
    char why[160];
    if (wb_stripe_sig_parse(s, &l, why, sizeof(why)) == WB_OK) {
        if (l.n > WB_SIG_MAX_ENTRIES || l.ts < 0 || l.ts > 999999999999LL) abort();
        for (size_t i = 0; i < l.n; i++)
            if (l.e[i].len != 32) abort();
    } else if (!why[0]) {
        abort();
    }
    free(s);
    return 0;
}

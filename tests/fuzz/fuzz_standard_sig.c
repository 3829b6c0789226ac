/* fuzz_standard_sig.c - the Standard Webhooks webhook-signature list parser. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "signing/signing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    wb_sig_list l;
    char why[160];
    if (wb_standard_sig_parse(s, &l, why, sizeof(why)) == WB_OK) {
        if (l.n == 0 || l.n > WB_SIG_MAX_ENTRIES) abort();
        for (size_t i = 0; i < l.n; i++)
            if (l.e[i].len == 0 || l.e[i].len > WB_SIG_MAX_MAC) abort();
    } else if (!why[0]) {
        abort(); /* every failure explains itself */
    }
    free(s);
    return 0;
}

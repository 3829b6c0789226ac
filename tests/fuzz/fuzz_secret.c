/* fuzz_secret.c - ${NAME}, ${NAME:-default} and file: expansion of config values
 * (wb_secret_expand). A few variables are set, one of them empty; file: is tried on every
 * input whose expansion starts with it (paths that exist or not, directories, /dev/null).
 * Invariants: a result or an error, never both; an error never contains the value of a
 * variable (it may be a secret), even as a file: path; without ${ the value is the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "core/log.h"
#include "config/secret.h"

#define SECRET_VALUE "fuzz-s3cret-value"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        setenv("WB_FUZZ_SECRET", SECRET_VALUE, 1);
        setenv("WB_FUZZ_EMPTY", "", 1);
        setenv("WB_FUZZ_FILE", "file:/dev/null", 1);
        unsetenv("WB_FUZZ_UNSET");
        wb_log_setup(WB_LOG_ERROR, WB_LOG_TEXT); /* world-readable warnings are expected */
        init = 1;
    }
    char *s = fuzz_cstr(data, size);
    for (int allow_file = 0; allow_file < 2; allow_file++) {
        char err[512] = "";
        char *v = wb_secret_expand(s, allow_file, err, sizeof(err));
        if (v) {
            if (err[0]) abort();
            if (!strstr(s, "${") && !(allow_file && !strncmp(s, "file:", 5)) && strcmp(v, s))
                abort();
            wb_secret_free(v);
        } else {
            if (!err[0]) abort();
            /* a value from the environment never shows (the input itself may) */
            if (strstr(err, SECRET_VALUE) && !strstr(s, SECRET_VALUE)) abort();
        }
    }
    free(s);
    return 0;
}

/* fuzz_config.c - the YAML configuration loader on hostile input.
 *
 * The input is written to a bridge.yaml in a private temp dir (the loader reads files) and
 * loaded; any result is fine as long as nothing crashes, leaks or reads out of bounds, and a
 * failure always comes with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

static char dir[64];
static char path[128];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/wb-fuzz-config-XXXXXX");
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof(path), "%s/bridge.yaml", dir);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    fwrite(data, 1, size, fp);
    fclose(fp);
    char errstr[4096];
    errstr[0] = 0;
    wb_config *cfg = wb_config_load(path, errstr, sizeof(errstr));
    if (!cfg && !errstr[0]) abort(); /* every failure must say why */
    wb_config_free(cfg);
    return 0;
}

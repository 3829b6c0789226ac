/* fuzz_schemas.h - the local schema set in schemas/ for the schema fuzz targets (no
 * network): WB_SOURCE_DIR/schemas, or found from the target's own source path. */
#ifndef WB_FUZZ_SCHEMAS_H
#define WB_FUZZ_SCHEMAS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "schema/schemas.h"

/* Load the schemas folder or abort. file is the target's __FILE__, which is
 * <root>/tests/fuzz/<target>.c when built by CMake. */
static wb_schemas *fuzz_load_schemas(const char *file)
{
    char dir[4096], err[512];
    const char *src = getenv("WB_SOURCE_DIR");
    if (src) {
        snprintf(dir, sizeof(dir), "%s/schemas", src);
    } else {
        snprintf(dir, sizeof(dir), "%s", file);
        char *cut = strstr(dir, "tests/fuzz/");
        if (cut)
            snprintf(cut, sizeof(dir) - (size_t)(cut - dir), "schemas");
        else
            snprintf(dir, sizeof(dir), "schemas");
    }
    wb_schemas *s = wb_schemas_new(dir, NULL, NULL, NULL, NULL, err, sizeof(err));
    if (!s) {
        fprintf(stderr, "%s: %s\n", file, err);
        abort();
    }
    return s;
}

#endif

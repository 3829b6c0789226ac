/* secret.c - ${NAME}, ${NAME:-default} and file:/path references in config values.
 *
 * Kept apart from the loader so the rule "a resolved value never reaches a message" lives in
 * one small file: every message below names the variable or the path, never the content. */
#include "config/secret.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/log.h"

#define MAX_SECRET (1024 * 1024)

static int is_env_name_char(char ch, int first)
{
    return ch == '_' || isalpha((unsigned char)ch) || (!first && isdigit((unsigned char)ch));
}

/* Replace ${NAME} / ${NAME:-default} in s. Returns a new string or NULL (errstr set). */
static char *interpolate(const char *s, char *errstr, size_t errstr_size)
{
    wb_buf b;
    wb_buf_init(&b, MAX_SECRET);
    const char *p = s;
    char name[256];
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d) {
            if (wb_buf_adds(&b, p) != WB_OK) goto nomem;
            break;
        }
        if (wb_buf_add(&b, p, (size_t)(d - p)) != WB_OK) goto nomem;
        const char *q = d + 2, *close = strchr(q, '}');
        size_t nl = 0;
        while (is_env_name_char(q[nl], nl == 0))
            nl++;
        if (!close || nl == 0 || nl >= sizeof(name) ||
            (q[nl] != '}' && strncmp(q + nl, ":-", 2) != 0)) {
            snprintf(errstr, errstr_size,
                     "malformed reference: expected ${NAME} or ${NAME:-default}");
            goto fail;
        }
        memcpy(name, q, nl);
        name[nl] = 0;
        const char *val = getenv(name);
        if (q[nl] == ':') {
            if (val && !*val) val = NULL;
            if (!val && wb_buf_add(&b, q + nl + 2, (size_t)(close - (q + nl + 2))) != WB_OK)
                goto nomem;
        } else if (!val) {
            snprintf(errstr, errstr_size, "environment variable %s is not set", name);
            goto fail;
        }
        if (val && wb_buf_adds(&b, val) != WB_OK) goto nomem;
        p = close + 1;
    }
    if (!b.data && wb_buf_add(&b, "", 0) != WB_OK) goto nomem;
    return wb_buf_steal(&b, NULL);
nomem:
    snprintf(errstr, errstr_size, "out of memory");
fail:
    wb_buf_free(&b);
    return NULL;
}

/* Content of path, trailing newlines trimmed. NULL on error (errstr names the path as
 * shown, which is never a value from the environment). */
static char *read_file(const char *path, const char *shown, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "rb");
    char *out = NULL;
    wb_buf b;
    wb_buf_init(&b, MAX_SECRET);
    if (!fp) {
        snprintf(errstr, errstr_size, "cannot read secret file %s: %s", shown, strerror(errno));
        goto out;
    }
    /* fstat of the file opened (not a second lookup of the path): what was read is what was
     * checked. Readable by every local user is worth a warning, not a refusal: some
     * platforms mount secrets 0644 by default and the operator may know better. */
    struct stat st;
    if (!fstat(fileno(fp), &st) && (st.st_mode & S_IROTH))
        WB_WARN("secret file %s is readable by every user (mode %04o): make it 0600 or 0640", path,
                (unsigned)(st.st_mode & 07777));
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        wb_err e = wb_buf_add(&b, chunk, n);
        OPENSSL_cleanse(chunk, n);
        if (e == WB_ERR_TOO_LARGE) {
            snprintf(errstr, errstr_size, "secret file %s is larger than 1MiB", shown);
            goto out;
        }
        if (e != WB_OK) {
            snprintf(errstr, errstr_size, "out of memory");
            goto out;
        }
    }
    if (ferror(fp)) {
        snprintf(errstr, errstr_size, "cannot read secret file %s: %s", shown, strerror(errno));
        goto out;
    }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.data[--b.len] = 0;
    if (!b.data && wb_buf_add(&b, "", 0) != WB_OK) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    out = wb_buf_steal(&b, NULL);
out:
    if (fp) fclose(fp);
    wb_buf_free(&b);
    return out;
}

/* Expand references in s (see secret.h); the caller frees the result with
 * wb_secret_free(). Any thread, as long as nobody calls setenv meanwhile. */
char *wb_secret_expand(const char *s, int allow_file, char *errstr, size_t errstr_size)
{
    char *v = interpolate(s, errstr, errstr_size);
    if (v && allow_file && !strncmp(v, "file:", 5)) {
        /* A path that came through ${...} is not echoed: "file:${TOKEN}" written by mistake
         * for "${TOKEN}" would otherwise print the token in the error. */
        char shown[600];
        if (strstr(s, "${"))
            snprintf(shown, sizeof(shown), "(path from an environment variable)");
        else
            snprintf(shown, sizeof(shown), "'%s'", v + 5);
        char *f = read_file(v + 5, shown, errstr, errstr_size);
        wb_secret_free(v);
        v = f;
    }
    return v;
}

/* Wipe (OPENSSL_cleanse: not optimised away) and free v; NULL is fine. Any thread. */
void wb_secret_free(char *v)
{
    if (!v) return;
    OPENSSL_cleanse(v, strlen(v));
    free(v);
}

/* secret.h - references in configuration values: ${NAME}, ${NAME:-default}, file:/path.
 *
 * Used by the config setters (config_set.c) on every string value. An error message never
 * contains the resolved value (it may be a secret), only the variable name or the file path. */
#ifndef WB_SECRET_H
#define WB_SECRET_H

#include <stddef.h>

/* Expand s: every ${NAME} is replaced by the environment variable NAME (error if unset),
 * ${NAME:-default} by NAME or, when unset or empty, by default. Then, when allow_file is set
 * and the result starts with "file:", the rest is a path whose content (trailing newlines
 * trimmed, at most 1MiB) is the value.
 * Returns a malloc'd string the caller frees, or NULL with a message in errstr
 * ("environment variable NAME is not set", "cannot read secret file '/p': ...",
 * "malformed reference: ...", "out of memory"). Thread: safe if nobody calls setenv. */
char *wb_secret_expand(const char *s, int allow_file, char *errstr, size_t errstr_size);

/* Wipe and free a value returned by wb_secret_expand (NULL is fine). */
void wb_secret_free(char *v);

#endif

/* test_secret.c - ${ENV} / ${ENV:-default} / file: references, errors that never show a value,
 * and the warning on a world-readable secret file. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "config/secret.h"
#include "test.h"

static void test_env(void)
{
    char err[256] = "";
    setenv("WB_T_A", "alpha", 1);
    setenv("WB_T_EMPTY", "", 1);
    unsetenv("WB_T_UNSET");
    char *v =
        wb_secret_expand("x-${WB_T_A}-${WB_T_UNSET:-dflt}-${WB_T_EMPTY:-e}", 0, err, sizeof err);
    ASSERT_STR_EQ(v, "x-alpha-dflt-e");
    wb_secret_free(v);
    ASSERT(wb_secret_expand("${WB_T_UNSET}", 0, err, sizeof err) == NULL);
    ASSERT_STR_EQ(err, "environment variable WB_T_UNSET is not set");
    ASSERT(wb_secret_expand("${1BAD}", 0, err, sizeof err) == NULL);
    ASSERT_CONTAINS(err, "malformed reference");
    ASSERT(wb_secret_expand("${WB_T_A", 0, err, sizeof err) == NULL);
    /* file: is only read where allowed */
    v = wb_secret_expand("file:/nonexistent", 0, err, sizeof err);
    ASSERT_STR_EQ(v, "file:/nonexistent");
    wb_secret_free(v);
}

/* Read path's secret with stderr captured; returns the value, the log text in logbuf. */
static char *read_logged(const char *ref, char *logbuf, size_t n, char *err, size_t en)
{
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    int saved = dup(2);
    dup2(p[1], 2);
    char *v = wb_secret_expand(ref, 1, err, en);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(p[1]);
    ssize_t got = read(p[0], logbuf, n - 1);
    close(p[0]);
    logbuf[got > 0 ? got : 0] = 0;
    return v;
}

/* Regression (issue 9.15): a world-readable file: secret was read without a word. */
static void test_file_mode_warning(void)
{
    char dir[] = "/tmp/wb-secret-XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    char path[128], ref[140], logbuf[2048], err[256] = "";
    snprintf(path, sizeof path, "%s/token", dir);
    snprintf(ref, sizeof ref, "file:%s", path);
    FILE *fp = fopen(path, "w");
    ASSERT(fp != NULL);
    fputs("s3cr3t-value\n\n", fp);
    fclose(fp);

    chmod(path, 0644);
    char *v = read_logged(ref, logbuf, sizeof logbuf, err, sizeof err);
    ASSERT_STR_EQ(v, "s3cr3t-value");
    wb_secret_free(v);
    ASSERT_CONTAINS(logbuf, "is readable by every user (mode 0644)");
    ASSERT_CONTAINS(logbuf, path);
    ASSERT(!strstr(logbuf, "s3cr3t"));

    chmod(path, 0600);
    v = read_logged(ref, logbuf, sizeof logbuf, err, sizeof err);
    ASSERT_STR_EQ(v, "s3cr3t-value");
    wb_secret_free(v);
    ASSERT_STR_EQ(logbuf, "");

    unlink(path);
    ASSERT(wb_secret_expand(ref, 1, err, sizeof err) == NULL);
    ASSERT_CONTAINS(err, "cannot read secret file '");
    ASSERT_CONTAINS(err, path);
    /* found by fuzz_secret: "file:${VAR}" (the secret put in VAR by mistake) printed the
     * variable's value as the path */
    setenv("WB_T_TOKEN", "tok-abc-123", 1);
    ASSERT(wb_secret_expand("file:${WB_T_TOKEN}", 1, err, sizeof err) == NULL);
    ASSERT_CONTAINS(err, "cannot read secret file (path from an environment variable)");
    ASSERT(!strstr(err, "tok-abc-123"));
    rmdir(dir);
}

/* Expand s (file: allowed or not); the result must equal want. */
static void expect_value(const char *s, int allow_file, const char *want)
{
    char err[256] = "";
    char *v = wb_secret_expand(s, allow_file, err, sizeof err);
    if (!v) FAIL_("'%s': unexpected error: %s", s, err);
    ASSERT_STR_EQ(v, want);
    wb_secret_free(v);
}

/* Expand s: it must fail with an error containing want, and never containing never. */
static void expect_error(const char *s, int allow_file, const char *want, const char *never)
{
    char err[512] = "";
    char *v = wb_secret_expand(s, allow_file, err, sizeof err);
    if (v) FAIL_("'%s': expected an error, got '%s'", s, v);
    ASSERT_CONTAINS(err, want);
    if (never && strstr(err, never)) FAIL_("'%s': error shows '%s': %s", s, never, err);
}

/* Text around and between references is kept as it is; only ${ starts a reference. */
static void test_literal_text(void)
{
    setenv("WB_T_A", "alpha", 1);
    expect_value("", 0, "");
    expect_value("plain value", 0, "plain value");
    expect_value("$WB_T_A and $ and } and {WB_T_A}", 0, "$WB_T_A and $ and } and {WB_T_A}");
    expect_value("${WB_T_A}${WB_T_A}", 0, "alphaalpha");
    expect_value("pre-${WB_T_A}-post}", 0, "pre-alpha-post}");
    /* the default is everything up to the first '}', colons and slashes included */
    unsetenv("WB_T_UNSET");
    expect_value("${WB_T_UNSET:-http://h:8080/p}", 0, "http://h:8080/p");
    expect_value("${WB_T_UNSET:-}", 0, "");
    /* a set, non-empty variable wins over its default */
    expect_value("${WB_T_A:-other}", 0, "alpha");
    /* a value is not expanded again: a variable holding "${...}" is taken literally */
    setenv("WB_T_NEST", "${WB_T_A}", 1);
    expect_value("${WB_T_NEST}", 0, "${WB_T_A}");
    /* digits after the first character, underscores anywhere */
    setenv("_WB_T_9", "nine", 1);
    expect_value("${_WB_T_9}", 0, "nine");
    wb_secret_free(NULL);
}

/* Every malformed shape is refused with the same message. */
static void test_malformed(void)
{
    static const char *const bad[] = {"${}",         "${WB_T_A", "${WB_T_A:-unclosed",
                                      "${WB_T_A-x}", "${A B}",   "${WB_T_A:x}",
                                      "x${",         "${-}",     "${9LIVES}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(bad[i], 0, "malformed reference: expected ${NAME} or ${NAME:-default}", NULL);
    /* a name of 255 characters is a name; 256 is too long */
    char ref[300], name[257];
    memset(name, 'N', 255);
    name[255] = 0;
    snprintf(ref, sizeof ref, "${%s}", name);
    expect_error(ref, 0, "is not set", NULL);
    memset(name, 'N', 256);
    name[256] = 0;
    snprintf(ref, sizeof ref, "${%s}", name);
    expect_error(ref, 0, "malformed reference", NULL);
}

/* An error after a successful expansion never shows what was expanded. */
static void test_error_hides_values(void)
{
    setenv("WB_T_SECRET", "s3cr3t-xyz", 1);
    unsetenv("WB_T_UNSET");
    expect_error("${WB_T_SECRET}${WB_T_UNSET}", 0, "environment variable WB_T_UNSET is not set",
                 "s3cr3t");
    expect_error("${WB_T_SECRET}-${BROKEN", 0, "malformed reference", "s3cr3t");
    expect_error("file:/nonexistent/${WB_T_SECRET}", 1,
                 "cannot read secret file (path from an environment variable)", "s3cr3t");
    /* the literal path (no reference) is shown: it is what the user wrote */
    expect_error("file:/nonexistent/wb-secret", 1,
                 "cannot read secret file '/nonexistent/wb-secret': No such file or directory",
                 NULL);
}

static void write_bytes(const char *path, const char *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ASSERT(fp != NULL);
    ASSERT_EQ(fwrite(data, 1, n, fp), n);
    ASSERT_EQ(fclose(fp), 0);
    ASSERT_EQ(chmod(path, 0600), 0);
}

/* file: references: trimming, empty files, the 1MiB bound, directories, file: through a
 * variable, and file: left alone where it is not allowed. */
static void test_file_references(void)
{
    char dir[] = "/tmp/wb-secret-XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    char path[128], ref[160];
    snprintf(path, sizeof path, "%s/s", dir);
    snprintf(ref, sizeof ref, "file:%s", path);

    write_bytes(path, "line-one\nline-two\r\n\r\n", 21);
    expect_value(ref, 1, "line-one\nline-two"); /* only the trailing newlines go */
    write_bytes(path, "", 0);
    expect_value(ref, 1, "");
    write_bytes(path, "\n\n", 2);
    expect_value(ref, 1, "");
    expect_value(ref, 0, ref); /* not allowed here: the text itself */

    /* file: can come from a variable (a deployment that sets WB_TOKEN=file:/run/token) */
    write_bytes(path, "from-file\n", 10);
    setenv("WB_T_FILEREF", ref, 1);
    expect_value("${WB_T_FILEREF}", 1, "from-file");
    expect_value("${WB_T_FILEREF}", 0, ref);

    /* 1MiB is the bound, exactly */
    size_t big = 1024 * 1024;
    char *data = malloc(big + 1);
    ASSERT(data != NULL);
    memset(data, 'x', big + 1);
    write_bytes(path, data, big);
    char err[512] = "";
    char *v = wb_secret_expand(ref, 1, err, sizeof err);
    ASSERT(v != NULL);
    ASSERT_EQ(strlen(v), big);
    wb_secret_free(v);
    write_bytes(path, data, big + 1);
    free(data);
    char want[256];
    snprintf(want, sizeof want, "secret file '%s' is larger than 1MiB", path);
    expect_error(ref, 1, want, "xxxx");

    /* a directory opens but does not read */
    snprintf(ref, sizeof ref, "file:%s", dir);
    snprintf(want, sizeof want, "cannot read secret file '%s': %s", dir, strerror(EISDIR));
    ASSERT_EQ(chmod(dir, 0700), 0);
    expect_error(ref, 1, want, NULL);

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    wb_log_setup(WB_LOG_INFO, WB_LOG_TEXT);
    RUN(test_env);
    RUN(test_file_mode_warning);
    RUN(test_literal_text);
    RUN(test_malformed);
    RUN(test_error_hides_values);
    RUN(test_file_references);
    TEST_DONE();
}

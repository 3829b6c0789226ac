/* test_secret.c - ${ENV} / ${ENV:-default} / file: references, errors that never show a value,
 * and the warning on a world-readable secret file. */
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

int main(void)
{
    wb_log_setup(WB_LOG_INFO, WB_LOG_TEXT);
    RUN(test_env);
    RUN(test_file_mode_warning);
    TEST_DONE();
}

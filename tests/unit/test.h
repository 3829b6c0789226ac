/* test.h - tiny assertion macros for unit tests (after libuv's test/task.h).
 *
 * Each failing assertion prints both sides with file:line and the test exits 1.
 * A test file defines test functions and runs them with RUN(fn) from main(); it ends with
 * TEST_DONE() which prints "N passed, 0 failed". */
#ifndef WB_TEST_H
#define WB_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed_ = 0;

#define FAIL_(...)                                                                                 \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        fprintf(stdout, "%d passed, 1 failed\n", test_passed_);                                    \
        exit(1);                                                                                   \
    } while (0)

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) FAIL_("assertion failed: %s", #c);                                               \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                                           \
        if (a_ != b_) FAIL_("%s == %s: %jd != %jd", #a, #b, a_, b_);                               \
    } while (0)

#define ASSERT_NE(a, b)                                                                            \
    do {                                                                                           \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                                           \
        if (a_ == b_) FAIL_("%s != %s: both %jd", #a, #b, a_);                                     \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_))                                                          \
            FAIL_("%s == %s:\n  \"%s\"\n  \"%s\"", #a, #b, a_ ? a_ : "(null)",                     \
                  b_ ? b_ : "(null)");                                                             \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            FAIL_("%s does not contain \"%s\":\n  \"%s\"", #hay, n_, h_ ? h_ : "(null)");          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        fn();                                                                                      \
        test_passed_++;                                                                            \
        fprintf(stderr, "ok %s\n", #fn);                                                           \
    } while (0)

#define TEST_DONE()                                                                                \
    do {                                                                                           \
        fprintf(stdout, "%d passed, 0 failed\n", test_passed_);                                    \
        return 0;                                                                                  \
    } while (0)

#endif

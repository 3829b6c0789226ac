/* test_dir.h - a scratch folder for tests that need files (schema folders): created under
 * /tmp, filled with test_dir_put / test_dir_mkdir, removed with everything in it.
 * Failures abort the test (test.h). */
#ifndef WB_TEST_DIR_H
#define WB_TEST_DIR_H

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"

static char test_dir[256];

/* A fresh /tmp/<name>.XXXXXX as test_dir. */
static void test_dir_make(const char *name)
{
    snprintf(test_dir, sizeof(test_dir), "/tmp/%s.XXXXXX", name);
    ASSERT(mkdtemp(test_dir));
}

static void test_dir_mkdir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", test_dir, rel);
    ASSERT_EQ(mkdir(path, 0700), 0);
}

/* Write text to test_dir/rel (replacing it). */
static void test_dir_put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", test_dir, rel);
    FILE *fp = fopen(path, "w");
    ASSERT(fp);
    fputs(text, fp);
    ASSERT_EQ(fclose(fp), 0);
}

static void test_dir_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char sub[1024];
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
        if (!lstat(sub, &st) && S_ISDIR(st.st_mode))
            test_dir_remove_tree(sub);
        else
            unlink(sub);
    }
    if (d) closedir(d);
    rmdir(path);
}

/* Remove test_dir and everything in it. */
static void test_dir_remove(void)
{
    test_dir_remove_tree(test_dir);
}

#endif

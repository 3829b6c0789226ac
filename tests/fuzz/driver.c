/* driver.c - standalone runner for libFuzzer targets (no clang/libFuzzer needed).
 *
 * usage: <target>_regress DIR|FILE...
 * Feeds every regular file (directories: their entries, not recursive) to
 * LLVMFuzzerTestOneInput, so the checked-in corpus is a regression test in every build.
 * Exits 1 if no input was found: an empty corpus must not pass silently. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    int rc = -1;
    unsigned char *buf = NULL;
    if (fseek(fp, 0, SEEK_END) || ftell(fp) < 0)
        goto out;
    size_t n = (size_t)ftell(fp);
    rewind(fp);
    buf = malloc(n ? n : 1); /* exact size, so ASan sees overreads */
    if (!buf || fread(buf, 1, n, fp) != n)
        goto out;
    LLVMFuzzerTestOneInput(buf, n);
    rc = 0;
out:
    free(buf);
    fclose(fp);
    return rc;
}

int main(int argc, char **argv)
{
    long count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st)) {
            fprintf(stderr, "cannot stat %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]))
                return 1;
            count++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d)
            return 1;
        struct dirent *de;
        while ((de = readdir(d))) {
            char path[4096];
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
            if (stat(path, &st) || !S_ISREG(st.st_mode))
                continue;
            if (run_file(path)) {
                closedir(d);
                return 1;
            }
            count++;
        }
        closedir(d);
    }
    printf("%ld inputs ran\n", count);
    return count ? 0 : 1;
}

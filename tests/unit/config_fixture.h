/* config_fixture.h - fixture files for the configuration tests (test_config*.c).
 *
 * fixture_init() makes a private temp dir and chdir()s there, so configs are loaded by the
 * relative path "bridge.yaml" and messages name "bridge.yaml" and "connectors/<file>"
 * exactly. fixture_reset() empties it (and recreates connectors/); fixture_done() removes it.
 * fixture_errors() loads bridge.yaml (+ connectors/c.yaml) and returns the error text, which
 * must exist (the load must fail). Functions are static inline: a test uses some of them.
 */
#ifndef WB_CONFIG_FIXTURE_H
#define WB_CONFIG_FIXTURE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "test.h"

/* A valid bridge.yaml naming connectors/, the head of a valid outbound connector, and a
 * signing section that makes it whole. */
#define BRIDGE_OK                                                                                  \
    "kafka:\n"                                                                                     \
    "  bootstrap.servers: embedded\n"                                                              \
    "outbound:\n"                                                                                  \
    "  topics: [orders]\n"                                                                         \
    "connectors: connectors/\n"

#define OUT_HEAD                                                                                   \
    "name: acme\n"                                                                                 \
    "direction: outbound\n"                                                                        \
    "url: https://acme.example/hook\n"                                                             \
    "events: [\"order.*\"]\n"

#define SIGN_OK "signing: { secrets: [\"whsec_abc\"] }\n"

#define IN_HEAD "name: in\ndirection: inbound\ntopic: t\nverify: { scheme: github, secrets: [x] }\n"

static char fixture_dir[PATH_MAX];
static char fixture_err[8192];

static inline int fixture_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Empty the fixture dir (keeps the dir itself) and recreate connectors/. */
static inline void fixture_reset(void)
{
    ASSERT(chdir("/") == 0);
    nftw(fixture_dir, fixture_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    ASSERT(mkdir(fixture_dir, 0700) == 0);
    ASSERT(chdir(fixture_dir) == 0);
    ASSERT(mkdir("connectors", 0700) == 0);
}

static inline void fixture_init(const char *name)
{
    char tmpl[PATH_MAX];
    snprintf(tmpl, sizeof(tmpl), "/tmp/wb-%s-XXXXXX", name);
    ASSERT(mkdtemp(tmpl) != NULL);
    snprintf(fixture_dir, sizeof(fixture_dir), "%s", tmpl);
    fixture_reset();
}

static inline void fixture_done(void)
{
    ASSERT(chdir("/") == 0);
    nftw(fixture_dir, fixture_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ASSERT(fp != NULL);
    ASSERT(fputs(text, fp) >= 0);
    ASSERT(fclose(fp) == 0);
}

/* Fresh dir with bridge.yaml and (if not NULL) connectors/c.yaml; the load must fail.
 * Returns its error text (static). */
static inline const char *fixture_errors(const char *bridge, const char *connector)
{
    fixture_reset();
    write_file("bridge.yaml", bridge);
    if (connector) write_file("connectors/c.yaml", connector);
    fixture_err[0] = 0;
    wb_config *cfg = wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err));
    if (cfg) FAIL_("expected the load to fail:\n%s%s", bridge, connector ? connector : "");
    return fixture_err;
}

/* Same, the load must succeed; the caller frees the config. */
static inline wb_config *fixture_load(const char *bridge, const char *connector)
{
    fixture_reset();
    write_file("bridge.yaml", bridge);
    if (connector) write_file("connectors/c.yaml", connector);
    wb_config *cfg = wb_config_load("bridge.yaml", fixture_err, sizeof(fixture_err));
    if (!cfg) FAIL_("load failed: %s", fixture_err);
    return cfg;
}

#endif

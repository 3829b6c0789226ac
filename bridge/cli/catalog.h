/* cli/catalog.h - the partner-facing event catalog (`webhook-bridge schemas catalog`).
 *
 * From a schemas folder (manifest.json + <event>/v<N>.avsc): every event type, each version
 * with what changed from the one before (compat.c's wb_compat_diff) and whether each side
 * reads the other's data (wb_compat_check), its fields with types, defaults and docs, an
 * example webhook exactly as a partner pinned to that version receives it (the envelope, the
 * headers and a Standard Webhooks signature made by the real signer with a published sample
 * secret), and how to verify one. The example data is generated from the schema and passed
 * through the bridge's own encoder and decoder, so it is what the bridge would send.
 *
 * Thread: pure function of the folder; any thread. */
#ifndef WB_CLI_CATALOG_H
#define WB_CLI_CATALOG_H

#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

typedef enum wb_catalog_format { WB_CATALOG_MARKDOWN = 0, WB_CATALOG_HTML } wb_catalog_format;

/* The secret the examples are signed with (the Standard Webhooks specification's sample). */
#define WB_CATALOG_SAMPLE_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* Append the catalog of dir to out. WB_OK, or WB_ERR_IO / WB_ERR_SCHEMA with errstr naming
 * the file at fault; WB_ERR_NOMEM / WB_ERR_TOO_LARGE from out. */
wb_err wb_catalog_render(const char *dir, wb_catalog_format fmt, wb_buf *out, char *errstr,
                         size_t errstr_size);

#endif

/* compat.h - schema compatibility checker (Avro "Schema Resolution" rules, Confluent modes).
 *
 * BACKWARD: the new version reads data written with the previous one; FORWARD: the previous
 * version reads data written with the new one; FULL: both; *_TRANSITIVE: against every earlier
 * version instead of only the previous one.
 *
 * Thread: pure functions over immutable schemas; safe anywhere. */
#ifndef WB_COMPAT_H
#define WB_COMPAT_H

#include <stddef.h>
#include "schema/avro.h"
#include "core/buf.h"

typedef enum wb_compat_mode {
    WB_COMPAT_BACKWARD = 0,
    WB_COMPAT_FORWARD,
    WB_COMPAT_FULL,
    WB_COMPAT_BACKWARD_TRANSITIVE,
    WB_COMPAT_FORWARD_TRANSITIVE,
    WB_COMPAT_FULL_TRANSITIVE,
} wb_compat_mode;

/* "backward", "FULL_TRANSITIVE", ... (either case) -> mode, or -1. */
int wb_compat_mode_parse(const char *s);
/* "BACKWARD", ... (static). */
const char *wb_compat_mode_name(wb_compat_mode mode);

/* Can `reader` read data written with `writer`? Appends one line per violation to msgs:
 * "<prefix>: field 'amount': type changed from bytes(decimal) to string and cannot be
 * promoted". reader_is_new says which of the two is the newer version (it words the message
 * as a change from old to new); old_label / new_label ("v2") name them. Returns the number of
 * violations (0: compatible), -1 when msgs could not grow. */
int wb_compat_check(const wb_avro_type *reader, const wb_avro_type *writer, int reader_is_new,
                    const char *prefix, const char *old_label, const char *new_label, wb_buf *msgs);

/* What changed from old to new, for people (the event catalog): one line per change appended
 * to lines, e.g. "field 'sales_channel' added (default \"web\")", "field 'full_name' renamed
 * to 'contact_name' (alias)", "field 'quantity': type changed from int to long", "field
 * 'payment_method': symbols added: BNPL, GIFT_CARD", "field 'x' removed", "field 'y': default
 * changed". Records nested in arrays, maps and unions are followed ("lines[].sku"). Returns
 * the number of lines, -1 when lines could not grow. */
int wb_compat_diff(const wb_avro_type *old_t, const wb_avro_type *new_t, wb_buf *lines);

/* Check every dir/<event>/v<N>.avsc against the earlier versions of that event in `mode`, and
 * dir/manifest.json (when present) for an id per version, ids unique. Violation lines and a
 * summary line are appended to report. Returns the number of violations, or -1 with errstr
 * when dir cannot be read. */
int wb_compat_check_dir(const char *dir, wb_compat_mode mode, wb_buf *report, char *errstr,
                        size_t errstr_size);

#endif

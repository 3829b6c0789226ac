/* outbound/jq_proto.h - the wire between the bridge and its jq sandbox worker (internal to
 * jq_sandbox.c and jq_worker.c; both ends are the same binary, so host byte order).
 *
 * Every frame: u32 length of what follows, u32 request id, u32 a, u32 b, then bytes.
 *   request   a = wb_jq_kind, b = length of the program text; then the program text, then
 *             the event JSON (the rest of the frame).
 *   response  a = wb_jq_status, b = 0; then the transform's JSON (PASS of a transform) or the
 *             error message (FAILED).
 *   hello     the worker's first frame: id 0, a = WB_JQP_VERSION.
 *   bye       id 0, a = WB_JQP_BYE: the worker retires after this batch (recycle_after);
 *             requests it has not answered are sent to the next one.
 *
 * The progress slot is a shared page (memfd) the worker writes before and after each
 * evaluation, so the parent knows which request is running and since when without a write
 * per request: responses go back in one write per batch, and a request that never ends is
 * still named exactly. */
#ifndef WB_OUTBOUND_JQ_PROTO_H
#define WB_OUTBOUND_JQ_PROTO_H

#include <stdint.h>

#define WB_JQP_VERSION  1
#define WB_JQP_BYE      0xffffffffu
#define WB_JQP_HDR      16
#define WB_JQP_MAX_EXPR (64 * 1024) /* program text */
#define WB_JQP_FD       3           /* the socket, in the worker */
#define WB_JQP_SLOT_FD  4           /* the progress slot, in the worker */

typedef struct wb_jqp_slot {
    uint32_t id; /* request being evaluated, 0 when idle (atomic) */
    uint32_t pad;
    int64_t start_ms; /* wb_now_ms() when it started (atomic; written before id) */
} wb_jqp_slot;

struct wb_jq_prog;
/* Worker only: fn runs when libjq cannot allocate (then the jq_state is unusable). libjq
 * keeps the handler per thread; it is set again for every program. In jq_local.c. */
void wb_jq_prog_set_nomem(struct wb_jq_prog *prog, void (*fn)(void *), void *arg);

static inline void wb_jqp_put32(unsigned char *p, uint32_t v)
{
    __builtin_memcpy(p, &v, 4);
}

static inline uint32_t wb_jqp_get32(const unsigned char *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

#endif

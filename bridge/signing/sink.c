/* sink.c - where the signer's headers go (signing_int.h): "Name: value" lines separated by
 * "\n" (text), or "name\0value\0" pairs (typed). The scheme rows write through it and never
 * know which form they produce. */
#include <string.h>

#include "core/util.h"
#include "signing/signing_int.h"

wb_err wb_sink_start(wb_sink *sk, const char *name)
{
    wb_buf *out = sk->out;
    wb_err err = WB_OK;
    if (sk->typed) {
        if (sk->open) err = wb_buf_add(out, "", 1); /* the previous value's NUL */
        if (!err) err = wb_buf_add(out, name, strlen(name) + 1);
        sk->open = 1;
        return err;
    }
    if (out->len && out->data[out->len - 1] != '\n') err = wb_buf_adds(out, "\n");
    if (!err) err = wb_buf_adds(out, name);
    if (!err) err = wb_buf_adds(out, ": ");
    return err;
}

wb_err wb_sink_header(wb_sink *sk, const char *name, const char *value)
{
    wb_err err = wb_sink_start(sk, name);
    return err ? err : wb_buf_adds(sk->out, value);
}

wb_err wb_sink_mac(wb_sink *sk, const unsigned char *mac, size_t n, int base64)
{
    char enc[2 * WB_SIG_MAX_MAC + 4]; /* hex of the largest digest, or its base64 */
    size_t el = base64 ? wb_base64_encode(mac, n, enc) : wb_hex_encode(mac, n, enc);
    return wb_buf_add(sk->out, enc, el);
}

wb_err wb_sink_end(wb_sink *sk)
{
    if (!sk->typed || !sk->open) return WB_OK;
    sk->open = 0;
    return wb_buf_add(sk->out, "", 1);
}

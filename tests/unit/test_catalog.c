/* test_catalog.c - the partner catalog (cli/catalog.h) of a small folder: what each version
 * section says, examples generated through the bridge's own codec (logical types included),
 * a Standard Webhooks signature recomputed here with OpenSSL, both formats, stable output,
 * and the errors naming their file. tests/schemas/test_catalog.py drives the real command
 * over schemas/ with the official SDK and a browser. */
#include "cli/catalog.h"
#include "test.h"
#include "test_dir.h"
#include "core/util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char *V1 =
    "{\"type\":\"record\",\"name\":\"Shipped\",\"doc\":\"A parcel left the warehouse.\","
    "\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"the parcel\"},"
    "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
    "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"fee\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","
    "\"precision\":6,\"scale\":2}}]}";
static const char *V2 =
    "{\"type\":\"record\",\"name\":\"Shipped\",\"doc\":\"A parcel left the warehouse.\","
    "\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"the parcel\"},"
    "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
    "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"fee\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\","
    "\"precision\":6,\"scale\":2}},"
    "{\"name\":\"carrier\",\"type\":[\"null\",\"string\"],\"default\":null}]}";

static void make_folder(void)
{
    test_dir_make("wb_test_catalog");
    test_dir_mkdir("parcel.shipped");
    test_dir_put("parcel.shipped/v1.avsc", V1);
    test_dir_put("parcel.shipped/v2.avsc", V2);
    test_dir_put("manifest.json", "{\"parcel.shipped\":{\"1\":31,\"2\":32}}");
}

static char *render(wb_catalog_format fmt)
{
    wb_buf out;
    char err[512];
    wb_buf_init(&out, 0);
    wb_err e = wb_catalog_render(test_dir, fmt, &out, err, sizeof(err));
    if (e) FAIL_("wb_catalog_render: %s: %s", wb_err_str(e), err);
    return wb_buf_steal(&out, NULL);
}

/* The text between the first `start` after `from` and the next `end`, copied into out. */
static void between(const char *from, const char *start, const char *end, char *out,
                    size_t out_size)
{
    const char *a = strstr(from, start);
    ASSERT(a);
    a += strlen(start);
    const char *b = strstr(a, end);
    ASSERT(b);
    snprintf(out, out_size, "%.*s", (int)(b - a), a);
}

static void test_markdown(void)
{
    char *md = render(WB_CATALOG_MARKDOWN);
    ASSERT(!strncmp(md, "\n<a id=\"event-catalog\"></a>\n\n# Event catalog\n", 45));
    ASSERT_CONTAINS(md, "- [parcel.shipped](#parcel.shipped) - versions: [v1](#parcel.shipped-v1) "
                        "[v2](#parcel.shipped-v2)");
    ASSERT_CONTAINS(md, "## parcel.shipped\n\nA parcel left the warehouse.\n");
    /* newest first, with what changed and both directions of compatibility */
    const char *v2 = strstr(md, "### parcel.shipped v2"), *v1 = strstr(md, "### parcel.shipped v1");
    ASSERT(v2 && v1 && v2 < v1);
    ASSERT_CONTAINS(v2, "Contract `parcel.shipped@2`, registry id 32. The newest version.");
    ASSERT_CONTAINS(v2, "Changes from v1:\n\n- field 'carrier' added (default null)\n");
    ASSERT_CONTAINS(v2, "Compatibility: v2 reads v1 data (backward), v1 reads v2 data (forward).");
    ASSERT_CONTAINS(v2, "| `id` | `string` | yes | the parcel |");
    ASSERT_CONTAINS(v2, "| `carrier` | `union[null,string]` | no (default null) |  |");
    ASSERT(!strstr(v1, "Changes from"));
    /* the example: the logical types rendered as the bridge sends them */
    char body[2048];
    between(v2, "```json\n", "\n```", body, sizeof(body));
    ASSERT_CONTAINS(body, "\"type\":\"parcel.shipped\"");
    ASSERT_CONTAINS(body, "\"timestamp\":\"2026-11-23T17:44:06.123Z\"");
    ASSERT_CONTAINS(body, "\"at\":\"2026-11-23T17:44:06.123456Z\",\"day\":\"2026-11-23\","
                          "\"fee\":\"19.99\",\"carrier\":\"carrier_1001\"");
    /* the signature over webhook-id.timestamp.body with the sample secret */
    char id[64], ts[32], sig[128], content[2200], key_b64[] = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    between(v2, "webhook-id: ", "\n", id, sizeof(id));
    between(v2, "webhook-timestamp: ", "\n", ts, sizeof(ts));
    between(v2, "webhook-signature: v1,", "\n", sig, sizeof(sig));
    ASSERT_STR_EQ(ts, "1795455846");
    unsigned char key[64], mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    long klen = wb_base64_decode(key_b64, strlen(key_b64), key);
    ASSERT(klen > 0);
    int n = snprintf(content, sizeof(content), "%s.%s.%s", id, ts, body);
    ASSERT(HMAC(EVP_sha256(), key, (int)klen, (unsigned char *)content, (size_t)n, mac, &maclen));
    char want[128];
    wb_base64_encode(mac, maclen, want);
    ASSERT_STR_EQ(sig, want);
    /* the same folder, the same bytes */
    char *again = render(WB_CATALOG_MARKDOWN);
    ASSERT_STR_EQ(again, md);
    free(again);
    free(md);
}

static void test_html(void)
{
    char *html = render(WB_CATALOG_HTML);
    ASSERT(!strncmp(html, "<!DOCTYPE html>\n", 16));
    size_t n = strlen(html);
    ASSERT(n > 16 && !strcmp(html + n - 16, "</body>\n</html>\n"));
    ASSERT_CONTAINS(html, "<h3 id=\"parcel.shipped-v2\">parcel.shipped v2</h3>");
    ASSERT_CONTAINS(html, "<li>field 'carrier' added (default null)</li>");
    ASSERT(!strstr(html, "<script"));
    free(html);
}

static void test_errors(void)
{
    wb_buf out;
    char err[512], want[600];
    wb_buf_init(&out, 0);
    ASSERT_EQ(wb_catalog_render("/nonexistent-wb", WB_CATALOG_MARKDOWN, &out, err, sizeof(err)),
              WB_ERR_IO);
    ASSERT_CONTAINS(err, "/nonexistent-wb/manifest.json: ");
    test_dir_put("parcel.shipped/v2.avsc", "{\"type\":\"record\",\"name\":\"Shipped\"}");
    ASSERT_EQ(wb_catalog_render(test_dir, WB_CATALOG_MARKDOWN, &out, err, sizeof(err)),
              WB_ERR_SCHEMA);
    snprintf(want, sizeof(want), "%s/parcel.shipped/v2.avsc: invalid schema", test_dir);
    ASSERT_CONTAINS(err, want);
    test_dir_put("parcel.shipped/v2.avsc", V2);
    wb_buf_free(&out);
}

int main(void)
{
    make_folder();
    RUN(test_markdown);
    RUN(test_html);
    RUN(test_errors);
    test_dir_remove();
    TEST_DONE();
}

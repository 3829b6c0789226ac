/* registry_mock.h - what the tests that stand in for a Confluent Schema Registry share: the
 * libmicrohttpd handler result type across versions and a JSON reply. */
#ifndef WB_TEST_REGISTRY_MOCK_H
#define WB_TEST_REGISTRY_MOCK_H

#include <microhttpd.h>
#include <string.h>

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

/* Queue status with body (copied) as the registry's JSON media type. */
static mhd_result reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/vnd.schemaregistry.v1+json");
    mhd_result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

#endif

/* problem.h - RFC 9457 problem details (application/problem+json) bodies.
 *
 * Thread: pure functions, safe from any thread. */
#ifndef WB_PROBLEM_H
#define WB_PROBLEM_H

#include "core/buf.h"
#include "core/err.h"

#define WB_PROBLEM_CONTENT_TYPE "application/problem+json"

/* Short title of an HTTP status ("Unauthorized"); "Error" when unknown. Static string. */
const char *wb_problem_title(int status);

/* Append {"type","title","status","detail","instance"} to out. type is
 * "urn:webhook-bridge:problem:<slug>" (slug = a short code such as "signature"; NULL derives
 * one from the status), detail and instance (the request path) are JSON-escaped; NULL detail
 * or instance are left out. */
wb_err wb_problem_json(wb_buf *out, int status, const char *slug, const char *detail,
                       const char *instance);

#endif

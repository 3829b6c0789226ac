/* fatal.h - the process-wide "this process cannot go on" flag.
 *
 * librdkafka reports some errors as fatal (RD_KAFKA_RESP_ERR__FATAL: a fenced idempotent
 * producer, a fenced static group member, ...): the client instance is unusable from then on.
 * Whoever sees one raises the flag; readiness turns red at once (the admin endpoint checks it),
 * the app stops taking new work, drains what can be drained and exits non-zero so that the
 * orchestrator restarts the pod with fresh clients. The first reason raised is kept.
 *
 * Thread: every function is safe from any thread (librdkafka callbacks included). */
#ifndef WB_CORE_FATAL_H
#define WB_CORE_FATAL_H

/* Raise the flag (idempotent: later reasons are logged, the first one is kept). */
void wb_fatal_raise(const char *who, const char *reason);

/* 1 once raised. */
int wb_fatal_raised(void);

/* The first reason ("producer: ...") or "" when not raised. Stable once raised. */
const char *wb_fatal_reason(void);

/* Tests only: lower the flag again. */
void wb_fatal_reset(void);

#endif

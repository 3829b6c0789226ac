/* outbound/reprocess.h - replay and redrive: bounded runs of connectors in a process of their
 * own (a Kubernetes Job in the chart), through the live delivery path.
 *
 * replay: one connector, its topics again, every record whose Kafka timestamp is in
 *   [from, to) up to the log end offsets when the run starts (so it terminates), optionally
 *   only some event types; same envelope, same signature scheme, the same webhook-ids as the
 *   original deliveries (partners dedupe). A throwaway group, manual assignment, nothing
 *   committed: the live connector's offsets never move.
 * redrive: the dead-letter topic; each record goes only to the connector its wb-connector
 *   header names, with its original webhook-id and event type; failing again it is parked
 *   again with wb-redrive-count + 1 and the new reason. Progress is committed per connector
 *   (and filter) in "<group.id>.<connector>.redrive[...]", so running the same redrive twice
 *   sends nothing twice. Records of connectors the config no longer has are reported and left.
 *
 * Both print progress (records scanned / delivered / failed, rate, ETA) -- a status line on a
 * terminal, log lines otherwise -- and a summary. Exit status 0 only when every selected record
 * ended delivered or dead-lettered (dry run: counted); 1 otherwise (interrupted, records that
 * could not be processed); 2 on bad input (nothing is sent).
 *
 * Thread: the caller's thread runs the loop; SIGINT/SIGTERM stop the run (progress kept). */
#ifndef WB_OUTBOUND_REPROCESS_H
#define WB_OUTBOUND_REPROCESS_H

#include <stdint.h>

typedef struct wb_reprocess_opts {
    int redrive;           /* 0 replay, 1 redrive */
    const char *config;    /* bridge.yaml */
    const char *connector; /* replay: required; redrive: NULL = every connector */
    int64_t from_ms;       /* replay: required; redrive: --since (0 none) */
    int64_t to_ms;         /* replay: 0 = the log end offsets at start */
    const char *events;    /* replay: event-type glob, or NULL */
    const char *reason;    /* redrive: wb-error-reason prefix, or NULL */
    int dry_run;
} wb_reprocess_opts;

int wb_reprocess_run(const wb_reprocess_opts *o);

/* The CLI commands: parse arguments (errors name the flag), then wb_reprocess_run. */
int wb_cmd_replay(int argc, char **argv);
int wb_cmd_redrive(int argc, char **argv);

#endif

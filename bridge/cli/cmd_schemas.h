/* cmd_schemas.h - the `webhook-bridge schemas ...` CLI commands. */
#ifndef WB_CMD_SCHEMAS_H
#define WB_CMD_SCHEMAS_H

/* argv[0] = "schemas". `schemas check [DIR] [--mode MODE]`: check every version in DIR
 * (default "schemas") against the earlier ones; prints violations and a summary. Returns the
 * process exit status: 0 compatible, 1 violations, 2 usage or I/O error. Main thread. */
int wb_cmd_schemas(int argc, char **argv);

#endif

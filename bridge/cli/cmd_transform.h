/* cmd_transform.h - the `transform` CLI command (debug a connector's filter, contract and
 * transform on one event). */
#ifndef WB_CMD_TRANSFORM_H
#define WB_CMD_TRANSFORM_H

/* `webhook-bridge transform -c connector.yaml < event.json`: prints the headers and body the
 * partner would receive. argv[0] is "transform". Returns the exit code: 0 delivered, 1
 * filtered out or the event fails (message on stderr), 2 bad usage or connector file. Main
 * thread only (getopt). */
int wb_cmd_transform(int argc, char **argv);

#endif

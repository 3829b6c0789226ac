/* cmd_sign.h - the `sign` and `verify` CLI commands (tools for partners and operators). */
#ifndef WB_CMD_SIGN_H
#define WB_CMD_SIGN_H

/* `webhook-bridge sign ...`: read a body on stdin, print the signature headers a receiver
 * should get, one "Name: value" per line. argv[0] is "sign". Returns the process exit code:
 * 0 ok, 1 signing failed, 2 bad usage. Main thread only (uses getopt). */
int wb_cmd_sign(int argc, char **argv);

/* `webhook-bridge verify ...`: read a body on stdin, check it against -H headers; prints
 * "ok (delivery id ...)" and returns 0, or prints the reason to stderr and returns 1; 2 on
 * bad usage. argv[0] is "verify". Main thread only. */
int wb_cmd_verify(int argc, char **argv);

#endif

/*
 * ctl.h - raftkvctl's shared shapes: the settings every command runs with
 * (struct ctl_ctx), the command table (struct ctl_cmd, ctl_table.c) and the
 * exit codes.
 *
 * A command is one row in ctl_table.c and a handler in the file of its group
 * (ctl_kv.c, ctl_status.c, ctl_keygen.c, ...). A handler gets the words after
 * its name and returns an exit code; it talks to the cluster through
 * ctl_http.h and prints through ctl_out.h.
 */
#ifndef RAFTKV_CTL_H
#define RAFTKV_CTL_H

#include "kv_http_client.h"
#include "kv_url.h"

#include <stddef.h>

/* Exit codes, the same for every command. */
enum ctl_exit {
	CTL_EXIT_OK = 0,          /* done */
	CTL_EXIT_REFUSED = 1,     /* the cluster said no: not found, condition failed, 401/403 */
	CTL_EXIT_USAGE = 2,       /* bad command line (or a request the server calls malformed) */
	CTL_EXIT_UNREACHABLE = 3, /* no endpoint answered, or every one was unavailable (503) */
};

/* How answers are printed: for people (default) or as JSON (--output json). */
enum ctl_output {
	CTL_OUTPUT_HUMAN = 0,
	CTL_OUTPUT_JSON = 1,
};

#define CTL_ENDPOINTS_MAX   16
#define CTL_URL_BYTES_MAX   KV_URL_BYTES_MAX
#define CTL_TOKEN_BYTES_MAX KV_HTTP_TOKEN_BYTES_MAX

/* Settings from the global options and the environment; read-only to handlers. */
struct ctl_ctx {
	struct kv_url endpoints[CTL_ENDPOINTS_MAX]; /* --endpoints, parsed */
	size_t endpoint_count;
	int timeout_ms;
	enum ctl_output output;
	char token[CTL_TOKEN_BYTES_MAX]; /* empty: no Authorization header */
	const char *cacert;              /* borrowed from argv/environ; NULL: system CAs */
	const char *cert;                /* client certificate (PEM) or NULL */
	const char *key;                 /* its key (PEM) or NULL */
};

/*
 * A command. run gets argv[0..argc) = the words after the command's name
 * (borrowed) and returns an enum ctl_exit, or -1 when the words do not fit its
 * usage (the caller then prints the usage and exits 2). needs_cluster: the
 * command talks to the cluster (keygen does not).
 */
struct ctl_cmd {
	const char *name;
	const char *usage; /* the words after the name, e.g. "KEY VALUE" */
	const char *help;  /* one paragraph for `raftkvctl COMMAND --help` */
	int (*run)(const struct ctl_ctx *ctx, int argc, char **argv);
	int needs_cluster;
};

/* The table (ctl_table.c), ended by a row with name == NULL. */
extern const struct ctl_cmd ctl_cmds[];

/* Prints "usage: raftkvctl [OPTIONS] NAME USAGE" for cmd to stderr; returns CTL_EXIT_USAGE. */
int ctl_cmd_usage(const struct ctl_cmd *cmd);

#endif

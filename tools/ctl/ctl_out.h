/*
 * ctl_out.h - what raftkvctl prints and the exit code it ends with, for the
 * outcomes every command shares (ctl_out.c).
 */
#ifndef RAFTKV_CTL_OUT_H
#define RAFTKV_CTL_OUT_H

#include "ctl.h"
#include "ctl_http.h"
#include "ctl_json.h"

/*
 * Turns the outcome of ctl_http_do (http_rc and, when answered, resp) into an
 * exit code. For a 2xx answer prints nothing and returns CTL_EXIT_OK: the
 * command prints the result. Otherwise says why on stderr (the gateway's
 * error code and message; in JSON mode the error body also goes to stdout)
 * and returns CTL_EXIT_REFUSED, CTL_EXIT_USAGE or CTL_EXIT_UNREACHABLE.
 */
int ctl_out_outcome(const struct ctl_ctx *ctx, int http_rc, const struct ctl_http_resp *resp);

/* The exit code for an HTTP status (see docs: 2xx 0, 400/405/413/414/431 2, 503 3, else 1). */
int ctl_out_exit_for_status(int status);

/* Prints a body as it is to stdout, ending with a newline. */
void ctl_out_body(const struct ctl_http_resp *resp);

/* Prints obj's member name as text: a string unquoted, a number or bool as is, "-" when null or
 * absent. */
void ctl_out_field(struct ctl_json_span obj, const char *name);

/*
 * GET path (failing over between endpoints) and prints the JSON answer: as
 * it is with --output json (or when it is not JSON), else through
 * print_human(root). Returns the exit code, as ctl_out_outcome.
 */
int ctl_out_get_json(const struct ctl_ctx *ctx, const char *path,
                     void (*print_human)(struct ctl_json_span root));

#endif

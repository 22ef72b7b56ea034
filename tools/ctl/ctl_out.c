/*
 * ctl_out.c - shared printing and exit codes for raftkvctl's commands.
 */
#include "ctl_out.h"

#include "ctl_json.h"

#include <stdio.h>

int ctl_out_exit_for_status(int status)
{
	if (status >= 200 && status < 300)
		return CTL_EXIT_OK;
	switch (status) {
	case 400: /* the request itself is malformed: a bad key, a bad argument */
	case 405:
	case 413:
	case 414:
	case 431:
		return CTL_EXIT_USAGE;
	case 503: /* and every other endpoint gave 503 too, or was not reached */
		return CTL_EXIT_UNREACHABLE;
	default:
		return CTL_EXIT_REFUSED;
	}
}

void ctl_out_body(const struct ctl_http_resp *resp)
{
	fwrite(resp->body, 1, resp->body_len, stdout);
	if (resp->body_len == 0 || resp->body[resp->body_len - 1] != '\n')
		putchar('\n');
}

void ctl_out_field(struct ctl_json_span obj, const char *name)
{
	struct ctl_json_span v;
	char buf[256];

	if (ctl_json_member(obj, name, &v) != 0 || ctl_json_is(v, "null"))
		fputs("-", stdout);
	else if (v.p[0] == '"' && ctl_json_string(v, buf, sizeof(buf)) >= 0)
		fputs(buf, stdout);
	else
		printf("%.*s", (int)v.len, v.p);
}

int ctl_out_get_json(const struct ctl_ctx *ctx, const char *path,
                     void (*print_human)(struct ctl_json_span root))
{
	struct ctl_http_req req = {.method = "GET", .path = path};
	struct ctl_http_resp resp;
	struct ctl_json_span root;
	int code = ctl_out_outcome(ctx, ctl_http_do(ctx, &req, &resp), &resp);

	if (code == CTL_EXIT_OK) {
		if (ctx->output == CTL_OUTPUT_JSON ||
		    ctl_json_value(resp.body, resp.body_len, &root) != 0)
			ctl_out_body(&resp);
		else
			print_human(root);
	}
	ctl_http_resp_free(&resp);
	return code;
}

/* "key_not_found: no such key" from {"error":{"code","message"}}, or the status alone. */
static void out_error(const struct ctl_http_resp *resp)
{
	struct ctl_json_span root, err, code, msg;
	char code_s[64] = "", msg_s[512] = "";
	if (ctl_json_value(resp->body, resp->body_len, &root) == 0 &&
	    ctl_json_member(root, "error", &err) == 0) {
		if (ctl_json_member(err, "code", &code) == 0)
			ctl_json_string(code, code_s, sizeof(code_s));
		if (ctl_json_member(err, "message", &msg) == 0)
			ctl_json_string(msg, msg_s, sizeof(msg_s));
	}
	fprintf(stderr, "raftkvctl: %s:%s answered %d%s%s%s%s\n", resp->endpoint->host,
	        resp->endpoint->port, resp->status, code_s[0] ? " " : "", code_s,
	        msg_s[0] ? ": " : "", msg_s);
}

int ctl_out_outcome(const struct ctl_ctx *ctx, int http_rc, const struct ctl_http_resp *resp)
{
	if (http_rc == CTL_HTTP_BAD_CONFIG)
		return CTL_EXIT_USAGE;
	if (http_rc != CTL_HTTP_ANSWERED) {
		fprintf(stderr, "raftkvctl: no endpoint answered\n");
		return CTL_EXIT_UNREACHABLE;
	}
	int code = ctl_out_exit_for_status(resp->status);
	if (code == CTL_EXIT_OK)
		return code;
	out_error(resp);
	if (ctx->output == CTL_OUTPUT_JSON && resp->body_len > 0 && resp->body[0] == '{')
		ctl_out_body(resp);
	return code;
}

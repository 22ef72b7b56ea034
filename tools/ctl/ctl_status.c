/*
 * ctl_status.c - `raftkvctl status` (GET /v1/status: a node's view of the
 * cluster) and the probes `ready` (/readyz) and `live` (/livez) of one node,
 * the first endpoint: a probe that failed over would report another node;
 * `metrics` (GET /metrics, Prometheus text, an admin token when tokens are on).
 */
#include "ctl_status.h"

#include "ctl_http.h"
#include "ctl_json.h"
#include "ctl_out.h"

#include <stdio.h>

static void status_print_human(struct ctl_json_span root)
{
	struct ctl_json_span leader, members, m;
	fputs("node ", stdout);
	ctl_out_field(root, "id");
	fputs(": ", stdout);
	ctl_out_field(root, "role");
	fputs(", term ", stdout);
	ctl_out_field(root, "term");
	fputs(", leader ", stdout);
	if (ctl_json_member(root, "leader", &leader) == 0 && !ctl_json_is(leader, "null")) {
		ctl_out_field(leader, "id");
		fputs(" (", stdout);
		ctl_out_field(leader, "url");
		fputs(")", stdout);
	} else {
		fputs("unknown", stdout);
	}
	fputs("\ncommit ", stdout);
	ctl_out_field(root, "commit_index");
	fputs(", applied ", stdout);
	ctl_out_field(root, "applied_index");
	fputs(", last ", stdout);
	ctl_out_field(root, "last_index");
	fputs("\nmembers (id role peer-address url):\n", stdout);
	const char *cursor = NULL;
	if (ctl_json_member(root, "members", &members) != 0)
		return;
	while (ctl_json_next(members, &cursor, &m) == 1) {
		static const char *const fields[] = {"id", "role", "peer_address", "url"};
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			fputs(i == 0 ? "  " : " ", stdout);
			ctl_out_field(m, fields[i]);
		}
		putchar('\n');
	}
}

int ctl_status_status(const struct ctl_ctx *ctx, int argc, char **argv)
{
	return argc == 0 ? ctl_out_get_json(ctx, "/v1/status", status_print_human) : -1;
}

/* GET path on the first endpoint; 200 prints "what" (or the body in JSON mode). */
static int status_probe(const struct ctl_ctx *ctx, const char *path, const char *what)
{
	struct ctl_http_req req = {.method = "GET", .path = path, .first_only = 1};
	struct ctl_http_resp resp;
	int rc = ctl_http_do(ctx, &req, &resp);
	int code = ctl_out_outcome(ctx, rc, &resp);
	/* this node answered but is not ready: a refusal, not an unreachable cluster */
	if (rc == CTL_HTTP_ANSWERED && resp.status == 503)
		code = CTL_EXIT_REFUSED;
	if (code == CTL_EXIT_OK) {
		if (ctx->output == CTL_OUTPUT_JSON)
			ctl_out_body(&resp);
		else
			printf("%s:%s is %s\n", resp.endpoint->host, resp.endpoint->port, what);
	}
	ctl_http_resp_free(&resp);
	return code;
}

int ctl_status_ready(const struct ctl_ctx *ctx, int argc, char **argv)
{
	return argc == 0 ? status_probe(ctx, "/readyz", "ready") : -1;
}

int ctl_status_live(const struct ctl_ctx *ctx, int argc, char **argv)
{
	return argc == 0 ? status_probe(ctx, "/livez", "live") : -1;
}

int ctl_status_metrics(const struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc != 0)
		return -1;
	struct ctl_http_req req = {.method = "GET", .path = "/metrics"};
	struct ctl_http_resp resp;
	int code = ctl_out_outcome(ctx, ctl_http_do(ctx, &req, &resp), &resp);
	if (code == CTL_EXIT_OK)
		ctl_out_body(&resp); /* Prometheus text in either output mode */
	ctl_http_resp_free(&resp);
	return code;
}

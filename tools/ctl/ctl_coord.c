/*
 * ctl_coord.c - raftkvctl lease grant|keepalive|revoke and txn: thin calls
 * of POST /v1/leases, PUT /v1/leases/{id}/keepalive, DELETE /v1/leases/{id}
 * and POST /v1/txn (docs/api.md, "Leases", "Transactions"). Writes carry a
 * random Idempotency-Key, as put and delete do.
 */
#include "ctl_coord.h"

#include "ctl_json.h"
#include "ctl_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define COORD_TXN_STDIN_BYTES_MAX (4u << 20) /* the gateway's bound on a transaction */

/* "Idempotency-Key: <32 hex digits>\r\n" into out; 0 or -1. */
static int coord_idem_header(char *out, size_t cap)
{
	unsigned char id[16];
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return -1;
	int n = snprintf(out, cap, "Idempotency-Key: ");
	for (size_t i = 0; i < sizeof(id); i++)
		n += snprintf(out + n, cap - (size_t)n, "%02x", id[i]);
	snprintf(out + n, cap - (size_t)n, "\r\n");
	return 0;
}

int ctl_coord_call(const struct ctl_ctx *ctx, const char *method, const char *path,
                   const char *body, size_t body_len, int quiet, struct ctl_http_resp *resp)
{
	char headers[64];
	if (coord_idem_header(headers, sizeof(headers)) != 0) {
		fprintf(stderr, "raftkvctl: no random bytes for the Idempotency-Key\n");
		return CTL_EXIT_USAGE;
	}
	struct ctl_http_req req = {.method = method,
	                           .path = path,
	                           .body = body,
	                           .body_len = body_len,
	                           .headers = strcmp(method, "POST") == 0 ? headers : NULL};
	int rc = ctl_http_do(ctx, &req, resp);
	int code = quiet ? (rc == CTL_HTTP_ANSWERED ? ctl_out_exit_for_status(resp->status)
	                                            : CTL_EXIT_UNREACHABLE)
	                 : ctl_out_outcome(ctx, rc, resp);
	if (code != CTL_EXIT_OK && rc == CTL_HTTP_ANSWERED)
		ctl_http_resp_free(resp);
	return code;
}

int ctl_coord_grant(const struct ctl_ctx *ctx, long long ttl_ms, char *id, size_t cap)
{
	char body[64];
	struct ctl_http_resp resp;
	int n = snprintf(body, sizeof(body), "{\"ttl_ms\":%lld}", ttl_ms);
	int code = ctl_coord_call(ctx, "POST", "/v1/leases", body, (size_t)n, 0, &resp);
	if (code != CTL_EXIT_OK)
		return code;
	struct ctl_json_span root, v;
	if (ctl_json_value(resp.body, resp.body_len, &root) != 0 ||
	    ctl_json_member(root, "id", &v) != 0 || ctl_json_string(v, id, cap) <= 0) {
		fprintf(stderr, "raftkvctl: the grant's answer has no id\n");
		code = CTL_EXIT_REFUSED;
	}
	ctl_http_resp_free(&resp);
	return code;
}

/* A lease id: 1 to 20 decimal digits. */
static int coord_id_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	return n > 0 && n <= 20 && s[n] == '\0';
}

static int coord_print(const struct ctl_ctx *ctx, int code, struct ctl_http_resp *resp,
                       const char *human)
{
	if (code != CTL_EXIT_OK)
		return code;
	if (ctx->output == CTL_OUTPUT_JSON || human == NULL)
		ctl_out_body(resp);
	else
		puts(human);
	ctl_http_resp_free(resp);
	return CTL_EXIT_OK;
}

int ctl_coord_lease(const struct ctl_ctx *ctx, int argc, char **argv)
{
	char path[96], id[32];
	struct ctl_http_resp resp;
	if (argc != 2)
		return -1;
	if (strcmp(argv[0], "grant") == 0) {
		char *end = NULL;
		long long ttl = strtoll(argv[1], &end, 10);
		if (end == argv[1] || *end != '\0' || ttl <= 0)
			return -1;
		int code = ctl_coord_grant(ctx, ttl, id, sizeof(id));
		if (code == CTL_EXIT_OK)
			printf(ctx->output == CTL_OUTPUT_JSON ? "{\"id\":\"%s\",\"ttl_ms\":%lld}\n"
			                                      : "%s\n",
			       id, ttl);
		return code;
	}
	if (!coord_id_ok(argv[1]))
		return -1;
	if (strcmp(argv[0], "keepalive") == 0) {
		snprintf(path, sizeof(path), "/v1/leases/%s/keepalive", argv[1]);
		return coord_print(ctx, ctl_coord_call(ctx, "PUT", path, NULL, 0, 0, &resp), &resp,
		                   NULL);
	}
	if (strcmp(argv[0], "revoke") == 0) {
		snprintf(path, sizeof(path), "/v1/leases/%s", argv[1]);
		return coord_print(ctx, ctl_coord_call(ctx, "DELETE", path, NULL, 0, 0, &resp),
		                   &resp, NULL);
	}
	return -1;
}

int ctl_coord_txn(const struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc != 0)
		return -1;
	char *body = malloc(COORD_TXN_STDIN_BYTES_MAX + 1);
	if (body == NULL)
		return CTL_EXIT_USAGE;
	size_t len = fread(body, 1, COORD_TXN_STDIN_BYTES_MAX + 1, stdin);
	if (len > COORD_TXN_STDIN_BYTES_MAX || ferror(stdin)) {
		fprintf(stderr, "raftkvctl: stdin is over %u bytes or unreadable\n",
		        COORD_TXN_STDIN_BYTES_MAX);
		free(body);
		return CTL_EXIT_USAGE;
	}
	struct ctl_http_resp resp;
	int code = ctl_coord_call(ctx, "POST", "/v1/txn", body, len, 0, &resp);
	free(body);
	if (code != CTL_EXIT_OK)
		return code;
	struct ctl_json_span root, ok;
	int succeeded = ctl_json_value(resp.body, resp.body_len, &root) == 0 &&
	                ctl_json_member(root, "succeeded", &ok) == 0 && ctl_json_is(ok, "true");
	ctl_out_body(&resp);
	ctl_http_resp_free(&resp);
	return succeeded ? CTL_EXIT_OK : CTL_EXIT_REFUSED; /* the failure branch ran: exit 1 */
}

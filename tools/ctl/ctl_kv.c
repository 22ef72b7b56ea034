/*
 * ctl_kv.c - raftkvctl's single-key commands: get, put, delete
 * (GET/PUT/DELETE /v1/kv/{key}, docs/api.md). Rows in ctl_table.c.
 *
 * Every write carries a random Idempotency-Key: when an endpoint fails after
 * the request went out and ctl_http_do sends it to the next one, the cluster
 * applies it at most once and answers the retry with the first outcome (a
 * put --if-absent that succeeded is not reported as a failed condition).
 */
#include "ctl_kv.h"

#include "ctl_encoding.h"
#include "ctl_http.h"
#include "ctl_json.h"
#include "ctl_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define KV_VALUE_STDIN_BYTES_MAX (64u << 20)
#define KV_HEADERS_BYTES_MAX     128u

/* The options put and delete share: a condition on the key's mod_index. */
struct kv_cond {
	const char *if_match; /* --if-match N */
	int if_absent;        /* --if-absent (put only) */
};

/* Reads leading --if-match N / --if-absent; returns how many words it took, or -1. */
static int kv_parse_cond(int argc, char **argv, int allow_absent, struct kv_cond *cond)
{
	int a = 0;
	*cond = (struct kv_cond){0};
	while (a < argc && strncmp(argv[a], "--", 2) == 0) {
		if (strcmp(argv[a], "--if-match") == 0 && a + 1 < argc && argv[a + 1][0] != '\0' &&
		    strlen(argv[a + 1]) <= 20 && /* a uint64 */
		    strspn(argv[a + 1], "0123456789") == strlen(argv[a + 1]))
			cond->if_match = argv[++a];
		else if (allow_absent && strcmp(argv[a], "--if-absent") == 0)
			cond->if_absent = 1;
		else
			return -1;
		a++;
	}
	return cond->if_match && cond->if_absent ? -1 : a;
}

/* A write's extra headers: its condition and a fresh Idempotency-Key (32 hex digits). */
static int kv_write_headers(const struct kv_cond *cond, char *out, size_t cap)
{
	unsigned char id[16];
	char hex[2 * sizeof(id) + 1], condition[64] = "";
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		fprintf(stderr, "raftkvctl: no random bytes for the Idempotency-Key\n");
		return -1;
	}
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	if (cond->if_match != NULL)
		snprintf(condition, sizeof(condition), "If-Match: \"%.40s\"\r\n", cond->if_match);
	else if (cond->if_absent)
		snprintf(condition, sizeof(condition), "If-None-Match: *\r\n");
	int n = snprintf(out, cap, "%sIdempotency-Key: %s\r\n", condition, hex);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* "/v1/kv/<key percent-encoded>" into path; -1 (message printed) when too long. */
static int kv_path(const char *key, char *path, size_t cap)
{
	char enc[CTL_PATH_BYTES_MAX];
	if (key[0] == '\0' || ctl_percent_encode(key, strlen(key), 1, enc, sizeof(enc)) != 0 ||
	    (size_t)snprintf(path, cap, "/v1/kv/%s", enc) >= cap) {
		fprintf(stderr, "raftkvctl: the key is empty or too long\n");
		return -1;
	}
	return 0;
}

/* One request; prints failures and returns the exit code (resp filled when 0). */
static int kv_call(const struct ctl_ctx *ctx, const struct ctl_http_req *req,
                   struct ctl_http_resp *resp)
{
	int rc = ctl_http_do(ctx, req, resp);
	int code = ctl_out_outcome(ctx, rc, resp);
	if (code != CTL_EXIT_OK)
		ctl_http_resp_free(resp);
	return code;
}

static void kv_print_get_json(const char *key, const struct ctl_http_resp *resp)
{
	char create[24] = "0", mod[24] = "0";
	ctl_http_header(resp, "x-create-index", create, sizeof(create));
	ctl_http_header(resp, "x-mod-index", mod, sizeof(mod));
	int text = ctl_utf8_valid(resp->body, resp->body_len);
	fputs("{\"key\":", stdout);
	ctl_json_write_string(stdout, key, strlen(key));
	fputs(",\"value\":", stdout);
	if (text) {
		ctl_json_write_string(stdout, resp->body, resp->body_len);
	} else {
		putchar('"');
		ctl_base64_write(stdout, resp->body, resp->body_len);
		putchar('"');
	}
	printf(",\"create_index\":%lld,\"mod_index\":%lld%s}\n", atoll(create), atoll(mod),
	       text ? "" : ",\"encoding\":\"base64\"");
}

int ctl_kv_get(const struct ctl_ctx *ctx, int argc, char **argv)
{
	char path[CTL_PATH_BYTES_MAX + 16];
	if (argc != 1)
		return -1;
	if (kv_path(argv[0], path, sizeof(path)) != 0)
		return CTL_EXIT_USAGE;
	struct ctl_http_req req = {.method = "GET", .path = path};
	struct ctl_http_resp resp;
	int code = kv_call(ctx, &req, &resp);
	if (code != CTL_EXIT_OK)
		return code;
	if (ctx->output == CTL_OUTPUT_JSON)
		kv_print_get_json(argv[0], &resp);
	else
		ctl_out_body(&resp);
	ctl_http_resp_free(&resp);
	return CTL_EXIT_OK;
}

/* The value "-" means stdin (at most KV_VALUE_STDIN_BYTES_MAX); *owned is then freed by the caller.
 */
static const char *kv_value(const char *arg, size_t *len, char **owned)
{
	*owned = NULL;
	if (strcmp(arg, "-") != 0) {
		*len = strlen(arg);
		return arg;
	}
	char *buf = malloc(KV_VALUE_STDIN_BYTES_MAX + 1);
	if (buf == NULL)
		return NULL;
	*len = fread(buf, 1, KV_VALUE_STDIN_BYTES_MAX + 1, stdin);
	if (*len > KV_VALUE_STDIN_BYTES_MAX || ferror(stdin)) {
		fprintf(stderr, "raftkvctl: stdin is over %u bytes or unreadable\n",
		        KV_VALUE_STDIN_BYTES_MAX);
		free(buf);
		return NULL;
	}
	*owned = buf;
	return buf;
}

/* Prints a write's answer: the body in JSON mode, else one line with its mod_index. */
static void kv_print_write(const struct ctl_ctx *ctx, const char *verb, const char *key,
                           const struct ctl_http_resp *resp)
{
	struct ctl_json_span root, mod;
	long long index = -1;
	if (ctx->output == CTL_OUTPUT_JSON) {
		ctl_out_body(resp);
		return;
	}
	if (ctl_json_value(resp->body, resp->body_len, &root) == 0 &&
	    ctl_json_member(root, "mod_index", &mod) == 0)
		ctl_json_int(mod, &index);
	printf("%s %s (mod_index %lld)\n", verb, key, index);
}

int ctl_kv_put(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct kv_cond cond;
	int a = kv_parse_cond(argc, argv, 1, &cond);
	char path[CTL_PATH_BYTES_MAX + 16], headers[KV_HEADERS_BYTES_MAX];
	if (a < 0 || argc - a != 2)
		return -1;
	if (kv_path(argv[a], path, sizeof(path)) != 0)
		return CTL_EXIT_USAGE;
	char *owned;
	size_t len;
	const char *value = kv_value(argv[a + 1], &len, &owned);
	if (value == NULL)
		return CTL_EXIT_USAGE;
	if (kv_write_headers(&cond, headers, sizeof(headers)) != 0) {
		free(owned);
		return CTL_EXIT_USAGE;
	}
	struct ctl_http_req req = {
	    .method = "PUT", .path = path, .body = value, .body_len = len, .headers = headers};
	struct ctl_http_resp resp;
	int code = kv_call(ctx, &req, &resp);
	free(owned);
	if (code != CTL_EXIT_OK)
		return code;
	kv_print_write(ctx, "put", argv[a], &resp);
	ctl_http_resp_free(&resp);
	return CTL_EXIT_OK;
}

int ctl_kv_delete(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct kv_cond cond;
	int a = kv_parse_cond(argc, argv, 0, &cond);
	char path[CTL_PATH_BYTES_MAX + 16], headers[KV_HEADERS_BYTES_MAX];
	if (a < 0 || argc - a != 1)
		return -1;
	if (kv_path(argv[a], path, sizeof(path)) != 0)
		return CTL_EXIT_USAGE;
	if (kv_write_headers(&cond, headers, sizeof(headers)) != 0)
		return CTL_EXIT_USAGE;
	struct ctl_http_req req = {.method = "DELETE", .path = path, .headers = headers};
	struct ctl_http_resp resp;
	int code = kv_call(ctx, &req, &resp);
	if (code != CTL_EXIT_OK)
		return code;
	kv_print_write(ctx, "deleted", argv[a], &resp);
	ctl_http_resp_free(&resp);
	return CTL_EXIT_OK;
}

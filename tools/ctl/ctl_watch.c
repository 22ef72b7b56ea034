/*
 * ctl_watch.c - `raftkvctl watch [--prefix] [--from N] [--count N] KEY`: the
 * changes of KEY (or of every key under it with --prefix) as they are
 * applied, one line each, by long polls of GET /v1/watch?...&wait= (docs/
 * api.md): each answer's X-Raft-Index says where the next one starts, so a
 * poll that fails over to another endpoint resumes exactly there, nothing
 * missed or repeated. Runs until --count changes were printed, or until no
 * endpoint answers (then says on stderr which --from resumes).
 */
#include "ctl_watch.h"

#include "ctl_encoding.h"
#include "ctl_http.h"
#include "ctl_json.h"
#include "ctl_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_WAIT_MS_MIN 1000  /* a long poll waits at least this long */
#define WATCH_WAIT_MS_MAX 30000 /* and at most this long */

struct watch_opts {
	int prefix;
	unsigned long long from; /* 0: the next change */
	long long count;         /* 0: no end */
	const char *key;
};

static int watch_number(const char *s, unsigned long long *out)
{
	char *stop;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	*out = strtoull(s, &stop, 10);
	return *stop == '\0' ? 0 : -1;
}

static int watch_parse(int argc, char **argv, struct watch_opts *o)
{
	*o = (struct watch_opts){0};
	int a = 0;
	unsigned long long n;
	for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
		if (strcmp(argv[a], "--prefix") == 0) {
			o->prefix = 1;
		} else if (strcmp(argv[a], "--from") == 0 && a + 1 < argc) {
			if (watch_number(argv[++a], &o->from) != 0 || o->from == 0)
				return -1;
		} else if (strcmp(argv[a], "--count") == 0 && a + 1 < argc) {
			if (watch_number(argv[++a], &n) != 0 || n == 0 || n > 1000000000ULL)
				return -1;
			o->count = (long long)n;
		} else {
			return -1;
		}
	}
	if (argc - a != 1 || (!o->prefix && argv[a][0] == '\0'))
		return -1;
	o->key = argv[a];
	return 0;
}

/* One string member of change, decoded (and base64 kept as text with "base64:"). */
static void watch_print_bytes(struct ctl_json_span change, const char *name, int b64, char *buf,
                              size_t cap)
{
	struct ctl_json_span s;
	long len = -1;
	if (ctl_json_member(change, name, &s) == 0)
		len = ctl_json_string(s, buf, cap);
	printf("\t%s%.*s", b64 ? "base64:" : "", (int)(len > 0 ? len : 0), buf);
}

/* "MOD_INDEX<TAB>put<TAB>KEY<TAB>VALUE" or "MOD_INDEX<TAB>delete<TAB>KEY"; JSON: the object. */
static void watch_print(const struct ctl_ctx *ctx, struct ctl_json_span change)
{
	if (ctx->output == CTL_OUTPUT_JSON) {
		printf("%.*s\n", (int)change.len, change.p);
		return;
	}
	struct ctl_json_span type, mod, enc;
	long long index = 0;
	char *buf = malloc(change.len + 1); /* a decoded string is never longer than its JSON */
	if (buf == NULL || ctl_json_member(change, "type", &type) != 0 ||
	    ctl_json_member(change, "mod_index", &mod) != 0 || ctl_json_int(mod, &index) != 0) {
		free(buf);
		return;
	}
	int b64 = ctl_json_member(change, "encoding", &enc) == 0;
	int put = ctl_json_string(type, buf, change.len + 1) == 3 && strcmp(buf, "put") == 0;
	printf("%lld\t%s", index, put ? "put" : "delete");
	watch_print_bytes(change, "key", b64, buf, change.len + 1);
	if (put)
		watch_print_bytes(change, "value", b64, buf, change.len + 1);
	putchar('\n');
	fflush(stdout);
	free(buf);
}

/* Prints one answer's changes (up to what --count leaves); -1 if it cannot be read. */
static int watch_answer(const struct ctl_ctx *ctx, const struct watch_opts *o,
                        const struct ctl_http_resp *resp, long long *printed)
{
	struct ctl_json_span arr, change;
	if (ctl_json_value(resp->body, resp->body_len, &arr) != 0)
		return -1;
	const char *cursor = NULL;
	int r = 0;
	while ((o->count == 0 || *printed < o->count) &&
	       (r = ctl_json_next(arr, &cursor, &change)) == 1) {
		watch_print(ctx, change);
		(*printed)++;
	}
	return (o->count != 0 && *printed >= o->count) || r == 0 ? 0 : -1;
}

/* One long poll from *from; moves *from past what it covered. Returns an exit code. */
static int watch_poll(const struct ctl_ctx *ctx, const struct watch_opts *o, const char *key,
                      unsigned long long *from, long long *printed)
{
	char path[CTL_PATH_BYTES_MAX], index[24];
	long long wait = (long long)ctx->timeout_ms - 1000;
	wait = wait < WATCH_WAIT_MS_MIN ? WATCH_WAIT_MS_MIN
	                                : (wait > WATCH_WAIT_MS_MAX ? WATCH_WAIT_MS_MAX : wait);
	int n = snprintf(path, sizeof(path), "/v1/watch?%s=%s&wait=%lldms",
	                 o->prefix ? "prefix" : "key", key, wait);
	if (*from != 0)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&from_index=%llu", *from);
	if (n <= 0 || (size_t)n >= sizeof(path))
		return CTL_EXIT_USAGE;
	/* the read may wait as long as the poll: give the connection room past it */
	struct ctl_ctx poll_ctx = *ctx;
	if (poll_ctx.timeout_ms < wait + 5000)
		poll_ctx.timeout_ms = (int)(wait + 5000);
	struct ctl_http_req req = {.method = "GET", .path = path};
	struct ctl_http_resp resp;
	int code = ctl_out_outcome(ctx, ctl_http_do(&poll_ctx, &req, &resp), &resp);
	if (code == CTL_EXIT_OK) {
		unsigned long long covered = 0;
		if (ctl_http_header(&resp, "x-raft-index", index, sizeof(index)) != 0 ||
		    watch_number(index, &covered) != 0 ||
		    watch_answer(ctx, o, &resp, printed) != 0) {
			fprintf(stderr, "raftkvctl: cannot read the watch answer\n");
			code = CTL_EXIT_REFUSED;
		} else {
			*from = covered + 1;
		}
	}
	ctl_http_resp_free(&resp);
	return code;
}

int ctl_watch(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct watch_opts o;
	char key[CTL_PATH_BYTES_MAX / 2];
	if (watch_parse(argc, argv, &o) != 0)
		return -1;
	if (ctl_percent_encode(o.key, strlen(o.key), 0, key, sizeof(key)) != 0)
		return CTL_EXIT_USAGE;
	unsigned long long from = o.from;
	long long printed = 0;
	int code = CTL_EXIT_OK;
	while (code == CTL_EXIT_OK && (o.count == 0 || printed < o.count))
		code = watch_poll(ctx, &o, key, &from, &printed);
	if (code != CTL_EXIT_OK && from != 0)
		fprintf(stderr, "raftkvctl: watch stopped; resume with --from %llu\n", from);
	return code;
}

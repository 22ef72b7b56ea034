/*
 * ctl_list.c - `raftkvctl list [--keys-only] [--limit N] [PREFIX]`: every key
 * under PREFIX in byte order, page after page (GET /v1/kv?prefix=&after=,
 * docs/api.md), printed as each page arrives so memory stays one page.
 */
#include "ctl_kv.h"

#include "ctl_encoding.h"
#include "ctl_http.h"
#include "ctl_json.h"
#include "ctl_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_PAGE_ITEMS 1000
#define LIST_KEY_BYTES  2048 /* a decoded key: the gateway's limit is 511 */
#define LIST_ITEMS_MAX  100000000LL

struct list_opts {
	int keys_only;
	long long limit; /* items in all */
	long long page;  /* items per request */
	const char *prefix;
};

static int list_parse(int argc, char **argv, struct list_opts *o)
{
	*o = (struct list_opts){.limit = LIST_ITEMS_MAX, .page = LIST_PAGE_ITEMS, .prefix = ""};
	int a = 0;
	for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
		if (strcmp(argv[a], "--keys-only") == 0) {
			o->keys_only = 1;
		} else if (strcmp(argv[a], "--limit") == 0 && a + 1 < argc) {
			char *stop;
			o->limit = strtoll(argv[++a], &stop, 10);
			if (*stop != '\0' || o->limit < 1 || o->limit > LIST_ITEMS_MAX)
				return -1;
		} else if (strcmp(argv[a], "--page-size") == 0 && a + 1 < argc) {
			char *stop;
			o->page = strtoll(argv[++a], &stop, 10);
			if (*stop != '\0' || o->page < 1 || o->page > LIST_PAGE_ITEMS)
				return -1;
		} else {
			return -1;
		}
	}
	if (argc - a > 1)
		return -1;
	if (a < argc)
		o->prefix = argv[a];
	return 0;
}

/* Prints one item as "KEY<TAB>VALUE" (or the key alone); JSON mode copies it as it is. */
static void list_print_item(const struct ctl_ctx *ctx, const struct list_opts *o,
                            struct ctl_json_span item, long long n)
{
	if (ctx->output == CTL_OUTPUT_JSON) {
		printf("%s%.*s", n > 0 ? "," : "", (int)item.len, item.p);
		return;
	}
	struct ctl_json_span key, value, enc;
	char *buf = malloc(item.len + 1); /* a decoded string is never longer than its JSON */
	if (buf == NULL || ctl_json_member(item, "key", &key) != 0)
		goto out_free;
	int b64 = ctl_json_member(item, "encoding", &enc) == 0;
	long len = ctl_json_string(key, buf, item.len + 1);
	printf("%s%.*s", b64 ? "base64:" : "", (int)(len > 0 ? len : 0), buf);
	if (!o->keys_only && ctl_json_member(item, "value", &value) == 0 &&
	    (len = ctl_json_string(value, buf, item.len + 1)) >= 0)
		printf("\t%s%.*s", b64 ? "base64:" : "", (int)len, buf);
	putchar('\n');
out_free:
	free(buf);
}

/* The next page's `after`, percent-encoded, from the page's next (and next_encoding). */
static int list_next_after(struct ctl_json_span root, char *after, size_t cap)
{
	struct ctl_json_span next, enc;
	char raw[LIST_KEY_BYTES], bytes[LIST_KEY_BYTES];
	long len;
	if (ctl_json_member(root, "next", &next) != 0 ||
	    (len = ctl_json_string(next, raw, sizeof(raw))) < 0)
		return -1;
	if (ctl_json_member(root, "next_encoding", &enc) == 0) {
		len = ctl_base64_decode(raw, (size_t)len, bytes, sizeof(bytes));
		if (len < 0)
			return -1;
		return ctl_percent_encode(bytes, (size_t)len, 0, after, cap);
	}
	return ctl_percent_encode(raw, (size_t)len, 0, after, cap);
}

/*
 * Prints one page's items; *n counts what was printed. Returns 1 when another
 * page follows (after set), 0 at the end, -1 for an answer it cannot read.
 */
static int list_page(const struct ctl_ctx *ctx, const struct list_opts *o,
                     const struct ctl_http_resp *resp, long long *n, char *after, size_t cap)
{
	struct ctl_json_span root, items, item, more;
	if (ctl_json_value(resp->body, resp->body_len, &root) != 0 ||
	    ctl_json_member(root, "items", &items) != 0)
		return -1;
	const char *cursor = NULL;
	int r;
	while (*n < o->limit && (r = ctl_json_next(items, &cursor, &item)) == 1)
		list_print_item(ctx, o, item, (*n)++);
	if (*n >= o->limit)
		return 0;
	if (r < 0 || ctl_json_member(root, "more", &more) != 0)
		return -1;
	if (!ctl_json_is(more, "true"))
		return 0;
	return list_next_after(root, after, cap) == 0 ? 1 : -1;
}

int ctl_kv_list(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct list_opts o;
	char prefix[CTL_PATH_BYTES_MAX / 2], after[CTL_PATH_BYTES_MAX / 4] = "";
	char path[CTL_PATH_BYTES_MAX];
	if (list_parse(argc, argv, &o) != 0)
		return -1;
	if (ctl_percent_encode(o.prefix, strlen(o.prefix), 0, prefix, sizeof(prefix)) != 0)
		return CTL_EXIT_USAGE;
	long long n = 0;
	int more = 1, code = CTL_EXIT_OK;
	if (ctx->output == CTL_OUTPUT_JSON)
		fputs("{\"items\":[", stdout);
	while (more == 1 && code == CTL_EXIT_OK) {
		long long page = o.limit - n < o.page ? o.limit - n : o.page;
		snprintf(path, sizeof(path), "/v1/kv?prefix=%s&limit=%lld%s%s", prefix, page,
		         after[0] ? "&after=" : "", after);
		struct ctl_http_req req = {.method = "GET", .path = path};
		struct ctl_http_resp resp;
		code = ctl_out_outcome(ctx, ctl_http_do(ctx, &req, &resp), &resp);
		if (code == CTL_EXIT_OK &&
		    (more = list_page(ctx, &o, &resp, &n, after, sizeof(after))) < 0) {
			fprintf(stderr, "raftkvctl: cannot read the list answer\n");
			code = CTL_EXIT_REFUSED;
		}
		ctl_http_resp_free(&resp);
	}
	if (ctx->output == CTL_OUTPUT_JSON)
		printf("]%s}\n", code == CTL_EXIT_OK ? "" : ",\"incomplete\":true");
	return code;
}

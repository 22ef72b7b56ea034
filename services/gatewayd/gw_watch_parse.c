/*
 * gw_watch_parse.c - the query parameters of GET /v1/watch (gw_watch.h).
 * Pure code; any thread.
 */
#include "gw_watch.h"

#include "kv_err.h"

#include <string.h>

static int wparse_is(const char *s, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(s, want, len) == 0;
}

/* wait=: milliseconds, or with an "ms", "s" or "m" suffix; 1 ms .. GW_WATCH_WAIT_MS_MAX. */
static int wparse_wait(const char *v, size_t len, uint64_t *ms, uint64_t *limit)
{
	uint64_t mult = 1;
	if (len > 2 && memcmp(v + len - 2, "ms", 2) == 0) {
		len -= 2;
	} else if (len > 1 && v[len - 1] == 's') {
		len -= 1;
		mult = 1000;
	} else if (len > 1 && v[len - 1] == 'm') {
		len -= 1;
		mult = 60000;
	}
	uint64_t n = 0;
	int err = gw_parse_u64(v, len, &n);
	if (err == KV_EINVAL)
		return err;
	if (err == KV_ERANGE || n == 0 || n > GW_WATCH_WAIT_MS_MAX / mult) {
		*limit = GW_WATCH_WAIT_MS_MAX;
		return KV_ERANGE;
	}
	*ms = n * mult;
	return 0;
}

enum wparse_param { W_KEY, W_PREFIX, W_FROM, W_WAIT, W_ENCODING, W_COUNT };
static const char *const wparse_names[W_COUNT] = {"key", "prefix", "from_index", "wait",
                                                  "encoding"};

static int wparse_set(enum wparse_param p, const char *v, size_t len, struct gw_watch_args *a,
                      const char **why, uint64_t *limit)
{
	int err;
	switch (p) {
	case W_KEY:
	case W_PREFIX:
		err = gw_parse_query_value(v, len, &a->match);
		if (err == KV_ETOOLARGE) {
			*limit = KV_KEY_BYTES_MAX;
			*why = "the key or prefix is over 511 bytes";
			return KV_ERANGE;
		}
		*why = "a bad percent escape";
		if (err == 0 && p == W_KEY && a->match.len == 0) {
			*why = "key is empty (prefix= with no value watches every key)";
			return KV_EINVAL;
		}
		a->prefix = p == W_PREFIX;
		return err;
	case W_FROM:
		err = gw_parse_u64(v, len, &a->from_index);
		*why = "from_index is not a decimal index";
		if (err == 0 && a->from_index == 0)
			a->from_index = 1;
		return err == KV_ERANGE ? KV_EINVAL : err;
	case W_WAIT:
		a->has_wait = 1;
		*why = "wait is a duration: 30s, 500ms, 2m (at most 10 minutes)";
		return wparse_wait(v, len, &a->wait_ms, limit);
	case W_ENCODING:
		*why = "encoding is base64 or utf8";
		if (wparse_is(v, len, "base64"))
			a->base64 = 1;
		else if (!wparse_is(v, len, "utf8") && !wparse_is(v, len, "utf-8"))
			return KV_EINVAL;
		return 0;
	default:
		return KV_EINVAL;
	}
}

int gw_watch_parse(const char *qs, size_t len, struct gw_watch_args *out, const char **what,
                   const char **why, uint64_t *limit)
{
	memset(out, 0, sizeof(*out));
	*what = "key";
	*why = "one of key= or prefix= is required";
	*limit = 0;
	unsigned seen = 0;
	for (size_t i = 0; i < len;) {
		size_t end = i, eq;
		while (end < len && qs[end] != '&')
			end++;
		for (eq = i; eq < end && qs[eq] != '=';)
			eq++;
		for (int p = 0; p < W_COUNT; p++) {
			if (!wparse_is(qs + i, eq - i, wparse_names[p]))
				continue;
			*what = wparse_names[p];
			if (seen & (1u << p)) {
				*why = "the parameter is given twice";
				return KV_EINVAL;
			}
			seen |= 1u << p;
			const char *v = eq < end ? qs + eq + 1 : qs + end;
			int err = wparse_set((enum wparse_param)p, v, eq < end ? end - eq - 1 : 0,
			                     out, why, limit);
			if (err != 0)
				return err;
		}
		i = end + 1;
	}
	unsigned both = 1u << W_KEY | 1u << W_PREFIX;
	if ((seen & both) == 0 || (seen & both) == both) {
		*what = "key";
		*why = (seen & both) == 0 ? "one of key= or prefix= is required"
		                          : "key= and prefix= exclude each other";
		return KV_EINVAL;
	}
	return 0;
}

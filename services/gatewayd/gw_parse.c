/*
 * gw_parse.c - what a request carries, decoded and checked against the
 * limits of docs/api.md: the key, the query parameters, the condition and
 * idempotency headers, and the first head of a connection before h2o reads
 * it. Pure; runs on the loop thread and in unit tests.
 */
#include "gw_parse.h"

#include "kv_err.h"

#include <string.h>

static int parse_is(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

static int parse_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes src into out (at most KV_KEY_BYTES_MAX bytes). plus_space:
 * '+' means ' ' (query strings, as in HTML forms); in a path '+' is itself.
 */
static int parse_pct_decode(const char *src, size_t len, int plus_space, struct gw_key *out)
{
	uint32_t n = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)src[i];
		if (c == '%') {
			if (len - i < 3)
				return KV_EINVAL;
			int hi = parse_hex(src[i + 1]), lo = parse_hex(src[i + 2]);
			if (hi < 0 || lo < 0)
				return KV_EINVAL;
			c = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (n == KV_KEY_BYTES_MAX)
			return KV_ETOOLARGE;
		out->bytes[n++] = c;
	}
	out->len = n;
	return 0;
}

int gw_parse_query_value(const char *v, size_t len, struct gw_key *out)
{
	return parse_pct_decode(v, len, 1, out);
}

int gw_parse_key(const char *raw, size_t len, struct gw_key *out)
{
	out->len = 0;
	if (len == 0)
		return KV_EINVAL;
	int err = parse_pct_decode(raw, len, 0, out);
	if (err == 0 && out->len == 0)
		return KV_EINVAL;
	return err;
}

int gw_parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0)
		return KV_EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return KV_EINVAL;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return KV_ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* timeout=: milliseconds, "250ms" or "5s"; within the KV_HTTP_TIMEOUT_MS bounds. */
static int parse_timeout(const char *v, size_t len, uint64_t *ms, uint64_t *limit)
{
	uint64_t mult = 1;
	if (len > 2 && memcmp(v + len - 2, "ms", 2) == 0) {
		len -= 2;
	} else if (len > 1 && v[len - 1] == 's') {
		len -= 1;
		mult = 1000;
	}
	uint64_t n = 0;
	int err = gw_parse_u64(v, len, &n);
	if (err == KV_EINVAL)
		return err;
	n = (err == KV_ERANGE || n > UINT64_MAX / mult) ? UINT64_MAX : n * mult;
	if (n < KV_HTTP_TIMEOUT_MS_MIN || n > KV_HTTP_TIMEOUT_MS_MAX) {
		*limit =
		    n < KV_HTTP_TIMEOUT_MS_MIN ? KV_HTTP_TIMEOUT_MS_MIN : KV_HTTP_TIMEOUT_MS_MAX;
		return KV_ERANGE;
	}
	*ms = n;
	return 0;
}

static int parse_limit(const char *v, size_t len, uint32_t *out, uint64_t *limit)
{
	uint64_t n = 0;
	int err = gw_parse_u64(v, len, &n);
	if (err == KV_EINVAL)
		return err;
	if (err == KV_ERANGE || n < 1 || n > KV_LIST_LIMIT_MAX) {
		*limit = KV_LIST_LIMIT_MAX;
		return KV_ERANGE;
	}
	*out = (uint32_t)n;
	return 0;
}

enum parse_param {
	P_TIMEOUT,
	P_CONSISTENCY,
	P_ENCODING,
	P_LIMIT,
	P_PREFIX,
	P_AFTER,
	P_LEASE,
	P_FORCE,
	P_COUNT
};
static const char *const param_names[P_COUNT] = {"timeout", "consistency", "encoding", "limit",
                                                 "prefix",  "after",       "lease",    "force"};

/* Applies one known parameter's value to q. */
static int parse_param_set(enum parse_param p, const char *v, size_t len, struct gw_query *q,
                           uint64_t *limit)
{
	switch (p) {
	case P_TIMEOUT:
		return parse_timeout(v, len, &q->timeout_ms, limit);
	case P_CONSISTENCY:
		if (parse_is(v, len, "linearizable"))
			q->consistency = GW_LINEARIZABLE;
		else if (parse_is(v, len, "stale"))
			q->consistency = GW_STALE;
		else
			return KV_EINVAL;
		return 0;
	case P_ENCODING:
		if (parse_is(v, len, "base64"))
			q->base64 = 1;
		else if (parse_is(v, len, "utf8") || parse_is(v, len, "utf-8"))
			q->base64 = 0;
		else
			return KV_EINVAL;
		return 0;
	case P_LIMIT:
		return parse_limit(v, len, &q->limit, limit);
	case P_LEASE: /* a lease id: decimal, 1 and up */
		if (gw_parse_u64(v, len, &q->lease) != 0 || q->lease == 0)
			return KV_EINVAL;
		return 0;
	case P_FORCE:
		if (parse_is(v, len, "true"))
			q->force = 1;
		else if (parse_is(v, len, "false"))
			q->force = 0;
		else
			return KV_EINVAL;
		return 0;
	case P_PREFIX:
	case P_AFTER: {
		int err = parse_pct_decode(v, len, 1, p == P_PREFIX ? &q->prefix : &q->after);
		if (err == KV_ETOOLARGE) {
			*limit = KV_KEY_BYTES_MAX;
			return KV_ERANGE;
		}
		return err;
	}
	default:
		return KV_EINVAL;
	}
}

int gw_parse_query(const char *qs, size_t len, uint64_t timeout_ms_default, struct gw_query *q,
                   const char **what, uint64_t *limit)
{
	memset(q, 0, sizeof(*q));
	q->timeout_ms = timeout_ms_default;
	q->consistency = GW_LINEARIZABLE;
	q->limit = KV_LIST_LIMIT_DEFAULT;
	*what = "query";
	*limit = 0;
	unsigned seen = 0;
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && qs[end] != '&')
			end++;
		size_t eq = i;
		while (eq < end && qs[eq] != '=')
			eq++;
		for (int p = 0; p < P_COUNT; p++) {
			if (!parse_is(qs + i, eq - i, param_names[p]))
				continue;
			*what = param_names[p];
			if (seen & (1u << p))
				return KV_EINVAL; /* a repeated parameter is ambiguous */
			seen |= 1u << p;
			const char *v = eq < end ? qs + eq + 1 : qs + end;
			int err = parse_param_set((enum parse_param)p, v, (size_t)(qs + end - v), q,
			                          limit);
			if (err != 0)
				return err;
		}
		i = end + 1;
	}
	*what = NULL;
	return 0;
}

int gw_parse_if_match(const char *v, size_t len, uint64_t *index)
{
	if (len >= 2 && v[0] == 'W' && v[1] == '/') {
		v += 2;
		len -= 2;
	}
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	int err = gw_parse_u64(v, len, index);
	return err == 0 ? 0 : KV_EINVAL;
}

int gw_parse_if_none_match(const char *v, size_t len)
{
	return parse_is(v, len, "*") ? 0 : KV_EINVAL;
}

int gw_parse_idempotency_key(const char *v, size_t len)
{
	if (len == 0)
		return KV_EINVAL;
	return len > KV_IDEMPOTENCY_KEY_BYTES_MAX ? KV_ETOOLARGE : 0;
}

/* 1 when line (without its end) starts with "name:" in any case. */
static int parse_header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || line[n] != ':')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = line[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != name[i])
			return 0;
	}
	return 1;
}

/* The first chunk-size line at buf[0..len): 0 (incomplete), 1 (fine), 400 or 413. */
static int parse_screen_chunk(const char *buf, size_t len, uint64_t body_max)
{
	const char *end = memchr(buf, '\n', len < 128 ? len : 128);
	if (end == NULL)
		return len >= 128 ? 400 : 0;
	uint64_t size = 0;
	size_t digits = 0;
	for (const char *p = buf; p < end && parse_hex(*p) >= 0; p++, digits++) {
		if (size > (UINT64_MAX >> 4))
			return 413;
		size = size << 4 | (uint64_t)parse_hex(*p);
	}
	if (digits == 0)
		return 400;
	return size > body_max ? 413 : 1;
}

/* -1 when the Content-Length line says more than body_max (malformed ones are h2o's 400). */
static int parse_screen_length(const char *line, size_t len, uint64_t body_max)
{
	size_t i = strlen("content-length:");
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t end = i;
	while (end < len && line[end] >= '0' && line[end] <= '9')
		end++;
	uint64_t v = 0;
	int err = gw_parse_u64(line + i, end - i, &v);
	return err == KV_ERANGE || (err == 0 && v > body_max) ? -1 : 0;
}

int gw_parse_screen_head(const char *buf, size_t len, uint64_t body_max)
{
	const size_t line_max = KV_HTTP_URL_BYTES_MAX + 64; /* method, version, CRLF */
	const char *nl = memchr(buf, '\n', len < line_max ? len : line_max);
	if (nl == NULL)
		return len >= line_max ? 414 : 0;
	size_t pos = (size_t)(nl - buf) + 1, lines = 0;
	int has_cl = 0, has_te = 0;
	while (pos < len) {
		const char *end = memchr(buf + pos, '\n', len - pos);
		size_t stop = end != NULL ? (size_t)(end - buf) : len;
		size_t line_len = stop - pos;
		if (line_len > 0 && buf[pos + line_len - 1] == '\r')
			line_len--;
		if (end != NULL && line_len == 0) { /* the blank line: head complete */
			if (has_cl && has_te)
				return 400;
			return has_te ? parse_screen_chunk(buf + stop + 1, len - stop - 1, body_max)
			              : 1;
		}
		if (stop - (size_t)(nl - buf) > KV_HTTP_HEADER_BYTES_MAX)
			return 431;
		if (end == NULL)
			return 0;
		if (++lines > KV_HTTP_HEADERS_MAX)
			return 431;
		if (parse_header_is(buf + pos, line_len, "content-length")) {
			has_cl = 1;
			if (parse_screen_length(buf + pos, line_len, body_max) != 0)
				return 413; /* answered before the body is read */
		}
		has_te |= parse_header_is(buf + pos, line_len, "transfer-encoding");
		pos = stop + 1;
	}
	return pos - (size_t)(nl - buf) > KV_HTTP_HEADER_BYTES_MAX ? 431 : 0;
}

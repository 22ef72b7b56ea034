/*
 * gw_consul_query.c - the query string of a Consul API request, decoded and
 * checked (gw_consul_query.h). Pure; runs on the loop thread and in unit
 * tests.
 */
#include "gw_consul_query.h"

#include "kv_err.h"

#include <string.h>

/* A parameter Consul defines and raftkv does not serve, and what to say about it. */
struct consul_missing {
	const char *name;
	const char *missing;
};

static const struct consul_missing consul_missing_params[] = {
    {"dc", "datacenters are not supported: raftkv is one datacenter; drop ?dc="},
    {"acquire", "sessions are not supported, so ?acquire= (locks) is not either"},
    {"release", "sessions are not supported, so ?release= (locks) is not either"},
    {"ns", "namespaces are not supported"},
    {"partition", "admin partitions are not supported"},
    {"peer", "cluster peering is not supported"},
    {"filter", "?filter= expressions are not supported"},
};

static int consul_is(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* A flag parameter (?recurse, ?recurse=, ?recurse=true): anything but "false" sets it. */
static uint8_t consul_flag(const char *v, size_t len)
{
	return !consul_is(v, len, "false");
}

static int consul_u64(const char *v, size_t len, uint64_t *out, const char *name, const char **what)
{
	*what = name;
	return gw_parse_u64(v, len, out) != 0 ? KV_EINVAL : 0;
}

/* ?wait=: a number with ms, s or m (Consul's client sends "<n>ms"), at most GW_CONSUL_WAIT_MS_MAX.
 */
static int consul_wait(const char *v, size_t len, uint64_t *ms, const char **what)
{
	*what = "wait";
	size_t digits = 0;
	while (digits < len && v[digits] >= '0' && v[digits] <= '9')
		digits++;
	uint64_t n = 0, unit = 0;
	if (gw_parse_u64(v, digits, &n) != 0)
		return KV_EINVAL;
	if (consul_is(v + digits, len - digits, "ms"))
		unit = 1;
	else if (consul_is(v + digits, len - digits, "s"))
		unit = 1000;
	else if (consul_is(v + digits, len - digits, "m"))
		unit = 60000;
	else
		return KV_EINVAL;
	/* longer than the most: the most, as Consul clamps it */
	*ms = n > GW_CONSUL_WAIT_MS_MAX / unit ? GW_CONSUL_WAIT_MS_MAX : n * unit;
	return 0;
}

static int consul_separator(const char *v, size_t len, struct gw_consul_query *cq,
                            const char **what)
{
	struct gw_key k;
	*what = "separator";
	if (len == 0) {
		cq->sep_len = 0;
		return 0;
	}
	int err = gw_parse_key(v, len, &k);
	if (err != 0)
		return err;
	if (k.len > GW_CONSUL_SEPARATOR_BYTES_MAX)
		return KV_ETOOLARGE;
	memcpy(cq->sep, k.bytes, k.len);
	cq->sep_len = (uint8_t)k.len;
	return 0;
}

/* One name=value pair; the caller handles the ones raftkv does not serve. */
static int consul_param(const char *n, size_t nl, const char *v, size_t vl, struct gw_query *q,
                        struct gw_consul_query *cq, const char **what)
{
	if (consul_is(n, nl, "recurse")) {
		cq->recurse = consul_flag(v, vl);
	} else if (consul_is(n, nl, "raw")) {
		if (consul_flag(v, vl))
			cq->read = GW_CONSUL_READ_RAW;
	} else if (consul_is(n, nl, "keys")) {
		if (consul_flag(v, vl))
			cq->read = GW_CONSUL_READ_KEYS;
	} else if (consul_is(n, nl, "separator")) {
		return consul_separator(v, vl, cq, what);
	} else if (consul_is(n, nl, "cas")) {
		cq->has_cas = 1;
		return consul_u64(v, vl, &cq->cas, "cas", what);
	} else if (consul_is(n, nl, "flags")) {
		cq->has_flags = 1;
		return consul_u64(v, vl, &cq->flags, "flags", what);
	} else if (consul_is(n, nl, "index")) {
		int err = consul_u64(v, vl, &cq->index, "index", what);
		cq->has_index = cq->index > 0; /* index=0: Consul answers at once */
		return err;
	} else if (consul_is(n, nl, "wait")) {
		return consul_wait(v, vl, &cq->wait_ms, what);
	} else if (consul_is(n, nl, "stale")) {
		q->consistency = GW_STALE;
	} else if (consul_is(n, nl, "consistent")) {
		q->consistency = GW_LINEARIZABLE;
	} else if (consul_is(n, nl, "token")) {
		*what = "token";
		return vl == 0 ? 0 : gw_parse_key(v, vl, &cq->token);
	}
	return 0; /* others (cached, pretty, ...) are ignored, as Consul does */
}

/* The sentence for a parameter raftkv does not serve, or NULL. */
static const char *consul_missing_of(const char *n, size_t nl)
{
	for (size_t i = 0; i < sizeof(consul_missing_params) / sizeof(consul_missing_params[0]);
	     i++)
		if (consul_is(n, nl, consul_missing_params[i].name))
			return consul_missing_params[i].missing;
	return NULL;
}

/* Combinations that have no single meaning. */
static int consul_check(const char *qs, size_t len, const char **what)
{
	int stale = 0, consistent = 0;
	const char *end = qs + len;
	for (const char *p = qs; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		size_t nl = (size_t)((eq != NULL ? eq : e) - p);
		stale |= consul_is(p, nl, "stale");
		consistent |= consul_is(p, nl, "consistent");
		p = e + 1;
	}
	*what = "stale";
	if (stale && consistent)
		return KV_EINVAL;
	return 0;
}

int gw_consul_query_parse(const char *qs, size_t len, uint64_t timeout_ms_default,
                          struct gw_query *q, struct gw_consul_query *cq, const char **what,
                          const char **missing)
{
	memset(q, 0, sizeof(*q));
	memset(cq, 0, sizeof(*cq));
	q->timeout_ms = timeout_ms_default;
	q->consistency = GW_LINEARIZABLE;
	q->limit = KV_LIST_LIMIT_MAX;
	cq->on = 1;
	cq->wait_ms = GW_CONSUL_WAIT_MS;
	*what = NULL;
	*missing = NULL;
	const char *end = qs + len;
	for (const char *p = qs; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		size_t nl = (size_t)((eq != NULL ? eq : e) - p);
		const char *v = eq != NULL ? eq + 1 : e;
		size_t vl = (size_t)(e - v);
		*missing = consul_missing_of(p, nl);
		if (*missing != NULL)
			return KV_EINVAL;
		int err = consul_param(p, nl, v, vl, q, cq, what);
		if (err != 0)
			return err;
		p = e + 1;
	}
	/* Consul's own order: ?keys, then ?recurse, then ?raw */
	if (cq->recurse && cq->read != GW_CONSUL_READ_KEYS)
		cq->read = GW_CONSUL_READ_RECURSE;
	return consul_check(qs, len, what);
}

/*
 * gw_route.h - what an HTTP request asks for: the route table (one row per
 * route: methods, path, handler, metric label, permission) and what is
 * derived from it (matching, 404/405 and Allow, the metric label of a
 * request), then the key, the query parameters and the condition headers,
 * decoded and checked against the limits of API.md.
 *
 * Pure code (no h2o): values in, values out; any thread. The table itself is
 * in gw_routes.h (it names the handlers); the functions here take any table,
 * so tests can also feed them broken ones. Parsing functions return 0 or a
 * negative KV_E* code, and on error name the offending parameter in *what (a
 * static string) and a bound in *limit where one applies.
 */
#ifndef RAFTKV_GW_ROUTE_H
#define RAFTKV_GW_ROUTE_H

#include "kv_limits.h"

#include <stddef.h>
#include <stdint.h>

enum gw_method { GW_M_OTHER = 0, GW_M_GET, GW_M_HEAD, GW_M_PUT, GW_M_DELETE, GW_M_COUNT };

/* Method sets of a row: a bit per enum gw_method. GET rows answer HEAD too. */
#define GW_MBIT(m)  (1u << (m))
#define GW_MS_GET   (GW_MBIT(GW_M_GET) | GW_MBIT(GW_M_HEAD))
#define GW_MS_PUT   GW_MBIT(GW_M_PUT)
#define GW_MS_DEL   GW_MBIT(GW_M_DELETE)
#define GW_MS_KNOWN (GW_MS_GET | GW_MS_PUT | GW_MS_DEL)

/* What a client must be allowed to call a route (enforced by the auth work, not yet). */
enum gw_perm { GW_PERM_OPEN = 0, GW_PERM_READ, GW_PERM_WRITE, GW_PERM_ADMIN, GW_PERM_COUNT };

/* Row flags. */
#define GW_ROUTE_QUERY 1u /* the router parses the query string (timeout=, limit=, ...) */

/* A path ending in this matches any path it prefixes; the rest is the key (an empty one: 400). */
#define GW_ROUTE_KEY_SUFFIX "{key}"

#define GW_ROUTES_MAX 16 /* rows in a table; metrics keep a slot per row */

struct gw_req;

/* One HTTP route. Rows of the same path share its label and split its methods. */
struct gw_route {
	unsigned methods; /* GW_MS_* */
	const char *path; /* "/v1/status" (exact) or "/v1/kv/{key}" (GW_ROUTE_KEY_SUFFIX) */
	void (*handle)(struct gw_req *r);
	const char *label; /* route="..." in metrics: one per path, unique across paths */
	uint8_t perm;      /* enum gw_perm */
	uint8_t flags;     /* GW_ROUTE_* */
};

/* Where a request's path and method land in a table. */
struct gw_route_hit {
	const struct gw_route *row; /* the row to run; NULL: 404 (path < 0) or 405 */
	int path;                   /* the first row of the matching path; -1: none (404) */
	unsigned allow;             /* the path's methods, for 405 and its Allow header */
	size_t key_at;              /* {key} paths: where the key starts in the path; else 0 */
};

/*
 * Matches path (the query excluded) and method m against table[0..n): the
 * first row whose path matches names the path; the row of that path whose
 * methods include m is the one to run.
 */
void gw_route_find(const struct gw_route *table, size_t n, const char *path, size_t len,
                   enum gw_method m, struct gw_route_hit *hit);

/*
 * The metrics slot of a hit: 0 for no path (404, and answers before routing),
 * else 1 + the index of the path's first row; < GW_ROUTES_MAX + 1.
 */
unsigned gw_route_slot(const struct gw_route_hit *hit);

/* The label of a slot ("none" for 0 or one that names no row). Static string. */
const char *gw_route_label(const struct gw_route *table, size_t n, unsigned slot);

/* The Allow header of a method set ("GET, HEAD, PUT, DELETE") into buf; its length. */
size_t gw_route_allow(unsigned methods, char *buf, size_t cap);

/*
 * Checks a table: at most GW_ROUTES_MAX rows; each has known methods, a path
 * starting with '/', a handler, a label and a permission; rows of the same
 * path have the same label and no method in common; different paths have
 * different labels. 0, or KV_EINVAL with the reason in *why (static) and the
 * offending row in *row.
 */
int gw_route_check(const struct gw_route *table, size_t n, const char **why, size_t *row);

/* The method of a request line's method token, and its name for metrics. */
enum gw_method gw_route_method(const char *method, size_t len);
const char *gw_route_method_name(enum gw_method m);

enum gw_consistency { GW_LINEARIZABLE = 0, GW_STALE = 1 };

/* A key or a key-like parameter: decoded bytes. */
struct gw_key {
	uint32_t len;
	uint8_t bytes[KV_KEY_BYTES_MAX];
};

struct gw_query {
	uint64_t timeout_ms;  /* KV_HTTP_TIMEOUT_MS_MIN..MAX; the default when absent */
	uint8_t consistency;  /* enum gw_consistency */
	uint8_t base64;       /* ?encoding=base64 */
	uint32_t limit;       /* 1..KV_LIST_LIMIT_MAX */
	struct gw_key prefix; /* may be empty */
	struct gw_key after;  /* may be empty: from the start */
};

/*
 * Decodes the key of /v1/kv/{key}: raw is the path after "/v1/kv/" up to the
 * query. Percent escapes are decoded; every other byte is taken as is, so a
 * key is any 1..KV_KEY_BYTES_MAX bytes: "/", "../", %00 and invalid UTF-8 are
 * opaque key bytes that round-trip (API.md: "percent-decoded, may contain /").
 * Errors: KV_EINVAL (empty, "%zz", a truncated "%0"), KV_ETOOLARGE (> limit).
 */
int gw_route_key(const char *raw, size_t len, struct gw_key *out);

/*
 * Parses the query string (after '?', may be empty) into q, starting from the
 * defaults (timeout_ms_default, linearizable, limit KV_LIST_LIMIT_DEFAULT).
 * Known parameters: timeout (ms, or with an "ms" or "s" suffix), consistency
 * (linearizable|stale), encoding (base64|utf8), limit, prefix, after.
 * Unknown parameters are ignored, a repeated known one is an error.
 * Errors: KV_EINVAL (malformed), KV_ERANGE (out of bounds; *limit says the bound).
 */
int gw_route_query(const char *qs, size_t len, uint64_t timeout_ms_default, struct gw_query *q,
                   const char **what, uint64_t *limit);

/* If-Match: "<n>" (also a bare n, or W/"<n>") -> *index. KV_EINVAL otherwise. */
int gw_route_if_match(const char *v, size_t len, uint64_t *index);

/* If-None-Match: only "*" is meaningful for a key-value store; KV_EINVAL otherwise. */
int gw_route_if_none_match(const char *v, size_t len);

/* Idempotency-Key: 1..KV_IDEMPOTENCY_KEY_BYTES_MAX bytes; KV_EINVAL or KV_ETOOLARGE. */
int gw_route_idempotency_key(const char *v, size_t len);

/*
 * Looks at the start of a connection's first request before h2o parses it
 * (h2o 2.2.5 answers these cases with a bare 400, or takes them). Returns 0
 * while the head is incomplete and within limits, 1 when it is complete and
 * acceptable, or the status to answer: 414 (request line past
 * KV_HTTP_URL_BYTES_MAX), 431 (more than KV_HTTP_HEADERS_MAX header lines or
 * KV_HTTP_HEADER_BYTES_MAX bytes of them), 400 (both Content-Length and
 * Transfer-Encoding: a request-smuggling shape; a malformed first chunk
 * size), 413 (a Content-Length or a first chunk over body_max). With
 * Transfer-Encoding the verdict waits for the first chunk-size line.
 */
int gw_route_screen_head(const char *buf, size_t len, uint64_t body_max);

/* A decimal u64 without sign or spaces; KV_EINVAL or KV_ERANGE on overflow. */
int gw_route_parse_u64(const char *s, size_t len, uint64_t *out);

#endif

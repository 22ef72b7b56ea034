/*
 * gw_route.h - the shape of an HTTP route (one row: methods, path, handler,
 * metric label, permission) and what is derived from a table of them:
 * matching, 404/405 and the Allow header, the metric slot and label of a
 * request, the table's own checks.
 *
 * Pure code (no h2o): values in, values out; any thread. gatewayd's table is
 * in gw_routes.h (it names the handlers); the functions here take any table,
 * so tests can also feed them broken ones.
 */
#ifndef RAFTKV_GW_ROUTE_H
#define RAFTKV_GW_ROUTE_H

#include <stddef.h>
#include <stdint.h>

enum gw_method {
	GW_M_OTHER = 0,
	GW_M_GET,
	GW_M_HEAD,
	GW_M_PUT,
	GW_M_DELETE,
	GW_M_POST,
	GW_M_COUNT
};

/* Method sets of a row: a bit per enum gw_method. GET rows answer HEAD too. */
#define GW_MBIT(m)  (1u << (m))
#define GW_MS_GET   (GW_MBIT(GW_M_GET) | GW_MBIT(GW_M_HEAD))
#define GW_MS_PUT   GW_MBIT(GW_M_PUT)
#define GW_MS_DEL   GW_MBIT(GW_M_DELETE)
#define GW_MS_POST  GW_MBIT(GW_M_POST) /* the seed projects' routes (seeds/) */
#define GW_MS_KNOWN (GW_MS_GET | GW_MS_PUT | GW_MS_DEL | GW_MS_POST)

/* What a client must be allowed to call a route (with --auth-file: gw_auth.h, gw_router.c). */
enum gw_perm { GW_PERM_OPEN = 0, GW_PERM_READ, GW_PERM_WRITE, GW_PERM_ADMIN, GW_PERM_COUNT };

/* Row flags. */
#define GW_ROUTE_QUERY    1u /* the router parses the query string (timeout=, limit=, ...) */
#define GW_ROUTE_PREFIX   2u /* the keys it touches are those under ?prefix= (a token's prefix) */
#define GW_ROUTE_ALL_KEYS 4u /* it may touch any key (txn, leases): a token for every key only */

/* A path ending in this matches any path it prefixes; the rest is the key (an empty one: 400). */
#define GW_ROUTE_KEY_SUFFIX "{key}"

#define GW_ROUTES_MAX 48 /* rows in a table; metrics keep a slot per row */

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

#endif

/*
 * test_gw_route.c - gatewayd's routing and request parsing
 * (services/gatewayd/gw_route.c), with the real route table (gw_routes.h):
 * paths and methods to rows, 404 and 405 with the Allow header derived from
 * the table, the table's own checks (every row has a label, one label per
 * path, no method served twice) on the real table and on broken ones; key
 * percent-decoding (valid keys, "/", "../", %00, invalid UTF-8, %zz,
 * truncated escapes, empty, 511 vs 512 bytes), query parameters (timeout,
 * limit, consistency, encoding, prefix/after, repeats), If-Match,
 * If-None-Match and Idempotency-Key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_route.h"
#include "gw_routes.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <stdio.h>
#include <string.h>

static int key_of(const char *raw, struct gw_key *k)
{
	return gw_route_key(raw, strlen(raw), k);
}

/* The row gatewayd's table runs for method and path, or NULL; *hit as found. */
static const struct gw_route *route_of(const char *method, const char *path,
                                       struct gw_route_hit *hit)
{
	enum gw_method m = gw_route_method(method, strlen(method));
	gw_route_find(gw_routes, gw_routes_count, path, strlen(path), m, hit);
	return hit->row;
}

static void test_routes_match(void **state)
{
	struct gw_route_hit hit;
	assert_ptr_equal(route_of("GET", "/v1/kv/a", &hit)->handle, gw_kv_get_handle);
	assert_int_equal(hit.key_at, 7);
	assert_ptr_equal(route_of("HEAD", "/v1/kv/a", &hit)->handle, gw_kv_get_handle);
	assert_ptr_equal(route_of("PUT", "/v1/kv/a/b", &hit)->handle, gw_kv_put_handle);
	assert_ptr_equal(route_of("DELETE", "/v1/kv/a", &hit)->handle, gw_kv_delete_handle);
	assert_ptr_equal(route_of("GET", "/v1/kv/", &hit)->handle,
	                 gw_kv_get_handle); /* 400 later */
	assert_ptr_equal(route_of("GET", "/v1/kv", &hit)->handle, gw_kv_list_handle);
	assert_int_equal(hit.key_at, 0);
	assert_ptr_equal(route_of("GET", "/v1/status", &hit)->handle, gw_status_handle);
	assert_ptr_equal(route_of("GET", "/livez", &hit)->handle, gw_health_livez);
	assert_ptr_equal(route_of("HEAD", "/readyz", &hit)->handle, gw_health_readyz);
	assert_ptr_equal(route_of("GET", "/metrics", &hit)->handle, gw_metrics_handle);
	/* rows of one path share its metrics slot; no path is slot 0 ("none") */
	route_of("PUT", "/v1/kv/a", &hit);
	unsigned put_slot = gw_route_slot(&hit);
	route_of("GET", "/v1/kv/a", &hit);
	assert_int_equal(gw_route_slot(&hit), put_slot);
	const char *none[] = {"/v1/kvx", "/", "/v1/status/", "/livez2", "/v1/k", ""};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_null(route_of("GET", none[i], &hit));
		assert_int_equal(hit.path, -1); /* 404 whatever the method */
		assert_int_equal(gw_route_slot(&hit), 0);
	}
	assert_int_equal(gw_route_method("PUT", 3), GW_M_PUT);
	assert_int_equal(gw_route_method("POST", 4), GW_M_OTHER);
	assert_int_equal(gw_route_method("get", 3), GW_M_OTHER); /* methods are case-sensitive */
	printf("checked: 10 method+path pairs to their handlers, a shared slot, 6 paths to 404, "
	       "3 methods\n");
}

/* The Allow header of a 405 for method on path, or "" when it is not a 405. */
static const char *allow_of(const char *method, const char *path)
{
	static char buf[64];
	struct gw_route_hit hit;
	buf[0] = '\0';
	if (route_of(method, path, &hit) == NULL && hit.path >= 0)
		gw_route_allow(hit.allow, buf, sizeof(buf));
	return buf;
}

static void test_routes_allow(void **state)
{
	assert_string_equal(allow_of("POST", "/v1/kv/a"), "GET, HEAD, PUT, DELETE");
	assert_string_equal(allow_of("PATCH", "/v1/kv/"), "GET, HEAD, PUT, DELETE");
	assert_string_equal(allow_of("PUT", "/v1/kv"), "GET, HEAD");
	assert_string_equal(allow_of("DELETE", "/metrics"), "GET, HEAD");
	assert_string_equal(allow_of("PUT", "/v1/status"), "GET, HEAD");
	assert_string_equal(allow_of("get", "/livez"), "GET, HEAD");
	assert_string_equal(allow_of("GET", "/v1/kv/a"), ""); /* served */
	assert_string_equal(allow_of("POST", "/nope"), "");   /* 404, not 405 */
	char small[8];
	assert_int_equal(gw_route_allow(GW_MS_GET | GW_MS_PUT, small, sizeof(small)), 3);
	assert_string_equal(small, "GET"); /* what fits, whole names only */
	printf("checked: 6 405s with the path's methods in Allow, a served request and a 404 "
	       "without, a short buffer\n");
}

static void test_routes_table(void **state)
{
	const char *why = "unset";
	size_t row = 99;
	assert_int_equal(gw_route_check(gw_routes, gw_routes_count, &why, &row), 0);
	assert_null(why);
	/* every row has a label, and a label names one path: checked pairwise too */
	for (size_t i = 0; i < gw_routes_count; i++) {
		assert_non_null(gw_routes[i].label);
		assert_true(strlen(gw_routes[i].label) > 0);
		for (size_t j = 0; j < i; j++)
			assert_int_equal(strcmp(gw_routes[i].path, gw_routes[j].path) == 0,
			                 strcmp(gw_routes[i].label, gw_routes[j].label) == 0);
	}
	/* the labels metrics print, in slot order: the same as before the table */
	const char *want[] = {"none", "kv", "kv_list", "status", "livez", "readyz", "metrics"};
	size_t k = 0;
	for (unsigned slot = 0; slot <= gw_routes_count; slot++) {
		if (slot > 1 && strcmp(gw_routes[slot - 1].path, gw_routes[slot - 2].path) == 0)
			continue; /* a second row of the same path: its slot is never used */
		assert_true(k < sizeof(want) / sizeof(want[0]));
		assert_string_equal(gw_route_label(gw_routes, gw_routes_count, slot), want[k++]);
	}
	assert_int_equal(k, sizeof(want) / sizeof(want[0]));
	assert_string_equal(gw_route_label(gw_routes, gw_routes_count, GW_ROUTES_MAX), "none");
	/* permissions: reads read, writes write, health open, metrics admin */
	struct gw_route_hit hit;
	assert_int_equal(route_of("GET", "/v1/kv/a", &hit)->perm, GW_PERM_READ);
	assert_int_equal(route_of("PUT", "/v1/kv/a", &hit)->perm, GW_PERM_WRITE);
	assert_int_equal(route_of("DELETE", "/v1/kv/a", &hit)->perm, GW_PERM_WRITE);
	assert_int_equal(route_of("GET", "/v1/kv", &hit)->perm, GW_PERM_READ);
	assert_int_equal(route_of("GET", "/v1/status", &hit)->perm, GW_PERM_READ);
	assert_int_equal(route_of("GET", "/livez", &hit)->perm, GW_PERM_OPEN);
	assert_int_equal(route_of("GET", "/readyz", &hit)->perm, GW_PERM_OPEN);
	assert_int_equal(route_of("GET", "/metrics", &hit)->perm, GW_PERM_ADMIN);
	printf("checked: the table passes gw_route_check; %zu rows labelled, one label per path; "
	       "7 metric labels as before; 8 permissions\n",
	       gw_routes_count);
}

static void t_handle(struct gw_req *r)
{
}

/* gw_route_check on table[0..n): KV_EINVAL at row bad, or 0 when bad < 0. */
static void check_table(const struct gw_route *table, size_t n, int bad)
{
	const char *why = NULL;
	size_t row = 99;
	int err = gw_route_check(table, n, &why, &row);
	if (bad < 0) {
		assert_int_equal(err, 0);
		return;
	}
	assert_int_equal(err, KV_EINVAL);
	assert_non_null(why);
	assert_int_equal(row, (size_t)bad);
}

static void test_routes_check_broken(void **state)
{
	struct gw_route t[GW_ROUTES_MAX + 1];
	const struct gw_route ok[2] = {
	    {GW_MS_GET, "/a/{key}", t_handle, "a", GW_PERM_READ, GW_ROUTE_QUERY},
	    {GW_MS_PUT, "/a/{key}", t_handle, "a", GW_PERM_WRITE, GW_ROUTE_QUERY},
	};
	check_table(ok, 2, -1);
	memcpy(t, ok, sizeof(ok));
	t[1].label = NULL; /* a row without a label */
	check_table(t, 2, 1);
	t[1].label = "";
	check_table(t, 2, 1);
	t[1].label = "none"; /* the 404 label */
	check_table(t, 2, 1);
	t[1].label = "b"; /* one path, two labels */
	check_table(t, 2, 1);
	t[1] = ok[1];
	t[1].path = "/b"; /* two paths, one label */
	check_table(t, 2, 1);
	t[1] = ok[1];
	t[1].methods = GW_MS_GET | GW_MS_DEL; /* GET served twice */
	check_table(t, 2, 1);
	t[1].methods = 0;
	check_table(t, 2, 1);
	t[1].methods = GW_MBIT(GW_M_OTHER);
	check_table(t, 2, 1);
	t[1] = ok[1];
	t[1].handle = NULL;
	check_table(t, 2, 1);
	t[1] = ok[1];
	t[1].path = "b";
	check_table(t, 2, 1);
	t[1] = ok[1];
	t[1].perm = GW_PERM_COUNT;
	check_table(t, 2, 1);
	for (size_t i = 0; i <= GW_ROUTES_MAX; i++)
		t[i] = ok[0];
	check_table(t, GW_ROUTES_MAX + 1, 0); /* too many rows: refused before any row */
	printf("checked: a good table passes; a missing, empty or \"none\" label, two labels "
	       "for a path, a label for two paths, a method twice, no or unknown methods, no "
	       "handler, a relative path, an unknown permission and too many rows fail\n");
}

static void test_key_valid(void **state)
{
	struct gw_key k;
	assert_int_equal(key_of("abc", &k), 0);
	assert_int_equal(k.len, 3);
	assert_memory_equal(k.bytes, "abc", 3);
	assert_int_equal(key_of("a/b/c", &k), 0); /* '/' is a key byte */
	assert_memory_equal(k.bytes, "a/b/c", 5);
	assert_int_equal(key_of("a%2Fb%20c+d", &k), 0); /* '+' is itself in a path */
	assert_int_equal(k.len, 7);
	assert_memory_equal(k.bytes, "a/b c+d", 7);
	assert_int_equal(key_of("../etc", &k), 0); /* opaque: never a path on disk */
	assert_memory_equal(k.bytes, "../etc", 6);
	assert_int_equal(key_of("a%00b", &k), 0); /* NUL is a byte like any other */
	assert_int_equal(k.len, 3);
	assert_memory_equal(k.bytes, "a\0b", 3);
	assert_int_equal(key_of("%ff%FE", &k), 0); /* invalid UTF-8 is allowed */
	assert_int_equal(k.len, 2);
	assert_int_equal(k.bytes[0], 0xff);
	assert_int_equal(k.bytes[1], 0xfe);
	printf("checked: plain, '/', %%2F and '+', ../, %%00, invalid UTF-8 keys decode\n");
}

static void test_key_invalid(void **state)
{
	struct gw_key k;
	assert_int_equal(key_of("", &k), KV_EINVAL);
	assert_int_equal(key_of("a%zz", &k), KV_EINVAL);
	assert_int_equal(key_of("a%4", &k), KV_EINVAL);
	assert_int_equal(key_of("a%", &k), KV_EINVAL);
	assert_int_equal(key_of("%g0", &k), KV_EINVAL);
	char raw[3 * 600];
	memset(raw, 'k', 511);
	raw[511] = '\0';
	assert_int_equal(key_of(raw, &k), 0);
	assert_int_equal(k.len, 511);
	raw[511] = 'k';
	raw[512] = '\0';
	assert_int_equal(key_of(raw, &k), KV_ETOOLARGE);
	/* 511 escaped bytes is 1533 raw characters and still fits */
	for (size_t i = 0; i < 511; i++)
		memcpy(raw + (size_t)3 * i, "%41", 3);
	raw[(size_t)3 * 511] = '\0';
	assert_int_equal(key_of(raw, &k), 0);
	assert_int_equal(k.len, 511);
	memcpy(raw + (size_t)3 * 511, "%41", 4);
	assert_int_equal(key_of(raw, &k), KV_ETOOLARGE);
	printf("checked: empty, %%zz, %%4, %%, %%g0 rejected; 511 bytes ok, 512 too large "
	       "(plain and escaped)\n");
}

static int query_of(const char *qs, struct gw_query *q, const char **what, uint64_t *limit)
{
	return gw_route_query(qs, strlen(qs), 5000, q, what, limit);
}

static void test_query_defaults(void **state)
{
	struct gw_query q;
	const char *what;
	uint64_t limit;
	assert_int_equal(query_of("", &q, &what, &limit), 0);
	assert_int_equal(q.timeout_ms, 5000);
	assert_int_equal(q.consistency, GW_LINEARIZABLE);
	assert_int_equal(q.limit, KV_LIST_LIMIT_DEFAULT);
	assert_int_equal(q.base64, 0);
	assert_int_equal(q.prefix.len, 0);
	assert_int_equal(
	    query_of("consistency=stale&encoding=base64&unknown=1&limit=7", &q, &what, &limit), 0);
	assert_int_equal(q.consistency, GW_STALE);
	assert_int_equal(q.base64, 1);
	assert_int_equal(q.limit, 7);
	assert_int_equal(query_of("prefix=a%2Fb+c&after=x%00", &q, &what, &limit), 0);
	assert_int_equal(q.prefix.len, 5);
	assert_memory_equal(q.prefix.bytes, "a/b c", 5); /* '+' is a space in a query */
	assert_int_equal(q.after.len, 2);
	assert_memory_equal(q.after.bytes, "x\0", 2);
	printf("checked: defaults; stale, base64, limit, unknown ignored; prefix/after decoded\n");
}

static void test_query_timeout(void **state)
{
	struct gw_query q;
	const char *what;
	uint64_t limit;
	assert_int_equal(query_of("timeout=250", &q, &what, &limit), 0);
	assert_int_equal(q.timeout_ms, 250);
	assert_int_equal(query_of("timeout=250ms", &q, &what, &limit), 0);
	assert_int_equal(q.timeout_ms, 250);
	assert_int_equal(query_of("timeout=2s", &q, &what, &limit), 0);
	assert_int_equal(q.timeout_ms, 2000);
	assert_int_equal(query_of("timeout=1", &q, &what, &limit), 0);
	assert_int_equal(query_of("timeout=60000", &q, &what, &limit), 0);
	assert_int_equal(query_of("timeout=0", &q, &what, &limit), KV_ERANGE);
	assert_int_equal(limit, KV_HTTP_TIMEOUT_MS_MIN);
	assert_string_equal(what, "timeout");
	assert_int_equal(query_of("timeout=60001", &q, &what, &limit), KV_ERANGE);
	assert_int_equal(limit, KV_HTTP_TIMEOUT_MS_MAX);
	assert_int_equal(query_of("timeout=61s", &q, &what, &limit), KV_ERANGE);
	assert_int_equal(query_of("timeout=99999999999999999999999", &q, &what, &limit), KV_ERANGE);
	assert_int_equal(query_of("timeout=abc", &q, &what, &limit), KV_EINVAL);
	assert_int_equal(query_of("timeout=", &q, &what, &limit), KV_EINVAL);
	assert_int_equal(query_of("timeout=-5", &q, &what, &limit), KV_EINVAL);
	assert_int_equal(query_of("timeout=1&timeout=2", &q, &what, &limit), KV_EINVAL);
	printf("checked: timeout ms/ms/s forms, bounds 1 and 60000, 0, 60001, 61s, overflow, "
	       "abc, empty, negative, repeated\n");
}

static void test_query_limit_and_values(void **state)
{
	struct gw_query q;
	const char *what;
	uint64_t limit;
	assert_int_equal(query_of("limit=1", &q, &what, &limit), 0);
	assert_int_equal(query_of("limit=1000", &q, &what, &limit), 0);
	assert_int_equal(q.limit, 1000);
	assert_int_equal(query_of("limit=0", &q, &what, &limit), KV_ERANGE);
	assert_int_equal(limit, KV_LIST_LIMIT_MAX);
	assert_string_equal(what, "limit");
	assert_int_equal(query_of("limit=1001", &q, &what, &limit), KV_ERANGE);
	assert_int_equal(query_of("limit=-1", &q, &what, &limit), KV_EINVAL);
	assert_int_equal(query_of("limit=1x", &q, &what, &limit), KV_EINVAL);
	assert_int_equal(query_of("consistency=maybe", &q, &what, &limit), KV_EINVAL);
	assert_string_equal(what, "consistency");
	assert_int_equal(query_of("consistency=linearizable", &q, &what, &limit), 0);
	assert_int_equal(query_of("encoding=hex", &q, &what, &limit), KV_EINVAL);
	assert_int_equal(query_of("prefix=%zz", &q, &what, &limit), KV_EINVAL);
	char big[700] = "prefix=";
	memset(big + 7, 'p', 512);
	big[7 + 512] = '\0';
	assert_int_equal(query_of(big, &q, &what, &limit), KV_ERANGE);
	assert_int_equal(limit, KV_KEY_BYTES_MAX);
	printf("checked: limit 1/1000 ok, 0/1001 out of range, -1/1x malformed; consistency, "
	       "encoding, prefix %%zz and 512-byte prefix rejected\n");
}

static void test_conditions(void **state)
{
	uint64_t idx = 0;
	assert_int_equal(gw_route_if_match("\"42\"", 4, &idx), 0);
	assert_int_equal(idx, 42);
	assert_int_equal(gw_route_if_match("W/\"7\"", 5, &idx), 0);
	assert_int_equal(idx, 7);
	assert_int_equal(gw_route_if_match("9", 1, &idx), 0);
	assert_int_equal(idx, 9);
	assert_int_equal(gw_route_if_match("nonsense", 8, &idx), KV_EINVAL);
	assert_int_equal(gw_route_if_match("\"\"", 2, &idx), KV_EINVAL);
	assert_int_equal(gw_route_if_match("\"1", 2, &idx), KV_EINVAL);
	assert_int_equal(gw_route_if_match("*", 1, &idx), KV_EINVAL);
	assert_int_equal(gw_route_if_match("\"99999999999999999999999\"", 25, &idx), KV_EINVAL);
	assert_int_equal(gw_route_if_none_match("*", 1), 0);
	assert_int_equal(gw_route_if_none_match("\"3\"", 3), KV_EINVAL);
	char idem[200];
	memset(idem, 'i', sizeof(idem));
	assert_int_equal(gw_route_idempotency_key(idem, 128), 0);
	assert_int_equal(gw_route_idempotency_key(idem, 129), KV_ETOOLARGE);
	assert_int_equal(gw_route_idempotency_key(idem, 0), KV_EINVAL);
	printf("checked: If-Match quoted/weak/bare ok, 5 malformed rejected; If-None-Match * only; "
	       "Idempotency-Key 128 ok, 129 and empty rejected\n");
}

static int screen(const char *head)
{
	return gw_route_screen_head(head, strlen(head), 1u << 20);
}

static void test_screen_head(void **state)
{
	static char big[80000];
	assert_int_equal(screen("GET /v1/kv/a HTTP/1.1\r\nHost: x\r\n\r\n"), 1);
	assert_int_equal(screen("GET /v1/kv/a HTTP/1.1\nHost: x\n\n"), 1);   /* bare LF */
	assert_int_equal(screen("GET /v1/kv/a HTTP/1.1\r\nHost: x\r\n"), 0); /* not yet */
	assert_int_equal(screen("GET /v1/kv/a HT"), 0);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nContent-Length: 3\r\n"
	                        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc"),
	                 400);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\ncontent-LENGTH: 3\r\n\r\nabc"), 1);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n"), 1);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nContent-Length: 1048577\r\n"), 413);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n"),
	                 413);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nContent-Length: -5\r\n\r\n"), 1); /* h2o: 400 */
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n"), 1);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                        "FFFFFFFFFFFFFFFF\r\nabc"),
	                 413);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	                        "FFFFFFFFFFFFFFFFFF\r\n"),
	                 413);
	assert_int_equal(screen("PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
	                 400);
	/* a request line past the URL limit, complete or not */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', KV_HTTP_URL_BYTES_MAX + 100);
	big[5 + KV_HTTP_URL_BYTES_MAX + 100] = '\0';
	assert_int_equal(screen(big), 414);
	/* 100 header lines pass, 101 do not */
	size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(big + n, "X-H%d: v\r\n", i);
	strcpy(big + n, "\r\n");
	assert_int_equal(screen(big), 1);
	strcpy(big + n, "X-H100: v\r\n\r\n");
	assert_int_equal(screen(big), 431);
	/* one 64 KiB header, before it is even complete */
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nX-Big: ");
	memset(big + n, 'b', 65536);
	big[n + 65536] = '\0';
	assert_int_equal(screen(big), 431);
	printf("checked: complete/incomplete heads, bare LF, CL+TE 400, Content-Length 1 MiB ok, "
	       "1 MiB + 1 and overflow 413, chunk sizes "
	       "(incomplete, ok, FFFF.. 413, overflow 413, bad 400), 414 URL, 100 vs 101 headers, "
	       "64 KiB header 431\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes_match),
	    cmocka_unit_test(test_routes_allow),
	    cmocka_unit_test(test_routes_table),
	    cmocka_unit_test(test_routes_check_broken),
	    cmocka_unit_test(test_key_valid),
	    cmocka_unit_test(test_key_invalid),
	    cmocka_unit_test(test_query_defaults),
	    cmocka_unit_test(test_query_timeout),
	    cmocka_unit_test(test_query_limit_and_values),
	    cmocka_unit_test(test_conditions),
	    cmocka_unit_test(test_screen_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

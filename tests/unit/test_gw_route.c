/*
 * test_gw_route.c - gatewayd's routing (services/gatewayd/gw_route.c) with
 * its real route table (gw_routes.h): paths and methods to rows and their
 * handlers, 404 and 405 with the Allow header derived from the table, metric
 * slots and labels (the same labels as before the table), permissions, and
 * the table's own checks (every row has a label, one label per path, no
 * method served twice) on the real table and on broken ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_route.h"
#include "gw_routes.h"
#include "kv_err.h"

#include <stdio.h>
#include <string.h>

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
	assert_int_equal(gw_route_method("POST", 4), GW_M_POST);
	assert_int_equal(gw_route_method("PATCH", 5), GW_M_OTHER);
	assert_int_equal(gw_route_method("get", 3), GW_M_OTHER); /* methods are case-sensitive */
	printf("checked: 10 method+path pairs to their handlers, a shared slot, 6 paths to 404, "
	       "4 methods\n");
}

static void test_routes_seeds_ui(void **state)
{
	struct gw_route_hit hit;
	assert_ptr_equal(route_of("GET", "/state", &hit)->handle, gw_seed_state_handle);
	assert_ptr_equal(route_of("POST", "/operate_data", &hit)->handle, gw_seed_operate_handle);
	assert_ptr_equal(route_of("GET", "/get_all_data", &hit)->handle, gw_seed_all_handle);
	assert_ptr_equal(route_of("GET", "/keys/some-key/", &hit)->handle, gw_seed_keys_get_handle);
	assert_int_equal(hit.key_at, 6);
	assert_ptr_equal(route_of("POST", "/keys/some-key/", &hit)->handle,
	                 gw_seed_keys_set_handle);
	assert_ptr_equal(route_of("POST", "/store", &hit)->handle, gw_seed_store_set_handle);
	assert_ptr_equal(route_of("GET", "/store/key", &hit)->handle, gw_seed_store_get_handle);
	assert_ptr_equal(route_of("DELETE", "/store/key", &hit)->handle,
	                 gw_seed_store_delete_handle);
	assert_ptr_equal(route_of("GET", "/ui/", &hit)->handle, gw_ui_page_handle);
	assert_int_equal(route_of("GET", "/ui/", &hit)->perm, GW_PERM_OPEN);
	assert_ptr_equal(route_of("GET", "/ui/status", &hit)->handle, gw_ui_status_handle);
	assert_int_equal(route_of("GET", "/ui/status", &hit)->perm, GW_PERM_READ);
	assert_null(route_of("GET", "/ui", &hit));
	assert_int_equal(hit.path, -1);
	assert_null(route_of("PUT", "/operate_data", &hit));
	assert_int_equal(hit.allow, GW_MS_POST);
	printf("checked: the seed routes and the dashboard's to their handlers and permissions; "
	       "/ui without its slash is 404; PUT /operate_data is 405\n");
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
	const char *want[] = {
	    "none",       "kv",           "kv_list",    "status",    "livez",      "readyz",
	    "metrics",    "snapshot",     "watch",      "txn",       "leases",     "lease",
	    "seed_state", "seed_operate", "seed_all",   "seed_keys", "seed_store", "seed_store_key",
	    "ui",         "ui_status",    "raft_stats", "member",    "members",    "raft_join"};
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
	assert_int_equal(route_of("GET", "/v1/snapshot", &hit)->perm, GW_PERM_ADMIN);
	assert_int_equal(route_of("GET", "/v1/watch", &hit)->perm, GW_PERM_READ);
	assert_int_equal(route_of("GET", "/raft/stats", &hit)->perm, GW_PERM_READ);
	assert_int_equal(route_of("DELETE", "/v1/members/3", &hit)->perm, GW_PERM_ADMIN);
	assert_int_equal(route_of("GET", "/v1/members", &hit)->perm, GW_PERM_READ);
	printf("checked: the table passes gw_route_check; %zu rows labelled, one label per path; "
	       "the metric labels in slot order; 13 permissions\n",
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes_match),        cmocka_unit_test(test_routes_seeds_ui),
	    cmocka_unit_test(test_routes_allow),        cmocka_unit_test(test_routes_table),
	    cmocka_unit_test(test_routes_check_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gw_consul.c - the Consul API's pure parts (services/gatewayd): its
 * route table (gw_consul.h) passes the route checks and sends each path and
 * method to its handler, 405 and 404 where Consul's API has nothing; its
 * query parser (gw_consul_query.c) reads the parameters raftkv serves, maps
 * ?stale/?consistent to the read modes, refuses malformed and contradictory
 * ones, and names the ones raftkv does not serve instead of ignoring them;
 * each Consul path has its own route label in /metrics (gw_metrics.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw.h"
#include "gw_consul.h"
#include "gw_consul_query.h"
#include "gw_routes.h"
#include "kv_err.h"

#include <stdio.h>
#include <string.h>

static const struct gw_route *consul_route(const char *method, const char *path,
                                           struct gw_route_hit *hit)
{
	enum gw_method m = gw_route_method(method, strlen(method));
	gw_route_find(gw_consul_routes, gw_consul_routes_count, path, strlen(path), m, hit);
	return hit->row;
}

static void test_consul_routes(void **state)
{
	const char *why = NULL;
	size_t row = 0;
	assert_int_equal(gw_route_check(gw_consul_routes, gw_consul_routes_count, &why, &row), 0);
	struct gw_route_hit hit;
	assert_ptr_equal(consul_route("GET", "/v1/kv/a/b", &hit)->handle, gw_consul_kv_get_handle);
	assert_int_equal(hit.key_at, 7);
	assert_ptr_equal(consul_route("GET", "/v1/kv/", &hit)->handle, gw_consul_kv_get_handle);
	assert_ptr_equal(consul_route("PUT", "/v1/kv/a", &hit)->handle, gw_consul_kv_put_handle);
	assert_int_equal(consul_route("PUT", "/v1/kv/a", &hit)->perm, GW_PERM_WRITE);
	assert_ptr_equal(consul_route("DELETE", "/v1/kv/a", &hit)->handle,
	                 gw_consul_kv_delete_handle);
	assert_ptr_equal(consul_route("GET", "/v1/status/leader", &hit)->handle,
	                 gw_consul_status_leader);
	assert_ptr_equal(consul_route("GET", "/v1/status/peers", &hit)->handle,
	                 gw_consul_status_peers);
	assert_ptr_equal(consul_route("PUT", "/v1/txn", &hit)->handle, gw_consul_missing);
	assert_ptr_equal(consul_route("PUT", "/v1/session/create", &hit)->handle,
	                 gw_consul_missing);
	assert_ptr_equal(consul_route("GET", "/v1/acl/tokens", &hit)->handle, gw_consul_missing);
	assert_null(consul_route("POST", "/v1/kv/a", &hit)); /* 405 */
	assert_true(hit.path >= 0);
	assert_int_equal(hit.allow, GW_MS_GET | GW_MS_PUT | GW_MS_DEL);
	assert_null(consul_route("PUT", "/v1/status/leader", &hit));
	assert_true(hit.path >= 0);
	assert_null(consul_route("GET", "/v1/kvx", &hit)); /* 404 */
	assert_int_equal(hit.path, -1);
	assert_null(consul_route("GET", "/v1/status", &hit));
	assert_int_equal(hit.path, -1);
	printf("checked: the Consul table passes gw_route_check; kv, status and the refused "
	       "endpoints route; 405 and 404 elsewhere\n");
}

static int parse(const char *qs, struct gw_query *q, struct gw_consul_query *cq, const char **what,
                 const char **missing)
{
	return gw_consul_query_parse(qs, strlen(qs), 5000, q, cq, what, missing);
}

static void test_consul_query_served(void **state)
{
	struct gw_query q;
	struct gw_consul_query cq;
	const char *what, *missing;
	assert_int_equal(parse("", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.on, 1);
	assert_int_equal(cq.read, GW_CONSUL_READ_ONE);
	assert_int_equal(q.consistency, GW_LINEARIZABLE);
	assert_int_equal(q.timeout_ms, 5000);
	assert_int_equal(parse("recurse", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.read, GW_CONSUL_READ_RECURSE);
	assert_int_equal(cq.recurse, 1);
	assert_int_equal(parse("recurse=false", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.read, GW_CONSUL_READ_ONE);
	assert_int_equal(parse("raw", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.read, GW_CONSUL_READ_RAW);
	assert_int_equal(parse("raw&recurse", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.read, GW_CONSUL_READ_RECURSE); /* Consul's order */
	assert_int_equal(parse("recurse&keys&separator=%2F", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.read, GW_CONSUL_READ_KEYS);
	assert_int_equal(cq.sep_len, 1);
	assert_int_equal(cq.sep[0], '/');
	assert_int_equal(parse("cas=0&flags=18446744073709551615", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.has_cas, 1);
	assert_int_equal(cq.cas, 0);
	assert_int_equal(cq.flags, UINT64_MAX);
	assert_int_equal(parse("stale", &q, &cq, &what, &missing), 0);
	assert_int_equal(q.consistency, GW_STALE);
	assert_int_equal(parse("consistent", &q, &cq, &what, &missing), 0);
	assert_int_equal(q.consistency, GW_LINEARIZABLE);
	assert_int_equal(parse("token=abc%2Bdef&pretty&wait=5s&cached", &q, &cq, &what, &missing),
	                 0);
	assert_int_equal(cq.token.len, 7);
	assert_memory_equal(cq.token.bytes, "abc+def", 7);
	assert_int_equal(cq.has_index, 0);
	assert_int_equal(parse("index=42&wait=5000ms", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.has_index, 1);
	assert_int_equal(cq.index, 42);
	assert_int_equal(cq.wait_ms, 5000);
	assert_int_equal(parse("index=42", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.wait_ms, GW_CONSUL_WAIT_MS);
	assert_int_equal(parse("index=42&wait=30m", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.wait_ms, GW_CONSUL_WAIT_MS_MAX); /* clamped, as Consul does */
	assert_int_equal(parse("index=0&wait=2s", &q, &cq, &what, &missing), 0);
	assert_int_equal(cq.has_index, 0); /* index=0 answers at once */
	assert_int_equal(cq.wait_ms, 2000);
	printf("checked: recurse/raw/keys/separator/cas/flags/stale/consistent/token/index/"
	       "wait read; "
	       "unknown parameters ignored\n");
}

static void test_consul_query_refused(void **state)
{
	struct gw_query q;
	struct gw_consul_query cq;
	const char *what, *missing;
	assert_int_equal(parse("cas=x", &q, &cq, &what, &missing), KV_EINVAL);
	assert_string_equal(what, "cas");
	assert_null(missing);
	assert_int_equal(parse("flags=-1", &q, &cq, &what, &missing), KV_EINVAL);
	assert_string_equal(what, "flags");
	assert_int_equal(parse("cas=18446744073709551616", &q, &cq, &what, &missing), KV_EINVAL);
	assert_int_equal(parse("stale&consistent", &q, &cq, &what, &missing), KV_EINVAL);
	assert_string_equal(what, "stale");
	assert_int_equal(parse("keys&separator=12345678901234567", &q, &cq, &what, &missing),
	                 KV_ETOOLARGE);
	assert_string_equal(what, "separator");
	assert_int_equal(parse("separator=%zz", &q, &cq, &what, &missing), KV_EINVAL);
	assert_int_equal(parse("index=5&wait=30", &q, &cq, &what, &missing), KV_EINVAL);
	assert_string_equal(what, "wait");
	assert_int_equal(parse("index=5&wait=3h", &q, &cq, &what, &missing), KV_EINVAL);
	assert_int_equal(parse("index=x", &q, &cq, &what, &missing), KV_EINVAL);
	assert_string_equal(what, "index");
	const char *served_not[] = {"dc=dc2", "acquire=s",   "release=s",
	                            "ns=a",   "partition=p", "filter=x"};
	const char *named[] = {"datacenters", "sessions",   "sessions",
	                       "namespaces",  "partitions", "filter"};
	for (size_t i = 0; i < sizeof(served_not) / sizeof(served_not[0]); i++) {
		assert_int_equal(parse(served_not[i], &q, &cq, &what, &missing), KV_EINVAL);
		assert_non_null(missing);
		assert_non_null(strstr(missing, named[i]));
	}
	printf("checked: malformed and contradictory parameters refused with their name; dc, "
	       "acquire, release, ns, partition, filter named as not served\n");
}

/* Each Consul path has its own metrics slot and label, after the main table's. */
static void test_consul_metrics_labels(void **state)
{
	struct gw_route_hit hit;

	(void)state;
	assert_string_equal(gw_metrics_label(0), "none");
	assert_string_equal(gw_metrics_label(1), gw_routes[0].label);
	assert_non_null(consul_route("PUT", "/v1/kv/a", &hit));
	assert_string_equal(gw_metrics_label(GW_ROUTES_MAX + gw_route_slot(&hit)), "consul_kv");
	assert_non_null(consul_route("GET", "/v1/status/peers", &hit));
	assert_string_equal(gw_metrics_label(GW_ROUTES_MAX + gw_route_slot(&hit)), "consul_peers");
	assert_non_null(consul_route("PUT", "/v1/txn", &hit));
	assert_string_equal(gw_metrics_label(GW_ROUTES_MAX + gw_route_slot(&hit)), "consul_txn");
	for (size_t i = 0; i < gw_consul_routes_count; i++) { /* none is "none" nor a main label */
		const char *l = gw_metrics_label(GW_ROUTES_MAX + 1 + (unsigned)i);
		assert_string_equal(l, gw_consul_routes[i].label);
		for (size_t j = 0; j < gw_routes_count; j++)
			assert_string_not_equal(l, gw_routes[j].label);
	}
	assert_string_equal(gw_metrics_label(GW_METRIC_SLOTS), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_consul_routes),
	    cmocka_unit_test(test_consul_metrics_labels),
	    cmocka_unit_test(test_consul_query_served),
	    cmocka_unit_test(test_consul_query_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

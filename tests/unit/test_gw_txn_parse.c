/*
 * test_gw_txn_parse.c - the JSON of POST /v1/txn and POST /v1/leases
 * (gw_txn_parse.c): what a good body becomes (every compare and op kind,
 * strings with NUL bytes, lease ids as numbers and strings), and for each
 * way a body can be wrong, the status, code and member named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_txn_parse.h"
#include "kv_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct proto_txn *t_parse(const char *body, int *rc, struct gw_txn_err *e)
{
	static struct proto_txn t, back;
	struct proto_buf b = {0};
	*rc = gw_txn_parse(body, strlen(body), 1024, &t, &b, e);
	if (*rc == 0) {
		/* what is logged decodes to what was parsed */
		assert_int_equal(proto_txn_decode(b.ptr, b.len, &back), 0);
		assert_int_equal(back.n_cmp, t.n_cmp);
		assert_int_equal(back.n_success, t.n_success);
		assert_int_equal(back.n_failure, t.n_failure);
	}
	proto_buf_free(&b);
	return &back;
}

static void test_good_body(void **state)
{
	struct gw_txn_err e;
	int rc;
	struct proto_txn *t = t_parse(
	    "{\"compare\":[{\"key\":\"a\",\"mod_index\":5},{\"key\":\"b\",\"exists\":false},"
	    "{\"key\":\"c\",\"value\":\"x\\u0000y\"}],"
	    "\"success\":[{\"op\":\"put\",\"key\":\"a\",\"value\":\"1\",\"lease\":"
	    "\"18446744073709551615\"},"
	    "{\"op\":\"delete\",\"key\":\"b\"},{\"op\":\"get\",\"key\":\"c\"},"
	    "{\"op\":\"delete_prefix\",\"prefix\":\"\"}],"
	    "\"failure\":[{\"op\":\"put\",\"key\":\"z\",\"value\":\"\",\"lease\":7}]}",
	    &rc, &e);
	assert_int_equal(rc, 0);
	assert_int_equal(t->cmp[0].target, PROTO_TXN_CMP_MOD_INDEX);
	assert_int_equal(t->cmp[0].mod_index, 5);
	assert_int_equal(t->cmp[1].target, PROTO_TXN_CMP_EXISTS);
	assert_int_equal(t->cmp[1].exists, 0);
	assert_int_equal(t->cmp[2].value.len, 3); /* the NUL byte is kept */
	assert_int_equal(t->success[0].lease, UINT64_MAX);
	assert_int_equal(t->success[3].kind, PROTO_TXN_DELETE_PREFIX);
	assert_int_equal(t->success[3].key.len, 0);
	assert_int_equal(t->failure[0].lease, 7);
	assert_int_equal(t_parse("{}", &rc, &e)->n_success, 0); /* nothing to do is allowed */
	assert_int_equal(rc, 0);
}

static void test_bad_bodies(void **state)
{
	static char many[8192], big_value[2048], long_key[600];
	struct {
		const char *body;
		int status;
		const char *code;
		const char *param;
	} cases[] = {
	    {"", 400, "invalid_argument", "body"},
	    {"[]", 400, "invalid_argument", "body"},
	    {"{\"compare\":[],\"compare\":[]}", 400, "invalid_argument", "body"},
	    {"{\"sucess\":[]}", 400, "invalid_argument", "body"},
	    {"{\"compare\":[1]}", 400, "invalid_argument", "compare[0]"},
	    {"{\"compare\":[{\"key\":\"a\"}]}", 400, "invalid_argument", "compare[0]"},
	    {"{\"compare\":[{\"key\":\"a\",\"exists\":\"no\"}]}", 400, "invalid_argument",
	     "compare[0]"},
	    {"{\"compare\":[{\"key\":\"a\",\"mod_index\":1.5}]}", 400, "invalid_argument",
	     "compare[0].mod_index"},
	    {"{\"compare\":[{\"key\":5,\"exists\":true}]}", 400, "invalid_argument",
	     "compare[0].key"},
	    {"{\"success\":{}}", 400, "invalid_argument", "success"},
	    {"{\"success\":[{\"key\":\"a\"}]}", 400, "invalid_argument", "success[0]"},
	    {"{\"failure\":[{\"op\":\"cas\",\"key\":\"a\"}]}", 400, "invalid_argument",
	     "failure[0]"},
	    {"{\"success\":[{\"op\":\"delete\",\"key\":\"a\",\"lease\":1}]}", 400,
	     "invalid_argument", "success[0]"},
	    {"{\"success\":[{\"op\":\"put\",\"key\":\"\",\"value\":\"v\"}]}", 400,
	     "invalid_argument", "success[0].key"},
	    {"{\"success\":[{\"op\":\"put\",\"key\":\"a\",\"value\":\"v\",\"lease\":-1}]}", 400,
	     "invalid_argument", "success[0].lease"},
	    {"{\"success\":[{\"op\":\"put\",\"key\":\"a\",\"value\":\"v\",\"lease\":\"0x1\"}]}",
	     400, "invalid_argument", "success[0].lease"},
	    {"{\"success\":[{\"op\":\"delete_prefix\",\"key\":\"a\"}]}", 400, "invalid_argument",
	     "success[0]"},
	    {many, 400, "invalid_argument", "success"},
	    {big_value, 413, "too_large", "success[0].value"},
	    {long_key, 413, "too_large", "success[0].key"},
	};
	int n = snprintf(many, sizeof(many), "{\"success\":[");
	for (unsigned i = 0; i <= KV_TXN_OPS_MAX; i++)
		n += snprintf(many + n, sizeof(many) - (size_t)n,
		              "%s{\"op\":\"get\",\"key\":\"k\"}", i ? "," : "");
	snprintf(many + n, sizeof(many) - (size_t)n, "]}");
	n = snprintf(big_value, sizeof(big_value),
	             "{\"success\":[{\"op\":\"put\",\"key\":\"a\",\"value\":\"");
	memset(big_value + n, 'v', 1025);
	snprintf(big_value + n + 1025, sizeof(big_value) - (size_t)n - 1025, "\"}]}");
	n = snprintf(long_key, sizeof(long_key), "{\"success\":[{\"op\":\"get\",\"key\":\"");
	memset(long_key + n, 'k', KV_KEY_BYTES_MAX + 1);
	snprintf(long_key + n + KV_KEY_BYTES_MAX + 1,
	         sizeof(long_key) - (size_t)n - KV_KEY_BYTES_MAX - 1, "\"}]}");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_txn_err e;
		int rc;
		t_parse(cases[i].body, &rc, &e);
		if (rc != -1 || e.status != cases[i].status || strcmp(e.code, cases[i].code) != 0 ||
		    strcmp(e.param, cases[i].param) != 0)
			fail_msg("case %zu: rc %d status %d code %s param %s (%s)", i, rc, e.status,
			         e.code ? e.code : "-", e.param, e.message);
		assert_true(strncmp(e.message, e.param, strlen(e.param)) ==
		            0); /* names its member */
	}
	printf("checked: %zu bad bodies, each with its status, code and member\n",
	       sizeof(cases) / sizeof(cases[0]));
}

static void test_lease_body(void **state)
{
	struct gw_txn_err e;
	uint64_t ttl = 0;
	const char *ok = "{\"ttl_ms\":2000}";
	assert_int_equal(gw_txn_parse_lease(ok, strlen(ok), &ttl, &e), 0);
	assert_int_equal(ttl, KV_LEASE_TTL_MS_MIN);
	const char *bad[] = {"{\"ttl_ms\":1999}", "{\"ttl_ms\":3600001}", "{}",
	                     "{\"ttl\":5000}",    "{\"ttl_ms\":true}",    "5000"};
	const int status[] = {400, 400, 400, 400, 400, 400};
	const char *code[] = {"out_of_range",     "out_of_range",     "invalid_argument",
	                      "invalid_argument", "invalid_argument", "invalid_argument"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gw_txn_parse_lease(bad[i], strlen(bad[i]), &ttl, &e), -1);
		assert_int_equal(e.status, status[i]);
		assert_string_equal(e.code, code[i]);
	}
	assert_int_equal(gw_txn_parse_lease(bad[0], strlen(bad[0]), &ttl, &e), -1);
	assert_int_equal(e.limit, KV_LEASE_TTL_MS_MIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_body),
	    cmocka_unit_test(test_bad_bodies),
	    cmocka_unit_test(test_lease_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gw_member_parse.c - the bodies of POST /v1/members and POST
 * /raft/join (services/gatewayd/gw_member_parse.c): what good bodies
 * become, and for each way a body can be wrong (hostile JSON, limits,
 * every member's syntax and range) the status, code and member named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_member_parse.h"
#include "kv_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_KEY "rq:rbSzqpQ:>LwKH*8HS7!SN>ZP@=jt)y=r5UYpG" /* 40 Z85 characters */

static void test_add_good(void **state)
{
	struct gw_member_add a;
	struct gw_txn_err e;
	const char *body = "{\"id\":4,\"peer_address\":\"127.0.0.1:7004\","
	                   "\"url\":\"http://127.0.0.1:4004\"}";

	assert_int_equal(gw_member_parse_add(body, strlen(body), &a, &e), 0);
	assert_int_equal(a.id, 4);
	assert_string_equal(a.peer_address, "127.0.0.1:7004");
	assert_string_equal(a.url, "http://127.0.0.1:4004");
	assert_string_equal(a.curve_key, "");
	assert_int_equal(a.promote, 0); /* stays a learner by default */
	body = "{\"promote\":true,\"curve_key\":\"" T_KEY "\",\"id\":65535,"
	       "\"peer_address\":\"raftkv-4.raftkv.default.svc:7000\","
	       "\"url\":\"https://raftkv-4.raftkv.default.svc:4000/\"}";
	assert_int_equal(gw_member_parse_add(body, strlen(body), &a, &e), 0);
	assert_int_equal(a.id, 65535);
	assert_int_equal(a.promote, 1);
	assert_string_equal(a.curve_key, T_KEY);
	body = "{\"id\":9,\"peer_address\":\"[::1]:7009\",\"url\":\"http://[::1]:4009\","
	       "\"curve_key\":null,\"promote\":false}";
	assert_int_equal(gw_member_parse_add(body, strlen(body), &a, &e), 0);
	assert_string_equal(a.peer_address, "[::1]:7009");
	printf("checked: a learner, a promoted member with a key and DNS names, IPv6\n");
}

struct t_bad {
	const char *body;
	int status;
	const char *code;
	const char *param;
};

static void t_expect_bad(const struct t_bad *b, size_t n, int join)
{
	for (size_t i = 0; i < n; i++) {
		struct gw_member_add a;
		struct gw_txn_err e;
		int rc = join ? gw_member_parse_join(b[i].body, strlen(b[i].body), &a, &e)
		              : gw_member_parse_add(b[i].body, strlen(b[i].body), &a, &e);
		if (rc != -1 || e.status != b[i].status || strcmp(e.code, b[i].code) != 0 ||
		    strcmp(e.param, b[i].param) != 0)
			fail_msg("%s: rc %d status %d code %s param %s (%s)", b[i].body, rc,
			         e.status, rc == -1 ? e.code : "-", rc == -1 ? e.param : "-",
			         rc == -1 ? e.message : "accepted");
	}
}

static void test_add_bad(void **state)
{
	static const struct t_bad bad[] = {
	    {"", 400, "invalid_argument", "body"},
	    {"{", 400, "invalid_argument", "body"},
	    {"[1]", 400, "invalid_argument", "body"},
	    {"\"id\"", 400, "invalid_argument", "body"},
	    {"{\"id\":4,\"id\":5,\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "body"},
	    {"{\"id\":4,\"peer_adress\":\"a:1\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "body"},
	    {"{\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}", 400, "invalid_argument", "id"},
	    {"{\"id\":0,\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "id"},
	    {"{\"id\":65536,\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "id"},
	    {"{\"id\":-1,\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "id"},
	    {"{\"id\":4.5,\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "id"},
	    {"{\"id\":\"4\",\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "id"},
	    {"{\"id\":99999999999999999999999,\"peer_address\":\"a:1\",\"url\":\"http://a:2\"}",
	     400, "invalid_argument", "body"},
	    {"{\"id\":4,\"url\":\"http://a:2\"}", 400, "invalid_argument", "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "peer_address"},
	    {"{\"id\":4,\"peer_address\":7004,\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"a\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"a:0\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"a:65536\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"a:070\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "peer_address"},
	    {"{\"id\":4,\"peer_address\":\":7\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"-a:7\",\"url\":\"http://a:2\"}", 400, "invalid_argument",
	     "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"a b:7\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"tcp://a:7\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"a\\u0000:7\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "body"}, /* jansson refuses \u0000 without JSON_ALLOW_NUL */
	    {"{\"id\":4,\"peer_address\":\"[::g]:7\",\"url\":\"http://a:2\"}", 400,
	     "invalid_argument", "peer_address"},
	    {"{\"id\":4,\"peer_address\":\"a:1\"}", 400, "invalid_argument", "url"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"ftp://a:2\"}", 400, "invalid_argument",
	     "url"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://a\"}", 400, "invalid_argument",
	     "url"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://a:2/v1\"}", 400,
	     "invalid_argument", "url"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://user@a:2\"}", 400,
	     "invalid_argument", "url"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://\"}", 400, "invalid_argument",
	     "url"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://a:2\",\"curve_key\":\"short\"}",
	     400, "invalid_argument", "curve_key"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://a:2\",\"curve_key\":\"" T_KEY
	     "x\"}",
	     400, "invalid_argument", "curve_key"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://a:2\",\"curve_key\":"
	     "\"rq:rbSzqpQ:>LwKH*8HS7!SN>ZP@=jt)y=r5UYp\\\"\"}",
	     400, "invalid_argument", "curve_key"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://a:2\",\"promote\":1}", 400,
	     "invalid_argument", "promote"},
	    {"{\"id\":4,\"peer_address\":\"a:1\",\"url\":\"http://a:2\",\"promote\":\"yes\"}", 400,
	     "invalid_argument", "promote"},
	};

	t_expect_bad(bad, sizeof(bad) / sizeof(bad[0]), 0);
	printf("checked: %zu bad bodies, each with its status, code and member\n",
	       sizeof(bad) / sizeof(bad[0]));
}

static void test_limits_and_hostile(void **state)
{
	struct gw_member_add a;
	struct gw_txn_err e;
	char *big = malloc(KV_MEMBER_BODY_BYTES_MAX + 2);
	char host[KV_MEMBER_HOST_BYTES_MAX + 64];
	char body[1024];
	size_t depth = 2000;
	char *deep = malloc(2 * depth + 1);

	/* one byte past the body limit: 413 before parsing */
	memset(big, ' ', KV_MEMBER_BODY_BYTES_MAX + 1);
	big[0] = '{';
	big[KV_MEMBER_BODY_BYTES_MAX] = '}';
	assert_int_equal(gw_member_parse_add(big, KV_MEMBER_BODY_BYTES_MAX + 1, &a, &e), -1);
	assert_int_equal(e.status, 413);
	assert_string_equal(e.code, "too_large");
	assert_int_equal(e.limit, KV_MEMBER_BODY_BYTES_MAX);
	free(big);
	/* nesting far deeper than any body: an error, not a crash */
	for (size_t i = 0; i < depth; i++) {
		deep[i] = '[';
		deep[depth + i] = ']';
	}
	deep[2 * depth] = '\0';
	assert_int_equal(gw_member_parse_add(deep, strlen(deep), &a, &e), -1);
	assert_int_equal(e.status, 400);
	free(deep);
	/* a host of exactly the limit passes; one byte more does not */
	memset(host, 'h', KV_MEMBER_HOST_BYTES_MAX);
	host[KV_MEMBER_HOST_BYTES_MAX] = '\0';
	snprintf(body, sizeof(body), "{\"id\":4,\"peer_address\":\"%s:7\",\"url\":\"http://a:2\"}",
	         host);
	assert_int_equal(gw_member_parse_add(body, strlen(body), &a, &e), 0);
	snprintf(body, sizeof(body), "{\"id\":4,\"peer_address\":\"h%s:7\",\"url\":\"http://a:2\"}",
	         host);
	assert_int_equal(gw_member_parse_add(body, strlen(body), &a, &e), -1);
	assert_string_equal(e.param, "peer_address");
	/* a URL of the limit passes (127 bytes); one more does not */
	memset(host, 'u', KV_MEMBER_URL_BYTES_MAX - 9);
	host[KV_MEMBER_URL_BYTES_MAX - 9] = '\0';
	snprintf(body, sizeof(body), "{\"id\":4,\"peer_address\":\"a:7\",\"url\":\"http://%s:2\"}",
	         host);
	assert_int_equal(gw_member_parse_add(body, strlen(body), &a, &e), 0);
	assert_int_equal(strlen(a.url), KV_MEMBER_URL_BYTES_MAX);
	snprintf(body, sizeof(body), "{\"id\":4,\"peer_address\":\"a:7\",\"url\":\"http://u%s:2\"}",
	         host);
	assert_int_equal(gw_member_parse_add(body, strlen(body), &a, &e), -1);
	assert_string_equal(e.param, "url");
	assert_int_equal(e.status, 400);
	/* invalid UTF-8 and a NUL in the middle of the text */
	assert_int_equal(gw_member_parse_add("{\"id\":4,\xff}", 9, &a, &e), -1);
	assert_int_equal(gw_member_parse_add("{\"id\":4}\0{}", 10, &a, &e), -1);
	assert_string_equal(e.param, "body");
	printf("checked: the body limit (413), deep nesting, host and URL limits, bad bytes\n");
}

static void test_join(void **state)
{
	struct gw_member_add a;
	struct gw_txn_err e;
	const char *body =
	    "{\n\t\"node_id\": \"node_2\", \n\t\"raft_address\": \"127.0.0.1:1112\"\n}";
	static const struct t_bad bad[] = {
	    {"{\"node_id\":\"node_\",\"raft_address\":\"a:1\"}", 400, "invalid_argument",
	     "node_id"},
	    {"{\"node_id\":\"node_0\",\"raft_address\":\"a:1\"}", 400, "invalid_argument",
	     "node_id"},
	    {"{\"node_id\":\"node_02\",\"raft_address\":\"a:1\"}", 400, "invalid_argument",
	     "node_id"},
	    {"{\"node_id\":\"node_65536\",\"raft_address\":\"a:1\"}", 400, "invalid_argument",
	     "node_id"},
	    {"{\"node_id\":\"node_9999999999\",\"raft_address\":\"a:1\"}", 400, "invalid_argument",
	     "node_id"},
	    {"{\"node_id\":2,\"raft_address\":\"a:1\"}", 400, "invalid_argument", "node_id"},
	    {"{\"node_id\":\"node_2\"}", 400, "invalid_argument", "raft_address"},
	    {"{\"node_id\":\"node_2\",\"raft_address\":\"a\"}", 400, "invalid_argument",
	     "raft_address"},
	    {"{\"node_id\":\"node_2\",\"raft_address\":\"a:1\",\"voter\":true}", 400,
	     "invalid_argument", "body"},
	    {"node_2", 400, "invalid_argument", "body"},
	};

	assert_int_equal(gw_member_parse_join(body, strlen(body), &a, &e), 0);
	assert_int_equal(a.id, 2);
	assert_string_equal(a.peer_address, "127.0.0.1:1112");
	assert_string_equal(a.url, "");
	assert_int_equal(a.promote, 1); /* the seed made it a voter: here once caught up */
	body = "{\"node_id\":\"n65535\",\"raft_address\":\"h:1\"}";
	assert_int_equal(gw_member_parse_join(body, strlen(body), &a, &e), 0);
	assert_int_equal(a.id, 65535);
	t_expect_bad(bad, sizeof(bad) / sizeof(bad[0]), 1);
	printf("checked: the seed's join body, its id from the name, %zu bad ones\n",
	       sizeof(bad) / sizeof(bad[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_good),
	    cmocka_unit_test(test_add_bad),
	    cmocka_unit_test(test_limits_and_hostile),
	    cmocka_unit_test(test_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

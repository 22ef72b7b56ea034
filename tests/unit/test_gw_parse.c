/*
 * test_gw_parse.c - gatewayd's pure request parsing (services/gatewayd/gw_parse.c):
 * key percent-decoding (valid keys, "/", "../", %00, invalid UTF-8, %zz,
 * truncated escapes, empty, 511 vs 512 bytes), query parameters (timeout,
 * limit, consistency, encoding, prefix/after, repeats), If-Match,
 * If-None-Match and Idempotency-Key, and the screen of a connection's first
 * head.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_parse.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <stdio.h>
#include <string.h>

static int key_of(const char *raw, struct gw_key *k)
{
	return gw_parse_key(raw, strlen(raw), k);
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
	return gw_parse_query(qs, strlen(qs), 5000, q, what, limit);
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
	assert_int_equal(query_of("force=true", &q, &what, &limit), 0);
	assert_int_equal(q.force, 1);
	assert_int_equal(query_of("force=false", &q, &what, &limit), 0);
	assert_int_equal(q.force, 0);
	assert_int_equal(query_of("force=yes", &q, &what, &limit), KV_EINVAL);
	assert_string_equal(what, "force");
	assert_int_equal(query_of("force", &q, &what, &limit), KV_EINVAL);
	assert_int_equal(query_of("force=true&force=true", &q, &what, &limit), KV_EINVAL);
	printf("checked: limit 1/1000 ok, 0/1001 out of range, -1/1x malformed; consistency, "
	       "encoding, prefix %%zz and 512-byte prefix rejected; force true/false, not yes, "
	       "bare or repeated\n");
}

static void test_conditions(void **state)
{
	uint64_t idx = 0;
	assert_int_equal(gw_parse_if_match("\"42\"", 4, &idx), 0);
	assert_int_equal(idx, 42);
	assert_int_equal(gw_parse_if_match("W/\"7\"", 5, &idx), 0);
	assert_int_equal(idx, 7);
	assert_int_equal(gw_parse_if_match("9", 1, &idx), 0);
	assert_int_equal(idx, 9);
	assert_int_equal(gw_parse_if_match("nonsense", 8, &idx), KV_EINVAL);
	assert_int_equal(gw_parse_if_match("\"\"", 2, &idx), KV_EINVAL);
	assert_int_equal(gw_parse_if_match("\"1", 2, &idx), KV_EINVAL);
	assert_int_equal(gw_parse_if_match("*", 1, &idx), KV_EINVAL);
	assert_int_equal(gw_parse_if_match("\"99999999999999999999999\"", 25, &idx), KV_EINVAL);
	assert_int_equal(gw_parse_if_none_match("*", 1), 0);
	assert_int_equal(gw_parse_if_none_match("\"3\"", 3), KV_EINVAL);
	char idem[200];
	memset(idem, 'i', sizeof(idem));
	assert_int_equal(gw_parse_idempotency_key(idem, 128), 0);
	assert_int_equal(gw_parse_idempotency_key(idem, 129), KV_ETOOLARGE);
	assert_int_equal(gw_parse_idempotency_key(idem, 0), KV_EINVAL);
	printf("checked: If-Match quoted/weak/bare ok, 5 malformed rejected; If-None-Match * only; "
	       "Idempotency-Key 128 ok, 129 and empty rejected\n");
}

static int screen(const char *head)
{
	return gw_parse_screen_head(head, strlen(head), 1u << 20);
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

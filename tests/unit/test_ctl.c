/*
 * test_ctl.c - raftkvctl's pure parts (tools/ctl/): --endpoints parsing, the
 * JSON scanner it reads the gateway's answers with (members, arrays, escapes,
 * \u pairs, malformed and truncated input), percent-encoding, the UTF-8
 * check, base64 both ways, and the exit code for each HTTP status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctl_encoding.h"
#include "ctl_endpoint.h"
#include "ctl_json.h"
#include "ctl_out.h"

#include <stdio.h>
#include <string.h>

static void test_endpoint_parse(void **state)
{
	struct kv_url e;
	assert_int_equal(ctl_endpoint_parse("http://127.0.0.1:4001", &e), 0);
	assert_false(e.tls);
	assert_string_equal(e.host, "127.0.0.1");
	assert_string_equal(e.port, "4001");
	assert_int_equal(ctl_endpoint_parse("https://gatewayd-2:4001/", &e), 0);
	assert_true(e.tls);
	assert_string_equal(e.host, "gatewayd-2");
	assert_int_equal(ctl_endpoint_parse("https://example.org", &e), 0);
	assert_string_equal(e.port, "443");
	assert_int_equal(ctl_endpoint_parse("http://[::1]:4001", &e), 0);
	assert_string_equal(e.host, "::1");
	assert_string_equal(e.port, "4001");
	static const char *const bad[] = {
	    "ftp://h:1",       "127.0.0.1:4001", "http://",         "http://:4001",
	    "http://h:0",      "http://h:65536", "http://h:12a",    "http://h:4001/v1",
	    "http://u@h:4001", "http://h:",      "http://[::1]x:1", "http://h:4001?x=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ctl_endpoint_parse(bad[i], &e) == 0)
			fail_msg("accepted %s", bad[i]);
	}
	printf("checked: http/https URLs with and without ports, IPv6; 12 bad forms refused\n");
}

static void test_endpoint_list(void **state)
{
	static struct ctl_ctx ctx;
	assert_int_equal(ctl_endpoint_parse_list("http://a:1,https://b:2,http://c:3", &ctx), 0);
	assert_int_equal(ctx.endpoint_count, 3);
	assert_string_equal(ctx.endpoints[1].host, "b");
	assert_true(ctx.endpoints[1].tls);
	assert_int_equal(ctl_endpoint_parse_list("http://a:1,,http://c:3", &ctx), -1);
	assert_int_equal(ctl_endpoint_parse_list("", &ctx), -1);
	char many[CTL_ENDPOINTS_MAX * 16 + 32] = "";
	for (int i = 0; i <= CTL_ENDPOINTS_MAX; i++)
		strcat(many, i ? ",http://h:1" : "http://h:1");
	assert_int_equal(ctl_endpoint_parse_list(many, &ctx), -1);
	printf("checked: a list of 3; an empty item, an empty list and %d endpoints refused\n",
	       CTL_ENDPOINTS_MAX + 1);
}

static struct ctl_json_span span_of(const char *text)
{
	struct ctl_json_span s;
	assert_int_equal(ctl_json_value(text, strlen(text), &s), 0);
	return s;
}

static void test_json_members_and_arrays(void **state)
{
	const char *text =
	    " {\"items\":[{\"key\":\"a\",\"value\":\"x\"},{\"key\":\"b\",\"n\":[1,{}]}],"
	    "\"more\":true,\"next\":null,\"id\":-42} trailing";
	struct ctl_json_span root = span_of(text), items, item, v;
	assert_int_equal(root.p[0], '{');
	assert_int_equal(root.p[root.len - 1], '}');
	assert_int_equal(ctl_json_member(root, "more", &v), 0);
	assert_true(ctl_json_is(v, "true"));
	assert_int_equal(ctl_json_member(root, "next", &v), 0);
	assert_true(ctl_json_is(v, "null"));
	long long id;
	assert_int_equal(ctl_json_member(root, "id", &v), 0);
	assert_int_equal(ctl_json_int(v, &id), 0);
	assert_int_equal(id, -42);
	assert_int_equal(ctl_json_member(root, "missing", &v), -1);
	assert_int_equal(ctl_json_member(root, "key", &v), -1); /* not at the top level */
	assert_int_equal(ctl_json_member(root, "items", &items), 0);
	const char *cursor = NULL;
	char buf[16];
	int n = 0;
	while (ctl_json_next(items, &cursor, &item) == 1) {
		assert_int_equal(ctl_json_member(item, "key", &v), 0);
		assert_int_equal(ctl_json_string(v, buf, sizeof(buf)), 1);
		assert_int_equal(buf[0], n == 0 ? 'a' : 'b');
		n++;
	}
	assert_int_equal(n, 2);
	struct ctl_json_span empty = span_of("[ ]");
	cursor = NULL;
	assert_int_equal(ctl_json_next(empty, &cursor, &item), 0);
	printf("checked: members at the top level only, literals, integers, arrays, empty array\n");
}

static void test_json_strings(void **state)
{
	char buf[64];
	struct ctl_json_span s = span_of("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\"");
	long len = ctl_json_string(s, buf, sizeof(buf));
	assert_string_equal(buf, "a\"b\\c/d\n\t\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(len, (long)strlen(buf));
	assert_int_equal(ctl_json_string(span_of("\"raw \xc3\xa9\""), buf, sizeof(buf)), 6);
	assert_int_equal(ctl_json_string(span_of("\"too long for four\""), buf, 4), -1);
	assert_int_equal(ctl_json_string(span_of("\"bad \\q\""), buf, sizeof(buf)), -1);
	assert_int_equal(ctl_json_string(span_of("\"\\u12\""), buf, sizeof(buf)), -1);
	assert_int_equal(ctl_json_string(span_of("12"), buf, sizeof(buf)), -1);
	printf("checked: escapes, \\u with a surrogate pair, raw UTF-8, overflow, bad escapes\n");
}

static void test_json_malformed(void **state)
{
	static const char *const bad[] = {
	    "",      "{",          "{\"a\"}", "{\"a\":}", "{\"a\":1,}",        "[1,",
	    "[1 2]", "\"unclosed", "{a:1}",   "}",        "{\"a\":1 \"b\":2}",
	};
	struct ctl_json_span s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ctl_json_value(bad[i], strlen(bad[i]), &s) == 0)
			fail_msg("accepted %s", bad[i]);
	}
	char deep[2 * CTL_JSON_DEPTH_MAX + 8];
	memset(deep, '[', CTL_JSON_DEPTH_MAX + 2);
	memset(deep + CTL_JSON_DEPTH_MAX + 2, ']', CTL_JSON_DEPTH_MAX + 2);
	assert_int_equal(ctl_json_value(deep, 2 * CTL_JSON_DEPTH_MAX + 4, &s), -1);
	/* a truncated answer is never read past its end */
	const char *full = "{\"items\":[{\"key\":\"a\"}],\"more\":false}";
	for (size_t cut = 0; cut + 1 < strlen(full); cut++)
		assert_int_equal(ctl_json_value(full, cut, &s), -1);
	printf("checked: 11 malformed texts, nesting past %d, every truncation refused\n",
	       CTL_JSON_DEPTH_MAX);
}

static void test_encoding(void **state)
{
	char out[64];
	assert_int_equal(ctl_percent_encode("a b/ü?&", strlen("a b/ü?&"), 1, out, sizeof(out)), 0);
	assert_string_equal(out, "a%20b/%C3%BC%3F%26");
	assert_int_equal(ctl_percent_encode("a/b", 3, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "a%2Fb");
	assert_int_equal(ctl_percent_encode("\0x", 2, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "%00x");
	assert_int_equal(ctl_percent_encode("abcdef", 6, 0, out, 6), -1);
	assert_true(ctl_utf8_valid("plain \xc3\xa9 \xf0\x9f\x98\x80", 13));
	assert_false(ctl_utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(ctl_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(ctl_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(ctl_utf8_valid("\xe2\x82", 2));         /* truncated */
	assert_false(ctl_utf8_valid("a\0b", 3));
	static const char *const vectors[][2] = {{"", ""},
	                                         {"f", "Zg=="},
	                                         {"fo", "Zm8="},
	                                         {"foo", "Zm9v"},
	                                         {"foob", "Zm9vYg=="},
	                                         {"fooba", "Zm9vYmE="},
	                                         {"foobar", "Zm9vYmFy"}};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char enc[32] = "", dec[32];
		FILE *f = fmemopen(enc, sizeof(enc), "w");
		ctl_base64_write(f, vectors[i][0], strlen(vectors[i][0]));
		fclose(f);
		assert_string_equal(enc, vectors[i][1]);
		long n = ctl_base64_decode(enc, strlen(enc), dec, sizeof(dec));
		assert_int_equal(n, (long)strlen(vectors[i][0]));
		assert_memory_equal(dec, vectors[i][0], (size_t)n);
	}
	char dec[4];
	assert_int_equal(ctl_base64_decode("Zm9v!", 5, dec, sizeof(dec)), -1);
	assert_int_equal(ctl_base64_decode("Zm9vYmFy", 8, dec, sizeof(dec)), -1);
	printf("checked: percent-encoding with and without '/', UTF-8 edge cases, RFC 4648 "
	       "base64 vectors both ways, bad base64 and a full buffer\n");
}

static void test_exit_codes(void **state)
{
	static const int cases[][2] = {{200, 0}, {204, 0}, {400, 2}, {401, 1}, {403, 1}, {404, 1},
	                               {405, 2}, {409, 1}, {412, 1}, {413, 2}, {414, 2}, {429, 1},
	                               {431, 2}, {500, 1}, {503, 3}, {504, 1}, {507, 1}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ctl_out_exit_for_status(cases[i][0]), cases[i][1]);
	printf("checked: the exit code of 17 statuses\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoint_parse),
	    cmocka_unit_test(test_endpoint_list),
	    cmocka_unit_test(test_json_members_and_arrays),
	    cmocka_unit_test(test_json_strings),
	    cmocka_unit_test(test_json_malformed),
	    cmocka_unit_test(test_encoding),
	    cmocka_unit_test(test_exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

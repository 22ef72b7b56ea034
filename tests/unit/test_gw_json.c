/*
 * test_gw_json.c - gatewayd's JSON writer and error bodies
 * (services/gatewayd/gw_json.c, gw_errors.c): escaping of quotes, backslash
 * and every control byte, UTF-8 passed through, strict UTF-8 validation
 * (overlongs, surrogates, > U+10FFFF, truncation), base64 against RFC 4648's
 * vectors, commas between members, the size cap, and the exact error body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_errors.h"
#include "gw_json.h"

#include <stdio.h>
#include <string.h>

/* The writer's text as a C string (the tests' bodies are small). */
static const char *text_of(struct gw_json *j)
{
	static char out[4096];
	assert_false(j->overflow);
	assert_true(j->len < sizeof(out));
	memcpy(out, j->buf, j->len);
	out[j->len] = '\0';
	return out;
}

static void str_is(const char *in, size_t len, const char *want)
{
	struct gw_json j;
	gw_json_init(&j, 4096);
	gw_json_str(&j, (const uint8_t *)in, len);
	assert_string_equal(text_of(&j), want);
	gw_json_free(&j);
}

static void test_escaping(void **state)
{
	str_is("plain", 5, "\"plain\"");
	str_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	str_is("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
	str_is("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	str_is("a\0b", 3, "\"a\\u0000b\"");
	str_is("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12,
	       "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	str_is("", 0, "\"\"");
	/* every control byte is escaped, none passes raw */
	for (int c = 0; c < 0x20; c++) {
		char in[1] = {(char)c};
		struct gw_json j;
		gw_json_init(&j, 64);
		gw_json_str(&j, (const uint8_t *)in, 1);
		const char *t = text_of(&j);
		for (const char *p = t; *p; p++)
			assert_true((unsigned char)*p >= 0x20);
		gw_json_free(&j);
	}
	printf(
	    "checked: quotes, backslash, named escapes, \\u00XX for C0 and DEL, NUL, UTF-8 kept, "
	    "all 32 control bytes escaped\n");
}

static void test_utf8(void **state)
{
	struct {
		const char *s;
		size_t len;
		int valid;
	} cases[] = {
	    {"ascii", 5, 1},
	    {"\xc3\xa9", 2, 1},
	    {"\xe2\x82\xac", 3, 1},
	    {"\xf0\x9f\x98\x80", 4, 1},
	    {"\xf4\x8f\xbf\xbf", 4, 1}, /* U+10FFFF */
	    {"\xff\xfe", 2, 0},         /* never in UTF-8 */
	    {"\xc0\x80", 2, 0},         /* overlong NUL */
	    {"\xe0\x80\xaf", 3, 0},     /* overlong '/' */
	    {"\xed\xa0\x80", 3, 0},     /* lone surrogate U+D800 */
	    {"\xed\xbf\xbf", 3, 0},     /* U+DFFF */
	    {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
	    {"\xe2\x82", 2, 0},         /* truncated */
	    {"\x80", 1, 0},             /* lone continuation */
	    {"a\xc3", 2, 0},            /* truncated at the end */
	    {"\xc3\x28", 2, 0},         /* bad continuation */
	    {"", 0, 1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(gw_json_utf8_valid((const uint8_t *)cases[i].s, cases[i].len),
		                 cases[i].valid);
	printf("checked: %zu UTF-8 cases (overlongs, surrogates, > U+10FFFF, truncation)\n",
	       sizeof(cases) / sizeof(cases[0]));
}

static void test_base64(void **state)
{
	const char *vec[][2] = {{"", "\"\""},
	                        {"f", "\"Zg==\""},
	                        {"fo", "\"Zm8=\""},
	                        {"foo", "\"Zm9v\""},
	                        {"foob", "\"Zm9vYg==\""},
	                        {"fooba", "\"Zm9vYmE=\""},
	                        {"foobar", "\"Zm9vYmFy\""}};
	for (size_t i = 0; i < 7; i++) {
		struct gw_json j;
		gw_json_init(&j, 64);
		gw_json_base64(&j, (const uint8_t *)vec[i][0], strlen(vec[i][0]));
		assert_string_equal(text_of(&j), vec[i][1]);
		assert_int_equal(j.len - 2, gw_json_base64_len(strlen(vec[i][0])));
		gw_json_free(&j);
	}
	struct gw_json j;
	gw_json_init(&j, 64);
	gw_json_base64(&j, (const uint8_t *)"\xff\xfe\x00", 3);
	assert_string_equal(text_of(&j), "\"//4A\"");
	gw_json_free(&j);
	printf("checked: RFC 4648 vectors and binary bytes\n");
}

static void test_structure_and_cap(void **state)
{
	struct gw_json j;
	gw_json_init(&j, 4096);
	gw_json_open(&j, '{');
	gw_json_kv_u64(&j, "a", 18446744073709551615ull);
	gw_json_kv_bool(&j, "b", 0);
	gw_json_kv_null(&j, "c");
	gw_json_key(&j, "d");
	gw_json_open(&j, '[');
	gw_json_open(&j, '{');
	gw_json_close(&j, '}');
	gw_json_open(&j, '{');
	gw_json_kv_str(&j, "k", "v");
	gw_json_close(&j, '}');
	gw_json_close(&j, ']');
	gw_json_close(&j, '}');
	assert_string_equal(
	    text_of(&j),
	    "{\"a\":18446744073709551615,\"b\":false,\"c\":null,\"d\":[{},{\"k\":\"v\"}]}");
	gw_json_free(&j);
	gw_json_free(&j); /* safe twice */
	gw_json_init(&j, 8);
	gw_json_str(&j, (const uint8_t *)"123456789", 9);
	assert_true(j.overflow);
	assert_true(j.len <= 8);
	gw_json_free(&j);
	printf("checked: nested commas, u64 max, bool, null; the cap stops writing and flags it\n");
}

static void test_member(void **state)
{
	struct gw_json j;
	gw_json_init(&j, 4096);
	gw_json_open(&j, '[');
	gw_json_open(&j, '{');
	gw_json_member(&j, 1, 0, "127.0.0.1:7001", "http://127.0.0.1:4001");
	gw_json_kv_u64(&j, "match_index", 7);
	gw_json_close(&j, '}');
	gw_json_open(&j, '{');
	gw_json_member(&j, 65535, 1, "h\"x:1", NULL);
	gw_json_close(&j, '}');
	gw_json_open(&j, '{');
	gw_json_member(&j, 2, 0, "", "");
	gw_json_close(&j, '}');
	gw_json_close(&j, ']');
	assert_string_equal(text_of(&j),
	                    "[{\"id\":1,\"role\":\"voter\",\"peer_address\":\"127.0.0.1:7001\","
	                    "\"url\":\"http://127.0.0.1:4001\",\"match_index\":7},"
	                    "{\"id\":65535,\"role\":\"learner\",\"peer_address\":\"h\\\"x:1\","
	                    "\"url\":null},"
	                    "{\"id\":2,\"role\":\"voter\",\"peer_address\":\"\",\"url\":null}]");
	gw_json_free(&j);
	printf("checked: a member's fields, a learner, an escaped address, no URL as null\n");
}

static void test_error_body(void **state)
{
	struct gw_json j;
	gw_json_init(&j, 4096);
	gw_errors_format(&j, "not_found", "no such \"path\"", NULL);
	assert_string_equal(
	    text_of(&j),
	    "{\"error\":{\"code\":\"not_found\",\"message\":\"no such \\\"path\\\"\"}}\n");
	gw_json_free(&j);
	struct gw_error_extra ex = {0};
	ex.leader = 2;
	ex.leader_url = "http://127.0.0.1:4002";
	ex.limit = 1048576;
	ex.has_limit = 1;
	ex.request_id = 0xabcdef;
	ex.param = "key";
	gw_json_init(&j, 4096);
	gw_errors_format(&j, "timeout", "late", &ex);
	assert_string_equal(text_of(&j),
	                    "{\"error\":{\"code\":\"timeout\",\"message\":\"late\",\"leader\":2,"
	                    "\"leader_url\":\"http://127.0.0.1:4002\",\"limit\":1048576,"
	                    "\"param\":\"key\",\"request_id\":\"0000000000abcdef\"}}\n");
	gw_json_free(&j);
	assert_string_equal(gw_errors_reason(413), "Content Too Large");
	assert_string_equal(gw_errors_reason(507), "Insufficient Storage");
	assert_string_equal(gw_errors_reason(299), "Error");
	printf("checked: the error body with and without extras, escaped message, reasons\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escaping),   cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_base64),     cmocka_unit_test(test_structure_and_cap),
	    cmocka_unit_test(test_error_body), cmocka_unit_test(test_member),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gw_seed_json.c - the seed routes' JSON (services/gatewayd/seeds/
 * gw_seed_json.c): request objects read member by member, strings decoded,
 * malformed bodies refused, and strings written as Go's encoding/json
 * writes them, byte for byte.
 */
#include "seeds/gw_seed_json.h"
#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int parse(const char *body, struct gw_seed_member *want, size_t n)
{
	return gw_seed_json_object(body, strlen(body), want, n);
}

static void test_seed_json_members(void **state)
{
	const char *body = " {\"key\": \"key-1\", \"value\": \"value-1\", \"action\":\"add\", "
	                   "\"extra\": {\"a\": [1, 2.5e3, true, null]}} ";
	struct gw_seed_member want[] = {
	    {.name = "key"}, {.name = "value"}, {.name = "action"}, {.name = "missing"}};
	assert_int_equal(parse(body, want, 4), 0);
	assert_true(want[0].found && want[0].is_string);
	assert_int_equal(want[0].len, 7);
	assert_memory_equal(body + want[0].at, "\"key-1\"", 7);
	assert_memory_equal(body + want[2].at, "\"add\"", 5);
	assert_false(want[3].found);
	/* any JSON value is recorded as its raw text */
	const char *obj = "{\"key\":\"k\",\"value\":{\"n\":[1,2]}}";
	assert_int_equal(parse(obj, want, 2), 0);
	assert_false(want[1].is_string);
	assert_memory_equal(obj + want[1].at, "{\"n\":[1,2]}", want[1].len);
	assert_int_equal(parse("{\"value\":null}", want, 2), 0);
	assert_true(want[1].is_null);
	assert_int_equal(parse("{}", want, 2), 0);
	assert_false(want[0].found);
	printf("checked: members found with their raw text, nested values skipped, null, {}\n");
}

static void test_seed_json_malformed(void **state)
{
	struct gw_seed_member want[] = {{.name = "key"}};
	const char *bad[] = {"",
	                     "[]",
	                     "{",
	                     "{\"key\"}",
	                     "{\"key\":}",
	                     "{\"key\":\"a\",}",
	                     "{\"key\":\"a\"} x",
	                     "{\"key\":01}",
	                     "{\"key\":\"\\x\"}",
	                     "{\"key\":\"a\nb\"}",
	                     "{\"key\":tru}",
	                     "{\"key\":\"\\u12\"}",
	                     "{key:1}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], want, 1), KV_EINVAL);
	char deep[200];
	size_t n = 0;
	n += (size_t)snprintf(deep, sizeof(deep), "{\"key\":");
	for (int d = 0; d < 40; d++)
		deep[n++] = '[';
	for (int d = 0; d < 40; d++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = '\0';
	assert_int_equal(parse(deep, want, 1), KV_EINVAL); /* deeper than GW_SEED_JSON_DEPTH_MAX */
	printf("checked: %zu malformed bodies and one too deep refused\n",
	       sizeof(bad) / sizeof(bad[0]));
}

static void test_seed_json_string(void **state)
{
	uint8_t out[32];
	size_t len = 0;
	const char *s = "\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\"";
	assert_int_equal(gw_seed_json_string(s, strlen(s), out, sizeof(out), &len), 0);
	assert_int_equal(len, 13);
	assert_memory_equal(out, "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80", 13);
	/* a lone surrogate and invalid UTF-8 become U+FFFD, as in Go */
	const char *lone = "\"\\ud800x\xff\"";
	assert_int_equal(gw_seed_json_string(lone, strlen(lone), out, sizeof(out), &len), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(out, "\xef\xbf\xbdx\xef\xbf\xbd", 7);
	assert_int_equal(gw_seed_json_string("\"abcd\"", 6, out, 3, &len), KV_ETOOLARGE);
	assert_int_equal(gw_seed_json_string("abcd", 4, out, sizeof(out), &len), KV_EINVAL);
	const char *v = " {\"a\":[1,\"x\"]} ";
	assert_true(gw_seed_json_is_value(v, strlen(v)));
	assert_false(gw_seed_json_is_value("value", 5));
	assert_false(gw_seed_json_is_value("", 0));
	printf("checked: escapes and surrogate pairs decoded, U+FFFD for bad input, the cap\n");
}

static void test_seed_json_go_str(void **state)
{
	struct gw_json j;
	gw_json_init(&j, 256);
	const char in[] = "a<b>&\"\\\n\t\x01\xe2\x80\xa8\xff\xc3\xa9";
	gw_seed_json_go_str(&j, (const uint8_t *)in, sizeof(in) - 1);
	const char *want = "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\t\\u0001\\u2028\\ufffd\xc3\xa9\"";
	assert_int_equal(j.len, strlen(want));
	assert_memory_equal(j.buf, want, j.len);
	gw_json_free(&j);
	printf("checked: HTML characters, controls, U+2028 and invalid UTF-8 escaped as Go does\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_json_members),
	    cmocka_unit_test(test_seed_json_malformed),
	    cmocka_unit_test(test_seed_json_string),
	    cmocka_unit_test(test_seed_json_go_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

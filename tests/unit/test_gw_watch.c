/*
 * test_gw_watch.c - the pure parts of /v1/watch (gw_watch_parse.c,
 * gw_watch_format.c): key or prefix (exactly one), from_index, wait's units
 * and bounds, encoding, repeats and escapes; the JSON of puts, deletes,
 * base64 values, progress and error lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_watch.h"
#include "kv_err.h"

#include <string.h>

static int parse(const char *qs, struct gw_watch_args *a, const char **what)
{
	const char *why = NULL;
	uint64_t limit = 0;
	int err = gw_watch_parse(qs, strlen(qs), a, what, &why, &limit);
	if (err != 0)
		assert_non_null(why);
	return err;
}

static void test_parse_ok(void **state)
{
	struct gw_watch_args a;
	const char *what;
	assert_int_equal(parse("key=a%2Fb&from_index=7&timeout=3s", &a, &what), 0);
	assert_int_equal(a.prefix, 0);
	assert_int_equal(a.match.len, 3);
	assert_memory_equal(a.match.bytes, "a/b", 3);
	assert_int_equal(a.from_index, 7);
	assert_int_equal(a.has_wait, 0);
	assert_int_equal(parse("prefix=&wait=30s&encoding=base64", &a, &what), 0);
	assert_int_equal(a.prefix, 1);
	assert_int_equal(a.match.len, 0);
	assert_int_equal(a.from_index, 0);
	assert_int_equal(a.has_wait, 1);
	assert_int_equal(a.wait_ms, 30000);
	assert_int_equal(a.base64, 1);
	assert_int_equal(parse("prefix=x+y&wait=250ms", &a, &what), 0);
	assert_memory_equal(a.match.bytes, "x y", 3);
	assert_int_equal(a.wait_ms, 250);
	assert_int_equal(parse("key=k&wait=10m", &a, &what), 0);
	assert_int_equal(a.wait_ms, 600000);
	assert_int_equal(parse("key=k&from_index=0", &a, &what), 0);
	assert_int_equal(a.from_index, 1); /* every change kept */
}

static void test_parse_bad(void **state)
{
	struct gw_watch_args a;
	const char *what;
	struct {
		const char *qs;
		int err;
		const char *what;
	} cases[] = {
	    {"", KV_EINVAL, "key"},
	    {"timeout=1s", KV_EINVAL, "key"},
	    {"key=a&prefix=b", KV_EINVAL, "key"},
	    {"key=", KV_EINVAL, "key"},
	    {"key=a&key=a", KV_EINVAL, "key"},
	    {"key=%zz", KV_EINVAL, "key"},
	    {"key=a&from_index=x", KV_EINVAL, "from_index"},
	    {"key=a&from_index=99999999999999999999999", KV_EINVAL, "from_index"},
	    {"key=a&from_index=", KV_EINVAL, "from_index"},
	    {"key=a&wait=0", KV_ERANGE, "wait"},
	    {"key=a&wait=601s", KV_ERANGE, "wait"},
	    {"key=a&wait=11m", KV_ERANGE, "wait"},
	    {"key=a&wait=s", KV_EINVAL, "wait"},
	    {"key=a&wait=-1", KV_EINVAL, "wait"},
	    {"key=a&encoding=rot13", KV_EINVAL, "encoding"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		what = NULL;
		int err = parse(cases[i].qs, &a, &what);
		if (err != cases[i].err || what == NULL || strcmp(what, cases[i].what) != 0)
			fail_msg("?%s: %d on %s (want %d on %s)", cases[i].qs, err,
			         what ? what : "-", cases[i].err, cases[i].what);
	}
	char big[600] = "key=";
	memset(big + 4, 'k', 520);
	assert_int_equal(parse(big, &a, &what), KV_ERANGE);
}

static void expect_json(struct gw_json *j, const char *want)
{
	assert_false(j->overflow);
	assert_int_equal(j->len, strlen(want));
	assert_memory_equal(j->buf, want, j->len);
	gw_json_free(j);
}

static void test_format(void **state)
{
	struct gw_json j;
	struct proto_item put = {.key = {(const uint8_t *)"k", 1},
	                         .value = {(const uint8_t *)"v\"", 2},
	                         .create_index = 3,
	                         .mod_index = 9};
	gw_json_init(&j, 4096);
	gw_watch_format_event(&j, &put, 0);
	gw_watch_format_eol(&j);
	expect_json(&j, "{\"type\":\"put\",\"key\":\"k\",\"value\":\"v\\\"\",\"create_index\":3,"
	                "\"mod_index\":9}\n");
	struct proto_item del = {.key = {(const uint8_t *)"k", 1}, .mod_index = 10};
	gw_json_init(&j, 4096);
	gw_watch_format_event(&j, &del, 0);
	expect_json(&j, "{\"type\":\"delete\",\"key\":\"k\",\"mod_index\":10}");
	struct proto_item bin = {.key = {(const uint8_t *)"k", 1},
	                         .value = {(const uint8_t *)"\xff", 1},
	                         .create_index = 1,
	                         .mod_index = 1};
	gw_json_init(&j, 4096);
	gw_watch_format_event(&j, &bin, 0);
	expect_json(&j, "{\"type\":\"put\",\"key\":\"aw==\",\"value\":\"/w==\",\"create_index\":1,"
	                "\"mod_index\":1,\"encoding\":\"base64\"}");
	gw_json_init(&j, 4096);
	gw_watch_format_progress(&j, 42);
	gw_watch_format_error(&j, "slow_watcher", 43);
	expect_json(&j, "{\"type\":\"progress\",\"index\":42}\n"
	                "{\"type\":\"error\",\"code\":\"slow_watcher\",\"index\":43}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

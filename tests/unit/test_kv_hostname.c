/*
 * test_kv_hostname.c - the node id from a StatefulSet pod's host name
 * (--node-id-from-hostname): accepted forms, every rejected form with its
 * message, and the rule combining it with --node-id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "kv_hostname.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void expect_id(const char *host, uint64_t want)
{
	char err[256];
	uint64_t id = 0;
	int rc = kv_hostname_node_id(host, &id, err, sizeof(err));
	if (rc != 0 || id != want)
		fail_msg("\"%s\": rc=%d id=%" PRIu64 " err=\"%s\", wanted id %" PRIu64, host, rc,
		         id, err, want);
	assert_string_equal(err, "");
	printf("checked: \"%s\" -> node %" PRIu64 "\n", host, id);
}

static void test_accepts(void **state)
{
	expect_id("raftkv-0", 1);
	expect_id("raftkv-1", 2);
	expect_id("raftkv-2", 3);
	expect_id("raftkv-10", 11);
	expect_id("raftkv-9999", 10000);
	expect_id("db7", 8);
	expect_id("raftkv-2.raftkv-peers.raftkv.svc.cluster.local", 3);
	expect_id("a-1-2", 3);
}

static void expect_bad(const char *host, const char *needle)
{
	char err[256];
	uint64_t id = 42;
	int rc = kv_hostname_node_id(host, &id, err, sizeof(err));
	if (rc != KV_EINVAL || strstr(err, needle) == NULL || id != 42)
		fail_msg("\"%.80s\": rc=%d id=%" PRIu64 " err=\"%s\", wanted KV_EINVAL with \"%s\"",
		         host, rc, id, err, needle);
	printf("checked: \"%.40s\" rejected: %s\n", host, err);
}

static void test_rejects(void **state)
{
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name) - 2);
	long_name[sizeof(long_name) - 2] = '1';
	long_name[sizeof(long_name) - 1] = '\0';
	expect_bad("", "is empty");
	expect_bad("raftkv", "does not end in a number");
	expect_bad("raftkv-", "does not end in a number");
	expect_bad("raftkv-0a", "does not end in a number");
	expect_bad("raftkv.1", "does not end in a number");
	expect_bad("123", "is only a number");
	expect_bad("raftkv-10000", "over 9999");
	expect_bad("raftkv-99999999999999999999999", "over 9999");
	expect_bad("raftkv-01", "leading zero");
	expect_bad(long_name, "longer than 253");
}

static void test_small_err_buffer(void **state)
{
	char err[8];
	uint64_t id = 0;
	assert_int_equal(kv_hostname_node_id("nope", &id, err, sizeof(err)), KV_EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(kv_hostname_node_id("nope", &id, NULL, 0), KV_EINVAL);
	printf("checked: a short error buffer is truncated and NUL-terminated; none is fine\n");
}

static void test_resolve_rule(void **state)
{
	char err[256], host[KV_HOSTNAME_BYTES_MAX + 2];
	uint64_t id = 0, host_id = 0;
	assert_int_equal(kv_hostname_resolve_node_id(0, &id, err, sizeof(err)), KV_EINVAL);
	assert_non_null(strstr(err, "--node-id-from-hostname"));
	printf("checked: neither flag: %s\n", err);
	id = 5;
	assert_int_equal(kv_hostname_resolve_node_id(0, &id, err, sizeof(err)), 0);
	assert_int_equal(id, 5);
	printf("checked: --node-id 5 alone is kept\n");

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	int host_rc = kv_hostname_node_id(host, &host_id, err, sizeof(err));
	id = 0;
	int rc = kv_hostname_resolve_node_id(1, &id, err, sizeof(err));
	assert_int_equal(rc, host_rc);
	if (host_rc != 0) {
		printf("checked: this host's name \"%s\" has no ordinal: %s\n", host, err);
		return;
	}
	assert_int_equal(id, host_id);
	printf("checked: this host \"%s\" -> node %" PRIu64 "\n", host, id);
	id = host_id;
	assert_int_equal(kv_hostname_resolve_node_id(1, &id, err, sizeof(err)), 0);
	id = host_id + 1;
	assert_int_equal(kv_hostname_resolve_node_id(1, &id, err, sizeof(err)), KV_EINVAL);
	assert_non_null(strstr(err, "disagrees"));
	printf("checked: an agreeing --node-id is fine, a different one: %s\n", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_small_err_buffer),
	    cmocka_unit_test(test_resolve_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

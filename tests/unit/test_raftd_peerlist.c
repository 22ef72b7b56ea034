/*
 * test_raftd_peerlist.c - the --peers parser of raftd: accepted forms, every
 * rejected form with its message, limits, lookup and formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd_peerlist.h"

#include <stdio.h>
#include <string.h>

static void test_three_nodes(void **state)
{
	struct raftd_peer_list l;
	char err[256];
	int rc = raftd_peerlist_parse("1=127.0.0.1:7001,2=127.0.0.1:7002,3=node-3.example:7003", &l,
	                              err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
	assert_int_equal(l.n, 3);
	assert_int_equal(l.peers[0].id, 1);
	assert_string_equal(l.peers[0].host, "127.0.0.1");
	assert_int_equal(l.peers[0].port, 7001);
	assert_int_equal(l.peers[2].id, 3);
	assert_string_equal(l.peers[2].host, "node-3.example");
	assert_int_equal(l.peers[2].port, 7003);
	printf("checked: 3 entries parsed with ids, IPv4 and DNS hosts, ports\n");
}

static void test_single_and_ipv6(void **state)
{
	struct raftd_peer_list l;
	char err[256];
	assert_int_equal(raftd_peerlist_parse("7=[::1]:65535", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.peers[0].id, 7);
	assert_string_equal(l.peers[0].host, "[::1]");
	assert_int_equal(l.peers[0].port, 65535);
	printf("checked: one bracketed IPv6 entry, port 65535\n");
}

static void expect_bad(const char *text, const char *needle)
{
	struct raftd_peer_list l;
	char err[256];
	int rc = raftd_peerlist_parse(text, &l, err, sizeof(err));
	if (rc != KV_EINVAL || strstr(err, needle) == NULL)
		fail_msg("\"%s\": rc=%d err=\"%s\", wanted KV_EINVAL with \"%s\"", text, rc, err,
		         needle);
	printf("checked: \"%.60s\" rejected: %s\n", text, err);
}

static void test_rejects(void **state)
{
	expect_bad("", "empty");
	expect_bad("1=a:1,", "empty item");
	expect_bad(",1=a:1", "empty item");
	expect_bad("1=a:1,,2=b:2", "empty item");
	expect_bad("1a:1", "not id=host:port");
	expect_bad("0=a:1", "the id");
	expect_bad("=a:1", "the id");
	expect_bad("-1=a:1", "the id");
	expect_bad("01=a:1", "the id");
	expect_bad("65536=a:1", "the id");
	expect_bad("99999999999999999999=a:1", "the id");
	expect_bad("1=a", "no :port");
	expect_bad("1=:7001", "bad host");
	expect_bad("1=-a:7001", "bad host");
	expect_bad("1=a b:7001", "bad host");
	expect_bad("1=a_b:7001", "bad host");
	expect_bad("1=[zz]:7001", "bad host");
	expect_bad("1=a:0", "the port");
	expect_bad("1=a:65536", "the port");
	expect_bad("1=a:", "the port");
	expect_bad("1=a:70x1", "the port");
	expect_bad("1=a:1,1=b:2", "twice");
}

static void test_limits(void **state)
{
	char text[8192];
	struct raftd_peer_list l;
	char err[256];
	size_t n = 0;
	for (unsigned i = 1; i <= RAFT_NODES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%u=h%u:%u", i > 1 ? "," : "",
		                      i, i, 7000 + i);
	assert_int_equal(raftd_peerlist_parse(text, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, RAFT_NODES_MAX);
	snprintf(text + n, sizeof(text) - n, ",10=h10:7010");
	expect_bad(text, "more than");
	memset(text, 'a', sizeof(text));
	memcpy(text, "1=", 2);
	strcpy(text + 300, ":7001");
	expect_bad(text, "bad host");
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	expect_bad(text, "longer than");
	printf("checked: %u nodes accepted, one more refused; long host and text refused\n",
	       RAFT_NODES_MAX);
}

static void test_find_and_format(void **state)
{
	struct raftd_peer_list l;
	char err[256], out[64];
	assert_int_equal(raftd_peerlist_parse("4=h:1,9=g:2", &l, err, sizeof(err)), 0);
	assert_non_null(raftd_peerlist_find(&l, 9));
	assert_string_equal(raftd_peerlist_find(&l, 9)->host, "g");
	assert_null(raftd_peerlist_find(&l, 5));
	assert_int_equal(raftd_peerlist_format(&l.peers[0], out, sizeof(out)), 0);
	assert_string_equal(out, "h:1");
	assert_int_equal(raftd_peerlist_format(&l.peers[0], out, 3), KV_ETOOLARGE);
	printf("checked: find by id, unknown id, host:port formatting and its bound\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_three_nodes),     cmocka_unit_test(test_single_and_ipv6),
	    cmocka_unit_test(test_rejects),         cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_find_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_raftd_join.c - raftd --join's pure part (raftd_join_plan.c): the
 * flags checked into a plan (every refused combination with its sentence),
 * GET /v1/members parsed (the documented answer, and hostile JSON: wrong
 * types, out-of-range and duplicate ids, bad addresses, control characters,
 * too many members, deep nesting, truncation), POST answers classified, this
 * node found (or refused) in the members, and the POST body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd_join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct raftd_peer_list no_peers;

static struct raftd_join_flags flags(void)
{
	return (struct raftd_join_flags){.node_id = 4,
	                                 .join = "http://127.0.0.1:4001,https://node2:4002",
	                                 .join_as = "voter",
	                                 .url = "http://127.0.0.1:4004",
	                                 .advertise = "127.0.0.1:7004",
	                                 .listen = "",
	                                 .token_file = "",
	                                 .cacert = "",
	                                 .peers = &no_peers};
}

static void test_plan_ok(void **state)
{
	struct raftd_join_plan p;
	char err[512];
	struct raftd_join_flags f = flags();
	assert_int_equal(raftd_join_plan_make(&f, &p, err, sizeof(err)), 0);
	assert_true(p.on);
	assert_true(p.promote);
	assert_int_equal(p.n_urls, 2);
	assert_true(p.urls[1].tls);
	assert_string_equal(p.urls[1].host, "node2");
	assert_string_equal(p.peer_address, "127.0.0.1:7004");
	assert_int_equal(p.peer_port, 7004);
	assert_string_equal(p.self_url, "http://127.0.0.1:4004");
	/* the address from --listen when it names a host, or from this node's --peers entry */
	f.advertise = "";
	f.listen = "tcp://10.0.0.4:7104";
	f.join_as = "learner";
	assert_int_equal(raftd_join_plan_make(&f, &p, err, sizeof(err)), 0);
	assert_false(p.promote);
	assert_string_equal(p.peer_address, "10.0.0.4:7104");
	struct raftd_peer_list self;
	assert_int_equal(raftd_peerlist_parse("4=node4.example:7204", &self, err, sizeof(err)), 0);
	f.peers = &self;
	f.listen = "tcp://0.0.0.0:7204";
	assert_int_equal(raftd_join_plan_make(&f, &p, err, sizeof(err)), 0);
	assert_string_equal(p.peer_address, "node4.example:7204");
	/* no --join: off, and nothing else needed */
	struct raftd_join_flags none = {.join = "",
	                                .join_as = "voter",
	                                .url = "",
	                                .advertise = "",
	                                .listen = "",
	                                .token_file = "",
	                                .cacert = "",
	                                .peers = &no_peers};
	assert_int_equal(raftd_join_plan_make(&none, &p, err, sizeof(err)), 0);
	assert_false(p.on);
}

/* Each case: a change to the good flags, and a piece of the sentence it must give. */
static void test_plan_refused(void **state)
{
	struct raftd_peer_list others;
	char err[512];
	assert_int_equal(
	    raftd_peerlist_parse("1=127.0.0.1:7001,4=127.0.0.1:7004", &others, err, sizeof(err)),
	    0);
	struct {
		const char *field, *value, *says;
	} cases[] = {
	    {"join", "ftp://h:1", "is not http://"},
	    {"join", "127.0.0.1:4001", "is not http://"},
	    {"join", "http://h:1,,http://h:2", "is not http://"},
	    {"join", "http://h:1/v1", "is not http://"},
	    {"join",
	     "http://a:1,http://a:2,http://a:3,http://a:4,http://a:5,http://a:6,"
	     "http://a:7,http://a:8,http://a:9",
	     "more than 8 URLs"},
	    {"join_as", "leader", "not voter or learner"},
	    {"url", "", "needs --url"},
	    {"url", "127.0.0.1:4004", "needs --url"},
	    {"url", "http://0.0.0.0:4004", "needs --url"},
	    {"advertise", "0.0.0.0:7004", "wildcard"},
	    {"advertise", "[::]:7004", "wildcard"},
	    {"advertise", "127.0.0.1", "not HOST:PORT"},
	    {"advertise", "127.0.0.1:0", "not HOST:PORT"},
	    {"advertise", "a b:7004", "not HOST:PORT"},
	    {"listen", "tcp://0.0.0.0:7004", "wildcard"},
	    {"listen", "ipc:///tmp/x", "needs the address"},
	    {"peers", "", "--peers naming node 1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct raftd_join_flags f = flags();
		struct raftd_join_plan p;
		if (strcmp(cases[i].field, "join") == 0)
			f.join = cases[i].value;
		else if (strcmp(cases[i].field, "join_as") == 0)
			f.join_as = cases[i].value;
		else if (strcmp(cases[i].field, "url") == 0)
			f.url = cases[i].value;
		else if (strcmp(cases[i].field, "advertise") == 0)
			f.advertise = cases[i].value;
		else if (strcmp(cases[i].field, "listen") == 0) {
			f.advertise = "";
			f.listen = cases[i].value;
		} else
			f.peers = &others;
		err[0] = '\0';
		if (raftd_join_plan_make(&f, &p, err, sizeof(err)) != KV_EINVAL)
			fail_msg("case %zu (%s=%s) accepted", i, cases[i].field, cases[i].value);
		if (strstr(err, cases[i].says) == NULL)
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].says);
	}
	/* the join-only flags without --join */
	const char *only[] = {"url", "advertise", "token_file", "cacert", "join_as"};
	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++) {
		struct raftd_join_flags f = flags();
		struct raftd_join_plan p;
		f.join = "";
		f.url = i == 0 ? "http://h:1" : "";
		f.advertise = i == 1 ? "h:1" : "";
		f.token_file = i == 2 ? "/tmp/t" : "";
		f.cacert = i == 3 ? "/tmp/ca" : "";
		f.join_as = i == 4 ? "learner" : "voter";
		assert_int_equal(raftd_join_plan_make(&f, &p, err, sizeof(err)), KV_EINVAL);
		assert_non_null(strstr(err, "only with --join"));
	}
	printf("checked: %zu bad --join combinations and 5 join-only flags refused with a "
	       "sentence\n",
	       sizeof(cases) / sizeof(cases[0]));
}

static const char good_members[] =
    "{\"leader\":1,\"commit_index\":812,\"members\":["
    "{\"id\":1,\"role\":\"voter\",\"peer_address\":\"127.0.0.1:7001\","
    "\"url\":\"http://127.0.0.1:4001\",\"match_index\":812,\"caught_up\":true},"
    "{\"id\":4,\"role\":\"learner\",\"peer_address\":\"127.0.0.1:7004\",\"url\":\"\","
    "\"match_index\":0,\"caught_up\":false,"
    "\"curve_key\":\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"}]}";

static void test_members_parse(void **state)
{
	struct raftd_join_member m[RAFT_NODES_MAX];
	uint32_t n = 99;
	char err[256];
	assert_int_equal(raftd_join_members_parse(good_members, strlen(good_members), m,
	                                          RAFT_NODES_MAX, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].entry.id, 1);
	assert_true(m[0].voter);
	assert_string_equal(m[0].entry.peer_address, "127.0.0.1:7001");
	assert_string_equal(m[0].entry.url, "http://127.0.0.1:4001");
	assert_string_equal(m[0].entry.curve_key, "");
	assert_false(m[1].voter);
	assert_string_equal(m[1].entry.curve_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
	struct raft_config c;
	raftd_join_config(m, n, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.members[0].id, 1);
	assert_int_equal(c.members[0].role, RAFT_VOTER);
	assert_int_equal(c.members[1].id, 4);
	assert_int_equal(c.members[1].role, RAFT_LEARNER);
	/* the members decide whether this node is in */
	assert_int_equal(raftd_join_find_self(m, n, 4, "127.0.0.1:7004"), RAFTD_JOIN_SELF_PRESENT);
	assert_int_equal(raftd_join_find_self(m, n, 4, "127.0.0.1:7999"),
	                 RAFTD_JOIN_SELF_ID_ELSEWHERE);
	assert_int_equal(raftd_join_find_self(m, n, 5, "127.0.0.1:7004"),
	                 RAFTD_JOIN_SELF_ADDR_TAKEN);
	assert_int_equal(raftd_join_find_self(m, n, 5, "127.0.0.1:7005"), RAFTD_JOIN_SELF_ABSENT);
}

#define MEMBER(id, role, addr) "{\"id\":" id ",\"role\":\"" role "\",\"peer_address\":\"" addr "\"}"

static void test_members_hostile(void **state)
{
	static const char *const bad[] = {
	    "",
	    "null",
	    "[]",
	    "{\"members\":{}}",
	    "{\"members\":[]}",
	    "{\"members\":[1]}",
	    "{\"members\":[" MEMBER("0", "voter", "h:1") "]}",
	    "{\"members\":[" MEMBER("65536", "voter", "h:1") "]}",
	    "{\"members\":[" MEMBER("-1", "voter", "h:1") "]}",
	    "{\"members\":[" MEMBER("1.5", "voter", "h:1") "]}",
	    "{\"members\":[" MEMBER("\"1\"", "voter", "h:1") "]}",
	    "{\"members\":[" MEMBER("1", "boss", "h:1") "]}",
	    "{\"members\":[" MEMBER("1", "voter", "h") "]}",
	    "{\"members\":[" MEMBER("1", "voter", "h:99999") "]}",
	    "{\"members\":[" MEMBER("1", "voter", "") "]}",
	    "{\"members\":[" MEMBER("1", "voter", "h\\u0000x:1") "]}",
	    "{\"members\":[" MEMBER("1", "voter", "h\\n:1") "]}",
	    "{\"members\":[" MEMBER("1", "voter", "h:1") "," MEMBER("1", "voter", "g:1") "]}",
	    "{\"members\":[{\"id\":1,\"role\":\"voter\",\"peer_address\":\"h:1\",\"url\":7}]}",
	    "{\"members\":[{\"id\":1,\"role\":\"voter\",\"peer_address\":\"h:1\",\"url\":\"x\"}]}",
	    "{\"members\":[{\"id\":1,\"role\":\"voter\",\"peer_address\":\"h:1\",\"curve_key\":"
	    "\"short\"}]}",
	    "{\"members\":[{\"id\":1,\"id\":2,\"role\":\"voter\",\"peer_address\":\"h:1\"}]}",
	    "{\"members\":[" MEMBER("1", "voter", "h:1"),
	    "{\"members\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]]}",
	};
	struct raftd_join_member m[RAFT_NODES_MAX];
	uint32_t n;
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (raftd_join_members_parse(bad[i], strlen(bad[i]), m, RAFT_NODES_MAX, &n, err,
		                             sizeof(err)) != KV_EPROTO)
			fail_msg("hostile answer %zu accepted: %s", i, bad[i]);
		assert_int_equal(n, 0);
		assert_true(err[0] != '\0');
	}
	/* one more member than the cap */
	char many[4096] = "{\"members\":[";
	for (int i = 1; i <= 3; i++) {
		char one[96];
		snprintf(one, sizeof(one),
		         "%s{\"id\":%d,\"role\":\"voter\",\"peer_address\":\"h:%d\"}",
		         i > 1 ? "," : "", i, i);
		strcat(many, one);
	}
	strcat(many, "]}");
	assert_int_equal(raftd_join_members_parse(many, strlen(many), m, 2, &n, err, sizeof(err)),
	                 KV_EPROTO);
	assert_int_equal(raftd_join_members_parse(many, strlen(many), m, 3, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 3);
	printf("checked: %zu hostile member lists and one over the cap refused\n",
	       sizeof(bad) / sizeof(bad[0]));
}

static void test_classify(void **state)
{
	const char *exists = "{\"error\":{\"code\":\"member_exists\",\"message\":\"x\"}}";
	const char *busy = "{\"error\":{\"code\":\"change_in_progress\",\"message\":\"x\"}}";
	assert_int_equal(raftd_join_classify(201, "{}", 2), RAFTD_JOIN_ADDED);
	assert_int_equal(raftd_join_classify(409, exists, strlen(exists)), RAFTD_JOIN_CHECK);
	assert_int_equal(raftd_join_classify(409, busy, strlen(busy)), RAFTD_JOIN_RETRY);
	assert_int_equal(raftd_join_classify(409, "garbage", 7), RAFTD_JOIN_RETRY);
	assert_int_equal(raftd_join_classify(503, "", 0), RAFTD_JOIN_RETRY);
	assert_int_equal(raftd_join_classify(504, "", 0), RAFTD_JOIN_RETRY);
	assert_int_equal(raftd_join_classify(500, "", 0), RAFTD_JOIN_RETRY);
	assert_int_equal(raftd_join_classify(401, "", 0), RAFTD_JOIN_REFUSED);
	assert_int_equal(raftd_join_classify(403, "", 0), RAFTD_JOIN_REFUSED);
	assert_int_equal(raftd_join_classify(400, "", 0), RAFTD_JOIN_REFUSED);
	assert_int_equal(raftd_join_classify(404, "", 0), RAFTD_JOIN_REFUSED);
}

static void test_body(void **state)
{
	struct raftd_join_plan p;
	char err[512], body[RAFTD_JOIN_BODY_BYTES_MAX];
	struct raftd_join_flags f = flags();
	assert_int_equal(raftd_join_plan_make(&f, &p, err, sizeof(err)), 0);
	int n = raftd_join_body(&p, 4, "", body, sizeof(body));
	assert_true(n > 0);
	assert_string_equal(body, "{\"id\":4,\"peer_address\":\"127.0.0.1:7004\","
	                          "\"url\":\"http://127.0.0.1:4004\",\"promote\":true}");
	n = raftd_join_body(&p, 4, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", body, sizeof(body));
	assert_true(n > 0);
	assert_non_null(strstr(body, "\"curve_key\":\"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\""));
	assert_int_equal(raftd_join_body(&p, 4, "", body, 20), KV_ETOOLARGE);
}

/*
 * A joined node whose add was lost (rolled back with a leader that had not
 * committed it) hears from no leader and gets no log: after
 * RAFTD_JOIN_RECHECK_TIMEOUTS election timeouts it registers again, and not
 * before, nor once a leader or anything from one reached it.
 */
static void test_recheck_due(void **state)
{
	const uint64_t et = 1000, bound = RAFTD_JOIN_RECHECK_TIMEOUTS * et;
	struct raftd_join_wait w = {
	    .joined = 1, .since_ms = 5000, .now_ms = 5000 + bound, .election_timeout_ms = et};
	assert_true(raftd_join_recheck_due(&w));
	w.now_ms = 5000 + bound - 1;
	assert_false(raftd_join_recheck_due(&w));
	w.now_ms = 5000 + 3 * bound;
	assert_true(raftd_join_recheck_due(&w));

	struct raftd_join_wait v = w;
	v.joined = 0; /* a --peers node never registers */
	assert_false(raftd_join_recheck_due(&v));
	v = w;
	v.leader = 2; /* a leader is known: it will send the log */
	assert_false(raftd_join_recheck_due(&v));
	v = w;
	v.log_last_index = 7; /* a leader's log arrived: this node is in the cluster */
	assert_false(raftd_join_recheck_due(&v));
	v = w;
	v.snap_index = 40; /* a leader's snapshot arrived */
	assert_false(raftd_join_recheck_due(&v));
	v = w;
	v.now_ms = 1000; /* a clock before since_ms never wraps into "due" */
	assert_false(raftd_join_recheck_due(&v));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_ok),       cmocka_unit_test(test_plan_refused),
	    cmocka_unit_test(test_members_parse), cmocka_unit_test(test_members_hostile),
	    cmocka_unit_test(test_classify),      cmocka_unit_test(test_body),
	    cmocka_unit_test(test_recheck_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

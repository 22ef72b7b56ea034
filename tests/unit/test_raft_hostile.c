/*
 * test_raft_hostile.c - messages no correct peer sends (docs/testing.md, "Inputs
 * that must get a clear answer"): each is ignored and counted in
 * dropped_msgs, changes nothing and crashes nothing; the unmodified message
 * is then accepted, which shows it was the hostile field that got it dropped.
 */
#include "raft_harness.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define N_ENTRIES (RAFT_APPEND_ENTRIES_MAX + 1)

static struct raft_entry ents[N_ENTRIES];
static const uint8_t payload[] = "x";

/* Leader 1 of term 1 with its no-op committed on all three. */
static struct rh *settled_cluster(void)
{
	struct rh *h = rh_new(3, 1, 1);

	rh_elect(h, 1);
	rh_tick(h, 1, RH_HEARTBEAT_MS);
	rh_deliver_all(h, 100);
	return h;
}

/* What a correct leader 1 would send 2: entries 2.. after (1, term 1). */
static struct raft_msg good_append(uint32_t n)
{
	struct raft_msg m;

	memset(&m, 0, sizeof(m));
	for (uint32_t i = 0; i < n; i++) {
		ents[i].term = 1;
		ents[i].index = 2 + i;
		ents[i].type = RAFT_ENTRY_COMMAND;
		ents[i].len = 1;
		ents[i].data = payload;
	}
	m.type = RAFT_MSG_APPEND;
	m.from = 1;
	m.to = 2;
	m.term = 1;
	m.u.append.prev_index = 1;
	m.u.append.prev_term = 1;
	m.u.append.commit = 1;
	m.u.append.n_entries = n;
	m.u.append.entries = n > 0 ? ents : NULL;
	return m;
}

/* Steps m into node `at`; it must change nothing, answer nothing and be counted. */
static void expect_dropped(struct rh *h, uint64_t at, const struct raft_msg *m, const char *what)
{
	struct raft_status before = rh_status_of(h, at), after;
	struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .msg = m};
	struct rh_node *n = rh_node(h, at);

	assert_int_equal(rh_step(h, at, &ev), 0);
	after = rh_status_of(h, at);
	assert_int_equal(after.dropped_msgs, before.dropped_msgs + 1);
	assert_int_equal(after.term, before.term);
	assert_int_equal(after.role, before.role);
	assert_int_equal(after.leader, before.leader);
	assert_int_equal(after.last_index, before.last_index);
	assert_int_equal(after.commit_index, before.commit_index);
	assert_int_equal(n->rec.u.n_entries, 0);
	assert_false(n->rec.u.hard_state_changed);
	assert_false(n->rec.u.has_truncate);
	assert_int_equal(n->rec.u.n_msgs_now + n->rec.u.n_msgs_after_persist, 0);
	print_message("dropped and counted, no state change, no answer: %s\n", what);
}

static void test_hostile_appends(void **state)
{
	struct rh *h = settled_cluster();
	struct raft_msg m;

	m = good_append(1);
	m.term = UINT64_MAX;
	expect_dropped(h, 2, &m, "APPEND with term UINT64_MAX");

	m = good_append(1);
	m.from = 2;
	expect_dropped(h, 2, &m, "APPEND from the node's own id");

	m = good_append(1);
	m.to = 3;
	expect_dropped(h, 2, &m, "APPEND addressed to another node");

	m = good_append(2);
	ents[1].index = 4;
	expect_dropped(h, 2, &m, "APPEND with entries 2, 4 (not consecutive)");

	m = good_append(2);
	ents[0].term = 2;
	m.term = 2;
	expect_dropped(h, 2, &m, "APPEND with entry terms going down (2 then 1)");

	m = good_append(N_ENTRIES);
	expect_dropped(h, 2, &m, "APPEND with n_entries = RAFT_APPEND_ENTRIES_MAX + 1");

	m = good_append(1);
	m.u.append.entries = NULL;
	expect_dropped(h, 2, &m, "APPEND with n_entries 1 and no entries");

	m = good_append(0);
	m.u.append.prev_index = UINT64_MAX - 1;
	m.u.append.n_entries = 2;
	m.u.append.entries = ents;
	expect_dropped(h, 2, &m, "APPEND whose indexes overflow past UINT64_MAX");

	m = good_append(1);
	m.type = RAFT_MSG_TYPE_MAX + 1;
	expect_dropped(h, 2, &m, "a message of unknown type 12");

	m = good_append(1);
	assert_int_equal(rh_inject(h, &m), 0);
	assert_int_equal(rh_status_of(h, 2).last_index, 2);
	print_message("the same APPEND unmodified is accepted: node 2 now holds index 2\n");
	rh_destroy(&h);
}

static void test_hostile_strangers_and_commit(void **state)
{
	struct rh *h = settled_cluster();
	struct raft_msg m;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_READ_INDEX;
	m.from = 99;
	m.to = 1;
	m.term = 1;
	m.u.read_index.read_id = 3;
	expect_dropped(h, 1, &m, "READ_INDEX from unknown node 99 to the leader");
	m.type = RAFT_MSG_TIMEOUT_NOW;
	m.to = 2;
	expect_dropped(h, 2, &m, "TIMEOUT_NOW from unknown node 99");

	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_APPEND_RESP;
	m.from = 99;
	m.to = 1;
	m.term = 1;
	m.u.append_resp.match_index = 1;
	expect_dropped(h, 1, &m, "APPEND_RESP from unknown node 99 to the leader");
	m.type = RAFT_MSG_SNAPSHOT_RESP;
	memset(&m.u, 0, sizeof(m.u)); /* another type: another body */
	m.u.snapshot_resp.snap_index = 1;
	m.u.snapshot_resp.offset = 10;
	expect_dropped(h, 1, &m, "SNAPSHOT_RESP from unknown node 99 to the leader");
	m.type = RAFT_MSG_APPEND_RESP;
	memset(&m.u, 0, sizeof(m.u));
	m.from = 2;
	m.u.append_resp.match_index = 50;
	expect_dropped(h, 1, &m, "APPEND_RESP acknowledging index 50 past the leader's last (1)");

	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_SNAPSHOT;
	m.from = 1;
	m.to = 2;
	m.term = 1;
	m.u.snapshot.snap_index = 5;
	m.u.snapshot.snap_term = 1;
	m.u.snapshot.snap_size = 10;
	m.u.snapshot.offset = 8;
	m.u.snapshot.chunk_len = 4;
	m.u.snapshot.chunk = payload;
	m.u.snapshot.snap_config = rh_status_of(h, 1).config;
	expect_dropped(h, 2, &m, "SNAPSHOT chunk running past the snapshot's size");

	m = good_append(0);
	m.u.append.commit = 100;
	assert_int_equal(rh_inject(h, &m), 0);
	assert_int_equal(rh_status_of(h, 2).commit_index, 1);
	assert_int_equal(rh_status_of(h, 2).last_index, 1);
	print_message("a heartbeat with commit 100 past the last index (1): commit clamped to 1, "
	              "never past the log\n");
	rh_destroy(&h);
}

/* Thesis 4.1 and 4.2.3: a stranger's PREVOTE/VOTE is answered, but cannot disrupt a follower. */
static void test_stranger_campaign_does_not_disrupt(void **state)
{
	struct rh *h = settled_cluster();
	struct raft_msg m;
	const struct raft_msg *resp;

	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_PREVOTE;
	m.from = 99;
	m.to = 2;
	m.term = 5;
	m.u.vote.last_index = 10;
	m.u.vote.last_term = 4;
	rh_inject(h, &m);
	resp = rh_rec_find(rh_node(h, 2), 0, RAFT_MSG_PREVOTE_RESP, 99);
	assert_non_null(resp);
	assert_int_equal(resp->u.vote_resp.reject, 1);
	assert_int_equal(rh_status_of(h, 2).term, 1);
	m.type = RAFT_MSG_VOTE;
	rh_inject(h, &m);
	assert_int_equal(rh_status_of(h, 2).term, 1);
	assert_int_equal(rh_status_of(h, 2).leader, 1);
	assert_int_equal(rh_node(h, 2)->hs.vote, 1);
	assert_int_equal(rh_rec_count(rh_node(h, 2), RAFT_MSG_VOTE_RESP), 0);
	print_message("node 99 (not a member) asked follower 2, which hears leader 1: PREVOTE "
	              "refused, VOTE for term 5 ignored; term 1 and vote kept\n");
	rh_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_appends),
	    cmocka_unit_test(test_hostile_strangers_and_commit),
	    cmocka_unit_test(test_stranger_campaign_does_not_disrupt),
	};

	return cmocka_run_group_tests_name("raft hostile messages", tests, NULL, NULL);
}

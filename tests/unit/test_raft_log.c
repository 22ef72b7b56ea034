/*
 * test_raft_log.c - the Raft core's own tests: the metadata window
 * (raft_log.c) directly, and the tricky parts of the core through
 * raft_harness: ReadIndex batching, snapshots in chunks, membership rules,
 * hostile messages, stale PERSISTED events. Each test prints what it checked.
 */
#include "raft_harness.h"
#include "raft_internal.h"

#include "kv_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* ---- the window, directly ---- */

static struct raft_boot boot_of(const struct raft_entry *e, uint32_t n, uint64_t term)
{
	struct raft_boot b;

	memset(&b, 0, sizeof(b));
	b.hard_state.term = term;
	b.snap_config.n = 1;
	b.snap_config.members[0].id = 1;
	b.snap_config.members[0].role = RAFT_VOTER;
	b.snap_config.members[0].incarnation = rh_incarnation(1);
	b.n_entries = n;
	b.entries = e;
	return b;
}

static void test_window_append_truncate(void **state)
{
	struct raft_entry e[5];
	struct raft_boot b;
	struct raft_log log;

	(void)state;
	for (uint32_t i = 0; i < 5; i++)
		e[i] = (struct raft_entry){.term = i < 3 ? 1 : 2,
		                           .index = i + 1,
		                           .type = RAFT_ENTRY_COMMAND,
		                           .len = 10 + i};
	b = boot_of(e, 5, 2);
	assert_int_equal(raft_log_init(&log, &b), 0);
	assert_int_equal(log.last_index, 5);
	assert_int_equal(raft_log_term_at(&log, 0), 0);
	assert_int_equal(raft_log_term_at(&log, 3), 1);
	assert_int_equal(raft_log_term_at(&log, 4), 2);
	assert_int_equal(raft_log_term_at(&log, 6), 0);
	assert_int_equal(raft_log_meta(&log, 5)->len, 14);
	assert_int_equal(raft_log_room(&log), RAFT_LOG_WINDOW - 5);
	raft_log_truncate(&log, 3);
	assert_int_equal(log.last_index, 3);
	assert_int_equal(raft_log_term_at(&log, 4), 0);
	assert_int_equal(raft_log_last_term(&log), 1);
	printf("boot of 5 entries: terms 1,1,1,2,2 read back; truncate after 3 leaves 1..3, "
	       "term_at(4) = 0\n");
	raft_log_free(&log);
}

static void test_window_wraps_and_fills(void **state)
{
	struct raft_boot b = boot_of(NULL, 0, 3);
	struct raft_log log;
	uint64_t idx;

	(void)state;
	assert_int_equal(raft_log_init(&log, &b), 0);
	for (idx = 1; idx <= RAFT_LOG_WINDOW; idx++) {
		struct raft_entry e = {.term = 1 + idx / 5000, .index = idx, .type = 2};

		raft_log_append(&log, &e);
	}
	assert_int_equal(raft_log_room(&log), 0);
	raft_log_compact(&log, 10000, 123);
	assert_int_equal(log.snap_index, 10000);
	assert_int_equal(log.snap_term, 1 + 10000 / 5000);
	assert_int_equal(raft_log_room(&log), 10000);
	/* indexes past the window size land in slots the compaction freed */
	for (; idx <= RAFT_LOG_WINDOW + 10000; idx++) {
		struct raft_entry e = {.term = 9, .index = idx, .type = 2};

		raft_log_append(&log, &e);
	}
	assert_int_equal(raft_log_room(&log), 0);
	assert_int_equal(raft_log_term_at(&log, 10000), 3);
	assert_int_equal(raft_log_term_at(&log, 10001), 3);
	assert_int_equal(raft_log_term_at(&log, RAFT_LOG_WINDOW), 4);
	assert_int_equal(raft_log_term_at(&log, RAFT_LOG_WINDOW + 1), 9);
	assert_int_equal(raft_log_term_at(&log, 9999), 0);
	printf("window of %u filled, compacted at 10000, refilled to %u across the ring: "
	       "terms intact, compacted index reads 0\n",
	       RAFT_LOG_WINDOW, RAFT_LOG_WINDOW + 10000);
	raft_log_free(&log);
}

static struct raft_entry config_entry(uint64_t index, uint64_t term, uint8_t op, uint64_t node,
                                      uint8_t *buf)
{
	struct raft_config_change ch = {.op = op, .node = node, .incarnation = 50 + node};

	raft_config_change_encode(&ch, buf);
	return (struct raft_entry){.term = term,
	                           .index = index,
	                           .type = RAFT_ENTRY_CONFIG,
	                           .len = RAFT_CONFIG_CHANGE_BYTES,
	                           .data = buf};
}

static void test_window_config_replay(void **state)
{
	uint8_t b1[RAFT_CONFIG_CHANGE_BYTES], b2[RAFT_CONFIG_CHANGE_BYTES],
	    b3[RAFT_CONFIG_CHANGE_BYTES];
	struct raft_entry e[4];
	struct raft_boot b;
	struct raft_log log;
	struct raft_config cfg;
	uint64_t at;

	(void)state;
	e[0] = config_entry(1, 1, RAFT_CONFIG_ADD_LEARNER, 7, b1);
	e[1] = (struct raft_entry){.term = 1, .index = 2, .type = RAFT_ENTRY_COMMAND};
	e[2] = config_entry(3, 2, RAFT_CONFIG_PROMOTE, 7, b2);
	e[3] = config_entry(4, 2, RAFT_CONFIG_REMOVE, 1, b3);
	b = boot_of(e, 4, 2);
	assert_int_equal(raft_log_init(&log, &b), 0);
	raft_log_config_at(&log, 4, &cfg, &at);
	assert_int_equal(at, 4);
	assert_int_equal(cfg.n, 1);
	assert_int_equal(cfg.members[0].id, 7);
	assert_int_equal(cfg.members[0].role, RAFT_VOTER);
	raft_log_config_at(&log, 2, &cfg, &at);
	assert_int_equal(at, 1);
	assert_int_equal(cfg.n, 2);
	assert_int_equal(raft_config_find(&cfg, 7)->role, RAFT_LEARNER);
	raft_log_compact(&log, 3, 0);
	assert_int_equal(log.snap_config.n, 2);
	assert_true(raft_config_is_voter(&log.snap_config, 7));
	raft_log_config_at(&log, 3, &cfg, &at);
	assert_int_equal(at, 0);
	printf("config replay: after 4 = {7 voter}; after 2 = {1 voter, 7 learner} from entry 1; "
	       "compaction at 3 folds it into the snapshot config\n");
	raft_log_free(&log);
}

static void test_boot_rejects_bad_logs(void **state)
{
	struct raft_options o = {.id = 1,
	                         .election_timeout_ms = 100,
	                         .heartbeat_ms = 10,
	                         .incarnation = rh_incarnation(1)};
	struct raft_entry e[3] = {{.term = 1, .index = 1, .type = 2},
	                          {.term = 1, .index = 2, .type = 2},
	                          {.term = 1, .index = 3, .type = 2}};
	uint8_t bad[RAFT_CONFIG_CHANGE_BYTES] = {9, 0, 0, 0, 0, 0, 0, 0, 1};
	struct raft_boot b = boot_of(e, 3, 1);
	struct raft *r = NULL;

	(void)state;
	assert_int_equal(raft_new(&o, &b, &r), 0);
	raft_destroy(&r);
	raft_destroy(&r);
	assert_null(r);
	e[2].index = 4;
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL);
	e[2].index = 3;
	e[1].term = 2;
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL); /* decreasing term at 3 */
	e[1].term = 1;
	e[2].type = RAFT_ENTRY_CONFIG;
	e[2].data = bad;
	e[2].len = sizeof(bad);
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL); /* op 9 */
	bad[0] = RAFT_CONFIG_BIND;
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL); /* a BIND without an incarnation */
	e[2].len = 9;
	bad[0] = RAFT_CONFIG_REMOVE;
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL); /* shorter than a change */
	e[2].type = 2;
	o.incarnation = 0;
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL); /* every node names its disk */
	o.incarnation = rh_incarnation(1);
	b.hard_state.term = 0;
	b.hard_state.vote = 3;
	assert_int_equal(raft_new(&o, &b, &r), 0); /* log synced, hard state not: adopt its term */
	{
		struct raft_event ev = {.type = RAFT_EVENT_TICK, .now_ms = 1};
		struct raft_update u;
		struct raft_status s;

		raft_get_status(r, &s);
		assert_int_equal(s.term, 1);
		assert_int_equal(raft_step(r, &ev, &u), 0);
		assert_int_equal(u.hard_state_changed, 1);
		assert_int_equal(u.hard_state.term, 1);
		assert_int_equal(u.hard_state.vote, 0);
	}
	raft_destroy(&r);
	b.hard_state.term = 1;
	b.hard_state.vote = 0;
	b.n_entries = RAFT_LOG_WINDOW + 1;
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL);
	b.n_entries = 3;
	o.heartbeat_ms = 100;
	assert_int_equal(raft_new(&o, &b, &r), KV_EINVAL);
	assert_null(r);
	printf("raft_new refuses a gap, a falling term, a bad config entry, a log over the window "
	       "and heartbeat >= election timeout; a log term past the hard state is adopted "
	       "(vote none) and saved by the first step\n");
}

/* ---- the core, through the harness ---- */

static struct raft_status st(struct rh *h, uint64_t id)
{
	struct raft_status s;

	rh_status(h, id, &s);
	return s;
}

static void test_read_waits_for_term_commit_and_round(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n1;
	uint32_t hb;

	(void)state;
	rh_campaign(h, 1); /* the no-op stays queued: nothing of term 1 is committed */
	n1 = rh_node(h, 1);
	assert_int_equal(rh_read(h, 1, 100), 0);
	assert_int_equal(n1->n_reads, 0);
	rh_deliver_all(h, 1000);
	assert_int_equal(n1->n_reads, 1);
	assert_int_equal(n1->reads[0].read_id, 100);
	assert_int_equal(n1->reads[0].status, 0);
	assert_true(n1->reads[0].index >= 1);
	printf("read 100 waited for the no-op's commit, then served at index %llu\n",
	       (unsigned long long)n1->reads[0].index);

	/* three reads while quiet: one heartbeat round confirms all of them */
	assert_int_equal(rh_read(h, 1, 101), 0);
	hb = rh_count(h, RAFT_MSG_APPEND, 1, 0);
	assert_int_equal(rh_read(h, 1, 102), 0);
	assert_int_equal(rh_read(h, 1, 103), 0);
	assert_int_equal(n1->n_reads, 1);
	rh_deliver_all(h, 1000);
	assert_int_equal(n1->n_reads, 4);
	assert_int_equal(hb, 2);
	printf("reads 101..103: %u heartbeats sent for the first, none served before the quorum "
	       "answered, all 4 served\n",
	       hb);
	rh_destroy(&h);
}

static void test_read_on_follower_and_failures(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct rh_node *n2;

	(void)state;
	assert_int_equal(rh_read(h, 2, 1), KV_ENOLEADER);
	rh_elect(h, 1);
	n2 = rh_node(h, 2);
	assert_int_equal(rh_read(h, 2, 7), 0);
	assert_int_equal(rh_count(h, RAFT_MSG_READ_INDEX, 2, 1), 1);
	rh_deliver_all(h, 1000);
	assert_int_equal(n2->n_reads, 1);
	assert_int_equal(n2->reads[0].status, 0);
	assert_int_equal(n2->reads[0].index, st(h, 1).commit_index);
	printf("follower read 7 forwarded to 1, answered with index %llu\n",
	       (unsigned long long)n2->reads[0].index);

	/* the leader, cut off, queues a read; stepping down fails it */
	rh_isolate(h, 1, 1);
	assert_int_equal(rh_read(h, 1, 8), 0);
	rh_tick_until(h, 1, RAFT_FOLLOWER, 1000);
	assert_int_equal(rh_node(h, 1)->n_reads, 1);
	assert_int_equal(rh_node(h, 1)->reads[0].status, KV_ENOTLEADER);
	printf("isolated leader's read 8 failed with %d when CheckQuorum made it step down\n",
	       KV_ENOTLEADER);
	rh_destroy(&h);
}

static void test_read_queue_limit(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	uint32_t i;

	(void)state;
	rh_elect(h, 1);
	rh_isolate(h, 1, 1); /* rounds cannot finish */
	for (i = 0; i < RAFT_READS_MAX; i++)
		assert_int_equal(rh_read(h, 1, 1000 + i), 0);
	assert_int_equal(rh_read(h, 1, 5000), KV_EBUSY);
	printf("%u reads waiting: read %u refused with KV_EBUSY\n", RAFT_READS_MAX,
	       RAFT_READS_MAX + 1);
	rh_destroy(&h);
}

static void test_snapshot_catches_up_follower(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	char text[16];
	uint64_t size = 2 * RAFT_SNAPSHOT_CHUNK_BYTES + 100;
	struct rh_node *n3;

	(void)state;
	rh_elect(h, 1);
	rh_isolate(h, 3, 1);
	for (int i = 0; i < 20; i++) {
		snprintf(text, sizeof(text), "v%d", i);
		assert_int_equal(rh_propose(h, 1, text), 0);
		rh_deliver_all(h, 1000);
	}
	assert_int_equal(st(h, 1).commit_index, 21);
	assert_int_equal(rh_snapshot(h, 1, 15, size), 0);
	assert_int_equal(st(h, 1).first_index, 16);
	rh_isolate(h, 3, 0);
	rh_run(h, 100);
	n3 = rh_node(h, 3);
	assert_int_equal(n3->n_installs, 1);
	assert_int_equal(n3->n_chunks_written, 3);
	assert_int_equal(st(h, 3).snap_index, 15);
	assert_int_equal(st(h, 3).commit_index, 21);
	assert_int_equal(n3->applied_index, 21);
	printf("node 3 missed 1..21; leader compacted to 15 and sent %u chunks of a %llu-byte "
	       "snapshot; node 3 installed it and applied 16..21\n",
	       n3->n_chunks_written, (unsigned long long)size);
	rh_destroy(&h);
}

static void test_snapshot_chunk_out_of_order(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct raft_msg m;
	const struct raft_msg *resp;
	static uint8_t chunk[64];

	(void)state;
	rh_elect(h, 1);
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_SNAPSHOT;
	m.from = 1;
	m.to = 2;
	m.term = st(h, 1).term;
	m.u.snapshot.snap_index = 50;
	m.u.snapshot.snap_term = m.term;
	m.u.snapshot.snap_config = st(h, 1).config;
	m.u.snapshot.snap_size = 128;
	m.u.snapshot.offset = 64;
	m.u.snapshot.chunk_len = 64;
	m.u.snapshot.chunk = chunk;
	rh_inject(h, &m);
	resp = rh_rec_find(rh_node(h, 2), 1, RAFT_MSG_SNAPSHOT_RESP, 1);
	assert_non_null(resp);
	assert_int_equal(resp->u.snapshot_resp.reject, 1);
	assert_int_equal(resp->u.snapshot_resp.offset, 0);
	assert_int_equal(rh_node(h, 2)->rec.u.chunk_len, 0);
	printf("a chunk at offset 64 before offset 0: refused, the follower asks for offset 0\n");
	m.u.snapshot.offset = 0;
	rh_inject(h, &m);
	resp = rh_rec_find(rh_node(h, 2), 1, RAFT_MSG_SNAPSHOT_RESP, 1);
	assert_int_equal(resp->u.snapshot_resp.reject, 0);
	assert_int_equal(resp->u.snapshot_resp.offset, 64);
	rh_inject(h, &m); /* duplicated: still wants 64, nothing written */
	resp = rh_rec_find(rh_node(h, 2), 1, RAFT_MSG_SNAPSHOT_RESP, 1);
	assert_int_equal(resp->u.snapshot_resp.offset, 64);
	assert_int_equal(rh_node(h, 2)->rec.u.chunk_len, 0);
	printf("chunk 0 taken (next 64); its duplicate writes nothing and still asks for 64\n");
	rh_destroy(&h);
}

static void test_membership_rules(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct raft_config cfg = h->config;
	struct raft_status s2;

	(void)state;
	rh_campaign(h, 1);
	/* nothing of term 1 committed yet */
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 4), KV_ECONFIG);
	rh_deliver_all(h, 1000);
	rh_add_node(h, 4, &cfg);
	rh_isolate(h, 4, 1);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_ADD_LEARNER, 4), 0);
	assert_int_equal(st(h, 1).config.n, 4); /* in force once appended */
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_REMOVE, 3), KV_ECONFIG);
	rh_deliver_all(h, 1000);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_PROMOTE, 4), KV_EBUSY);
	printf("change before the term's commit: ECONFIG; second change while one is "
	       "uncommitted: ECONFIG; promote of a learner that has not caught up: EBUSY\n");
	rh_isolate(h, 4, 0);
	rh_run(h, 100);
	assert_int_equal(st(h, 4).commit_index, st(h, 1).commit_index);
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_PROMOTE, 4), 0);
	rh_run(h, 100);
	s2 = st(h, 2);
	assert_true(raft_config_is_voter(&s2.config, 4));
	assert_int_equal(rh_propose_config(h, 1, RAFT_CONFIG_REMOVE, 1), 0);
	rh_run(h, 50);
	assert_int_equal(st(h, 1).role, RAFT_FOLLOWER);
	rh_run(h, 500);
	assert_true(rh_leader(h) != 0 && rh_leader(h) != 1);
	assert_int_equal(st(h, 1).role, RAFT_FOLLOWER);
	printf("learner 4 caught up and was promoted; removed leader 1 stepped down once the "
	       "removal committed and never campaigned again; new leader %llu\n",
	       (unsigned long long)rh_leader(h));
	rh_destroy(&h);
}

/* Steps m into node id whatever m->to says (rh_inject routes by m->to). */
static void receive_at(struct rh *h, uint64_t id, const struct raft_msg *m)
{
	struct raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_EVENT_RECEIVE;
	ev.now_ms = rh_node(h, id)->now_ms;
	ev.msg = m;
	assert_int_equal(rh_step(h, id, &ev), 0);
}

static void test_hostile_messages_dropped(void **state)
{
	struct rh *h = rh_new(3, 1, 1);
	struct raft_entry e[2] = {{.term = 1, .index = 5, .type = 2}, {.term = 1, .index = 7}};
	struct raft_msg base, m;
	uint64_t before, term;

	(void)state;
	rh_elect(h, 1);
	term = st(h, 2).term;
	memset(&base, 0, sizeof(base));
	base.type = RAFT_MSG_APPEND;
	base.from = 1;
	base.to = 2;
	base.term = term;
	before = st(h, 2).dropped_msgs;
	m = base, m.type = 0, rh_inject(h, &m);
	m = base, m.type = RAFT_MSG_TYPE_MAX + 1, rh_inject(h, &m);
	m = base, m.from = 0, rh_inject(h, &m);
	m = base, m.from = 2, rh_inject(h, &m);
	m = base, m.to = 3, receive_at(h, 2, &m);
	m = base, m.term = UINT64_MAX, rh_inject(h, &m);
	m = base, m.u.append.n_entries = RAFT_APPEND_ENTRIES_MAX + 1, m.u.append.entries = e,
	rh_inject(h, &m);
	m = base, m.u.append.prev_index = 4, m.u.append.prev_term = 1, m.u.append.n_entries = 2,
	m.u.append.entries = e;
	rh_inject(h, &m); /* 5 then 7: not consecutive */
	m = base, m.u.append.prev_index = UINT64_MAX - 1, m.u.append.prev_term = 1,
	m.u.append.n_entries = 1, m.u.append.entries = e;
	rh_inject(h, &m);
	m = base, m.type = RAFT_MSG_APPEND_RESP, m.from = 9, rh_inject(h, &m);
	assert_int_equal(st(h, 2).dropped_msgs - before, 10);
	assert_int_equal(st(h, 2).term, term);
	assert_int_equal(st(h, 2).leader, 1);
	printf("10 hostile messages (bad type x2, from 0, from self, to other, term UINT64_MAX, "
	       "65 entries, gap, index overflow, an answer from a stranger): all dropped, term and "
	       "leader unchanged\n");
	/* a commit past what the message proves is clamped */
	m = base, m.u.append.commit = 1000000, m.u.append.prev_index = st(h, 2).last_index;
	m.u.append.prev_term = st(h, 2).last_term;
	rh_inject(h, &m);
	assert_int_equal(st(h, 2).commit_index, st(h, 2).last_index);
	printf("heartbeat claiming commit 1000000: commit clamped to %llu\n",
	       (unsigned long long)st(h, 2).commit_index);
	rh_destroy(&h);
}

static void test_stale_persisted_ignored(void **state)
{
	struct rh *h = rh_new(1, 1, 1);
	struct raft_event ev;

	(void)state;
	rh_elect(h, 1);
	assert_int_equal(st(h, 1).commit_index, 1);
	rh_node(h, 1)->manual_persist = 1;
	assert_int_equal(rh_propose(h, 1, "x"), 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = RAFT_EVENT_PERSISTED;
	ev.now_ms = rh_node(h, 1)->now_ms;
	ev.index = 2;
	ev.term = 99; /* not the term at 2 */
	rh_step(h, 1, &ev);
	assert_int_equal(st(h, 1).durable_index, 1);
	assert_int_equal(st(h, 1).commit_index, 1);
	rh_persist(h, 1);
	assert_int_equal(st(h, 1).durable_index, 2);
	assert_int_equal(st(h, 1).commit_index, 2);
	printf("single node: PERSISTED(2, term 99) ignored (durable stays 1); the real one commits "
	       "2\n");
	rh_destroy(&h);
}

/* ---- the core alone, fed by hand ---- */

static struct raft *core_new(uint64_t id, const struct raft_boot *b)
{
	struct raft_options o = {.id = id,
	                         .incarnation = rh_incarnation(id),
	                         .election_timeout_ms = 100,
	                         .heartbeat_ms = 10,
	                         .seed = 7,
	                         .prevote = 1,
	                         .check_quorum = 1};
	struct raft *r = NULL;

	assert_int_equal(raft_new(&o, b, &r), 0);
	return r;
}

static void core_recv(struct raft *r, const struct raft_msg *m, uint64_t now, struct raft_update *u)
{
	struct raft_event ev = {.type = RAFT_EVENT_RECEIVE, .now_ms = now, .msg = m};

	assert_int_equal(raft_step(r, &ev, u), 0);
}

/* What the driver does once it drained its input: the leader sends what is due. */
static void core_flush(struct raft *r, uint64_t now, struct raft_update *u)
{
	struct raft_event ev = {.type = RAFT_EVENT_FLUSH, .now_ms = now};

	assert_int_equal(raft_step(r, &ev, u), 0);
}

static const struct raft_msg *find_msg(const struct raft_update *u, uint8_t type, uint64_t to)
{
	for (uint32_t i = 0; i < u->n_msgs_now; i++)
		if (u->msgs_now[i].type == type && u->msgs_now[i].to == to)
			return &u->msgs_now[i];
	for (uint32_t i = 0; i < u->n_msgs_after_persist; i++)
		if (u->msgs_after_persist[i].type == type && u->msgs_after_persist[i].to == to)
			return &u->msgs_after_persist[i];
	return NULL;
}

static struct raft_boot boot3(uint64_t term)
{
	struct raft_boot b;

	memset(&b, 0, sizeof(b));
	b.hard_state.term = term;
	b.snap_config.n = 3;
	for (uint32_t i = 0; i < 3; i++) {
		b.snap_config.members[i].id = i + 1;
		b.snap_config.members[i].role = RAFT_VOTER;
		b.snap_config.members[i].incarnation = rh_incarnation(i + 1);
	}
	return b;
}

/* Makes r (booted in term `term`) leader of term + 1 with node 2's votes. */
static void core_elect(struct raft *r, uint64_t term, struct raft_update *u)
{
	struct raft_event tick = {.type = RAFT_EVENT_TICK, .now_ms = 1000};
	struct raft_msg m = {
	    .from = 2, .to = 1, .term = term + 1, .incarnation = rh_incarnation(2)};

	assert_int_equal(raft_step(r, &tick, u), 0);
	assert_non_null(find_msg(u, RAFT_MSG_PREVOTE, 2));
	m.type = RAFT_MSG_PREVOTE_RESP;
	core_recv(r, &m, 1000, u);
	assert_non_null(find_msg(u, RAFT_MSG_VOTE, 2));
	m.type = RAFT_MSG_VOTE_RESP;
	core_recv(r, &m, 1000, u);
}

/*
 * Sim seed 599: the follower's conflicting entry sits exactly at the leader's
 * snapshot index with an older term. The leader must fall back to sending the
 * snapshot, not probe the same index forever.
 */
static void test_reject_inside_snapshot_sends_it(void **state)
{
	struct raft_entry e = {.term = 3, .index = 5, .type = RAFT_ENTRY_COMMAND};
	struct raft_boot b = boot3(3);
	struct raft_update u;
	struct raft_msg m = {.type = RAFT_MSG_APPEND_RESP,
	                     .from = 2,
	                     .to = 1,
	                     .incarnation = rh_incarnation(2),
	                     .u.append_resp.reject = 1};
	const struct raft_msg *out;
	struct raft *r;

	(void)state;
	b.snap_index = 4;
	b.snap_term = 3;
	b.snap_size = 100;
	b.n_entries = 1;
	b.entries = &e;
	r = core_new(1, &b);
	core_elect(r, 3, &u);
	out = find_msg(&u, RAFT_MSG_APPEND, 2);
	assert_non_null(out);
	assert_int_equal(out->u.append.prev_index, 4);
	m.term = 4;
	m.u.append_resp.hint_index = 4;
	m.u.append_resp.hint_term = 2;
	core_recv(r, &m, 1000, &u);
	core_flush(r, 1000, &u);
	assert_null(find_msg(&u, RAFT_MSG_APPEND, 2));
	out = find_msg(&u, RAFT_MSG_SNAPSHOT, 2);
	assert_non_null(out);
	assert_int_equal(out->u.snapshot.snap_index, 4);
	assert_int_equal(out->u.snapshot.snap_term, 3);
	assert_int_equal(out->u.snapshot.offset, 0);
	printf("leader with snapshot (4, term 3) got reject hint (4, term 2): it sends the "
	       "snapshot instead of probing index 4 again\n");
	raft_destroy(&r);
}

/* Raft thesis 4.1: a node votes for a candidate its (older) configuration does not list. */
static void test_vote_for_unknown_candidate(void **state)
{
	struct raft_boot b = boot3(1);
	struct raft_update u;
	struct raft_msg m = {.type = RAFT_MSG_VOTE, .from = 9, .to = 2, .term = 2};
	const struct raft_msg *out;
	struct raft *r;

	(void)state;
	r = core_new(2, &b);
	core_recv(r, &m, 500, &u);
	out = find_msg(&u, RAFT_MSG_VOTE_RESP, 9);
	assert_non_null(out);
	assert_int_equal(out->u.vote_resp.reject, 0);
	assert_int_equal(u.n_msgs_now, 0); /* the grant waits for the vote to be durable */
	assert_int_equal(u.hard_state_changed, 1);
	assert_int_equal(u.hard_state.vote, 9);
	printf("node 2 granted term 2 to candidate 9 (not in its config), after persist, "
	       "hard state (2, 9)\n");
	m.type = RAFT_MSG_APPEND_RESP;
	core_recv(r, &m, 500, &u);
	assert_int_equal(u.n_msgs_now + u.n_msgs_after_persist, 0);
	printf("an APPEND_RESP from 9 is still dropped\n");
	raft_destroy(&r);
}

/* A follower frees forwarded reads the leader never answered. */
static void test_forwarded_read_expires(void **state)
{
	struct raft_boot b = boot3(1);
	struct raft_msg hb = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 1};
	struct raft_event ev = {.type = RAFT_EVENT_READ, .now_ms = 10, .read_id = 42};
	struct raft_update u;
	struct raft *r;

	(void)state;
	r = core_new(2, &b);
	core_recv(r, &hb, 10, &u);
	assert_int_equal(raft_step(r, &ev, &u), 0);
	assert_non_null(find_msg(&u, RAFT_MSG_READ_INDEX, 1));
	ev.type = RAFT_EVENT_TICK;
	for (uint64_t t = 20; t < 200; t += 10) {
		core_recv(r, &hb, t, &u); /* the leader is alive, the answer is lost */
		ev.now_ms = t;
		assert_int_equal(raft_step(r, &ev, &u), 0);
		assert_int_equal(u.n_reads, 0);
	}
	ev.now_ms = 215;
	assert_int_equal(raft_step(r, &ev, &u), 0);
	assert_int_equal(u.n_reads, 1);
	assert_int_equal(u.reads[0].read_id, 42);
	assert_int_equal(u.reads[0].status, KV_ENOLEADER);
	printf("read 42 forwarded at 10 ms, unanswered: failed with KV_ENOLEADER at 215 ms "
	       "(two election timeouts), not kept forever\n");
	raft_destroy(&r);
}

/* A leader refuses proposals past RAFT_LOG_BUSY_ENTRIES until a snapshot frees the window. */
static void test_busy_window_until_snapshot(void **state)
{
	struct raft_boot b = boot_of(NULL, 0, 0);
	struct raft_event ev = {.type = RAFT_EVENT_TICK, .now_ms = 1000};
	uint8_t payload[4] = {1, 2, 3, 4};
	struct raft_update u;
	uint32_t taken = 0;
	struct raft *r = core_new(1, &b);
	int rc;

	(void)state;
	assert_int_equal(raft_step(r, &ev, &u), 0);
	assert_int_equal(u.n_entries, 1); /* the single voter leads at once, with its no-op */
	ev.type = RAFT_EVENT_PROPOSE;
	ev.entry_type = RAFT_ENTRY_COMMAND;
	ev.data = payload;
	ev.len = sizeof(payload);
	while ((rc = raft_step(r, &ev, &u)) == 0)
		taken++;
	assert_int_equal(rc, KV_EBUSY);
	assert_int_equal(taken, RAFT_LOG_BUSY_ENTRIES);
	ev.entry_type = 9;
	assert_int_equal(raft_step(r, &ev, &u), KV_EINVAL); /* a bad type is named first */
	printf("%u proposals taken after the no-op, then KV_EBUSY (window holds %u)\n", taken,
	       taken + 1);
	ev.type = RAFT_EVENT_PERSISTED;
	ev.index = taken + 1;
	ev.term = 1;
	assert_int_equal(raft_step(r, &ev, &u), 0);
	assert_int_equal(u.commit_first, 1);
	assert_int_equal(u.commit_last, taken + 1);
	ev.type = RAFT_EVENT_SNAPSHOT_TAKEN;
	ev.index = taken + 2;
	assert_int_equal(raft_step(r, &ev, &u), KV_EINVAL); /* past what was applied */
	ev.index = 10000;
	ev.snap_size = 1;
	assert_int_equal(raft_step(r, &ev, &u), 0);
	assert_int_equal(u.compact_index, 10000);
	ev.type = RAFT_EVENT_PROPOSE;
	ev.entry_type = RAFT_ENTRY_COMMAND;
	assert_int_equal(raft_step(r, &ev, &u), 0);
	assert_int_equal(u.proposed_index, taken + 2);
	printf("PERSISTED committed 1..%u at once; snapshot at 10000 compacted and proposal %u "
	       "was taken\n",
	       taken + 1, taken + 2);
	raft_destroy(&r);
}

/* An APPEND that contradicts our committed entries is dropped, never asserted on. */
static void test_append_contradicting_commit_dropped(void **state)
{
	struct raft_entry mine[3] = {{.term = 1, .index = 1, .type = RAFT_ENTRY_COMMAND},
	                             {.term = 2, .index = 2, .type = RAFT_ENTRY_COMMAND},
	                             {.term = 2, .index = 3, .type = RAFT_ENTRY_COMMAND}};
	struct raft_entry bad[3] = {{.term = 1, .index = 2, .type = RAFT_ENTRY_COMMAND},
	                            {.term = 1, .index = 3, .type = RAFT_ENTRY_COMMAND},
	                            {.term = 1, .index = 4, .type = RAFT_ENTRY_COMMAND}};
	struct raft_boot b = boot3(2);
	struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 2};
	struct raft_update u;
	struct raft_status s;
	struct raft *r;

	(void)state;
	b.n_entries = 3;
	b.entries = mine;
	r = core_new(2, &b);
	m.u.append.prev_index = 3;
	m.u.append.prev_term = 2;
	m.u.append.commit = 3;
	core_recv(r, &m, 10, &u);
	raft_get_status(r, &s);
	assert_int_equal(s.commit_index, 3);
	m.u.append.prev_index = 1;
	m.u.append.prev_term = 1;
	m.u.append.n_entries = 3;
	m.u.append.entries = bad;
	core_recv(r, &m, 20, &u);
	raft_get_status(r, &s);
	assert_int_equal(s.last_index, 3);
	assert_int_equal(s.last_term, 2);
	assert_int_equal(s.dropped_msgs, 1);
	assert_int_equal(u.n_entries, 0);
	bad[0].term = 0;
	m.u.append.prev_index = 3;
	m.u.append.prev_term = 2;
	m.u.append.n_entries = 1;
	m.u.append.entries = &bad[0];
	bad[0].index = 4;
	core_recv(r, &m, 30, &u);
	raft_get_status(r, &s);
	assert_int_equal(s.dropped_msgs, 2);
	printf("committed 1..3 (terms 1,2,2); an APPEND rewriting 2..3 with term 1 and one with "
	       "an entry of term 0 were dropped; log unchanged\n");
	raft_destroy(&r);
}

/* A transfer to a node that cannot catch up is abandoned after an election timeout. */
static void test_transfer_abandoned(void **state)
{
	struct rh *h = rh_new(3, 1, 1);

	(void)state;
	rh_elect(h, 1);
	rh_isolate(h, 3, 1);
	assert_int_equal(rh_propose(h, 1, "a"), 0);
	rh_deliver_all(h, 1000);
	assert_int_equal(rh_transfer(h, 1, 3), 0);
	assert_int_equal(rh_transfer(h, 1, 2), KV_EBUSY);
	assert_int_equal(rh_propose(h, 1, "b"), KV_EBUSY);
	assert_int_equal(st(h, 1).transfer_target, 3); /* raftd sends member changes elsewhere */
	assert_int_equal(st(h, 2).transfer_target, 0);
	assert_int_equal(rh_count(h, RAFT_MSG_TIMEOUT_NOW, 1, 3), 0);
	rh_run(h, 150);
	assert_int_equal(st(h, 1).role, RAFT_LEADER);
	assert_int_equal(st(h, 1).transfer_target, 0);
	assert_int_equal(rh_propose(h, 1, "c"), 0);
	assert_int_equal(rh_transfer(h, 1, 9), KV_EINVAL);
	assert_int_equal(rh_transfer(h, 2, 1), KV_ENOTLEADER);
	printf("transfer to cut-off node 3: proposals and a second transfer refused (EBUSY), no "
	       "TIMEOUT_NOW; after 150 ms node 1 still leads and takes proposals again\n");
	rh_destroy(&h);
}

static uint32_t count_msgs(const struct raft_update *u, uint8_t type)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < u->n_msgs_now; i++)
		n += u->msgs_now[i].type == type;
	for (uint32_t i = 0; i < u->n_msgs_after_persist; i++)
		n += u->msgs_after_persist[i].type == type;
	return n;
}

/* Node 2 acknowledges everything up to match, answering heartbeat round seq. */
static void core_ack(struct raft *r, uint64_t match, uint64_t seq, struct raft_update *u)
{
	struct raft_msg m = {.type = RAFT_MSG_APPEND_RESP,
	                     .from = 2,
	                     .to = 1,
	                     .term = 1,
	                     .incarnation = rh_incarnation(2)};

	m.u.append_resp.match_index = match;
	m.u.append_resp.seq = seq;
	core_recv(r, &m, 1000, u);
}

/* More confirmed remote reads than an update holds messages: the rest wait, none is lost. */
static void test_many_remote_reads_not_lost(void **state)
{
	struct raft_boot b = boot3(0);
	struct raft_event ev = {
	    .type = RAFT_EVENT_PERSISTED, .now_ms = 1000, .index = 1, .term = 1};
	struct raft_msg rd = {.type = RAFT_MSG_READ_INDEX, .from = 2, .to = 1, .term = 1};
	const uint32_t n_reads = 300;
	uint32_t answered, first;
	struct raft_update u;
	struct raft *r = core_new(1, &b);

	(void)state;
	core_elect(r, 0, &u);
	assert_int_equal(raft_step(r, &ev, &u), 0);
	core_ack(r, 1, 0, &u); /* the no-op commits: reads may be served */
	for (uint32_t i = 0; i < n_reads; i++) {
		rd.u.read_index.read_id = 1000 + i;
		core_recv(r, &rd, 1000, &u);
		assert_int_equal(count_msgs(&u, RAFT_MSG_READ_INDEX_RESP), 0);
	}
	core_ack(r, 1, 1, &u); /* answers round 1: read 1000, and round 2 starts */
	assert_int_equal(count_msgs(&u, RAFT_MSG_READ_INDEX_RESP), 1);
	core_ack(r, 1, 2, &u);
	first = count_msgs(&u, RAFT_MSG_READ_INDEX_RESP);
	assert_true(first < n_reads - 1);
	ev.type = RAFT_EVENT_TICK;
	assert_int_equal(raft_step(r, &ev, &u), 0);
	answered = 1 + first + count_msgs(&u, RAFT_MSG_READ_INDEX_RESP);
	assert_int_equal(answered, n_reads);
	printf("%u remote reads confirmed by round 2: %u answered in that update (it holds %u "
	       "messages), the other %u at the next step; all %u answered\n",
	       n_reads - 1, first, RAFT_UPDATE_MSGS_MAX, n_reads - 1 - first, answered);
	raft_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_append_truncate),
	    cmocka_unit_test(test_window_wraps_and_fills),
	    cmocka_unit_test(test_window_config_replay),
	    cmocka_unit_test(test_boot_rejects_bad_logs),
	    cmocka_unit_test(test_read_waits_for_term_commit_and_round),
	    cmocka_unit_test(test_read_on_follower_and_failures),
	    cmocka_unit_test(test_read_queue_limit),
	    cmocka_unit_test(test_snapshot_catches_up_follower),
	    cmocka_unit_test(test_snapshot_chunk_out_of_order),
	    cmocka_unit_test(test_membership_rules),
	    cmocka_unit_test(test_hostile_messages_dropped),
	    cmocka_unit_test(test_stale_persisted_ignored),
	    cmocka_unit_test(test_reject_inside_snapshot_sends_it),
	    cmocka_unit_test(test_vote_for_unknown_candidate),
	    cmocka_unit_test(test_forwarded_read_expires),
	    cmocka_unit_test(test_busy_window_until_snapshot),
	    cmocka_unit_test(test_append_contradicting_commit_dropped),
	    cmocka_unit_test(test_transfer_abandoned),
	    cmocka_unit_test(test_many_remote_reads_not_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

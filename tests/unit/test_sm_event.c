/*
 * test_sm_event.c - the watch history of storaged's state machine
 * (sm_event.c, sm_event_read.c) on a temporary LMDB environment: every put
 * and delete is recorded with its index in the same transaction, reads by
 * key and prefix in index order without splitting an entry's events,
 * trimming by count and bytes with 410 (KV_ECOMPACTED) below what is kept,
 * the history surviving a reopen and a snapshot, and a failed batch leaving
 * no event and no trace in the counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "proto.h"
#include "sm.h"
#include "test_sm_util.h"

#define FIU_ENABLE 1 /* the real fiu_init(), not fiu.h's no-op */
#include <fiu-control.h>
#include <fiu.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define T_MAP_BYTES (32u << 20)
#define T_BUFS_MAX  4096

struct t_ctx {
	struct ts_env env;
	struct sm *sm;
	struct sm_opts opts;
	struct sm_events ev;
};

static int t_open_with(struct t_ctx *t, uint64_t history, uint64_t history_bytes)
{
	t->opts = (struct sm_opts){.dir = t->env.dir,
	                           .map_bytes = T_MAP_BYTES,
	                           .watch_history = history,
	                           .watch_history_bytes = history_bytes};
	return sm_open(&t->opts, &t->sm);
}

static int t_setup(void **state)
{
	struct t_ctx *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	ts_env_make(&t->env, "test_sm_event");
	assert_int_equal(t_open_with(t, 0, 0), 0);
	*state = t;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	sm_events_free(&t->ev);
	ts_env_remove(&t->env);
	free(t);
	return 0;
}

/* Applies one PUT (value non-NULL) or DELETE of key at index in its own batch. */
static void t_write(struct t_ctx *t, uint64_t index, const char *key, const char *value)
{
	struct proto_buf b = {0};
	struct proto_kv_cmd kc = {
	    .op = value ? PROTO_KV_PUT : PROTO_KV_DELETE,
	    .origin = 1,
	    .req_id = index,
	    .key = {(const uint8_t *)key, (uint32_t)strlen(key)},
	    .value = {(const uint8_t *)(value ? value : ""), (uint32_t)(value ? strlen(value) : 0)},
	};
	assert_int_equal(proto_kv_cmd_encode(&kc, &b), 0);
	struct raft_entry e = {.term = 1,
	                       .index = index,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b.len,
	                       .data = b.ptr};
	struct sm_result r;
	uint32_t n = 0;
	assert_int_equal(sm_batch_apply(t->sm, &e, 1, &r, &n), 0);
	assert_int_equal(n, 1);
	proto_buf_free(&b);
}

static void t_noop(struct t_ctx *t, uint64_t index)
{
	struct raft_entry e = {.term = 1, .index = index, .type = RAFT_ENTRY_NOOP};
	struct sm_result r;
	uint32_t n = 0;
	assert_int_equal(sm_batch_apply(t->sm, &e, 1, &r, &n), 0);
}

static int t_read(struct t_ctx *t, const char *match, int prefix, uint64_t from, uint32_t max)
{
	return sm_event_read(t->sm, (const uint8_t *)match, (uint32_t)strlen(match), prefix, from,
	                     max, &t->ev);
}

/* Asserts event i of the last read. value NULL: a delete. */
static void t_expect(struct t_ctx *t, uint32_t i, const char *key, const char *value,
                     uint64_t create_index, uint64_t mod_index)
{
	assert_true(i < t->ev.n);
	const struct sm_event *e = &t->ev.ev[i];
	assert_int_equal(e->key_len, strlen(key));
	assert_memory_equal(t->ev.buf.ptr + e->key_off, key, e->key_len);
	assert_int_equal(e->type, value ? SM_EVENT_PUT : SM_EVENT_DELETE);
	if (value != NULL) {
		assert_int_equal(e->value_len, strlen(value));
		assert_memory_equal(t->ev.buf.ptr + e->value_off, value, e->value_len);
	}
	assert_int_equal(e->create_index, create_index);
	assert_int_equal(e->mod_index, mod_index);
}

/* Puts and deletes are recorded with their indexes; reads by key and prefix. */
static void test_record_and_read(void **state)
{
	struct t_ctx *t = *state;
	t_write(t, 1, "a/1", "x");
	t_noop(t, 2);
	t_write(t, 3, "b/1", "y");
	t_write(t, 4, "a/1", "z");
	t_write(t, 5, "a/2", "w");
	t_write(t, 6, "a/1", NULL);
	assert_int_equal(t_read(t, "a/1", 0, 0, 100), 0);
	assert_int_equal(t->ev.n, 3);
	t_expect(t, 0, "a/1", "x", 1, 1);
	t_expect(t, 1, "a/1", "z", 1, 4);
	t_expect(t, 2, "a/1", NULL, 1, 6);
	assert_int_equal(t->ev.next_index, 7);
	assert_int_equal(t->ev.applied_index, 6);
	assert_int_equal(t->ev.oldest_index, 1);

	assert_int_equal(t_read(t, "a/", 1, 4, 100), 0);
	assert_int_equal(t->ev.n, 3);
	t_expect(t, 0, "a/1", "z", 1, 4);
	t_expect(t, 1, "a/2", "w", 5, 5);
	t_expect(t, 2, "a/1", NULL, 1, 6);

	assert_int_equal(t_read(t, "", 1, 1, 100), 0); /* every key */
	assert_int_equal(t->ev.n, 5);
	assert_int_equal(t_read(t, "a", 0, 1, 100), 0); /* a key, not a prefix */
	assert_int_equal(t->ev.n, 0);
	assert_int_equal(t->ev.next_index, 7);
	assert_int_equal(t_read(t, "a/1", 0, 9, 100), 0); /* past the end: nothing yet */
	assert_int_equal(t->ev.n, 0);
	assert_int_equal(t->ev.next_index, 9);
}

/* A read stops at max_events; next_index resumes right after, nothing seen twice. */
static void test_read_pages(void **state)
{
	struct t_ctx *t = *state;
	for (uint64_t i = 1; i <= 10; i++)
		t_write(t, i, "k", "v");
	uint64_t from = 1, seen = 0;
	for (int round = 0; round < 10 && from <= 10; round++) {
		assert_int_equal(t_read(t, "k", 0, from, 3), 0);
		assert_true(t->ev.n >= 1 && t->ev.n <= 3);
		for (uint32_t i = 0; i < t->ev.n; i++)
			assert_int_equal(t->ev.ev[i].mod_index, ++seen);
		from = t->ev.next_index;
	}
	assert_int_equal(seen, 10);
	assert_int_equal(from, 11);
}

/* The history keeps at most watch_history events; older from_index is compacted. */
static void test_trim_count(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open_with(t, 5, 0), 0);
	for (uint64_t i = 1; i <= 12; i++)
		t_write(t, i, "k", "v");
	assert_int_equal(t_read(t, "k", 0, 7, 100), KV_ECOMPACTED);
	assert_int_equal(t->ev.oldest_index, 8);
	assert_int_equal(t_read(t, "k", 0, 8, 100), 0);
	assert_int_equal(t->ev.n, 5);
	t_expect(t, 0, "k", "v", 1, 8);
	assert_int_equal(t_read(t, "k", 0, 0, 100), KV_ECOMPACTED);
}

/* The byte bound trims too: large values do not pile up. */
static void test_trim_bytes(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open_with(t, 1000, 4096), 0);
	char big[1001];
	memset(big, 'b', 1000);
	big[1000] = '\0';
	for (uint64_t i = 1; i <= 20; i++)
		t_write(t, i, "k", big);
	assert_true(t->sm->ev.bytes <= 4096);
	assert_int_equal(t_read(t, "k", 0, 1, 100), KV_ECOMPACTED);
	uint64_t oldest = t->ev.oldest_index;
	assert_true(oldest > 10 && oldest <= 20);
	assert_int_equal(t_read(t, "k", 0, oldest, 100), 0);
	assert_int_equal(t->ev.n, 21 - oldest);
}

/* The history and its trim mark survive closing and reopening (a restart). */
static void test_survives_reopen(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open_with(t, 3, 0), 0);
	for (uint64_t i = 1; i <= 6; i++)
		t_write(t, i, "k", "v");
	sm_close(&t->sm);
	assert_int_equal(t_open_with(t, 3, 0), 0);
	assert_int_equal(t_read(t, "k", 0, 3, 100), KV_ECOMPACTED);
	assert_int_equal(t_read(t, "k", 0, 4, 100), 0);
	assert_int_equal(t->ev.n, 3);
	t_write(t, 7, "k", NULL);
	assert_int_equal(t_read(t, "k", 0, 5, 100), 0);
	assert_int_equal(t->ev.n, 3);
	t_expect(t, 2, "k", NULL, 1, 7);
}

/* A snapshot carries the history: a node restored from it resumes watchers. */
static void test_in_snapshot(void **state)
{
	struct t_ctx *t = *state;
	for (uint64_t i = 1; i <= 4; i++)
		t_write(t, i, "k", "v");
	char snap_dir[160];
	snprintf(snap_dir, sizeof(snap_dir), "%s/snap", t->env.root);
	struct sm_snap_info info;
	assert_int_equal(sm_snap_write(t->sm, snap_dir, &info), 0);
	t_write(t, 5, "k", NULL);
	assert_int_equal(sm_snap_install(t->sm, info.path, info.index, info.term), 0);
	assert_int_equal(t_read(t, "k", 0, 1, 100), 0);
	assert_int_equal(t->ev.n, 4);
	assert_int_equal(t->ev.next_index, 5);
}

/*
 * A batch that fails before its commit leaves no event, and the retry of the
 * same index counts as one event: the trim keeps exactly the newest three.
 */
static void test_failed_batch_leaves_nothing(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open_with(t, 3, 0), 0);
	t_write(t, 1, "k", "a");
	t_write(t, 2, "k", "b");
	assert_int_equal(fiu_init(0), 0);
	assert_int_equal(fiu_enable("storaged/apply/before_commit", 1, NULL, FIU_ONETIME), 0);
	struct proto_buf b = {0};
	struct proto_kv_cmd kc = {.op = PROTO_KV_PUT,
	                          .origin = 1,
	                          .req_id = 3,
	                          .key = {(const uint8_t *)"k", 1},
	                          .value = {(const uint8_t *)"lost", 4}};
	assert_int_equal(proto_kv_cmd_encode(&kc, &b), 0);
	struct raft_entry e = {.term = 1,
	                       .index = 3,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b.len,
	                       .data = b.ptr};
	struct sm_result r;
	uint32_t n = 0;
	assert_int_equal(sm_batch_apply(t->sm, &e, 1, &r, &n), KV_EIO);
	fiu_disable("storaged/apply/before_commit");
	proto_buf_free(&b);
	assert_int_equal(t_read(t, "k", 0, 3, 100), 0);
	assert_int_equal(t->ev.n, 0); /* the failed batch left no event */
	t_write(t, 3, "k", "c");
	t_write(t, 4, "k", "d");
	assert_int_equal(t_read(t, "k", 0, 2, 100), 0);
	assert_int_equal(t->ev.n, 3);
	t_expect(t, 0, "k", "b", 1, 2);
	t_expect(t, 1, "k", "c", 1, 3);
	t_expect(t, 2, "k", "d", 1, 4);
}

/*
 * One entry that changes thousands of keys (a delete of a prefix) is read
 * whole, however small the limit: a watcher resuming by index never gets
 * part of an entry.
 */
static void test_large_entry_whole(void **state)
{
	struct t_ctx *t = *state;
	t_write(t, 1, "g/first", "x");
	MDB_txn *txn = NULL;
	assert_int_equal(mdb_txn_begin(t->sm->env, NULL, 0, &txn), 0);
	for (int i = 0; i < 5000; i++) {
		char key[32];
		int n = snprintf(key, sizeof(key), "g/%05d", i);
		assert_int_equal(sm_event_record(t->sm, txn, SM_EVENT_DELETE, (const uint8_t *)key,
		                                 (uint32_t)n, NULL, 0, 1, 2),
		                 0);
	}
	assert_int_equal(sm_meta_write_applied(t->sm, txn, 2, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	t->sm->applied_index = 2;
	t_write(t, 3, "g/last", "y");
	assert_int_equal(t_read(t, "g/", 1, 1, 2), 0);
	assert_int_equal(t->ev.n, 5001); /* index 1, then all of index 2 */
	assert_int_equal(t->ev.next_index, 3);
	t_expect(t, 4000, "g/03999", NULL, 1, 2);
	assert_int_equal(t_read(t, "g/", 1, 3, 2), 0);
	assert_int_equal(t->ev.n, 1);
	t_expect(t, 0, "g/last", "y", 3, 3);
}

/* Bad arguments are errors, not crashes. */
static void test_bad_args(void **state)
{
	struct t_ctx *t = *state;
	assert_int_equal(t_read(t, "", 0, 1, 10), KV_EINVAL); /* an empty key */
	assert_int_equal(t_read(t, "k", 0, 1, 0), KV_EINVAL);
	assert_int_equal(t_read(t, "k", 0, 1, SM_EVENTS_READ_MAX + 1), KV_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_record_and_read, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_read_pages, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_trim_count, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_trim_bytes, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_survives_reopen, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_in_snapshot, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_batch_leaves_nothing, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_large_entry_whole, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_args, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

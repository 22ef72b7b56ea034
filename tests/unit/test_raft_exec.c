/*
 * test_raft_exec.c - the shared executor (raft_exec.h) over a fake I/O that
 * writes down every call: raft.h's order within an update, acks held until
 * a sync covers them (and sent at once when nothing is unsynced), the
 * barrier before a truncation, the asynchronous sync, a full ring, a reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "raft_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_TRACE_MAX 128u

/*
 * The fake I/O: each call adds one letter to trace (c chunk, i install,
 * t truncate, a append, h hard state, S sync, Q sync request, n send now,
 * p prepare, x transmit, d discard, A apply, R answer with reads, C compact).
 */
struct fake {
	char trace[FAKE_TRACE_MAX];
	uint32_t n_trace;
	uint64_t last_index, last_term;
	uint64_t next_token, sent_tokens, transmits, syncs;
	int in_order; /* transmitted tokens came in the order they were prepared */
};

static void fake_mark(void *ctx, char c)
{
	struct fake *f = ctx;
	if (f->n_trace + 1 < FAKE_TRACE_MAX)
		f->trace[f->n_trace++] = c;
}

static int fake_chunk(void *ctx, uint64_t off, const uint8_t *p, uint32_t len)
{
	fake_mark(ctx, 'c');
	return 0;
}

static int fake_install(void *ctx, const struct raft_snapshot_install *si)
{
	struct fake *f = ctx;
	f->last_index = si->index;
	f->last_term = si->term;
	fake_mark(ctx, 'i');
	return 0;
}

static int fake_truncate(void *ctx, uint64_t after)
{
	((struct fake *)ctx)->last_index = after;
	fake_mark(ctx, 't');
	return 0;
}

static int fake_append(void *ctx, const struct raft_entry *e, uint32_t n)
{
	struct fake *f = ctx;
	f->last_index = e[n - 1].index;
	f->last_term = e[n - 1].term;
	fake_mark(ctx, 'a');
	return 0;
}

static int fake_hard_state(void *ctx, const struct raft_hard_state *hs)
{
	fake_mark(ctx, 'h');
	return 0;
}

static void fake_log_last(void *ctx, uint64_t *index, uint64_t *term)
{
	const struct fake *f = ctx;
	*index = f->last_index;
	*term = f->last_term;
}

static int fake_sync(void *ctx)
{
	((struct fake *)ctx)->syncs++;
	fake_mark(ctx, 'S');
	return 0;
}

static void fake_sync_request(void *ctx)
{
	fake_mark(ctx, 'Q');
}

static void fake_send(void *ctx, const struct raft_msg *m)
{
	fake_mark(ctx, 'n');
}

static int fake_prepare(void *ctx, const struct raft_msg *m, uint64_t *token)
{
	*token = ((struct fake *)ctx)->next_token++;
	fake_mark(ctx, 'p');
	return 0;
}

static void fake_transmit(void *ctx, uint64_t token)
{
	struct fake *f = ctx;
	if (token != f->sent_tokens)
		f->in_order = 0;
	f->sent_tokens = token + 1;
	f->transmits++;
	fake_mark(ctx, 'x');
}

static void fake_discard(void *ctx, uint64_t token)
{
	fake_mark(ctx, 'd');
}

static void fake_apply(void *ctx, uint64_t first, uint64_t last)
{
	fake_mark(ctx, 'A');
}

static void fake_answer(void *ctx, const struct raft_read *reads, uint32_t n)
{
	if (n > 0)
		fake_mark(ctx, 'R');
}

static int fake_compact(void *ctx, uint64_t index)
{
	fake_mark(ctx, 'C');
	return 0;
}

static const struct raft_exec_io fake_io = {
    .write_chunk = fake_chunk,
    .install = fake_install,
    .truncate = fake_truncate,
    .append = fake_append,
    .save_hard_state = fake_hard_state,
    .log_last = fake_log_last,
    .sync = fake_sync,
    .send = fake_send,
    .prepare = fake_prepare,
    .transmit = fake_transmit,
    .discard = fake_discard,
    .apply = fake_apply,
    .answer = fake_answer,
    .compact = fake_compact,
};

static struct raft_msg msgs[RAFT_UPDATE_MSGS_MAX];
static struct raft_entry ents[2];
static struct raft_read reads[1];

/* A fresh executor over f; async adds the sync request. */
static struct raft_exec *fake_exec(struct fake *f, int async)
{
	struct raft_exec *x = calloc(1, sizeof(*x));
	struct raft_exec_io io = fake_io;

	assert_non_null(x);
	memset(f, 0, sizeof(*f));
	f->in_order = 1;
	io.ctx = f;
	if (async)
		io.sync_request = fake_sync_request;
	raft_exec_init(x, &io);
	return x;
}

static void fake_clear(struct fake *f)
{
	memset(f->trace, 0, sizeof(f->trace));
	f->n_trace = 0;
}

/* An update appending entry index in term, with n_after acks and n_now messages. */
static struct raft_update update_append(uint64_t index, uint64_t term, uint32_t n_now,
                                        uint32_t n_after)
{
	struct raft_update u;

	memset(&u, 0, sizeof(u));
	ents[0] = (struct raft_entry){.term = term, .index = index, .type = RAFT_ENTRY_COMMAND};
	u.entries = ents;
	u.n_entries = 1;
	u.msgs_now = msgs;
	u.n_msgs_now = n_now;
	u.msgs_after_persist = msgs;
	u.n_msgs_after_persist = n_after;
	return u;
}

static void test_order_within_update(void **state)
{
	struct fake f;
	struct raft_exec *x = fake_exec(&f, 0);
	struct raft_update u = update_append(1, 1, 1, 1);
	struct raft_event ev = {0};

	u.hard_state_changed = 1;
	u.commit_first = u.commit_last = 1;
	u.reads = reads;
	u.n_reads = 1;
	u.compact_index = 1;
	assert_int_equal(raft_exec_run(x, &u), 0);
	assert_string_equal(f.trace, "ahnpARC");
	fake_clear(&f);
	assert_int_equal(raft_exec_flush(x, &ev), 1);
	assert_string_equal(f.trace, "Sx");
	assert_int_equal(ev.type, RAFT_EVENT_PERSISTED);
	assert_int_equal(ev.index, 1);
	assert_int_equal(ev.term, 1);
	assert_int_equal(raft_exec_flush(x, &ev), 0);
	printf("checked: append, hard state, send now, hold, apply, answer, compact; the flush "
	       "syncs, then sends, and reports PERSISTED (1, 1)\n");
	free(x);
}

static void test_after_persist_at_once_when_clean(void **state)
{
	struct fake f;
	struct raft_exec *x = fake_exec(&f, 0);
	struct raft_update u = update_append(1, 1, 0, 1);
	struct raft_event ev = {0};

	u.n_entries = 0;
	assert_int_equal(raft_exec_run(x, &u), 0);
	assert_string_equal(f.trace, "n");
	assert_int_equal(raft_exec_flush(x, &ev), 0);
	fake_clear(&f);
	u = update_append(1, 1, 0, 0);
	raft_exec_run(x, &u);
	u.n_entries = 0;
	u.n_msgs_after_persist = 1;
	raft_exec_run(x, &u);
	assert_string_equal(f.trace, "ap");
	printf("checked: an ack of an update that wrote nothing goes at once when all is "
	       "synced, and waits behind unsynced writes\n");
	free(x);
}

static void test_barrier_before_truncate(void **state)
{
	struct fake f;
	struct raft_exec *x = fake_exec(&f, 0);
	struct raft_update u = update_append(2, 1, 0, 1);
	struct raft_event ev = {0};

	raft_exec_run(x, &u);
	fake_clear(&f);
	u = update_append(2, 2, 0, 1);
	u.has_truncate = 1;
	u.truncate_after = 1;
	raft_exec_run(x, &u);
	assert_string_equal(f.trace, "Sxtap");
	assert_int_equal(raft_exec_flush(x, &ev), 1);
	assert_int_equal(ev.index, 2);
	assert_int_equal(ev.term, 2);
	printf("checked: the held ack of entry 2 term 1 is synced and sent before the "
	       "truncation; the PERSISTED then names (2, 2)\n");
	free(x);
}

static void test_async_sync(void **state)
{
	struct fake f;
	struct raft_exec *x = fake_exec(&f, 1);
	struct raft_update u = update_append(1, 1, 0, 1);
	struct raft_event ev = {0};

	raft_exec_run(x, &u);
	u = update_append(2, 1, 0, 1);
	raft_exec_run(x, &u);
	assert_string_equal(f.trace, "apQap");
	fake_clear(&f);
	assert_int_equal(raft_exec_sync_done(x, &ev), 1);
	assert_int_equal(ev.index, 1);
	assert_string_equal(f.trace, "x");
	raft_exec_sync_more(x);
	assert_string_equal(f.trace, "xQ");
	assert_int_equal(raft_exec_sync_done(x, &ev), 1);
	assert_int_equal(ev.index, 2);
	raft_exec_sync_more(x);
	assert_string_equal(f.trace, "xQx");
	printf("checked: one sync in flight at a time; each releases only the updates "
	       "written before it started\n");
	free(x);
}

static void test_full_ring_syncs_early(void **state)
{
	struct fake f;
	struct raft_exec *x = fake_exec(&f, 0);
	struct raft_event ev = {0};
	uint64_t updates = RAFT_EXEC_HELD_MAX / RAFT_UPDATE_MSGS_MAX + 1;

	for (uint64_t i = 1; i <= updates; i++) {
		struct raft_update u = update_append(i, 1, 0, RAFT_UPDATE_MSGS_MAX);
		raft_exec_run(x, &u);
	}
	assert_int_equal(f.syncs, 1);
	assert_int_equal(raft_exec_flush(x, &ev), 1);
	assert_int_equal(ev.index, updates);
	assert_int_equal(f.transmits, updates * RAFT_UPDATE_MSGS_MAX);
	assert_true(f.in_order);
	printf("checked: %llu updates of %u acks fill the ring: one early sync, every ack "
	       "sent once and in order, the PERSISTED still reported\n",
	       (unsigned long long)updates, RAFT_UPDATE_MSGS_MAX);
	free(x);
}

static void test_reset_discards_held(void **state)
{
	struct fake f;
	struct raft_exec *x = fake_exec(&f, 0);
	struct raft_update u = update_append(1, 1, 0, 2);
	struct raft_event ev = {0};

	raft_exec_run(x, &u);
	fake_clear(&f);
	raft_exec_reset(x);
	assert_string_equal(f.trace, "dd");
	assert_int_equal(raft_exec_flush(x, &ev), 0);
	printf("checked: a crash discards the two held acks unsent\n");
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_within_update),
	    cmocka_unit_test(test_after_persist_at_once_when_clean),
	    cmocka_unit_test(test_barrier_before_truncate),
	    cmocka_unit_test(test_async_sync),
	    cmocka_unit_test(test_full_ring_syncs_early),
	    cmocka_unit_test(test_reset_discards_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

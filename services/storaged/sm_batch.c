/*
 * sm_batch.c - applies a batch of committed entries in ONE LMDB write
 * transaction together with the applied index and term (F4): a crash at any
 * point leaves either the whole batch or none of it. Runs on storaged's loop
 * thread.
 *
 * Fault point (libfiu): "storaged/apply/before_commit" makes the batch fail
 * as if the process died just before its commit.
 * Planted bug for the tests (docs/testing.md): -DSM_BUG_APPLIED_OUTSIDE_TXN
 * commits the applied index in a transaction of its own, before the data;
 * -DSM_BUG_EVENT_STATE_KEPT keeps the watch history's cached counters of a
 * batch that failed, so they count events that were never committed.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <fiu-local.h>

/*
 * Finds the first entry past the applied index and checks that it and every
 * later one follow without a gap. Returns its position (n when all are old)
 * or -1 for a gap.
 */
static int64_t sm_batch_first_new(const struct sm *sm, const struct raft_entry *entries, uint32_t n)
{
	uint32_t i = 0;
	while (i < n && entries[i].index <= sm->applied_index)
		i++;
	if (i == n)
		return n;
	if (entries[i].index != sm->applied_index + 1)
		return -1;
	for (uint32_t j = i + 1; j < n; j++)
		if (entries[j].index != entries[j - 1].index + 1)
			return -1;
	return i;
}

#ifdef SM_BUG_APPLIED_OUTSIDE_TXN
/* The planted bug: the applied index committed apart from the data it describes. */
static int sm_batch_bug_applied(struct sm *sm, const struct raft_entry *last)
{
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, 0, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	int err = sm_meta_write_applied(sm, txn, last->index, last->term);
	if (err != 0) {
		mdb_txn_abort(txn);
		return err;
	}
	return sm_err_from_mdb(mdb_txn_commit(txn));
}
#endif

int sm_batch_apply(struct sm *sm, const struct raft_entry *entries, uint32_t n,
                   struct sm_result *results, uint32_t *n_results)
{
	KV_ASSERT(sm != NULL && !sm->readonly && n_results != NULL);
	KV_ASSERT(n == 0 || (entries != NULL && results != NULL));
	*n_results = 0;
	proto_buf_reset(&sm->result_body); /* the last batch's results were sent */
	int64_t first = sm_batch_first_new(sm, entries, n);
	if (first < 0)
		return KV_ERANGE;
	if ((uint32_t)first == n)
		return 0; /* duplicates after a raftd restart: already applied */
#ifdef SM_BUG_APPLIED_OUTSIDE_TXN
	int bug_err = sm_batch_bug_applied(sm, &entries[n - 1]);
	if (bug_err != 0)
		return bug_err;
#endif
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, 0, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint64_t data_bytes_before = sm->data_bytes; /* sm_apply_entry moves it */
	struct sm_event_state ev_before = sm->ev;
	int err = 0;
	uint32_t k = 0;
	for (uint32_t i = (uint32_t)first; i < n && err == 0; i++)
		err = sm_apply_entry(sm, txn, &entries[i], &results[k++]);
	const struct raft_entry *last = &entries[n - 1];
#ifndef SM_BUG_APPLIED_OUTSIDE_TXN
	if (err == 0)
		err = sm_meta_write_applied(sm, txn, last->index, last->term);
#endif
	if (err == 0 && sm->data_bytes != data_bytes_before)
		err = sm_meta_write_data_bytes(sm, txn);
	if (err == 0 && (sm->ev.bytes != ev_before.bytes || sm->ev.trimmed != ev_before.trimmed))
		err = sm_event_save(sm, txn);
	if (err == 0 && fiu_fail("storaged/apply/before_commit"))
		err = KV_EIO;
	if (err != 0)
		goto out_abort_txn;
	/*
	 * Committed, not synced (MDB_NOSYNC): results go out once this returns, which
	 * is safe because the entries are durable in the WAL on a quorum and raftd
	 * keeps them until storaged reports them durable here (sm_sync).
	 */
	err = sm_err_from_mdb(mdb_txn_commit(txn));
	if (err != 0) {
		sm->full = err == KV_EFULL;
		sm->data_bytes = data_bytes_before;
		sm->ev = ev_before;
		return err;
	}
	KV_ASSERT(last->index > sm->applied_index);
	sm->applied_index = last->index;
	sm->applied_term = last->term;
	sm->full = 0;
	*n_results = k;
	return 0;

out_abort_txn:
	mdb_txn_abort(txn);
	sm->data_bytes = data_bytes_before;
#ifndef SM_BUG_EVENT_STATE_KEPT
	sm->ev = ev_before;
#endif
	if (err == KV_EFULL)
		sm->full = 1;
	return err;
}

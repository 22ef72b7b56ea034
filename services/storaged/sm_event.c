/*
 * sm_event.c - the watch history: every change of a key, recorded with its
 * Raft index in the "events" table inside the transaction that makes the
 * change, and trimmed oldest first to the node's bounds (sm.h). Because the
 * history lives in the same LMDB environment as the data, it survives a
 * restart and travels in snapshots. Loop thread.
 *
 * An event is keyed [index u64][seq u32] (big-endian: key order is index
 * order, then the order the entry made its changes) and holds
 * [type u8][create_index u64][key_len u16][key][value].
 *
 * meta "events_trimmed" is the highest index whose events were dropped:
 * a read from at or below it would miss some, so it answers KV_ECOMPACTED.
 * Planted bug for the tests (docs/testing.md): -DSM_BUG_EVENT_TRIM_UNMARKED
 * drops events without moving events_trimmed, so a watcher resuming from a
 * trimmed index silently misses changes.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <string.h>

static const char SM_KEY_EVENTS_TRIMMED[] = "events_trimmed";
static const char SM_KEY_EVENTS_BYTES[] = "events_bytes";

/* The newest event's index and seq (0, 0 when there is none) and the count. */
static int sm_event_load_last(struct sm *sm, MDB_txn *txn)
{
	MDB_stat st;
	int rc = mdb_stat(txn, sm->dbi_events, &st);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	sm->ev.count = st.ms_entries;
	sm->ev.last_index = 0;
	sm->ev.last_seq = 0;
	MDB_cursor *cur = NULL;
	if ((rc = mdb_cursor_open(txn, sm->dbi_events, &cur)) != 0)
		return sm_err_from_mdb(rc);
	MDB_val k, d;
	rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
	if (rc == 0 && k.mv_size == SM_EVENT_KEY_BYTES) {
		const uint8_t *s = (const uint8_t *)k.mv_data + 8;
		sm->ev.last_index = sm_u64_get(k.mv_data);
		sm->ev.last_seq =
		    (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
	}
	mdb_cursor_close(cur);
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : sm_err_from_mdb(rc);
}

int sm_event_load(struct sm *sm, MDB_txn *txn)
{
	int err = sm_meta_get_u64(sm, txn, SM_KEY_EVENTS_TRIMMED, &sm->ev.trimmed);
	if (err == 0)
		err = sm_meta_get_u64(sm, txn, SM_KEY_EVENTS_BYTES, &sm->ev.bytes);
	if (err == 0)
		err = sm_event_load_last(sm, txn);
	return err;
}

int sm_event_save(struct sm *sm, MDB_txn *txn)
{
	int err = sm_meta_put_u64(sm, txn, SM_KEY_EVENTS_TRIMMED, sm->ev.trimmed);
	if (err == 0)
		err = sm_meta_put_u64(sm, txn, SM_KEY_EVENTS_BYTES, sm->ev.bytes);
	return err;
}

/* Drops the oldest events while the history is past its bounds. */
static int sm_event_trim(struct sm *sm, MDB_txn *txn)
{
	if (sm->ev.count <= sm->watch_history && sm->ev.bytes <= sm->watch_history_bytes)
		return 0;
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, sm->dbi_events, &cur);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	MDB_val k, d;
	/* the newest event always stays: it is the change being recorded */
	while (sm->ev.count > 1 &&
	       (sm->ev.count > sm->watch_history || sm->ev.bytes > sm->watch_history_bytes)) {
		if ((rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST)) != 0)
			break;
		uint64_t bytes = k.mv_size + d.mv_size;
		uint64_t index = sm_u64_get(k.mv_data);
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		KV_ASSERT(sm->ev.bytes >= bytes);
		sm->ev.bytes -= bytes;
		sm->ev.count--;
#ifndef SM_BUG_EVENT_TRIM_UNMARKED
		if (index > sm->ev.trimmed)
			sm->ev.trimmed = index;
#else
		(void)index;
#endif
	}
	mdb_cursor_close(cur);
	KV_ASSERT(rc != MDB_NOTFOUND || sm->ev.count == 0);
	return rc == 0 ? 0 : sm_err_from_mdb(rc);
}

int sm_event_record(struct sm *sm, MDB_txn *txn, enum sm_event_type type, const uint8_t *key,
                    uint32_t key_len, const uint8_t *value, uint32_t value_len,
                    uint64_t create_index, uint64_t index)
{
	KV_ASSERT(sm != NULL && txn != NULL && key != NULL && index > 0);
	KV_ASSERT(type == SM_EVENT_PUT || type == SM_EVENT_DELETE);
	KV_ASSERT(key_len > 0 && key_len <= UINT16_MAX && (value != NULL || value_len == 0));
	/* the history is appended in index order: a later index was never written */
	KV_ASSERT(sm->ev.last_index <= index);
	uint32_t seq = sm->ev.last_index == index ? sm->ev.last_seq + 1 : 0;
	uint8_t kb[SM_EVENT_KEY_BYTES];
	sm_u64_put(kb, index);
	kb[8] = (uint8_t)(seq >> 24);
	kb[9] = (uint8_t)(seq >> 16);
	kb[10] = (uint8_t)(seq >> 8);
	kb[11] = (uint8_t)seq;
	MDB_val k = {sizeof(kb), kb};
	MDB_val d = {SM_EVENT_HEADER_BYTES + (size_t)key_len + value_len, NULL};
	int rc = mdb_put(txn, sm->dbi_events, &k, &d, MDB_RESERVE | MDB_APPEND);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint8_t *p = d.mv_data;
	p[0] = (uint8_t)type;
	sm_u64_put(p + 1, create_index);
	p[9] = (uint8_t)(key_len >> 8);
	p[10] = (uint8_t)key_len;
	memcpy(p + SM_EVENT_HEADER_BYTES, key, key_len);
	if (value_len > 0)
		memcpy(p + SM_EVENT_HEADER_BYTES + key_len, value, value_len);
	sm->ev.bytes += k.mv_size + d.mv_size;
	sm->ev.count++;
	sm->ev.last_index = index;
	sm->ev.last_seq = seq;
	return sm_event_trim(sm, txn);
}

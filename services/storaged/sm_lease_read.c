/*
 * sm_lease_read.c - reads of the lease tables for GET /v1/leases/{id} and
 * for the leader's lease clock (gw_lease_clock.c): one lease's TTL and the
 * keys it still holds, or a page of leases. One read transaction each;
 * keys are copied out before it ends. A page of leases has items whose key
 * is the id's 8 bytes, create_index the id and mod_index the TTL. Loop thread.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <stdlib.h>
#include <string.h>

/* Adds key (still at attached_at) to out; skips keys rewritten or deleted since. */
static int sm_lease_read_key(struct sm *sm, MDB_txn *txn, const MDB_val *k, uint64_t attached_at,
                             struct sm_list *out)
{
	struct proto_bytes key = {(const uint8_t *)k->mv_data + 8, (uint32_t)(k->mv_size - 8)};
	int exists = 0;
	uint64_t create_index = 0, mod_index = 0;
	int err = sm_kv_lookup(sm, txn, &key, &exists, &create_index, &mod_index, NULL);
	if (err != 0 || !exists || mod_index != attached_at)
		return err;
	struct sm_item *it = &out->items[out->n_items++];
	memset(it, 0, sizeof(*it));
	it->key_off = out->buf.len;
	it->key_len = key.len;
	it->value_off = out->buf.len + key.len;
	it->create_index = create_index;
	it->mod_index = mod_index;
	return sm_buf_append(&out->buf, key.ptr, key.len);
}

static int sm_lease_read_keys(struct sm *sm, MDB_txn *txn, uint64_t id, struct sm_list *out)
{
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, sm->dbi_lease_keys, &cur);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint8_t idb[8];
	sm_u64_put(idb, id);
	MDB_val k = {sizeof(idb), idb};
	MDB_val d;
	int err = 0;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	     rc == 0 && err == 0 && k.mv_size > 8 && memcmp(k.mv_data, idb, 8) == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (out->n_items == KV_LIST_LIMIT_MAX) {
			out->more = 1;
			break;
		}
		if (d.mv_size != 8 || k.mv_size > 8 + KV_KEY_BYTES_MAX)
			err = KV_ECORRUPT;
		else
			err = sm_lease_read_key(sm, txn, &k, sm_u64_get(d.mv_data), out);
	}
	mdb_cursor_close(cur);
	return err != 0 ? err : (rc == 0 || rc == MDB_NOTFOUND ? 0 : sm_err_from_mdb(rc));
}

static int sm_lease_read_page(struct sm *sm, MDB_txn *txn, uint64_t after, uint32_t limit,
                              struct sm_list *out)
{
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, sm->dbi_leases, &cur);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint8_t kb[8];
	sm_u64_put(kb, after + 1);
	MDB_val k = {sizeof(kb), kb};
	MDB_val d;
	int err = 0;
	for (rc = after == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	     rc == 0; rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 8 || d.mv_size != 16) {
			err = KV_ECORRUPT;
			break;
		}
		if (out->n_items == limit) {
			out->more = 1;
			break;
		}
		struct sm_item *it = &out->items[out->n_items++];
		memset(it, 0, sizeof(*it));
		it->key_off = out->buf.len; /* the id, big-endian: an item's key is never empty */
		it->key_len = 8;
		it->value_off = out->buf.len + 8;
		it->create_index = sm_u64_get(k.mv_data);
		it->mod_index = sm_u64_get(d.mv_data);
		if ((err = sm_buf_append(&out->buf, k.mv_data, 8)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return err != 0 ? err : (rc == 0 || rc == MDB_NOTFOUND ? 0 : sm_err_from_mdb(rc));
}

int sm_lease_read(struct sm *sm, uint64_t id, uint64_t after, uint32_t limit, uint64_t *ttl_ms,
                  struct sm_list *out)
{
	KV_ASSERT(sm != NULL && out != NULL && ttl_ms != NULL);
	out->buf.len = 0;
	out->n_items = 0;
	out->more = 0;
	*ttl_ms = 0;
	if (limit == 0 || limit > KV_LIST_LIMIT_MAX)
		return KV_EINVAL;
	if (out->items == NULL &&
	    (out->items = calloc(KV_LIST_LIMIT_MAX, sizeof(*out->items))) == NULL)
		return KV_ENOMEM;
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	out->applied_index = sm->applied_index;
	int err = 0;
	if (id == 0) {
		err = sm_lease_read_page(sm, txn, after, limit, out);
	} else {
		uint8_t kb[8];
		sm_u64_put(kb, id);
		MDB_val k = {sizeof(kb), kb};
		MDB_val d;
		rc = mdb_get(txn, sm->dbi_leases, &k, &d);
		err = rc == MDB_NOTFOUND ? KV_ENOLEASE : sm_err_from_mdb(rc);
		if (err == 0 && d.mv_size != 16)
			err = KV_ECORRUPT;
		if (err == 0) {
			*ttl_ms = sm_u64_get(d.mv_data);
			err = sm_lease_read_keys(sm, txn, id, out);
		}
	}
	mdb_txn_abort(txn);
	return err;
}

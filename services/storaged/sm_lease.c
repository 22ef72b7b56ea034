/*
 * sm_lease.c - leases in the state machine: granting one (its id is the
 * index of the LEASE_GRANT entry, so every node picks the same), attaching
 * keys to it (a TXN put with a lease, which PUT /v1/kv/{key}?lease= becomes)
 * and ending it (LEASE_REVOKE from a client, LEASE_EXPIRE from the leader):
 * its keys are deleted through sm_kv_delete in the entry's transaction.
 *
 * No clock here: when a lease expires is decided by the leader's gateway
 * (gw_lease_clock.c) and arrives as a LEASE_EXPIRE entry, applied at the same
 * index everywhere.
 *
 * A key belongs to a lease while its mod_index is the one it had when the
 * lease's put wrote it; a later put (with another lease or none) or a delete
 * moves the mod_index on, and the old record no longer holds the key. So the
 * plain write path needs no lease bookkeeping. A lease holds at most
 * KV_LEASE_KEYS_MAX records (stale ones included) until it ends; each
 * record counts in data_bytes (the quota) as its key + 16 bytes.
 * Loop thread, inside the batch's write transaction.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <string.h>

#define SM_LEASE_VALUE_BYTES           16u                         /* [ttl_ms][records] */
#define SM_LEASE_RECORD_BYTES(key_len) (16u + (uint64_t)(key_len)) /* as data_bytes counts it */

struct sm_lease_rec {
	uint64_t ttl_ms;
	uint64_t records;
};

static int sm_lease_get(struct sm *sm, MDB_txn *txn, uint64_t id, struct sm_lease_rec *rec)
{
	uint8_t kb[8];
	sm_u64_put(kb, id);
	MDB_val k = {sizeof(kb), kb};
	MDB_val d;
	int rc = mdb_get(txn, sm->dbi_leases, &k, &d);
	if (rc == MDB_NOTFOUND)
		return KV_ENOLEASE;
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if (d.mv_size != SM_LEASE_VALUE_BYTES)
		return KV_ECORRUPT;
	rec->ttl_ms = sm_u64_get(d.mv_data);
	rec->records = sm_u64_get((const uint8_t *)d.mv_data + 8);
	return 0;
}

static int sm_lease_put(struct sm *sm, MDB_txn *txn, uint64_t id, const struct sm_lease_rec *rec)
{
	uint8_t kb[8], vb[SM_LEASE_VALUE_BYTES];
	sm_u64_put(kb, id);
	sm_u64_put(vb, rec->ttl_ms);
	sm_u64_put(vb + 8, rec->records);
	MDB_val k = {sizeof(kb), kb};
	MDB_val d = {sizeof(vb), vb};
	return sm_err_from_mdb(mdb_put(txn, sm->dbi_leases, &k, &d, 0));
}

int sm_lease_grant(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c, struct sm_result *res)
{
	MDB_stat st;
	int rc = mdb_stat(txn, sm->dbi_leases, &st);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if (st.ms_entries >= KV_LEASES_MAX) {
		res->status = KV_EBUSY;
		return 0;
	}
	if (c->ttl_ms < KV_LEASE_TTL_MS_MIN || c->ttl_ms > KV_LEASE_TTL_MS_MAX) {
		res->status = KV_ERANGE; /* the decoder checks it too */
		return 0;
	}
	struct sm_lease_rec rec = {.ttl_ms = c->ttl_ms, .records = 0};
	res->create_index = res->index; /* the lease id */
	res->mod_index = c->ttl_ms;
	return sm_lease_put(sm, txn, res->index, &rec);
}

/* lease_keys' key: id then the key's bytes. */
static MDB_val sm_lease_key(uint8_t *buf, uint64_t id, const struct proto_bytes *key)
{
	sm_u64_put(buf, id);
	if (key->len > 0)
		memcpy(buf + 8, key->ptr, key->len);
	return (MDB_val){8 + (size_t)key->len, buf};
}

int sm_lease_check(struct sm *sm, MDB_txn *txn, uint64_t id, const struct proto_bytes *key)
{
	struct sm_lease_rec rec;
	int err = sm_lease_get(sm, txn, id, &rec);
	if (err != 0 || rec.records < KV_LEASE_KEYS_MAX)
		return err;
	uint8_t kb[8 + KV_KEY_BYTES_MAX];
	MDB_val k = sm_lease_key(kb, id, key);
	MDB_val d;
	int rc = mdb_get(txn, sm->dbi_lease_keys, &k, &d);
	if (rc == MDB_NOTFOUND)
		return KV_ETOOLARGE; /* full, and this key would be a new record */
	return sm_err_from_mdb(rc);
}

int sm_lease_attach(struct sm *sm, MDB_txn *txn, uint64_t id, const struct proto_bytes *key,
                    uint64_t mod_index)
{
	KV_ASSERT(key->len > 0 && key->len <= KV_KEY_BYTES_MAX);
	struct sm_lease_rec rec;
	int err = sm_lease_get(sm, txn, id, &rec);
	if (err != 0)
		return err == KV_ENOLEASE ? KV_ECORRUPT : err; /* sm_lease_check passed */
	uint8_t kb[8 + KV_KEY_BYTES_MAX], vb[8];
	MDB_val k = sm_lease_key(kb, id, key);
	MDB_val old;
	int rc = mdb_get(txn, sm->dbi_lease_keys, &k, &old);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return sm_err_from_mdb(rc);
	int reattached = rc == 0;
	sm_u64_put(vb, mod_index);
	MDB_val d = {sizeof(vb), vb};
	if ((rc = mdb_put(txn, sm->dbi_lease_keys, &k, &d, 0)) != 0)
		return sm_err_from_mdb(rc);
	if (reattached)
		return 0; /* the same record, a new mod_index */
	/* a record takes room too: the quota counts it (key, id, mod_index) */
	sm->data_bytes += SM_LEASE_RECORD_BYTES(key->len);
	rec.records++;
	return sm_lease_put(sm, txn, id, &rec);
}

/*
 * Takes the lease's first record off lease_keys: copies its key into key_buf
 * and says whether the key still belongs to the lease. *found 0: none left.
 */
static int sm_lease_pop(struct sm *sm, MDB_txn *txn, uint64_t id, uint8_t *key_buf,
                        struct proto_bytes *key, uint64_t *mod_index, int *found)
{
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, sm->dbi_lease_keys, &cur);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint8_t idb[8];
	sm_u64_put(idb, id);
	MDB_val k = {sizeof(idb), idb};
	MDB_val d;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	*found = rc == 0 && k.mv_size > 8 && k.mv_size <= 8 + KV_KEY_BYTES_MAX &&
	         memcmp(k.mv_data, idb, 8) == 0 && d.mv_size == 8;
	if (*found) {
		key->len = (uint32_t)(k.mv_size - 8);
		memcpy(key_buf, (const uint8_t *)k.mv_data + 8, key->len);
		key->ptr = key_buf;
		*mod_index = sm_u64_get(d.mv_data);
		rc = mdb_cursor_del(cur, 0);
		KV_ASSERT(sm->data_bytes >= SM_LEASE_RECORD_BYTES(key->len));
		sm->data_bytes -= SM_LEASE_RECORD_BYTES(key->len);
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : sm_err_from_mdb(rc);
}

int sm_lease_end(struct sm *sm, MDB_txn *txn, uint64_t id, struct sm_result *res)
{
	struct sm_lease_rec rec;
	int err = sm_lease_get(sm, txn, id, &rec);
	if (err == KV_ENOLEASE) {
		res->status = KV_ENOLEASE; /* revoked or expired already: nothing to do */
		return 0;
	}
	if (err != 0)
		return err;
	uint64_t deleted = 0;
	for (uint64_t i = 0; i <= rec.records; i++) {
		uint8_t key_buf[KV_KEY_BYTES_MAX];
		struct proto_bytes key;
		uint64_t attached_at = 0;
		int found = 0;
		if ((err = sm_lease_pop(sm, txn, id, key_buf, &key, &attached_at, &found)) != 0)
			return err;
		if (!found)
			break;
		int exists = 0;
		uint64_t create_index = 0, mod_index = 0;
		if ((err = sm_kv_lookup(sm, txn, &key, &exists, &create_index, &mod_index, NULL)) !=
		    0)
			return err;
		if (!exists || mod_index != attached_at)
			continue; /* rewritten or deleted since: no longer this lease's */
		struct sm_result del = {0};
		if ((err = sm_kv_delete(sm, txn, &key, res->index, &del)) != 0)
			return err;
		deleted++;
	}
	uint8_t kb[8];
	sm_u64_put(kb, id);
	MDB_val k = {sizeof(kb), kb};
	res->create_index = id;
	res->mod_index = deleted;
	return sm_err_from_mdb(mdb_del(txn, sm->dbi_leases, &k, NULL));
}

/*
 * sm_apply.c - applies one committed Raft entry to the key-value table inside
 * the caller's write transaction. Deterministic: the same entry on the same
 * state gives the same result on every node, and bad commands are results
 * (KV_EINVAL), never crashes. Runs on storaged's loop thread.
 *
 * DELETE_PREFIX removes every key under a prefix in the one transaction
 * (at most SM_DELETE_PREFIX_KEYS_MAX, else none): the Consul API's
 * ?recurse delete, atomic as Consul's is (the key walk is sm_prefix.c).
 *
 * The quota is decided here, from replicated state only: sm->data_bytes (the
 * sum of key + 16 + value bytes of every key, kept in meta in the same
 * transaction) against the quota, the same on every node. A PUT that would
 * grow data past the quota gets KV_EFULL (507) and changes nothing; a PUT
 * that keeps or shrinks a value and every DELETE still apply, so a full store
 * can always be dug out of. The file's size is never consulted: it differs
 * between nodes (free pages, growth), and the decision must not.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "proto.h"

#include <string.h>

/* Not a C string on disk: the three bytes, then the index. */
static const uint8_t SM_CFG_PREFIX[3] = {'c', 'f', 'g'};
#define SM_CFG_KEY_BYTES (sizeof(SM_CFG_PREFIX) + 8)

static int sm_apply_is_cfg_key(const MDB_val *k)
{
	return k->mv_size == SM_CFG_KEY_BYTES &&
	       memcmp(k->mv_data, SM_CFG_PREFIX, sizeof(SM_CFG_PREFIX)) == 0;
}

/* Drops the oldest CONFIG entries beyond SM_CONFIG_ENTRIES_MAX (index order = key order). */
static int sm_apply_trim_config(struct sm *sm, MDB_txn *txn)
{
	MDB_cursor *cur = NULL;
	int rc = mdb_cursor_open(txn, sm->dbi_meta, &cur);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint32_t n = 0;
	MDB_val k = {sizeof(SM_CFG_PREFIX), (void *)SM_CFG_PREFIX};
	MDB_val d;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0 && sm_apply_is_cfg_key(&k);
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT))
		n++;
	while (n > SM_CONFIG_ENTRIES_MAX) {
		k.mv_size = sizeof(SM_CFG_PREFIX);
		k.mv_data = (void *)SM_CFG_PREFIX;
		rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
		if (rc != 0 || !sm_apply_is_cfg_key(&k) || (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		n--;
	}
	mdb_cursor_close(cur);
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : sm_err_from_mdb(rc);
}

/* A CONFIG entry's data is kept under "cfg"+index so snapshots carry membership. */
static int sm_apply_config(struct sm *sm, MDB_txn *txn, const struct raft_entry *e)
{
	uint8_t kb[SM_CFG_KEY_BYTES];
	memcpy(kb, SM_CFG_PREFIX, sizeof(SM_CFG_PREFIX));
	sm_u64_put(kb + 3, e->index);
	MDB_val k = {sizeof(kb), kb};
	MDB_val d = {e->len, (void *)e->data};
	int rc = mdb_put(txn, sm->dbi_meta, &k, &d, 0);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	return sm_apply_trim_config(sm, txn);
}

/* Removes key, which exists (old), with its event and its flags: the one delete of
 * DELETE and DELETE_PREFIX. */
static int sm_apply_remove(struct sm *sm, MDB_txn *txn, const uint8_t *key, uint32_t key_len,
                           uint64_t index, const struct sm_key_old *old)
{
	int err = sm_key_delete(sm, txn, key, key_len, index, old);
	return err != 0 ? err : sm_flags_set(sm, txn, key, key_len, 0);
}

/* The write itself once conditions hold; fills res's status and indexes. */
static int sm_apply_write(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c,
                          const struct sm_key_old *old, struct sm_result *res)
{
	if (c->op == PROTO_KV_DELETE) {
		if (!old->exists) {
			res->status = KV_ENOTFOUND;
			return 0;
		}
		res->create_index = old->create_index;
		res->mod_index = res->index;
		return sm_apply_remove(sm, txn, c->key.ptr, c->key.len, res->index, old);
	}
	uint64_t bytes = (uint64_t)c->key.len + SM_KV_HEADER_BYTES + c->value.len;
	if (bytes > old->bytes && sm->data_bytes - old->bytes + bytes > sm->quota_bytes) {
		/* grows the data past the quota: refused alike on every node */
		res->status = KV_EFULL;
		res->create_index = old->create_index;
		res->mod_index = old->mod_index;
		return 0;
	}
	int err = sm_key_put(sm, txn, c->key.ptr, c->key.len, c->value.ptr, c->value.len,
	                     res->index, old, &res->create_index);
	if (err == KV_EINVAL) {
		res->status = KV_EINVAL;
		res->create_index = 0;
		return 0;
	}
	res->mod_index = res->index;
	if (err != 0)
		return err;
	/* a plain PUT sets the flags to 0, as Consul's PUT without ?flags= does */
	return sm_flags_set(sm, txn, c->key.ptr, c->key.len,
	                    c->op == PROTO_KV_PUT_FLAGS ? c->flags : 0);
}

int sm_kv_lookup(struct sm *sm, MDB_txn *txn, const struct proto_bytes *key, int *exists,
                 uint64_t *create_index, uint64_t *mod_index, struct proto_bytes *value)
{
	struct sm_key_old old;
	int err = sm_key_lookup(sm, txn, key->ptr, key->len, &old);
	if (err != 0)
		return err;
	*exists = old.exists;
	*create_index = old.create_index;
	*mod_index = old.mod_index;
	if (value == NULL || !old.exists)
		return 0;
	MDB_val k = {key->len, (void *)key->ptr};
	MDB_val d;
	int rc = mdb_get(txn, sm->dbi_kv, &k, &d);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	value->ptr = (const uint8_t *)d.mv_data + SM_KV_HEADER_BYTES;
	value->len = (uint32_t)(d.mv_size - SM_KV_HEADER_BYTES);
	return 0;
}

/*
 * DELETE_PREFIX: every key under c->key goes in this one transaction, or
 * none when there are more than SM_DELETE_PREFIX_KEYS_MAX (KV_ETOOLARGE), so
 * one entry's apply time stays bounded. KV_ENOTFOUND when there were none.
 */
static int sm_apply_delete_prefix(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c,
                                  struct sm_result *res)
{
	uint32_t n = 0;
	int err = sm_prefix_delete(sm, txn, &c->key, res->index, SM_DELETE_PREFIX_KEYS_MAX, &n,
	                           &res->status);
	if (err != 0 || res->status != 0)
		return err;
	if (n == 0)
		res->status = KV_ENOTFOUND;
	else
		res->mod_index = res->index;
	return 0;
}

/* A single-key command as the other mutations see it: the same write path. */
static int sm_kv_write(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c, uint64_t index,
                       struct sm_result *res)
{
	struct sm_key_old old;
	res->index = index;
	res->status = 0;
	int err = sm_key_lookup(sm, txn, c->key.ptr, c->key.len, &old);
	return err != 0 ? err : sm_apply_write(sm, txn, c, &old, res);
}

int sm_kv_put(struct sm *sm, MDB_txn *txn, const struct proto_bytes *key,
              const struct proto_bytes *value, uint64_t index, struct sm_result *res)
{
	struct proto_kv_cmd c = {.op = PROTO_KV_PUT, .key = *key, .value = *value};
	return sm_kv_write(sm, txn, &c, index, res);
}

int sm_kv_delete(struct sm *sm, MDB_txn *txn, const struct proto_bytes *key, uint64_t index,
                 struct sm_result *res)
{
	struct proto_kv_cmd c = {.op = PROTO_KV_DELETE, .key = *key};
	return sm_kv_write(sm, txn, &c, index, res);
}

/* Checks c's condition against the key's current state, then writes. */
static int sm_apply_kv(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c,
                       struct sm_result *res)
{
	if (c->op == PROTO_KV_DELETE_PREFIX) {
		if (c->cond != PROTO_COND_NONE) {
			res->status = KV_EINVAL; /* no condition on a range */
			return 0;
		}
		return sm_apply_delete_prefix(sm, txn, c, res);
	}
	struct sm_key_old old;
	int err = sm_key_lookup(sm, txn, c->key.ptr, c->key.len, &old);
	if (err != 0)
		return err;
	int failed =
	    (c->cond == PROTO_COND_IF_MATCH && (!old.exists || old.mod_index != c->cond_index)) ||
	    (c->cond == PROTO_COND_IF_NONE_MATCH && old.exists);
	if (failed) {
		/* The key's current version helps the client decide what to do next. */
		res->status = KV_ECONDITION;
		res->create_index = old.create_index;
		res->mod_index = old.mod_index;
		return 0;
	}
	return sm_apply_write(sm, txn, c, &old, res);
}

/* The op's own fields are in range (the decoder checked the generic bounds). */
static int sm_apply_cmd_valid(const struct proto_kv_cmd *c)
{
	if (c->idem_key.len > KV_IDEMPOTENCY_KEY_BYTES_MAX)
		return 0;
	switch (c->op) {
	case PROTO_KV_PUT:
	case PROTO_KV_DELETE:
	case PROTO_KV_PUT_FLAGS:
	case PROTO_KV_DELETE_PREFIX:
		return c->key.len > 0 && c->key.len <= KV_KEY_BYTES_MAX;
	case PROTO_KV_TXN:
	case PROTO_KV_LEASE_GRANT:
	case PROTO_KV_LEASE_REVOKE:
	case PROTO_KV_LEASE_EXPIRE:
		return c->key.len == 0;
	default:
		return 0;
	}
}

/* The command itself, once it is known not to be a retry. */
static int sm_apply_op(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c,
                       struct sm_result *res)
{
	switch (c->op) {
	case PROTO_KV_TXN:
		return sm_txn_apply(sm, txn, c, res);
	case PROTO_KV_LEASE_GRANT:
		return sm_lease_grant(sm, txn, c, res);
	case PROTO_KV_LEASE_EXPIRE:
		if (c->term != res->term) {
			/* decided by the clock of another term's leader: it may not know the
			 * keepalives a later leader answered (docs/design.md, "Leases") */
			res->status = KV_ESTALE;
			return 0;
		}
		return sm_lease_end(sm, txn, c->lease, res);
	case PROTO_KV_LEASE_REVOKE:
		return sm_lease_end(sm, txn, c->lease, res);
	default:
		return sm_apply_kv(sm, txn, c, res);
	}
}

static int sm_apply_command(struct sm *sm, MDB_txn *txn, const struct raft_entry *e,
                            struct sm_result *res)
{
	struct proto_kv_cmd c;
	memset(&c, 0, sizeof(c));
	res->has_result = 1;
	if (e->data == NULL || proto_kv_cmd_decode(e->data, e->len, &c) != 0 ||
	    !sm_apply_cmd_valid(&c)) {
		/* Applied as a no-op on every node alike; nobody to tell without an origin. */
		res->status = KV_EINVAL;
		return 0;
	}
	res->origin = c.origin;
	res->req_id = c.req_id;
	if (c.idem_key.len > 0) {
		int err = sm_session_find(sm, txn, c.idem_key.ptr, c.idem_key.len, e->index, res);
		if (err == 0)
			return 0; /* a retry: the first attempt's result, nothing applied */
		if (err != KV_ENOTFOUND)
			return err;
	}
	int err = sm_apply_op(sm, txn, &c, res);
	/* a quota refusal is not remembered: the retry after digging out must apply */
	if (err != 0 || c.idem_key.len == 0 || res->status == KV_EFULL)
		return err;
	return sm_session_store(sm, txn, c.idem_key.ptr, c.idem_key.len, res);
}

int sm_apply_entry(struct sm *sm, MDB_txn *txn, const struct raft_entry *e, struct sm_result *res)
{
	KV_ASSERT(sm != NULL && txn != NULL && e != NULL && res != NULL);
	KV_ASSERT(e->index > 0);
	memset(res, 0, sizeof(*res));
	res->index = e->index;
	res->term = e->term;
	switch (e->type) {
	case RAFT_ENTRY_NOOP:
		return 0;
	case RAFT_ENTRY_CONFIG:
		return sm_apply_config(sm, txn, e);
	case RAFT_ENTRY_COMMAND:
		return sm_apply_command(sm, txn, e, res);
	default:
		/* An unknown type from a newer peer: skip it the same way everywhere. */
		return 0;
	}
}

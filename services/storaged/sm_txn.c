/*
 * sm_txn.c - applies a multi-key transaction (a PROTO_KV_TXN command): the
 * compares against the current state, then the success or the failure
 * branch, atomically, at the entry's index. Every key it writes goes through
 * sm_kv_put / sm_kv_delete, like single writes. A branch that cannot finish
 * (a put past the quota, an unknown or full lease, a delete_prefix past its
 * bound) runs in a nested LMDB transaction that is then aborted, so the
 * entry changes nothing and says why. Gets see the branch's earlier writes.
 *
 * The outcome (struct proto_txn_result) is appended to sm->result_body for
 * the gateway that proposed it. A retry with the same idempotency key gets
 * the session's record instead: its index, and succeeded (kept in the
 * session's mod_index), not the gets' values. Loop thread.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "proto_txn.h"

#include <stdlib.h>
#include <string.h>

/* What one transaction's apply carries around. */
struct sm_txn_run {
	struct sm *sm;
	MDB_txn *txn; /* the nested transaction of the branch */
	uint64_t index;
	struct proto_txn t;
	struct proto_txn_result out;
	uint64_t get_bytes; /* values the gets returned so far */
};

static int sm_txn_compare(struct sm_txn_run *run, MDB_txn *txn, const struct proto_txn_cmp *c,
                          int *holds)
{
	int exists = 0;
	uint64_t create_index = 0, mod_index = 0;
	struct proto_bytes value = {0};
	int err = sm_kv_lookup(run->sm, txn, &c->key, &exists, &create_index, &mod_index,
	                       c->target == PROTO_TXN_CMP_VALUE ? &value : NULL);
	if (err != 0)
		return err;
	switch (c->target) {
	case PROTO_TXN_CMP_MOD_INDEX:
		*holds = mod_index == c->mod_index; /* an absent key's is 0 */
		break;
	case PROTO_TXN_CMP_EXISTS:
		*holds = exists == (int)c->exists;
		break;
	default:
		*holds = exists && value.len == c->value.len &&
		         (value.len == 0 || memcmp(value.ptr, c->value.ptr, value.len) == 0);
	}
	return 0;
}

static int sm_txn_put(struct sm_txn_run *run, const struct proto_txn_op *o,
                      struct proto_txn_op_result *r, int *refused)
{
	if (o->lease != 0) {
		int st = sm_lease_check(run->sm, run->txn, o->lease, &o->key);
		if (st != 0) {
			*refused = st;
			return 0;
		}
	}
	struct sm_result res = {0};
	int err = sm_kv_put(run->sm, run->txn, &o->key, &o->value, run->index, &res);
	if (err != 0)
		return err;
	if (res.status != 0) {
		*refused = res.status; /* KV_EFULL, KV_EINVAL */
		return 0;
	}
	r->create_index = res.create_index;
	r->mod_index = res.mod_index;
	return o->lease != 0 ? sm_lease_attach(run->sm, run->txn, o->lease, &o->key, run->index)
	                     : 0;
}

static int sm_txn_get(struct sm_txn_run *run, const struct proto_txn_op *o,
                      struct proto_txn_op_result *r)
{
	int exists = 0;
	int err = sm_kv_lookup(run->sm, run->txn, &o->key, &exists, &r->create_index, &r->mod_index,
	                       &r->value);
	if (err != 0)
		return err;
	if (!exists) {
		r->status = KV_ENOTFOUND;
	} else if (run->get_bytes + r->value.len > KV_TXN_RESULT_BYTES_MAX) {
		r->status = KV_ETOOLARGE; /* the same on every node: only this answer is cut */
		r->value = (struct proto_bytes){0};
	} else {
		run->get_bytes += r->value.len;
	}
	return 0;
}

static int sm_txn_delete_prefix(struct sm_txn_run *run, const struct proto_txn_op *o,
                                struct proto_txn_op_result *r, int *refused)
{
	int32_t status = 0;
	uint32_t n = 0;
	int err = sm_prefix_delete(run->sm, run->txn, &o->key, run->index, KV_TXN_PREFIX_KEYS_MAX,
	                           &n, &status);
	r->count = n;
	if (err == 0 && status != 0)
		*refused = status; /* KV_ETOOLARGE: the branch is aborted */
	return err;
}

static int sm_txn_op(struct sm_txn_run *run, const struct proto_txn_op *o,
                     struct proto_txn_op_result *r, int *refused)
{
	struct sm_result res = {0};
	int err = 0;
	r->kind = o->kind;
	switch (o->kind) {
	case PROTO_TXN_PUT:
		return sm_txn_put(run, o, r, refused);
	case PROTO_TXN_DELETE:
		err = sm_kv_delete(run->sm, run->txn, &o->key, run->index, &res);
		r->status = res.status; /* KV_ENOTFOUND: nothing to delete, not a failure */
		r->count = res.status == 0;
		r->mod_index = res.status == 0 ? run->index : 0;
		return err;
	case PROTO_TXN_GET:
		return sm_txn_get(run, o, r);
	default:
		return sm_txn_delete_prefix(run, o, r, refused);
	}
}

/*
 * Runs one branch in a nested transaction; *refused set (and nothing kept)
 * when it cannot. SM_BUG_TXN_NOT_ATOMIC (make sm-txn-bugs) plants the bug
 * this guards against: the ops run in the batch's transaction itself, so a
 * branch refused halfway keeps its first writes.
 */
static int sm_txn_branch(struct sm_txn_run *run, MDB_txn *parent, const struct proto_txn_op *ops,
                         uint32_t n, int *refused, struct proto_buf *body)
{
	uint64_t data_bytes_before = run->sm->data_bytes;
#ifdef SM_BUG_TXN_NOT_ATOMIC
	run->txn = parent;
	(void)data_bytes_before;
#else
	int rc = mdb_txn_begin(run->sm->env, parent, 0, &run->txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
#endif
	int err = 0;
	for (uint32_t i = 0; i < n && err == 0 && *refused == 0; i++)
		err = sm_txn_op(run, &ops[i], &run->out.results[i], refused);
	run->out.n_results = n;
	/* encoded now: the gets' values point into pages of the nested transaction */
	if (err == 0 && *refused == 0)
		err = proto_txn_result_encode(&run->out, body);
#ifdef SM_BUG_TXN_NOT_ATOMIC
	return err;
#else
	if (err != 0 || *refused != 0) {
		mdb_txn_abort(run->txn);
		run->sm->data_bytes = data_bytes_before;
		return err;
	}
	return sm_err_from_mdb(mdb_txn_commit(run->txn));
#endif
}

static int sm_txn_run(struct sm_txn_run *run, MDB_txn *txn, struct sm_result *res)
{
	int holds = 1;
	for (uint32_t i = 0; i < run->t.n_cmp && holds; i++) {
		int err = sm_txn_compare(run, txn, &run->t.cmp[i], &holds);
		if (err != 0)
			return err;
	}
	run->out.succeeded = (uint8_t)holds;
	struct proto_buf *body = &run->sm->result_body;
	size_t off = body->len;
	int refused = 0;
	int err = sm_txn_branch(run, txn, holds ? run->t.success : run->t.failure,
	                        holds ? run->t.n_success : run->t.n_failure, &refused, body);
	if (err == KV_ETOOLARGE) {
		/* the answer would not fit a message: refused alike on every node */
		refused = KV_ETOOLARGE;
		err = 0;
	}
	if (err != 0 || refused != 0) {
		body->len = off;
		res->status = refused;
		return err;
	}
	res->body_off = off;
	res->body_len = (uint32_t)(body->len - off);
	res->create_index = res->index;
	res->mod_index = holds; /* what a session keeps of a transaction: see the top */
	return 0;
}

int sm_txn_apply(struct sm *sm, MDB_txn *txn, const struct proto_kv_cmd *c, struct sm_result *res)
{
	KV_ASSERT(c->op == PROTO_KV_TXN);
	struct sm_txn_run *run = calloc(1, sizeof(*run));
	if (run == NULL)
		return KV_ENOMEM; /* the batch is aborted and retried, the same on this node */
	run->sm = sm;
	run->index = res->index;
	int err = 0;
	if (proto_txn_decode(c->value.ptr, c->value.len, &run->t) != 0)
		res->status = KV_EINVAL; /* the gateway encodes what it validated: never expected */
	else
		err = sm_txn_run(run, txn, res);
	free(run);
	return err;
}

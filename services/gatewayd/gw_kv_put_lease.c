/*
 * gw_kv_put_lease.c - PUT /v1/kv/{key}?lease=ID: the value is attached to a
 * lease, so the put must fail (404 lease_not_found) when the lease is gone
 * at the index where it applies. That check belongs to the state machine,
 * so the put travels as a one-op transaction whose put carries the lease;
 * If-Match and If-None-Match become its compares (412 when they fail).
 * Answered as a PUT with "lease" added (gw_coord_reply.c). Loop thread only.
 */
#include "gw_coord.h"
#include "gw_pending.h"
#include "gw_reply.h"
#include "gw_write.h"
#include "kv_err.h"
#include "proto_txn.h"

#include <stdlib.h>

/* The put and c's condition as a transaction, encoded into req's pool; 0 or a KV_E*. */
static int put_lease_encode(struct gw_call *c, h2o_req_t *req, uint64_t lease)
{
	struct proto_txn *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return KV_ENOMEM;
	struct proto_bytes key = {c->key.bytes, c->key.len};
	if (c->cond == PROTO_COND_IF_MATCH)
		t->cmp[t->n_cmp++] = (struct proto_txn_cmp){
		    .target = PROTO_TXN_CMP_MOD_INDEX, .key = key, .mod_index = c->cond_index};
	if (c->cond == PROTO_COND_IF_NONE_MATCH)
		t->cmp[t->n_cmp++] =
		    (struct proto_txn_cmp){.target = PROTO_TXN_CMP_EXISTS, .key = key, .exists = 0};
	struct proto_txn_op *op = &t->success[t->n_success++];
	op->kind = PROTO_TXN_PUT;
	op->key = key;
	op->value =
	    (struct proto_bytes){(const uint8_t *)req->entity.base, (uint32_t)req->entity.len};
	op->lease = lease;
	int err = gw_txn_keep(c, req, t);
	free(t);
	return err;
}

void gw_kv_put_lease(struct gw_req *r)
{
	/* prepared as a PUT: If-None-Match is read as on any PUT */
	struct gw_call *c = gw_write_prepare(r, PROTO_KV_PUT);
	if (c == NULL)
		return;
	c->op = PROTO_KV_TXN;
	c->txn_is_put = 1;
	c->lease = r->query.lease;
	int err = put_lease_encode(c, r->http.req, r->query.lease);
	if (err != 0) {
		gw_reply_kv_error(r->gw, &c->http, err, NULL, NULL);
		gw_pending_end(r->gw, c);
		return;
	}
	gw_write_go(r->gw, c);
}

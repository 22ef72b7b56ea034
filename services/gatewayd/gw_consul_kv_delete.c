/*
 * gw_consul_kv_delete.c - Consul's DELETE /v1/kv/{key}: one key (?cas=N: only
 * if its ModifyIndex is N; ?cas=0: only if it is absent, which deletes
 * nothing), or with ?recurse every key under the prefix in one Raft entry
 * (storaged's DELETE_PREFIX, at most KV_DELETE_PREFIX_KEYS_MAX keys, else
 * none and a 413 asking to delete in parts). The empty prefix is every key,
 * as Consul's DeleteTree("") is, within the same bound: a DELETE_PREFIX
 * command's key is never empty, so that one travels as a transaction of one
 * delete_prefix op, which takes the empty prefix and has the same bound
 * (KV_TXN_PREFIX_KEYS_MAX). Answers true or false, as Consul: deleting what
 * is not there is true. Loop thread only.
 */
#include "gw_consul.h"
#include "gw_coord.h"
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_write.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "proto_txn.h"

#include <stdlib.h>

_Static_assert(KV_TXN_PREFIX_KEYS_MAX == KV_DELETE_PREFIX_KEYS_MAX,
               "every recursive delete has the one bound that docs/api.md names");

/* The transaction that deletes every key, encoded into req's pool; 0 or a KV_E*. */
static int delete_everything_encode(struct gw_call *c, h2o_req_t *req)
{
	struct proto_txn *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return KV_ENOMEM;
	t->success[t->n_success++] =
	    (struct proto_txn_op){.kind = PROTO_TXN_DELETE_PREFIX, .key = {(const uint8_t *)"", 0}};
	int err = gw_txn_keep(c, req, t);
	free(t);
	return err;
}

/* DELETE /v1/kv/?recurse: every key, in one entry, or none past the bound. */
static void delete_everything(struct gw_req *r)
{
	struct gw_call *c =
	    gw_write_prepare_cond(r, PROTO_KV_TXN, PROTO_COND_NONE, 0, gw_consul_reply_write);
	if (c == NULL)
		return;
	int err = delete_everything_encode(c, r->http.req);
	if (err != 0) {
		gw_write_fail(r->gw, c, err, NULL);
		return;
	}
	gw_write_go(r->gw, c);
}

void gw_consul_kv_delete_handle(struct gw_req *r)
{
	if (r->consul.recurse) {
		if (r->consul.has_cas) {
			gw_consul_reply_missing(
			    r->gw, &r->http,
			    "?cas= with ?recurse is not supported: a tree has no "
			    "single ModifyIndex");
			return;
		}
		if (r->key.len == 0)
			delete_everything(r);
		else
			gw_write_begin_cond(r, PROTO_KV_DELETE_PREFIX, PROTO_COND_NONE, 0,
			                    gw_consul_reply_write);
		return;
	}
	if (r->key.len == 0) {
		gw_reply_error(r->gw, &r->http, 400, "invalid_key", "the key is empty", NULL);
		return;
	}
	/* cas=0 on a key: If-Match 0 fails when it exists (false) and when it does not (true) */
	gw_write_begin_cond(r, PROTO_KV_DELETE,
	                    r->consul.has_cas ? PROTO_COND_IF_MATCH : PROTO_COND_NONE,
	                    r->consul.cas, gw_consul_reply_write);
}

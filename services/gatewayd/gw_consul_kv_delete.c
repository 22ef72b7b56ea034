/*
 * gw_consul_kv_delete.c - Consul's DELETE /v1/kv/{key}: one key (?cas=N: only
 * if its ModifyIndex is N; ?cas=0: only if it is absent, which deletes
 * nothing), or with ?recurse every key under the prefix in one Raft entry
 * (storaged's DELETE_PREFIX, at most KV_DELETE_PREFIX_KEYS_MAX keys, else
 * none). Answers true or false, as Consul: deleting what is not there is
 * true. Loop thread only.
 */
#include "gw_consul.h"
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_write.h"
#include "kv_err.h"

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
		if (r->key.len == 0) {
			gw_consul_reply_missing(
			    r->gw, &r->http,
			    "a recursive delete of every key (the empty prefix) is "
			    "not supported: name a prefix");
			return;
		}
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

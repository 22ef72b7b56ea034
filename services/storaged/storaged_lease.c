/*
 * storaged_lease.c - LEASE_QUERY on the query socket: one lease's TTL and
 * keys (GET /v1/leases/{id}, keepalives checking the lease is alive) or a
 * page of leases (the leader's lease clock loading what it must time).
 * Parked like GET until min_index is applied. Loop thread.
 */
#include "storaged.h"

#include "kv_limits.h"

int storaged_lease_query(struct storaged *sd, const struct storaged_envelope *env, uint64_t req_id,
                         const struct proto_lease_query *m, int status)
{
	struct proto_local rm = {.type = PROTO_LEASE_QUERY_RESP, .req_id = req_id};
	struct proto_lease_query_resp *r = &rm.u.lease_query_resp;
	r->status = status;
	if (status == 0)
		r->status = sm_lease_read(sd->sm, m->lease, m->after, KV_LIST_LIMIT_MAX, &r->ttl_ms,
		                          &sd->list);
	if (r->status == 0) {
		const struct sm_list *l = &sd->list;
		for (uint32_t i = 0; i < l->n_items; i++) {
			const struct sm_item *it = &l->items[i];
			sd->items[i] = (struct proto_item){
			    .key = {l->buf.ptr + it->key_off, it->key_len},
			    .value = {l->buf.ptr + it->value_off, it->value_len},
			    .create_index = it->create_index,
			    .mod_index = it->mod_index,
			};
		}
		r->n_items = l->n_items;
		r->items = sd->items;
		r->more = (uint8_t)l->more;
	}
	r->applied_index = sd->sm->applied_index;
	return storaged_sock_reply(sd, sd->query_sock, env, &rm);
}

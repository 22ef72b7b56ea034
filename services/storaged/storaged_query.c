/*
 * storaged_query.c - gatewayd's requests on the query socket: GET and LIST
 * (answered once the applied index reaches min_index, else parked) and
 * STATS (WATCH: storaged_watch.c). Values are copied out of their read transaction before it ends
 * (sm_read.c) and encoded from those copies. Loop thread.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <string.h>

static int storaged_query_get(struct storaged *sd, const struct storaged_envelope *env,
                              uint64_t req_id, const struct proto_get *m, int status)
{
	struct proto_local rm = {.type = PROTO_GET_RESP, .req_id = req_id};
	struct proto_get_resp *r = &rm.u.get_resp;
	r->status = status;
	if (status == 0)
		r->status = sm_read_get(sd->sm, m->key.ptr, m->key.len, &sd->value,
		                        &r->create_index, &r->mod_index, &r->flags);
	if (r->status == 0) {
		r->value.ptr = sd->value.ptr;
		r->value.len = (uint32_t)sd->value.len;
	}
	r->applied_index = sd->sm->applied_index;
	return storaged_sock_reply(sd, sd->query_sock, env, &rm);
}

static int storaged_query_list(struct storaged *sd, const struct storaged_envelope *env,
                               uint64_t req_id, const struct proto_list *m, int status)
{
	struct proto_local rm = {.type = PROTO_LIST_RESP, .req_id = req_id};
	struct proto_list_resp *r = &rm.u.list_resp;
	r->status = status;
	uint64_t limit = m->limit ? m->limit : KV_LIST_LIMIT_DEFAULT;
	if (status == 0 && limit > KV_LIST_LIMIT_MAX)
		r->status = KV_EINVAL;
	if (r->status == 0)
		r->status = sm_read_list(sd->sm, m->prefix.ptr, m->prefix.len, m->after.ptr,
		                         m->after.len, (uint32_t)limit, &sd->list);
	if (r->status == 0) {
		const struct sm_list *l = &sd->list;
		for (uint32_t i = 0; i < l->n_items; i++) {
			const struct sm_item *it = &l->items[i];
			sd->items[i].key.ptr = l->buf.ptr + it->key_off;
			sd->items[i].key.len = it->key_len;
			sd->items[i].value.ptr = l->buf.ptr + it->value_off;
			sd->items[i].value.len = it->value_len;
			sd->items[i].create_index = it->create_index;
			sd->items[i].mod_index = it->mod_index;
			sd->items[i].flags = it->flags;
		}
		r->n_items = l->n_items;
		r->items = sd->items;
		r->more = (uint8_t)l->more;
	}
	r->applied_index = sd->sm->applied_index;
	return storaged_sock_reply(sd, sd->query_sock, env, &rm);
}

static int storaged_query_stats(struct storaged *sd, const struct storaged_envelope *env,
                                const struct proto_local *m)
{
	struct sm_stats st;
	struct proto_local r = {.type = PROTO_STATS_RESP, .req_id = m->req_id};
	/* STATS_RESP carries no status: a failure answers zeros. */
	if (sm_stats_get(sd->sm, &st) == 0)
		r.u.stats_resp = (struct proto_stats_resp){.applied_index = st.applied_index,
		                                           .term = st.applied_term,
		                                           .map_bytes = st.map_bytes,
		                                           .used_bytes = st.used_bytes,
		                                           .full = (uint8_t)st.full,
		                                           .size = st.keys,
		                                           .quota_bytes = st.quota_bytes,
		                                           .data_bytes = st.data_bytes,
		                                           .alarm = (uint8_t)st.alarm};
	return storaged_sock_reply(sd, sd->query_sock, env, &r);
}

int storaged_query_answer(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m, int status)
{
	if (m->type == PROTO_GET)
		return storaged_query_get(sd, env, m->req_id, &m->u.get, status);
	if (m->type == PROTO_WATCH) {
		uint64_t from = m->u.watch.from_index;
		storaged_watch_try(sd, env, m, status != 0 ? status : KV_ETIMEDOUT, &from, 1);
		return 0;
	}
	if (m->type == PROTO_LEASE_QUERY)
		return storaged_lease_query(sd, env, m->req_id, &m->u.lease_query, status);
	KV_ASSERT(m->type == PROTO_LIST);
	return storaged_query_list(sd, env, m->req_id, &m->u.list, status);
}

void storaged_query_wait(const struct proto_local *m, uint64_t *min_index, uint64_t *wait_ms)
{
	KV_ASSERT(m->type == PROTO_GET || m->type == PROTO_LIST || m->type == PROTO_WATCH ||
	          m->type == PROTO_LEASE_QUERY);
	if (m->type == PROTO_WATCH) {
		*min_index = m->u.watch.min_index;
		*wait_ms = m->u.watch.wait_ms;
		return;
	}
	if (m->type == PROTO_LEASE_QUERY) {
		*min_index = m->u.lease_query.min_index;
		*wait_ms = m->u.lease_query.wait_ms;
		return;
	}
	*min_index = m->type == PROTO_GET ? m->u.get.min_index : m->u.list.min_index;
	*wait_ms = m->type == PROTO_GET ? m->u.get.wait_ms : m->u.list.wait_ms;
}

int storaged_query_handle(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m, const uint8_t *body, size_t body_len)
{
	uint64_t min_index, wait_ms;

	switch (m->type) {
	case PROTO_STATS_REQ:
		return storaged_query_stats(sd, env, m);
	case PROTO_SNAPSHOT_REQ: /* GET /v1/snapshot: a backup */
		storaged_apply_snapshot_req(sd, sd->query_sock, env, m->req_id, 1);
		return 0;
	case PROTO_WATCH:
		return storaged_watch_handle(sd, env, m, body, body_len);
	case PROTO_GET:
	case PROTO_LIST:
	case PROTO_LEASE_QUERY:
		storaged_query_wait(m, &min_index, &wait_ms);
		if (sd->sm->applied_index >= min_index)
			return storaged_query_answer(sd, env, m, 0);
		if (wait_ms == 0)
			return storaged_query_answer(sd, env, m, KV_ETIMEDOUT);
		int err = storaged_park_add(sd, env, m, body, body_len, kv_clock_mono_ms());
		if (err != 0)
			return storaged_query_answer(sd, env, m, err);
		return 0;
	default:
		KV_LOG_WARN("storaged", "unexpected message on the query socket", "type=%u",
		            m->type);
		return 0;
	}
}

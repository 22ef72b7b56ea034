/*
 * gw_seed_store_get.c - GET /store/<key>, from the third seed project:
 * {"data":{"key":...,"value":...},"message":"success fetching data"}; a
 * value that is not JSON text (written through /v1/kv) is given as a
 * string. A key that is not there is 404 key_not_found (the seed answered
 * 422 with badger's "Key not found"). Loop thread only.
 */
#include "gw_read.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_seed.h"

#include "kv_err.h"

static void store_get_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_get_resp *m = gw_seed_get_resp(gw, c, lm);
	if (m == NULL)
		return;
	if (m->status != 0) {
		c->http.raft_index = m->applied_index;
		gw_read_fail(gw, c, m->status);
		return;
	}
	int is_json = gw_seed_json_is_value((const char *)m->value.ptr, m->value.len);
	gw_seed_store_answer(gw, c, "success fetching data", m->value, is_json, m->applied_index);
}

static const struct gw_call_ops store_get_ops = {store_get_on_msg, gw_read_on_retry,
                                                 gw_read_on_deadline};

void gw_seed_store_get_handle(struct gw_req *r)
{
	gw_seed_get_start(r, &store_get_ops);
}

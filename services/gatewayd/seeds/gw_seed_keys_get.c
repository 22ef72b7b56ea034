/*
 * gw_seed_keys_get.c - GET /keys/<key>/, from the second seed project
 * (hashicorp/raft's raft-kv-example): {"value":"<value>"}, and
 * {"value":""} for a key that is not there, as the seed answers. Loop
 * thread only.
 */
#include "gw_read.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_seed.h"

static void keys_get_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_get_resp *m = gw_seed_get_resp(gw, c, lm);
	if (m == NULL)
		return;
	struct gw_json j;
	gw_json_init(&j, GW_SEED_BODY_MAX + (size_t)6 * m->value.len);
	gw_json_raw(&j, "{\"value\":", 9);
	gw_seed_json_go_str(&j, m->status == 0 ? m->value.ptr : NULL,
	                    m->status == 0 ? m->value.len : 0);
	gw_json_raw(&j, "}", 1);
	gw_seed_send(gw, &c->http, &j, m->applied_index);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops keys_get_ops = {keys_get_on_msg, gw_read_on_retry,
                                                gw_read_on_deadline};

void gw_seed_keys_get_handle(struct gw_req *r)
{
	if (gw_seed_trim_slash(r) == 0)
		gw_seed_get_start(r, &keys_get_ops);
}

/*
 * gw_seed_keys_set.c - POST /keys/<key>/ with {"value":"<value>"}, from the
 * second seed project: puts the value and answers {"value":"<value>"}. A
 * follower forwards it to the leader (the seed's TODO list asked for
 * exactly that). Loop thread only.
 */
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_seed.h"
#include "gw_write.h"

#include "proto.h"

static void keys_set_written(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	struct gw_json j;
	gw_json_init(&j, GW_SEED_BODY_MAX + (size_t)6 * c->value.len);
	gw_json_raw(&j, "{\"value\":", 9);
	gw_seed_json_go_str(&j, c->value.ptr, c->value.len);
	gw_json_raw(&j, "}", 1);
	gw_seed_send(gw, &c->http, &j, m->index);
	gw_pending_end(gw, c);
}

void gw_seed_keys_set_handle(struct gw_req *r)
{
	struct gw_seed_member want[] = {{.name = "value"}};
	struct proto_bytes value;
	if (gw_seed_trim_slash(r) != 0 || gw_seed_body(r, want, 1) != 0 ||
	    gw_seed_body_value(r, &want[0], &value) != 0)
		return;
	gw_write_begin_kv(r, PROTO_KV_PUT, &r->key, value, keys_set_written);
}

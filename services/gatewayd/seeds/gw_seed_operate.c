/*
 * gw_seed_operate.c - POST /operate_data, from the first seed project:
 * {"key","value","action":"add"} puts, {"key","action":"del"} deletes. A
 * follower forwards it to the leader (the seed answered
 * {"success":false,"leader":...} instead). Success is 200 with an empty
 * body, as the seed's session shows. Loop thread only.
 */
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_seed.h"
#include "gw_write.h"

#include "proto.h"

#include <string.h>

static void operate_written(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	gw_reply_send(gw, &c->http, 200, NULL, "", 0, m->index);
	gw_pending_end(gw, c);
}

/* The action member: PROTO_KV_PUT, PROTO_KV_DELETE, or 0 when it is neither. */
static uint8_t operate_action(const struct gw_req *r, const struct gw_seed_member *m)
{
	const char *raw = r->http.req->entity.base + m->at;
	if (!m->found || !m->is_string)
		return 0;
	if (m->len == 5 && memcmp(raw, "\"add\"", 5) == 0)
		return PROTO_KV_PUT;
	if (m->len == 5 && memcmp(raw, "\"del\"", 5) == 0)
		return PROTO_KV_DELETE;
	return 0;
}

void gw_seed_operate_handle(struct gw_req *r)
{
	struct gw_seed_member want[] = {{.name = "key"}, {.name = "value"}, {.name = "action"}};
	if (gw_seed_body(r, want, 3) != 0)
		return;
	uint8_t op = operate_action(r, &want[2]);
	if (op == 0) {
		struct gw_error_extra ex = {.param = "action"};
		gw_reply_error(r->gw, &r->http, 400, "invalid_argument",
		               "\"action\" must be \"add\" or \"del\"", &ex);
		return;
	}
	struct gw_key key;
	struct proto_bytes value;
	if (gw_seed_body_key(r, &want[0], &key) != 0 ||
	    gw_seed_auth_key(r, key.bytes, key.len) != 0 ||
	    gw_seed_body_value(r, &want[1], &value) != 0)
		return;
	gw_write_begin_kv(r, op, &key, value, operate_written);
}

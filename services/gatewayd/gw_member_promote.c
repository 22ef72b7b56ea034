/*
 * gw_member_promote.c - POST /v1/members/{id}/promote: makes a caught-up
 * learner a voter (MEMBER_CHANGE op 2). Answers 200 with the member once
 * the change is committed; 409 not_caught_up, 404 member_not_found, 400
 * already_voter (gw_member_reply.c). Loop thread only.
 */
#include "gw_member.h"
#include "gw_reply.h"
#include "gw_routes.h"

#include "gw_errors.h"
#include "kv_err.h"

#include <string.h>

void gw_member_promote_handle(struct gw_req *r)
{
	static const char suffix[] = "/promote";
	size_t slen = sizeof(suffix) - 1, len = r->key.len;
	struct gw_member_change ch = {.op = RAFT_CONFIG_PROMOTE, .style = GW_MEMBER_STYLE_API};
	struct gw_error_extra ex = {.param = "id", .limit = KV_MEMBER_ID_MAX, .has_limit = 1};

	if (len <= slen || memcmp(r->key.bytes + len - slen, suffix, slen) != 0) {
		gw_reply_error(r->gw, &r->http, 404, "not_found",
		               "POST /v1/members/{id}/promote is the only POST on a member", NULL);
		return;
	}
	if (gw_parse_u64((const char *)r->key.bytes, len - slen, &ch.m.id) != 0 || ch.m.id == 0 ||
	    ch.m.id > KV_MEMBER_ID_MAX) {
		gw_reply_error(r->gw, &r->http, 400, kv_err_code(KV_EINVAL),
		               "the member id must be a number from 1 to 65535", &ex);
		return;
	}
	gw_member_change_start(r, &ch);
}

/*
 * gw_seed_store_set.c - POST /store with {"key","value"}, from the third
 * seed project (yusufsyaifudin/raft-sample): the value is any JSON value,
 * kept as the JSON text it was sent as (the seed kept it JSON-encoded too);
 * the key has its surrounding spaces trimmed, as the seed trims it. Answers
 * {"data":{"key":...,"value":...},"message":"success persisting data"} and
 * a newline, as the seed's echo server does. A follower forwards it to the
 * leader (the seed refused with "not the leader"). Loop thread only.
 */
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_seed.h"
#include "gw_write.h"

#include "kv_err.h"
#include "proto.h"

#include <string.h>

static void store_set_written(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	gw_seed_store_answer(gw, c, "success persisting data", c->value, 1, m->index);
}

/* The key trimmed of spaces (Go's strings.TrimSpace, ASCII part); 0, or -1 after 400. */
static int store_trim_key(struct gw_req *r, struct gw_key *k)
{
	uint32_t a = 0, b = k->len;
	while (a < b && strchr(" \t\n\r\v\f", k->bytes[a]) != NULL && k->bytes[a] != '\0')
		a++;
	while (b > a && strchr(" \t\n\r\v\f", k->bytes[b - 1]) != NULL && k->bytes[b - 1] != '\0')
		b--;
	if (a == b) {
		struct gw_error_extra ex = {.param = "key"};
		gw_reply_error(r->gw, &r->http, 400, "invalid_key", "the key is empty", &ex);
		return -1;
	}
	memmove(k->bytes, k->bytes + a, b - a);
	k->len = b - a;
	return 0;
}

void gw_seed_store_set_handle(struct gw_req *r)
{
	struct gw_seed_member want[] = {{.name = "key"}, {.name = "value"}};
	struct gw_key key;
	if (gw_seed_body(r, want, 2) != 0 || gw_seed_body_key(r, &want[0], &key) != 0 ||
	    store_trim_key(r, &key) != 0 || gw_seed_auth_key(r, key.bytes, key.len) != 0)
		return;
	struct proto_bytes value = {(const uint8_t *)"null", 4};
	if (want[1].found)
		value = (struct proto_bytes){(const uint8_t *)r->http.req->entity.base + want[1].at,
		                             (uint32_t)want[1].len};
	if (value.len > r->cfg->max_value_bytes) {
		struct gw_error_extra ex = {
		    .param = "value", .limit = r->cfg->max_value_bytes, .has_limit = 1};
		gw_reply_kv_error(r->gw, &r->http, KV_ETOOLARGE, "the value is over the size limit",
		                  &ex);
		return;
	}
	gw_write_begin_kv(r, PROTO_KV_PUT, &key, value, store_set_written);
}

/*
 * gw_seed_store_delete.c - DELETE /store/<key>, from the third seed
 * project: deletes the key and answers
 * {"data":{"key":...,"value":null},"message":"success removing data"}, also
 * for a key that was not there (as the seed does). A follower forwards it
 * to the leader. Loop thread only.
 */
#include "gw_routes.h"
#include "gw_seed.h"
#include "gw_write.h"

#include "proto.h"

static void store_delete_written(struct gw *gw, struct gw_call *c, const struct proto_result *m)
{
	gw_seed_store_answer(gw, c, "success removing data", (struct proto_bytes){NULL, 0}, 1,
	                     m->index);
}

void gw_seed_store_delete_handle(struct gw_req *r)
{
	gw_write_begin_kv(r, PROTO_KV_DELETE, &r->key, (struct proto_bytes){NULL, 0},
	                  store_delete_written);
}

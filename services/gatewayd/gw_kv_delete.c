/*
 * gw_kv_delete.c - DELETE /v1/kv/{key}, with If-Match and an Idempotency-Key;
 * the write goes through gw_write.c and answers {"key","mod_index"} where
 * mod_index is the index of the delete. Loop thread only.
 */
#include "gw_routes.h"
#include "gw_write.h"
#include "proto.h"

void gw_kv_delete_handle(struct gw_req *r)
{
	gw_write_begin(r, PROTO_KV_DELETE);
}

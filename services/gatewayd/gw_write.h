/*
 * gw_write.h - the write path shared by PUT and DELETE (gw_write.c): find the
 * leader, propose to raftd or forward to the leader's gateway, wait for the
 * result, answer. Loop thread only.
 */
#ifndef RAFTKV_GW_WRITE_H
#define RAFTKV_GW_WRITE_H

#include "gw_req.h"

#include <stdint.h>

/*
 * Writes r's key (op: enum proto_kv_op; a PUT's value is the request body):
 * takes a pending slot (429 when none), reads the condition and idempotency
 * headers (400 when malformed), then proposes or forwards. Always answers r,
 * now or later.
 */
void gw_write_begin(struct gw_req *r, uint8_t op);

#endif

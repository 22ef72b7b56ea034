/*
 * gw_write.h - the write path shared by PUT and DELETE (gw_write.c): find the
 * leader, propose to raftd or forward to the leader's gateway, wait for the
 * result, answer. Loop thread only.
 */
#ifndef RAFTKV_GW_WRITE_H
#define RAFTKV_GW_WRITE_H

#include "gw_pending.h"
#include "gw_req.h"

#include <stdint.h>

/*
 * Writes r's key (op: enum proto_kv_op; a PUT's value is the request body):
 * takes a pending slot (429 when none), reads the condition and idempotency
 * headers (400 when malformed), then proposes or forwards. Always answers r,
 * now or later.
 */
void gw_write_begin(struct gw_req *r, uint8_t op);

/*
 * The same write of key and value chosen by the handler (decoded from a JSON
 * body by the seed routes) instead of the path and the body. value is
 * borrowed until the call ends (it lives in r's req->pool); on success
 * on_written answers and ends the call; failures answer as gw_write_begin.
 * A follower forwards the client's own request, which the leader's handler
 * decodes again.
 */
void gw_write_begin_kv(struct gw_req *r, uint8_t op, const struct gw_key *key,
                       struct proto_bytes value,
                       void (*on_written)(struct gw *gw, struct gw_call *c,
                                          const struct proto_result *m));

#endif

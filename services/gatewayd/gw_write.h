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

struct gw;
struct gw_call;
struct proto_result;

/*
 * As gw_write_begin for another API (Consul's, gw_consul.h): the condition
 * comes from the caller instead of headers, and on_result answers the
 * RESULT (and ends the call; gw_write_fail answers the other outcomes).
 */
void gw_write_begin_cond(struct gw_req *r, uint8_t op, uint8_t cond, uint64_t cond_index,
                         void (*on_result)(struct gw *gw, struct gw_call *c,
                                           const struct proto_result *m));
/* Answers c with the error of err (message NULL: the code's own) and ends it. */
void gw_write_fail(struct gw *gw, struct gw_call *c, int err, const char *message);

#endif

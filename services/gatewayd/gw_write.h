/*
 * gw_write.h - the write path shared by PUT and DELETE (gw_write.c): find the
 * leader, propose to raftd or forward to the leader's gateway, wait for the
 * result, answer. Loop thread only.
 */
#ifndef RAFTKV_GW_WRITE_H
#define RAFTKV_GW_WRITE_H

#include "gw_pending.h"
#include "gw_req.h"
#include "proto.h"

#include <stdint.h>

/*
 * Writes r's key (op: enum proto_kv_op; a PUT's value is the request body):
 * takes a pending slot (429 when none), reads the condition and idempotency
 * headers (400 when malformed), then proposes or forwards. Always answers r,
 * now or later.
 */
void gw_write_begin(struct gw_req *r, uint8_t op);

/*
 * gw_write_begin in two steps, for writes that set more of the call (TXN,
 * leases): the call with its headers read, or NULL once r is answered
 * (429, 400); then gw_write_go proposes or forwards it.
 */
struct gw_call *gw_write_prepare(struct gw_req *r, uint8_t op);
void gw_write_go(struct gw *gw, struct gw_call *c);

/*
 * The leader's answer to a write that is not a single PUT or DELETE
 * (gw_coord_reply.c): a TXN, a PUT ?lease=, a lease grant or revocation.
 * Answers c and ends it.
 */
void gw_coord_on_result(struct gw *gw, struct gw_call *c, const struct proto_result *m);

/*
 * As gw_write_begin for another API (Consul's, gw_consul.h): the condition
 * comes from the caller instead of headers, and on_result answers the
 * RESULT (and ends the call; gw_write_fail answers the other outcomes).
 */
void gw_write_begin_cond(struct gw_req *r, uint8_t op, uint8_t cond, uint64_t cond_index,
                         void (*on_result)(struct gw *gw, struct gw_call *c,
                                           const struct proto_result *m));
/* gw_write_begin_cond in two steps, as gw_write_prepare and gw_write_go: the call, or
 * NULL once r is answered (429); the caller sets more of it (a TXN's payload), then goes. */
struct gw_call *gw_write_prepare_cond(struct gw_req *r, uint8_t op, uint8_t cond,
                                      uint64_t cond_index,
                                      void (*on_result)(struct gw *gw, struct gw_call *c,
                                                        const struct proto_result *m));
/* Answers c with the error of err (message NULL: the code's own) and ends it. */
void gw_write_fail(struct gw *gw, struct gw_call *c, int err, const char *message);

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

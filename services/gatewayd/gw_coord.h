/*
 * gw_coord.h - what the coordination routes share (transactions, leases):
 * the error answer for a refused JSON body, PUT ?lease= as a transaction,
 * and the leader-side lease calls (keepalive and lookup, gw_lease_call.c).
 * Loop thread only.
 */
#ifndef RAFTKV_GW_COORD_H
#define RAFTKV_GW_COORD_H

#include "gw_req.h"
#include "gw_txn_parse.h"

/* Answers r with e's status, code, message, parameter and limit. */
void gw_coord_reply_bad(struct gw_req *r, const struct gw_txn_err *e);

struct gw_call;
struct proto_txn;

/*
 * Encodes t (borrowed for the call) as the TXN payload of c (c->txn,
 * c->txn_len), kept in req's pool until the request ends: for routes that
 * build a transaction themselves (PUT ?lease=, Consul's DeleteTree("")).
 * Returns 0 or a KV_E* (KV_EINVAL: a count out of range).
 */
int gw_txn_keep(struct gw_call *c, h2o_req_t *req, const struct proto_txn *t);

/* PUT /v1/kv/{key}?lease=ID: the put and its conditions as a one-op TXN (gw_kv_put_lease.c). */
void gw_kv_put_lease(struct gw_req *r);

/* The leader-side lease requests (gw_lease_call.c). */
enum gw_lease_call_kind { GW_LEASE_KEEPALIVE = 1, GW_LEASE_LOOKUP = 2 };

/*
 * Runs a keepalive or a lookup of lease id on the leader: here when this
 * node leads (a read index, then storaged's LEASE_QUERY, then the lease
 * clock), else forwarded to the leader's gateway. Always answers r.
 */
void gw_lease_call_start(struct gw_req *r, enum gw_lease_call_kind kind, uint64_t id);

/*
 * The lease id of /v1/leases/{key}: "<id>", or "<id>/keepalive" when
 * keepalive. 0 and *id, or -1 after answering r (400 for a malformed id,
 * 404 for another path).
 */
int gw_lease_parse_id(struct gw_req *r, int keepalive, uint64_t *id);

#endif

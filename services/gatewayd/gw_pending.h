/*
 * gw_pending.h - requests that wait on raftd, storaged or another gateway:
 * each is a struct gw_call in a bounded table with a request id and a
 * deadline (gw_pending.c). Loop thread only.
 */
#ifndef RAFTKV_GW_PENDING_H
#define RAFTKV_GW_PENDING_H

#include "gw_req.h"
#include "kv_limits.h"
#include "proto.h"

#include <stdint.h>

struct gw_call;
struct gw_call_link;
struct gw_forward;
struct gw_json;
struct gw_local_answer;

/* Writes a route's JSON answer from gw->status (gw_status_query.c). */
typedef void (*gw_status_format_fn)(struct gw *gw, struct gw_json *j);

/* What a waiting request does on a reply, when its retry time comes, at its deadline. */
struct gw_call_ops {
	void (*on_msg)(struct gw *gw, struct gw_call *c, const struct proto_local *m);
	void (*on_retry)(struct gw *gw, struct gw_call *c);
	void (*on_deadline)(struct gw *gw, struct gw_call *c);
};

enum gw_call_state {
	GW_CALL_FREE = 0,
	GW_CALL_WAIT_LEADER, /* writes and reads waiting for a leader (on_retry) */
	GW_CALL_PROPOSED,    /* PROPOSE sent, no PROPOSE_RESP yet */
	GW_CALL_COMMITTING,  /* PROPOSE accepted, waiting for RESULT */
	GW_CALL_READ_INDEX,  /* READ_INDEX sent */
	GW_CALL_QUERY,       /* GET or LIST sent to storaged */
	GW_CALL_STATUS,      /* STATUS_REQ sent */
	GW_CALL_FORWARDING,  /* the leader's gateway has the request */
};

/* A write sent to this node's raftd while another node leads: raftd relays it (gw_write.c). */
enum gw_call_relay {
	GW_RELAY_NONE = 0,
	GW_RELAY_SENT,    /* proposed through raftd's relay, no answer yet */
	GW_RELAY_REFUSED, /* the relay appended nothing: forward over HTTP from now on */
};

struct gw_call {
	uint64_t req_id; /* 0: free slot */
	uint64_t deadline_ms;
	uint64_t retry_at_ms; /* 0: none */
	uint8_t state;        /* enum gw_call_state */
	const struct gw_call_ops *ops;
	struct gw_http http;
	struct gw_call_link *link; /* in req->pool: tells us when the request is gone */
	/* the request, as the router decoded it */
	struct gw_key key;
	struct gw_query query;
	struct gw_consul_query consul;
	uint8_t op;   /* enum proto_kv_op for writes */
	uint8_t cond; /* enum proto_kv_cond */
	uint64_t cond_index;
	uint8_t forwarded;      /* arrived with X-Raftkv-Forwarded */
	uint8_t relay;          /* enum gw_call_relay: writes proposed while another node led */
	uint8_t peer_may_serve; /* reads: another gateway may serve it (GET, not LIST) */
	uint8_t hops;           /* the next peer to try while our raftd is silent */
	uint8_t idem_len;
	uint8_t idem[KV_IDEMPOTENCY_KEY_BYTES_MAX];
	uint64_t read_index;
	/* transactions and leases (gw_txn.c, gw_lease_*.c) */
	uint64_t lease;     /* the lease of a lease route or of PUT ?lease= */
	uint64_t ttl_ms;    /* POST /v1/leases */
	const uint8_t *txn; /* TXN: the encoded proto_txn, in the request's pool */
	uint32_t txn_len;
	uint8_t txn_is_put;     /* a PUT ?lease= sent as a TXN: answered as a PUT */
	uint8_t lease_call;     /* enum gw_lease_call_kind (gw_coord.h) */
	uint64_t lease_term;    /* the term whose lease clock serves the call */
	struct gw_forward *fwd; /* GW_CALL_FORWARDING */
	int (*send_query)(struct gw *gw, struct gw_call *c); /* reads: GET or LIST */
	/* reads answerable from the local state machine (gw_local.h): answers a (borrowed for
	 * the call) and ends c; NULL: storaged only */
	void (*on_local)(struct gw *gw, struct gw_call *c, const struct gw_local_answer *a);
	/* writes: answers storaged's RESULT and ends c; NULL: raftkv's JSON (gw_write.c) */
	void (*on_result)(struct gw *gw, struct gw_call *c, const struct proto_result *m);
	void *ctx; /* the handler's own state, borrowed (watch: struct gw_watch_run) */
	/* writes started by gw_write_begin_kv (seeds/): the value (in req->pool) and the answer */
	struct proto_bytes value;
	void (*on_written)(struct gw *gw, struct gw_call *c, const struct proto_result *m);
	h2o_iovec_t fwd_path; /* forwards: the path to ask for; empty: the client's own */
	gw_status_format_fn status_format; /* routes answered from a STATUS (gw_status_query.c) */
	uint32_t next_free;
};

struct gw_pending {
	struct gw_call *calls; /* cap slots */
	uint32_t cap, used, free_head;
	uint64_t counter; /* random start; req_id = counter << 16 | slot */
};

int gw_pending_init(struct gw_pending *p, uint32_t cap);
void gw_pending_free(struct gw_pending *p);
/*
 * A new call for r (its http, key and query copied; r->http.req is watched:
 * the call learns when the client goes), or NULL when the table is full (429).
 * The call is borrowed until gw_pending_end.
 */
struct gw_call *gw_pending_start(const struct gw_req *r, const struct gw_call_ops *ops,
                                 uint64_t timeout_ms);
/* A fresh req_id for c's next message, so late replies to its last one are dropped. */
uint64_t gw_pending_next_id(struct gw *gw, struct gw_call *c);
/* Frees c's slot; c's request must be answered (or gone) already. */
void gw_pending_end(struct gw *gw, struct gw_call *c);
/* Hands a reply to the call it names; drops replies to unknown ids. */
void gw_pending_dispatch(struct gw *gw, const struct proto_local *m);
/* Runs retries and deadlines that are due. */
void gw_pending_sweep(struct gw *gw, uint64_t now_ms);
/* Milliseconds left before c's deadline (0 when past). */
uint64_t gw_pending_left_ms(const struct gw_call *c);

#endif

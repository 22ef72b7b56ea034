/*
 * gw.h - gatewayd's process state and the calls between its files.
 *
 * gatewayd runs one thread: h2o's evloop. The HTTP server, the ZeroMQ
 * sockets to raftd and storaged (their ZMQ_FDs watched by the same loop) and
 * the HTTP client that forwards writes to the leader's gateway all run on it,
 * so nothing here is locked. Every request that waits on another process is
 * a struct gw_call in a bounded table (gw_pending.c) with a deadline.
 */
#ifndef RAFTKV_GW_H
#define RAFTKV_GW_H

#include "gw_json.h"
#include "gw_route.h"
#include "kv_limits.h"
#include "proto.h"

#ifndef H2O_USE_LIBUV
#define H2O_USE_LIBUV 0 /* Debian's libh2o-evloop is built on h2o's own loop, not libuv */
#endif
#include <h2o.h>
#include <h2o/http1client.h>
#include <stdint.h>

#define GW_SVC               "gatewayd"
#define GW_URL_BYTES_MAX     128u
#define GW_ADDR_BYTES_MAX    128u
#define GW_TICK_MS           10u         /* safety-net drain and deadline sweep */
#define GW_POLL_MS           100u        /* STATUS and STATS polls */
#define GW_CACHE_FRESH_MS    1000u       /* a cached STATUS or STATS older than this is unknown */
#define GW_READY_LAG_MAX     1000u       /* /readyz: applied within this many entries of commit */
#define GW_STATUS_WAIT_MS    1000u       /* /v1/status waits at most this long for raftd */
#define GW_TRANSFER_EVERY_MS 2000u       /* leadership hand-offs asked for at most this often */
#define GW_STORAGED_LOST_MS  500u        /* no STATS for this long: storaged is down */
#define GW_FORWARD_BODY_MAX  (64u << 10) /* a forwarded answer past the value limit */
#define GW_SLOWLORIS_MS      10000u      /* h2o's http1 request timeout */

struct gw_config {
	uint64_t node_id;
	const char *listen;
	const char *gateways;
	const char *data_dir;
	const char *sock_dir;
	uint64_t max_value_bytes;
	uint64_t max_inflight;
	uint64_t timeout_ms;
	const char *log_level;
};

/* Another node's gateway, from --gateways. */
struct gw_peer {
	uint64_t id;
	char url[GW_URL_BYTES_MAX]; /* http://host:port */
	char host[GW_ADDR_BYTES_MAX];
	uint16_t port;
	h2o_socketpool_t pool; /* keep-alive connections for forwarding */
};

/*
 * raftd's last STATUS_RESP, copied out of the message: msg.members is NULL
 * and msg.n_members 0 (they pointed into the frame); the members are copied
 * to members[].
 */
struct gw_status {
	int valid;
	uint64_t at_ms;
	struct proto_status_resp msg;
	uint32_t n_members;
	struct {
		uint64_t id;
		uint8_t role;
		char addr[GW_ADDR_BYTES_MAX];
	} members[RAFT_NODES_MAX];
};

/* storaged's last STATS_RESP. */
struct gw_stats {
	int valid;
	uint64_t at_ms;
	struct proto_stats_resp msg;
};

/* The HTTP side of a request: what metrics and the common headers need. */
struct gw_http {
	h2o_req_t *req; /* NULL once the client has gone (the pool was freed) */
	enum gw_route_id route;
	enum gw_method method;
	uint64_t start_us;
	uint64_t raft_index; /* X-Raft-Index of an error answer; 0: the cached applied index */
};

struct gw;
struct gw_call;

/* What a waiting request does on a reply, when its retry time comes, at its deadline. */
struct gw_call_ops {
	void (*on_msg)(struct gw *gw, struct gw_call *c, const struct proto_local *m);
	void (*on_retry)(struct gw *gw, struct gw_call *c);
	void (*on_deadline)(struct gw *gw, struct gw_call *c);
};

struct gw_forward;

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

struct gw_call {
	uint64_t req_id; /* 0: free slot */
	uint64_t deadline_ms;
	uint64_t retry_at_ms; /* 0: none */
	uint8_t state;        /* enum gw_call_state */
	const struct gw_call_ops *ops;
	struct gw_http http;
	struct gw_call_link *link; /* in req->pool: tells us when the request is gone */
	/* the request, decoded once by its handler */
	struct gw_key key;
	struct gw_query query;
	uint8_t op;   /* enum proto_kv_op for writes */
	uint8_t cond; /* enum proto_kv_cond */
	uint64_t cond_index;
	uint8_t forwarded; /* arrived with X-Raftkv-Forwarded */
	uint8_t hops;      /* the next peer to try while our raftd is silent */
	uint8_t idem_len;
	uint8_t idem[KV_IDEMPOTENCY_KEY_BYTES_MAX];
	uint64_t read_index;
	struct gw_forward *fwd;                              /* GW_CALL_FORWARDING */
	int (*send_query)(struct gw *gw, struct gw_call *c); /* reads: GET or LIST */
	uint32_t next_free;
};

struct gw_pending {
	struct gw_call *calls; /* cap slots */
	uint32_t cap, used, free_head;
	uint64_t counter; /* random start; req_id = counter << 16 | slot */
};

struct gw_zmq {
	void *ctx;
	void *raftd;    /* DEALER -> raftd.sock */
	void *storaged; /* DEALER -> storaged-query.sock */
	void *results;  /* PULL <- gatewayd-results.sock (bound here) */
	h2o_socket_t *watch[3];
	h2o_timeout_t soon; /* 0 ms: drain again after a send, outside the caller */
	h2o_timeout_entry_t soon_entry;
	struct proto_buf out;
	uint8_t *arena; /* decoder arena, GW_ARENA_BYTES */
};

#define GW_METRIC_CODES   16
#define GW_METRIC_BUCKETS 13

struct gw_metrics {
	uint64_t requests[GW_ROUTE_COUNT][GW_M_COUNT][GW_METRIC_CODES];
	uint64_t duration_buckets[GW_ROUTE_COUNT][GW_METRIC_BUCKETS];
	uint64_t duration_count[GW_ROUTE_COUNT];
	uint64_t duration_sum_us[GW_ROUTE_COUNT];
	uint64_t forwarded;
};

struct gw {
	struct gw_config cfg;
	h2o_globalconf_t globalconf;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	uint32_t connections;
	int stopping;
	h2o_timeout_t screen_timeout; /* a connection's first head must arrive within it */
	h2o_timeout_t tick;
	h2o_timeout_entry_t tick_entry;
	uint64_t next_poll_ms;
	uint64_t started_ms;
	uint64_t last_transfer_ms;
	uint64_t poll_req_id;
	h2o_timeout_t fwd_io_timeout;
	h2o_http1client_ctx_t fwd_ctx;
	struct gw_peer peers[RAFT_NODES_MAX];
	uint32_t n_peers;
	struct gw_status status;
	struct gw_stats stats;
	struct gw_zmq zmq;
	struct proto_buf cmd; /* an encoded proto_kv_cmd on its way into a PROPOSE */
	struct gw_pending pending;
	struct gw_metrics metrics;
};

/* ---- gw_zmq.c: the three sockets inside the evloop ---- */
int gw_zmq_open(struct gw *gw);
void gw_zmq_close(struct gw *gw);
/* Sends m to raftd (to_raftd) or storaged; 0, or KV_EUNAVAIL when it is not connected. */
int gw_zmq_send(struct gw *gw, int to_raftd, const struct proto_local *m);
/*
 * 1 when the DEALER to raftd (to_raftd) or storaged has a live connection:
 * with ZMQ_IMMEDIATE, POLLOUT drops as soon as the peer's process is gone.
 */
int gw_zmq_connected(struct gw *gw, int to_raftd);
/* Receives and dispatches everything queued on the three sockets. */
void gw_zmq_drain(struct gw *gw);

/* ---- gw_pending.c: the request table ---- */
int gw_pending_init(struct gw_pending *p, uint32_t cap);
void gw_pending_free(struct gw_pending *p);
/* A new call for req, or NULL when the table is full (429). */
struct gw_call *gw_pending_start(struct gw *gw, h2o_req_t *req, const struct gw_http *http,
                                 const struct gw_call_ops *ops, uint64_t timeout_ms);
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

/* ---- gw_reply.c: every answer goes through here ---- */
/* Sends status with body (copied) and the common X-Raft-* / X-Served-By headers. */
void gw_reply_send(struct gw *gw, struct gw_http *h, int status, const char *content_type,
                   const void *body, size_t len, uint64_t raft_index);
/* An error answer with a JSON body (gw_errors.h); err is a KV_E* code or 0 with code/message. */
struct gw_error_extra;
void gw_reply_error(struct gw *gw, struct gw_http *h, int status, const char *code,
                    const char *message, const struct gw_error_extra *extra);
void gw_reply_kv_error(struct gw *gw, struct gw_http *h, int err, const char *message,
                       const struct gw_error_extra *extra);
/* Adds a header whose value is copied into req->pool. */
void gw_reply_header(h2o_req_t *req, const char *name, const char *value, size_t len);
/* Counts an answer that did not go through gw_reply_send (forwarded ones). */
void gw_reply_count(struct gw *gw, struct gw_http *h, int status);
/* 503 no_leader (with Retry-After) or not_leader with the leader hint. */
void gw_reply_no_leader(struct gw *gw, struct gw_http *h, int err);

/* ---- gw_status.c: raftd's STATUS, polled, and GET /v1/status ---- */
void gw_status_update(struct gw *gw, const struct proto_local *m);
void gw_status_poll(struct gw *gw, uint64_t now_ms);
/* 1 when raftd answered a STATUS within GW_CACHE_FRESH_MS. */
int gw_status_fresh(const struct gw *gw);
/* The leader if the cached status is fresh, else 0. */
uint64_t gw_status_leader(const struct gw *gw);
/* Forces a STATUS poll soon (after a not-leader answer). */
void gw_status_refresh(struct gw *gw);
const char *gw_status_role_name(const struct gw *gw);
const struct gw_peer *gw_status_peer(const struct gw *gw, uint64_t id);
/*
 * While this node's raftd is silent (down, restarting) another gateway may
 * serve: the next peer other than this node, round robin from *hops. A peer
 * that cannot serve a forwarded request answers at once, and the caller's
 * next retry tries the next one. NULL without peers.
 */
const struct gw_peer *gw_status_next_peer(const struct gw *gw, uint8_t *hops);
void gw_status_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_stats_update(struct gw *gw, const struct proto_local *m);

/* ---- request handlers (one file each) ---- */
void gw_kv_put_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_kv_delete_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_kv_get_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_kv_list_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_health_livez(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_health_readyz(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_metrics_handle(struct gw *gw, h2o_req_t *req, struct gw_http *h);
void gw_metrics_record(struct gw *gw, const struct gw_http *h, int status);

/* ---- gw_write.c: the write path shared by PUT and DELETE ---- */
/* Starts c (op, key, cond, idem filled) toward the leader: propose or forward. */
void gw_write_start(struct gw *gw, struct gw_call *c);
/* Parses If-Match / If-None-Match / Idempotency-Key into c; 0 or answers 400 itself. */
int gw_write_headers(struct gw *gw, h2o_req_t *req, struct gw_call *c);
/* PUT and DELETE after parsing: takes a pending slot (429 when none), reads the
 * condition and idempotency headers into it, then proposes or forwards. */
void gw_write_begin(struct gw *gw, h2o_req_t *req, struct gw_http *h, const struct gw_key *key,
                    const struct gw_query *q, uint8_t op);

/* ---- gw_read.c: the read path shared by GET and LIST ---- */
/* Starts c (c->send_query set): READ_INDEX then the query (linearizable), or the query (stale). */
void gw_read_start(struct gw *gw, struct gw_call *c);
/* Handles READ_INDEX_RESP for c; 1 when m was one, 0 when the caller should look at m. */
int gw_read_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *m);
/* Answers a failed query reply (status != 0 other than not-found) and ends c. */
void gw_read_fail(struct gw *gw, struct gw_call *c, int err);
/* The on_retry and on_deadline of every read. */
void gw_read_on_retry(struct gw *gw, struct gw_call *c);
void gw_read_on_deadline(struct gw *gw, struct gw_call *c);

/* ---- gw_forward.c: writes to the leader's gateway ---- */
int gw_forward_init(struct gw *gw);
void gw_forward_dispose(struct gw *gw);
/* Sends c's request to peer; the answer is relayed to c's client. 0 or KV_E*. */
int gw_forward_start(struct gw *gw, struct gw_call *c, const struct gw_peer *peer);
/* Stops a forward in flight (deadline, client gone). */
void gw_forward_cancel(struct gw *gw, struct gw_call *c);

/* ---- gw_screen.c: the first head of a connection, before h2o ---- */
/* Takes sock: hands it to h2o once its first request head passes, or answers and closes. */
void gw_screen_start(struct gw *gw, h2o_socket_t *sock);

/* ---- gw_router.c: the one h2o handler ---- */
void gw_router_register(h2o_pathconf_t *pathconf, struct gw *gw);
/*
 * Decodes the key (when key != NULL) and the query of req into key and q;
 * 0, or -1 after answering 400 itself. A forwarded request's
 * X-Raftkv-Timeout-Ms shortens q->timeout_ms to the forwarder's time left.
 */
int gw_router_parse(struct gw *gw, h2o_req_t *req, struct gw_http *h, struct gw_key *key,
                    struct gw_query *q);

#endif

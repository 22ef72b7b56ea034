/*
 * gw.h - gatewayd's process state (struct gw) and the calls among the files
 * that own it: the sockets (gw_zmq.c), the node's cached status (gw_status.c),
 * the metrics (gw_metrics.c), forwarding (gw_forward.c), the connection
 * screen (gw_screen.c), the router (gw_router.c) and main. Route handlers do
 * not include it: they see gw_req.h and the path headers (gw_read.h,
 * gw_write.h); the handlers that report on the node itself (status, health,
 * metrics) do.
 *
 * gatewayd runs one thread: h2o's evloop. The HTTP server, the ZeroMQ
 * sockets to raftd and storaged (their ZMQ_FDs watched by the same loop) and
 * the HTTP client that forwards writes to the leader's gateway all run on it,
 * so nothing here is locked. Every request that waits on another process is
 * a struct gw_call in a bounded table (gw_pending.h) with a deadline.
 */
#ifndef RAFTKV_GW_H
#define RAFTKV_GW_H

#include "gw_auth.h"
#include "gw_config.h"
#include "gw_json.h"
#include "gw_lease_clock.h"
#include "gw_local.h"
#include "gw_read_batch.h"
#include "gw_parse.h"
#include "gw_pending.h"
#include "gw_reply.h"
#include "gw_req.h"
#include "gw_route.h"
#include "kv_limits.h"
#include "proto.h"

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
/* A transaction's or a lease lookup's answer: its gets' values (or keys) as JSON, at worst
 * 6 bytes per byte (\u0000), and the rest. Forwarded answers may be this large too. */
#define GW_COORD_ANSWER_MAX (6u * KV_TXN_RESULT_BYTES_MAX + (64u << 10))
#define GW_SLOWLORIS_MS     10000u /* h2o's http1 request timeout */

/* Another node's gateway, from --gateways or learned from the configuration (gw_peers.c). */
struct gw_peer {
	uint64_t id;
	int learned;                /* 1: from a member's url in STATUS; 0: from --gateways */
	char url[GW_URL_BYTES_MAX]; /* http://host:port or https://host:port */
	char host[GW_ADDR_BYTES_MAX];
	uint16_t port;
	int https;
	h2o_socketpool_t pool;         /* keep-alive connections for forwarding */
	h2o_http1client_ctx_t fwd_ctx; /* gw->fwd_ctx with this peer's TLS context */
	SSL_CTX *tls;                  /* https: verifies against --peer-ca and host; else NULL */
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
		char url[GW_URL_BYTES_MAX]; /* its gateway, from the configuration; "" unknown */
		uint64_t match;             /* the leader's view (has_match) */
		uint8_t
		    live; /* the leader's view (has_live): heard from within an election timeout */
	} members[RAFT_NODES_MAX];
	int has_match; /* the status came from the leader: members[].match is set */
	int has_live;  /* the status came from the leader: members[].live is set */
};

/* storaged's last STATS_RESP. */
struct gw_stats {
	int valid;
	uint64_t at_ms;
	struct proto_stats_resp msg;
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

#define GW_METRIC_CODES   18
#define GW_METRIC_BUCKETS 13

/*
 * Metrics slots: 0 for none, 1..GW_ROUTES_MAX the paths of gw_routes
 * (gw_route_slot), then GW_ROUTES_MAX + gw_route_slot for the paths of the
 * Consul table (gw_consul_routes), so each has its own route label.
 */
#define GW_METRIC_SLOTS (2 * GW_ROUTES_MAX + 1)
_Static_assert(GW_METRIC_SLOTS <= 256, "a request's slot is a uint8_t (gw_req.h)");

struct gw_metrics {
	uint64_t requests[GW_METRIC_SLOTS][GW_M_COUNT][GW_METRIC_CODES];
	uint64_t duration_buckets[GW_METRIC_SLOTS][GW_METRIC_BUCKETS];
	uint64_t duration_count[GW_METRIC_SLOTS];
	uint64_t duration_sum_us[GW_METRIC_SLOTS];
	uint64_t forwarded;
	uint64_t relayed; /* writes proposed through this node's raftd while another led */
};

struct gw {
	struct gw_config cfg;
	h2o_globalconf_t globalconf;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	h2o_hostconf_t *hosts[2];        /* accept_ctx's: the raftkv API's host */
	h2o_accept_ctx_t consul_accept;  /* --consul-listen: Consul's KV API (gw_consul.h) */
	h2o_hostconf_t *consul_hosts[2]; /* consul_accept's */
	h2o_socket_t *consul_listener;   /* NULL without --consul-listen */
	uint32_t connections;
	int stopping;
	h2o_timeout_t screen_timeout; /* a connection's first head must arrive within it */
	h2o_timeout_t tick;
	h2o_timeout_entry_t tick_entry;
	uint64_t next_poll_ms;
	uint64_t started_ms;
	uint64_t last_transfer_ms;
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
	SSL_CTX *tls_server; /* --tls-cert: the context for new connections (gw_tls.c); else NULL */
	struct gw_auth auth; /* --auth-file; n == 0: no tokens asked for */
	struct gw_lease_clock lease_clock; /* the leader's lease deadlines (gw_lease_clock.c) */
	struct gw_local local;             /* --local-reads: the node's state machine, read only */
	struct gw_read_batches read_batches;  /* one READ_INDEX per loop turn (gw_read_batch.h) */
	h2o_timeout_entry_t read_batch_entry; /* on zmq.soon: sends the open batch */
	uint64_t peer_refused_id;             /* the last learned gateway refused (logged once) */
	char peer_refused_url[GW_URL_BYTES_MAX];
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

/* ---- gw_status.c: raftd's STATUS and storaged's STATS, polled and cached ---- */
void gw_status_update(struct gw *gw, const struct proto_local *m);
void gw_stats_update(struct gw *gw, const struct proto_local *m);
void gw_status_poll(struct gw *gw, uint64_t now_ms);
/* 1 when raftd answered a STATUS within GW_CACHE_FRESH_MS. */
int gw_status_fresh(const struct gw *gw);
/* The leader if the cached status is fresh, else 0. */
uint64_t gw_status_leader(const struct gw *gw);
/* gw_health.c: NULL when /readyz would answer 200 at now_ms, else why not (a static sentence). */
const char *gw_health_not_ready(const struct gw *gw, uint64_t now_ms);
/* Forces a STATUS poll soon (after a not-leader answer). */
void gw_status_refresh(struct gw *gw);
/* The gateway of node id (borrowed from gw: lives as long as it), or NULL. */
const struct gw_peer *gw_status_peer(const struct gw *gw, uint64_t id);
/* The Raft address of member id in the cached status (borrowed, as below), or NULL. */
const char *gw_status_member_addr(const struct gw *gw, uint64_t id);
/* The gateway URL of member id (borrowed from gw until the next STATUS), or NULL. */
const char *gw_status_member_url(const struct gw *gw, uint64_t id);
/* Member i of the cached status as gw_json_member writes it, in an object j has open. */
void gw_status_json_member(const struct gw *gw, struct gw_json *j, uint32_t i);
/*
 * While this node's raftd is silent (down, restarting) another gateway may
 * serve: the next peer other than this node, round robin from *hops. A peer
 * that cannot serve a forwarded request answers at once, and the caller's
 * next retry tries the next one. NULL without peers.
 */
const struct gw_peer *gw_status_next_peer(const struct gw *gw, uint8_t *hops);

/* ---- gw_status_query.c: routes answered from a fresh STATUS ---- */
/*
 * Asks this node's raftd for a STATUS and answers r with format's JSON of
 * gw->status, 200; 503 when raftd is not connected or does not answer
 * within GW_STATUS_WAIT_MS; 429 when the call table is full.
 */
void gw_status_query(struct gw_req *r, gw_status_format_fn format);
/*
 * The same from the leader's raftd, whose STATUS has the members' match
 * indexes: a follower forwards r to the leader's gateway. 503 no_leader
 * when no leader answers within r's timeout.
 */
void gw_status_query_leader(struct gw_req *r, gw_status_format_fn format);

/* ---- gw_leader_route.c: calls only the leader serves ---- */
/* Sends c (borrowed) to this node's raftd; on failure it calls gw_leader_wait(c). */
typedef void (*gw_leader_send_fn)(struct gw *gw, struct gw_call *c);
/*
 * send(gw, c) when this node leads; else forwards c to the leader's gateway
 * (a forwarded c is answered 503 not_leader instead: one hop only); else
 * gw_leader_wait. The caller's on_retry calls it again in GW_CALL_WAIT_LEADER.
 */
void gw_leader_route(struct gw *gw, struct gw_call *c, gw_leader_send_fn send);
/* Puts c in GW_CALL_WAIT_LEADER, to be routed again after a tick. */
void gw_leader_wait(struct gw_call *c);
/* 1 when r came from another gateway (X-Raftkv-Forwarded). */
int gw_leader_forwarded(const struct gw_req *r);

/* ---- gw_peers.c: gateways learned from the configuration ---- */
/*
 * After a STATUS: every member whose url the configuration gives and that
 * gw->peers lacks is added, so a request can be forwarded to a leader that
 * joined after this gateway started (--gateways is only the seed).
 */
void gw_peers_learn(struct gw *gw);

/* ---- gw_raft_stats.c ---- */
/* The object of GET /raft/stats from gw->status (also POST /raft/join's "data"). */
void gw_raft_stats_format(struct gw *gw, struct gw_json *j);

/* ---- gw_metrics.c ---- */
/* Counts an answer of status to h in its route's counters and latency histogram. */
void gw_metrics_record(struct gw *gw, const struct gw_http *h, int status);
/* The route="..." label of metrics slot slot ("none" for 0 or an unused one). Static string. */
const char *gw_metrics_label(unsigned slot);

/* ---- gw_forward.c: writes (and GETs while raftd is silent) to another gateway ---- */
/* Reads --gateways into gw->peers, each with a keep-alive pool; 0 or KV_EINVAL. */
int gw_forward_init(struct gw *gw);
/* Closes the peers' pools; the loop must not run afterwards. */
void gw_forward_dispose(struct gw *gw);
/*
 * Adds the gateway of node id at url (len bytes, http(s)://host:port) to
 * gw->peers, with its pool and TLS context; learned marks one from the
 * configuration. 0, KV_EINVAL (a bad URL, https:// without --peer-ca) or
 * KV_ENOSPC (the table is full).
 */
int gw_forward_add_peer(struct gw *gw, uint64_t id, const char *url, size_t len, int learned);
/*
 * Reuses the learned slot p (its member left the configuration) for node id
 * at url, when no forward is in flight (KV_EBUSY otherwise: a connection of
 * its pool may be in use). 0 or KV_E*.
 */
int gw_forward_replace_peer(struct gw *gw, struct gw_peer *p, uint64_t id, const char *url,
                            size_t len);
/* Sends c's request to peer; the answer is relayed to c's client. 0 or KV_E*. */
int gw_forward_start(struct gw *gw, struct gw_call *c, const struct gw_peer *peer);
/* Stops a forward in flight (deadline, client gone). */
void gw_forward_cancel(struct gw *gw, struct gw_call *c);

/* ---- gw_tls.c: OpenSSL contexts ---- */
/* The server context of cfg's --tls-* files into *out (the caller's). 0 or KV_EINVAL (why). */
int gw_tls_server_new(const struct gw_config *cfg, SSL_CTX **out, char *why, size_t cap);
/* A client context trusting peer_ca that accepts only host's certificate. 0 or KV_EINVAL. */
int gw_tls_client_new(const char *peer_ca, const char *host, SSL_CTX **out, char *why, size_t cap);
/* gw->tls_server from the flags (none without --tls-cert); 0 or KV_EINVAL (logged). */
int gw_tls_init(struct gw *gw);
/* SIGHUP: a new server context for new connections; on failure the old one stays (logged). */
void gw_tls_reload(struct gw *gw);
void gw_tls_dispose(struct gw *gw);

/* ---- gw_screen.c: the first head of a connection, before h2o ---- */
/*
 * Takes sock: hands it to h2o (with actx, gw's: the listener's hosts) once
 * its first request head passes, or answers and closes.
 */
void gw_screen_start(struct gw *gw, h2o_socket_t *sock, h2o_accept_ctx_t *actx);

/* ---- gw_router.c: the one h2o handler; it runs the rows of gw_routes.h ---- */
void gw_router_register(h2o_pathconf_t *pathconf, struct gw *gw);

#endif

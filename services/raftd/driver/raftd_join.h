/*
 * raftd_join.h - raftd --join: a node with a new data directory registers
 * itself with a running cluster (POST /v1/members through any node's HTTP
 * API), learns every member's address (GET /v1/members) into the address
 * book, and then runs as usual: the leader sends it a snapshot and the log,
 * and promotes it once caught up when it asked to be a voter.
 *
 * The pure part (raftd_join_plan.c: the flags checked into a plan, the
 * members JSON parsed, a POST's answer classified) needs no struct raftd and
 * is unit-tested alone. raftd_join_run (raftd_join.c) does the HTTP, on the
 * main thread while raftd boots.
 */
#ifndef RAFTKV_RAFTD_JOIN_H
#define RAFTKV_RAFTD_JOIN_H

#include "kv_url.h"
#include "raftd_book.h"
#include "raftd_peerlist.h"

#include <stddef.h>
#include <stdint.h>

#define RAFTD_JOIN_URLS_MAX         8u
#define RAFTD_JOIN_GIVE_UP_MS       (5u * 60u * 1000u) /* then raftd exits: the join failed */
#define RAFTD_JOIN_BACKOFF_MS_MIN   500u
#define RAFTD_JOIN_BACKOFF_MS_MAX   8000u
#define RAFTD_JOIN_STEP_MS          5000u  /* connect, handshake, each read or write */
#define RAFTD_JOIN_REQUEST_MS       20000u /* one whole request (the add waits for its entry) */
#define RAFTD_JOIN_ANSWER_BYTES_MAX (256u << 10)
#define RAFTD_JOIN_BODY_BYTES_MAX   2048u /* the POST's body */
/* a joined node that heard nothing for this many election timeouts registers again */
#define RAFTD_JOIN_RECHECK_TIMEOUTS 10u

/* The flags --join reads; strings borrowed ("" when not given). */
struct raftd_join_flags {
	uint64_t node_id;
	const char *join;      /* "URL,URL,..." */
	const char *join_as;   /* "voter" or "learner" */
	const char *url;       /* this node's HTTP base URL */
	const char *advertise; /* "host:port" the others reach this raftd at */
	const char *listen;    /* --listen as given ("" when defaulted) */
	const char *token_file;
	const char *cacert;
	const struct raftd_peer_list *peers; /* --peers, parsed (n == 0 when not given) */
};

/* What raftd_join_run does, decided from the flags before anything starts. */
struct raftd_join_plan {
	int on;      /* --join given */
	int promote; /* --join-as voter: the core promotes it once caught up */
	uint32_t n_urls;
	struct kv_url urls[RAFTD_JOIN_URLS_MAX];
	char url_text[RAFTD_JOIN_URLS_MAX][KV_URL_BYTES_MAX]; /* as given, for the log */
	char peer_address[RAFTD_BOOK_ADDR_MAX + 1];           /* advertised; never 0.0.0.0 */
	uint16_t peer_port;                                   /* its port, for --listen's default */
	char self_url[PROTO_URL_BYTES_MAX + 1];
};

/*
 * Checks the flags of --join into *plan: every URL http(s)://HOST[:PORT], at
 * most RAFTD_JOIN_URLS_MAX; --join-as voter|learner; --url given and a URL;
 * the peer address from --advertise, else this node's --peers entry, else
 * --listen tcp://HOST:PORT, and never a wildcard host (0.0.0.0, ::, *);
 * --peers naming no node but this one. Without --join, the join-only flags
 * must be absent and plan->on is 0. Returns 0, or KV_EINVAL with a sentence
 * in err (raftd then exits 2).
 */
int raftd_join_plan_make(const struct raftd_join_flags *f, struct raftd_join_plan *plan, char *err,
                         size_t err_len);

/* One member of GET /v1/members. */
struct raftd_join_member {
	struct raftd_book_entry entry;
	int voter;
};

/*
 * Parses GET /v1/members's body {"members":[{"id","role","peer_address",
 * "url","curve_key"?,...}],...} into out[0..*n) (at most cap). Strict: ids
 * 1..RAFTD_NODE_ID_MAX and unique, role voter or learner, peer_address a
 * host:port like a --peers item, url empty or a URL, curve_key absent or 40
 * Z85 characters, bounded lengths; unknown fields are ignored. Returns 0, or
 * KV_EPROTO with a sentence in err.
 */
int raftd_join_members_parse(const char *body, size_t len, struct raftd_join_member *out,
                             uint32_t cap, uint32_t *n, char *err, size_t err_len);

/* What to do after an answer to POST /v1/members. */
enum raftd_join_next {
	RAFTD_JOIN_ADDED = 0,   /* 201: the add is in the leader's log */
	RAFTD_JOIN_CHECK = 1,   /* 409 member_exists: look at the members (a restart mid-join?) */
	RAFTD_JOIN_RETRY = 2,   /* try again (503, 504, 409 change_in_progress, 5xx, ...) */
	RAFTD_JOIN_REFUSED = 3, /* the cluster said no for good (400, 401, 403, 404): exit */
};

/* Classifies status and body (the JSON error's "code"). */
enum raftd_join_next raftd_join_classify(int status, const char *body, size_t len);

/* What the members say about this node (after RAFTD_JOIN_CHECK or an add). */
enum raftd_join_self {
	RAFTD_JOIN_SELF_PRESENT = 0,      /* our id at our address: added */
	RAFTD_JOIN_SELF_ABSENT = 1,       /* neither our id nor our address */
	RAFTD_JOIN_SELF_ID_ELSEWHERE = 2, /* our id at another address: refuse */
	RAFTD_JOIN_SELF_ADDR_TAKEN = 3,   /* another id at our address: refuse */
};

enum raftd_join_self raftd_join_find_self(const struct raftd_join_member *m, uint32_t n,
                                          uint64_t id, const char *peer_address);

/* The POST body into out (cap bytes): its length, or KV_ETOOLARGE / KV_ENOMEM. */
int raftd_join_body(const struct raftd_join_plan *plan, uint64_t id, const char *curve_key,
                    char *out, size_t cap);

/* What a running node knows when it asks whether to register again. */
struct raftd_join_wait {
	int joined;              /* --join given (new, or ignored on a restart) */
	uint64_t leader;         /* the core's leader now (0: none known) */
	uint64_t log_last_index; /* the WAL's last index */
	uint64_t snap_index;     /* the snapshot's */
	uint64_t since_ms;       /* boot, or the last registration */
	uint64_t now_ms;
	uint64_t election_timeout_ms; /* --election-timeout-ms */
};

/*
 * Is a joined node due to POST /v1/members again? When it knows no leader and
 * never got anything from one (an empty log and no snapshot: it holds no
 * configuration but the base its registration listed) for
 * RAFTD_JOIN_RECHECK_TIMEOUTS election timeouts since since_ms: its add may
 * have been lost with a leader that had not committed it, and the cluster
 * then never contacts it. Registering again is harmless if the add stands
 * (409 member_exists at the same address). Pure.
 *
 * Planted bug (make raftd-bugs): -DRAFTD_BUG_JOIN_NO_RECHECK never is.
 */
int raftd_join_recheck_due(const struct raftd_join_wait *w);

struct raftd;

/* The members as a configuration (ids and roles; incarnations come with the log). */
void raftd_join_config(const struct raftd_join_member *m, uint32_t n, struct raft_config *out);

/*
 * Registers d with the cluster as d->join says, seeds d's address book with
 * every member and fills *base with the members (this node included).
 * Retries across the URLs with backoff for up to RAFTD_JOIN_GIVE_UP_MS,
 * logging each try. Returns 0, KV_ESHUTDOWN (a signal), KV_ETIMEDOUT (gave
 * up), or KV_EINVAL / KV_EEXIST (refused: the log says why). Main thread,
 * while booting a new data directory (raftd_boot.c), before the core exists.
 *
 * With base NULL it registers d again (raftd_join_recheck_due): the same POST
 * and member check and the members' addresses into the book; the core's
 * configuration is left alone (the leader's log brings it). Loop thread then:
 * blocks it while the requests run.
 */
int raftd_join_run(struct raftd *d, struct raft_config *base);

#endif

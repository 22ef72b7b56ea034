/*
 * gw_member_parse.h - the JSON bodies of the membership routes, checked
 * against the limits of kv_limits.h (docs/api.md "POST /v1/members"): POST
 * /v1/members {"id","peer_address","url","curve_key","promote"} and the seed
 * route POST /raft/join {"node_id":"node_2","raft_address":"host:port"}.
 * Pure code (jansson, no h2o); any thread.
 */
#ifndef RAFTKV_GW_MEMBER_PARSE_H
#define RAFTKV_GW_MEMBER_PARSE_H

#include "gw_txn_parse.h"
#include "kv_limits.h"

#include <stddef.h>
#include <stdint.h>

/* A learner to add, as MEMBER_CHANGE op 1 carries it; strings NUL-terminated, owned here. */
struct gw_member_add {
	uint64_t id;                                     /* 1..KV_MEMBER_ID_MAX */
	char peer_address[KV_MEMBER_HOST_BYTES_MAX + 8]; /* host:port */
	char url[KV_MEMBER_URL_BYTES_MAX + 1];           /* http(s)://host:port; "" for a join */
	char curve_key[KV_MEMBER_CURVE_KEY_LEN + 1];     /* Z85, or "" */
	int promote;                                     /* promote once caught up */
	char node_name[64]; /* POST /raft/join: the seed's node_id as sent ("node_2"); else "" */
};

/*
 * POST /v1/members: body (len bytes) into *out. "id" and "peer_address" and
 * "url" are required, "curve_key" and "promote" (default false) optional;
 * any other member is refused. 0, or -1 with *err (400, or 413 past
 * KV_MEMBER_BODY_BYTES_MAX) filled.
 */
int gw_member_parse_add(const char *body, size_t len, struct gw_member_add *out,
                        struct gw_txn_err *err);

/*
 * POST /raft/join: {"node_id":"<name><digits>","raft_address":"host:port"};
 * the id is the trailing number of node_id ("node_2": 2). out->promote is
 * set (a joined node becomes a voter once caught up, as the seed's AddVoter
 * made it one), out->url is empty. 0, or -1 with *err.
 */
int gw_member_parse_join(const char *body, size_t len, struct gw_member_add *out,
                         struct gw_txn_err *err);

/* 1 when s (len bytes) is host:port: a DNS name, IPv4 or [IPv6], and a port 1..65535. */
int gw_member_hostport_ok(const char *s, size_t len);

/* 1 when s (len bytes) is http://host:port or https://host:port (one trailing '/' allowed). */
int gw_member_url_ok(const char *s, size_t len);

#endif

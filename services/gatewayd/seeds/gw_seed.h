/*
 * gw_seed.h - what the routes of the three seed projects share (gw_seed.c):
 * reading their JSON request bodies into a key and a value, a key read with
 * an answer of the route's own shape, and sending their answers. The routes
 * themselves are rows of gw_routes.h, one handler per file beside this one;
 * docs/api.md "The seed projects' routes" says where each comes from.
 *
 * Loop thread only. Every function that answers sets r->http.req (or the
 * call's) to NULL, as gw_reply.h does.
 */
#ifndef RAFTKV_GW_SEED_H
#define RAFTKV_GW_SEED_H

#include "gw_pending.h"
#include "gw_req.h"
#include "gw_seed_json.h"

#include <stddef.h>
#include <stdint.h>

#define GW_SEED_BODY_MAX (64u << 10) /* an answer of ours around one value (its escapes aside) */

/*
 * Parses r's body as a JSON object with the wanted members. 0, or -1 after
 * answering 400 invalid_json.
 */
int gw_seed_body(struct gw_req *r, struct gw_seed_member *want, size_t n);

/*
 * The string member m (must be found and a string unless optional: then a
 * missing or null one is empty) decoded into out as a key, leading and
 * trailing spaces kept. 0, or -1 after answering 400 (invalid_key,
 * key_too_long, invalid_argument).
 */
int gw_seed_body_key(struct gw_req *r, const struct gw_seed_member *m, struct gw_key *out);

/*
 * The string member m decoded into memory of r's request (lives until it is
 * answered); a missing or null one is the empty value. 0, or -1 after
 * answering 400 (not a string) or 413 (over --max-value-bytes).
 */
int gw_seed_body_value(struct gw_req *r, const struct gw_seed_member *m, struct proto_bytes *out);

/*
 * With --auth-file: is key[0..len) under the prefix of r's token (whose role
 * the router checked)? len 0 stands for every key: only a token without a
 * prefix passes. 0, or -1 after answering 403. The router checks keys in the
 * path; the seed handlers call this for the keys it cannot see.
 */
int gw_seed_auth_key(struct gw_req *r, const uint8_t *key, size_t len);

/*
 * Removes one trailing '/' of a {key} path's key (/keys/<key>/) and checks
 * the key that is left against the token's prefix (the router checked it
 * with its slash). 0, or -1 after 400 (empty) or 403.
 */
int gw_seed_trim_slash(struct gw_req *r);

/* Sends 200 with j's text (application/json), or 500 if it overflowed; frees j. */
void gw_seed_send(struct gw *gw, struct gw_http *h, struct gw_json *j, uint64_t raft_index);

/*
 * Reads r->key (linearizable unless ?consistency=stale) and hands storaged's
 * GET_RESP to on_value (status 0 or KV_ENOTFOUND); other failures answer as
 * GET /v1/kv does. on_value answers and ends the call.
 */
void gw_seed_get_start(struct gw_req *r, const struct gw_call_ops *ops);
/* For a get's ops: handles READ_INDEX_RESP and failures; the GET_RESP to look at, or NULL. */
const struct proto_get_resp *gw_seed_get_resp(struct gw *gw, struct gw_call *c,
                                              const struct proto_local *m);

/*
 * The third seed's answer (gw_seed_store_set.c), for c's key:
 * {"data":{"key":...,"value":...},"message":...} and a newline. value is
 * JSON text when is_json, else bytes written as a string; empty: null.
 * Answers and ends c.
 */
void gw_seed_store_answer(struct gw *gw, struct gw_call *c, const char *message,
                          struct proto_bytes value, int is_json, uint64_t raft_index);

#endif

/*
 * gw_consul_query.h - the query string of a Consul API request (gatewayd's
 * --consul-listen), decoded and checked: the parameters raftkv serves
 * (recurse, raw, keys, separator, cas, flags, consistent, stale, token) and
 * blocking queries (index, wait), and the ones it does not, which are named
 * back to the client rather than ignored (dc, acquire, release, ns,
 * partition, peer, filter).
 *
 * Pure code (no h2o): values in, values out; any thread.
 */
#ifndef RAFTKV_GW_CONSUL_QUERY_H
#define RAFTKV_GW_CONSUL_QUERY_H

#include "gw_parse.h"

#include <stddef.h>
#include <stdint.h>

#define GW_CONSUL_SEPARATOR_BYTES_MAX 16u
#define GW_CONSUL_WAIT_MS             300000u /* a blocking query's default ?wait= (Consul's) */
#define GW_CONSUL_WAIT_MS_MAX         600000u /* and its most (Consul's 10 min) */

/* What a GET /v1/kv/{key} answers. */
enum gw_consul_read {
	GW_CONSUL_READ_ONE = 0, /* [entry] of the key */
	GW_CONSUL_READ_RAW,     /* ?raw: the key's bare value */
	GW_CONSUL_READ_RECURSE, /* ?recurse: [entry...] under the prefix */
	GW_CONSUL_READ_KEYS,    /* ?keys: ["name"...] under the prefix, cut after ?separator */
};

struct gw_consul_query {
	uint8_t on;   /* 1: the request came in as Consul's API (replies add X-Consul-*) */
	uint8_t read; /* enum gw_consul_read */
	uint8_t recurse;
	uint8_t has_cas;
	uint8_t has_flags;
	uint8_t sep_len;
	uint8_t sep[GW_CONSUL_SEPARATOR_BYTES_MAX];
	uint8_t has_index; /* ?index=N given (N > 0): a blocking query */
	uint64_t index;    /* answer once the key (prefix) changed past it */
	uint64_t wait_ms;  /* ?wait=, at most GW_CONSUL_WAIT_MS_MAX; default GW_CONSUL_WAIT_MS */
	uint64_t cas;
	uint64_t flags;
	struct gw_key token; /* ?token=, decoded; len 0: none */
};

/*
 * Parses qs[0..len) (after '?', may be empty) into cq and, for the shared
 * read path, q (timeout_ms_default, and consistency from ?stale/?consistent).
 * A parameter Consul defines that raftkv does not serve returns KV_EINVAL
 * with *missing set to a sentence naming what is missing (static; the
 * caller answers 501); unknown ones are ignored, as Consul does. Errors
 * otherwise leave *missing NULL: KV_EINVAL (malformed value, a ?wait= that is
 * not a number with ms, s or m,
 * value, ?stale with ?consistent; *what names the parameter), KV_ETOOLARGE (a separator past
 * GW_CONSUL_SEPARATOR_BYTES_MAX or a token past the key limit).
 */
int gw_consul_query_parse(const char *qs, size_t len, uint64_t timeout_ms_default,
                          struct gw_query *q, struct gw_consul_query *cq, const char **what,
                          const char **missing);

#endif

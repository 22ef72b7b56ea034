/*
 * gw_parse.h - what an HTTP request carries, decoded and checked against the
 * limits of docs/api.md: the key of /v1/kv/{key}, the query parameters, the
 * condition and idempotency headers, and a connection's first head.
 *
 * Pure code (no h2o): values in, values out; any thread. Every function
 * returns 0 or a negative KV_E* code (gw_parse_screen_head: a verdict), and
 * on error names the offending parameter in *what (a static string) and a
 * bound in *limit where one applies.
 */
#ifndef RAFTKV_GW_PARSE_H
#define RAFTKV_GW_PARSE_H

#include "kv_limits.h"

#include <stddef.h>
#include <stdint.h>

enum gw_consistency { GW_LINEARIZABLE = 0, GW_STALE = 1 };

/* A key or a key-like parameter: decoded bytes. */
struct gw_key {
	uint32_t len;
	uint8_t bytes[KV_KEY_BYTES_MAX];
};

struct gw_query {
	uint64_t timeout_ms;  /* KV_HTTP_TIMEOUT_MS_MIN..MAX; the default when absent */
	uint8_t consistency;  /* enum gw_consistency */
	uint8_t base64;       /* ?encoding=base64 */
	uint32_t limit;       /* 1..KV_LIST_LIMIT_MAX */
	struct gw_key prefix; /* may be empty */
	struct gw_key after;  /* may be empty: from the start */
	uint64_t lease;       /* ?lease=<id> (PUT): 0 when absent */
	uint8_t force;        /* ?force=true (DELETE /v1/members/{id}): 0 when absent */
};

/*
 * Decodes the key of /v1/kv/{key}: raw is the path after "/v1/kv/" up to the
 * query. Percent escapes are decoded; every other byte is taken as is, so a
 * key is any 1..KV_KEY_BYTES_MAX bytes: "/", "../", %00 and invalid UTF-8 are
 * opaque key bytes that round-trip (docs/api.md "Keys and values").
 * Errors: KV_EINVAL (empty, "%zz", a truncated "%0"), KV_ETOOLARGE (> limit).
 */
int gw_parse_key(const char *raw, size_t len, struct gw_key *out);

/*
 * Parses the query string (after '?', may be empty) into q, starting from the
 * defaults (timeout_ms_default, linearizable, limit KV_LIST_LIMIT_DEFAULT).
 * Known parameters: timeout (ms, or with an "ms" or "s" suffix), consistency
 * (linearizable|stale), encoding (base64|utf8), limit, prefix, after, lease,
 * force (true|false).
 * Unknown parameters are ignored, a repeated known one is an error.
 * Errors: KV_EINVAL (malformed), KV_ERANGE (out of bounds; *limit says the bound).
 */
int gw_parse_query(const char *qs, size_t len, uint64_t timeout_ms_default, struct gw_query *q,
                   const char **what, uint64_t *limit);

/* If-Match: "<n>" (also a bare n, or W/"<n>") -> *index. KV_EINVAL otherwise. */
int gw_parse_if_match(const char *v, size_t len, uint64_t *index);

/* If-None-Match: only "*" is meaningful for a key-value store; KV_EINVAL otherwise. */
int gw_parse_if_none_match(const char *v, size_t len);

/* Idempotency-Key: 1..KV_IDEMPOTENCY_KEY_BYTES_MAX bytes; KV_EINVAL or KV_ETOOLARGE. */
int gw_parse_idempotency_key(const char *v, size_t len);

/*
 * Looks at the start of a connection's first request before h2o parses it
 * (h2o 2.2.5 answers these cases with a bare 400, or takes them). Returns 0
 * while the head is incomplete and within limits, 1 when it is complete and
 * acceptable, or the status to answer: 414 (request line past
 * KV_HTTP_URL_BYTES_MAX), 431 (more than KV_HTTP_HEADERS_MAX header lines or
 * KV_HTTP_HEADER_BYTES_MAX bytes of them), 400 (both Content-Length and
 * Transfer-Encoding: a request-smuggling shape; a malformed first chunk
 * size), 413 (a Content-Length or a first chunk over body_max). With
 * Transfer-Encoding the verdict waits for the first chunk-size line.
 */
int gw_parse_screen_head(const char *buf, size_t len, uint64_t body_max);

/*
 * Percent-decodes one query-string value ('+' is a space) into out; may be
 * empty. KV_EINVAL (bad escape) or KV_ETOOLARGE (past KV_KEY_BYTES_MAX).
 */
int gw_parse_query_value(const char *v, size_t len, struct gw_key *out);

/* A decimal u64 without sign or spaces; KV_EINVAL or KV_ERANGE on overflow. */
int gw_parse_u64(const char *s, size_t len, uint64_t *out);

#endif

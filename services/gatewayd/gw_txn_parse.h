/*
 * gw_txn_parse.h - the JSON body of POST /v1/txn and POST /v1/leases,
 * checked against the limits of docs/api.md and turned into what the log
 * carries (struct proto_txn, proto_txn.h). Pure code (jansson, no h2o); any
 * thread.
 */
#ifndef RAFTKV_GW_TXN_PARSE_H
#define RAFTKV_GW_TXN_PARSE_H

#include "proto_txn.h"

#include <stddef.h>
#include <stdint.h>

/* Why a body was refused: the HTTP status, the error code, a message and where. */
struct gw_txn_err {
	int status;        /* 400 or 413 */
	const char *code;  /* kv_err_code() of the error */
	char message[160]; /* what is wrong, for a person */
	char param[48];    /* "compare[2].key", "success[0].value", ... */
	uint64_t limit;    /* the bound crossed, 0: none */
};

/*
 * Parses body (len bytes of JSON) into *t and encodes it into out (appended).
 * value_max bounds each put's value (--max-value-bytes). Returns 0, or -1
 * with *err filled. t's byte strings point into memory freed before return:
 * only out is meant for use afterwards.
 */
int gw_txn_parse(const char *body, size_t len, uint64_t value_max, struct proto_txn *t,
                 struct proto_buf *out, struct gw_txn_err *err);

/* POST /v1/leases: {"ttl_ms": N} with N in the lease bounds. 0 or -1 with *err. */
int gw_txn_parse_lease(const char *body, size_t len, uint64_t *ttl_ms, struct gw_txn_err *err);

#endif

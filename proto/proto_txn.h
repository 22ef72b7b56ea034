/*
 * proto_txn.h - a multi-key transaction as it travels in the log (the value
 * of a PROTO_KV_TXN command) and its outcome as it comes back (the body of a
 * RESULT): struct proto_txn and struct proto_txn_result, with their codecs
 * (proto_txn.c).
 *
 * A transaction is compares, then the success branch when every compare
 * holds, else the failure branch; storaged applies one branch atomically
 * (sm_txn.c). Every count is bounded (kv_limits.h) and checked by the
 * decoder before use, so what decodes can be applied without further
 * length checks. Byte strings point into the buffer that was decoded
 * (borrowed for its life). Stateless; any thread.
 */
#ifndef RAFTKV_PROTO_TXN_H
#define RAFTKV_PROTO_TXN_H

#include "proto.h"

#include <stdint.h>

enum proto_txn_target {
	PROTO_TXN_CMP_MOD_INDEX = 1, /* the key's mod_index equals mod_index (0: absent) */
	PROTO_TXN_CMP_EXISTS = 2,    /* the key exists == exists */
	PROTO_TXN_CMP_VALUE = 3,     /* the key exists and its value equals value */
};

enum proto_txn_op_kind {
	PROTO_TXN_PUT = 1,
	PROTO_TXN_DELETE = 2,
	PROTO_TXN_GET = 3,
	PROTO_TXN_DELETE_PREFIX = 4,
};

struct proto_txn_cmp {
	uint8_t target; /* enum proto_txn_target */
	struct proto_bytes key;
	uint64_t mod_index;
	uint8_t exists;
	struct proto_bytes value;
};

struct proto_txn_op {
	uint8_t kind;           /* enum proto_txn_op_kind */
	struct proto_bytes key; /* DELETE_PREFIX: the prefix (may be empty) */
	struct proto_bytes value;
	uint64_t lease; /* PUT: 0, or the lease the key is attached to */
};

struct proto_txn {
	uint32_t n_cmp, n_success, n_failure;
	struct proto_txn_cmp cmp[KV_TXN_COMPARES_MAX];
	struct proto_txn_op success[KV_TXN_OPS_MAX];
	struct proto_txn_op failure[KV_TXN_OPS_MAX];
};

/* One op's outcome; value points into the decoded buffer. */
struct proto_txn_op_result {
	uint8_t kind;   /* the op's enum proto_txn_op_kind */
	int32_t status; /* 0, or KV_ENOTFOUND (get, delete), KV_ETOOLARGE (get past the bound) */
	uint64_t create_index;
	uint64_t mod_index;
	uint64_t count; /* DELETE_PREFIX: keys deleted */
	struct proto_bytes value;
};

struct proto_txn_result {
	uint8_t succeeded; /* 1: every compare held, the success branch ran */
	uint32_t n_results;
	struct proto_txn_op_result results[KV_TXN_OPS_MAX];
};

/* Appends t's encoding to out. Returns 0, KV_EINVAL (a count or kind out of range), KV_E*. */
int proto_txn_encode(const struct proto_txn *t, struct proto_buf *out);

/* Decodes buf into *out (its bytes borrowed from buf). Returns 0 or KV_EPROTO. */
int proto_txn_decode(const uint8_t *buf, size_t len, struct proto_txn *out);

/* Appends r's encoding to out. Returns 0 or KV_E*. */
int proto_txn_result_encode(const struct proto_txn_result *r, struct proto_buf *out);

/* Decodes buf into *out (values borrowed from buf). Returns 0 or KV_EPROTO. */
int proto_txn_result_decode(const uint8_t *buf, size_t len, struct proto_txn_result *out);

#endif

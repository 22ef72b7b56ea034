/*
 * kv_err.h - the one table of raftkv error codes.
 *
 * Every function that can fail returns int: 0 on success or a negative KV_E*
 * code from this table. kv_strerror() names each code in one sentence, and
 * kv_err_http_status() maps it to the HTTP status of docs/api.md.
 */
#ifndef RAFTKV_KV_ERR_H
#define RAFTKV_KV_ERR_H

/* X(name, value, http status, snake_case code, message) */
#define KV_ERR_TABLE(X)                                                                            \
	X(KV_EINVAL, -1, 400, "invalid_argument", "invalid argument")                              \
	X(KV_ENOMEM, -2, 503, "out_of_memory", "out of memory")                                    \
	X(KV_EIO, -3, 500, "io_error", "input/output error")                                       \
	X(KV_ENOSPC, -4, 507, "no_space", "no space left on device")                               \
	X(KV_ECORRUPT, -5, 500, "corrupt", "data failed its checksum or framing")                  \
	X(KV_ENOTFOUND, -6, 404, "key_not_found", "key not found")                                 \
	X(KV_ECONDITION, -7, 412, "condition_failed", "condition failed")                          \
	X(KV_ETOOLARGE, -8, 413, "too_large", "over the size limit")                               \
	X(KV_ENOTLEADER, -9, 503, "not_leader", "this node is not the leader")                     \
	X(KV_ENOLEADER, -10, 503, "no_leader", "no leader is known")                               \
	X(KV_EBUSY, -11, 429, "busy", "too many requests in flight")                               \
	X(KV_ETIMEDOUT, -12, 504, "timeout", "the deadline passed")                                \
	X(KV_EFULL, -13, 507, "store_full", "the store is full; writes are refused")               \
	X(KV_EPROTO, -14, 400, "protocol_error", "malformed message")                              \
	X(KV_ESHUTDOWN, -15, 503, "shutting_down", "shutting down")                                \
	X(KV_ECONFIG, -16, 409, "config_change_in_progress",                                       \
	  "a membership change is already in progress")                                            \
	X(KV_ESTALE, -17, 503, "stale", "the entry was replaced by a newer leader")                \
	X(KV_EUNAVAIL, -18, 503, "unavailable", "the service cannot answer now")                   \
	X(KV_ERANGE, -19, 400, "out_of_range", "value out of range")                               \
	X(KV_EUNAUTH, -20, 401, "unauthorized", "a valid bearer token is required")                \
	X(KV_EFORBIDDEN, -21, 403, "forbidden", "the token may not do this")                       \
	X(KV_EEXIST, -22, 409, "member_exists", "a member with that id or peer address exists")    \
	X(KV_ECOMPACTED, -40, 410, "compacted", "the watch history no longer holds that index")    \
	X(KV_ENOLEASE, -31, 404, "lease_not_found",                                                \
	  "no such lease (never granted, revoked or expired)")

enum kv_err {
#define KV_ERR_ENUM(name, value, http, code, msg) name = (value),
	KV_ERR_TABLE(KV_ERR_ENUM)
#undef KV_ERR_ENUM
};

/* One sentence naming err; a static string (never freed). Unknown codes get a generic text. */
const char *kv_strerror(int err);

/* The snake_case code of err for JSON error bodies; a static string. */
const char *kv_err_code(int err);

/* The HTTP status an error maps to (docs/api.md); 500 for unknown codes. */
int kv_err_http_status(int err);

/* Translates an errno value into a KV_E* code (ENOSPC -> KV_ENOSPC, ...). */
int kv_err_from_errno(int errnum);

#endif

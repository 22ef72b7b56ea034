/*
 * kv_limits.h - every limit of raftkv, in one place.
 *
 * Each is checked at the edge where input enters and answered with a clear
 * error when exceeded (docs/api.md: 400, 413, 414, 429, 431, 503). Units are last
 * in names. Defaults that an operator may change are marked "default".
 */
#ifndef RAFTKV_KV_LIMITS_H
#define RAFTKV_KV_LIMITS_H

/* Keys and values (docs/api.md). LMDB's default maximum key size is 511 bytes. */
#define KV_KEY_BYTES_MAX             511u
#define KV_VALUE_BYTES_MAX_DEFAULT   (1u << 20)  /* default; --max-value-bytes */
#define KV_VALUE_BYTES_MAX_LIMIT     (16u << 20) /* the highest --max-value-bytes accepted */
#define KV_IDEMPOTENCY_KEY_BYTES_MAX 128u

/* HTTP edge. */
#define KV_HTTP_URL_BYTES_MAX        8192u
#define KV_HTTP_HEADERS_MAX          100u
#define KV_HTTP_HEADER_BYTES_MAX     16384u
#define KV_HTTP_INFLIGHT_MAX_DEFAULT 1024u /* requests waiting on Raft per gateway; 429 past it */
#define KV_HTTP_CONNECTIONS_MAX      4096u
#define KV_HTTP_TIMEOUT_MS_DEFAULT   5000u /* request deadline; ?timeout= within the bounds below */
#define KV_HTTP_TIMEOUT_MS_MIN       1u
#define KV_HTTP_TIMEOUT_MS_MAX       60000u
#define KV_LIST_LIMIT_DEFAULT        100u
#define KV_LIST_LIMIT_MAX            1000u
#define KV_DELETE_PREFIX_KEYS_MAX    10000u /* keys one delete of a prefix removes; past it none */
#define KV_LIST_BYTES_MAX            (4u << 20) /* a page stops early past this many value bytes */

/* Messages between processes and nodes. */
#define KV_MSG_BYTES_MAX (32u << 20) /* ZMQ_MAXMSGSIZE on every socket */
#define KV_MSG_DEPTH_MAX 8u          /* msgpack nesting accepted by decoders */
#define KV_PEER_SNDHWM   1000u       /* messages queued per peer before drops */
/* A local batch: several whole messages as the frames of one ZeroMQ message. */
#define KV_LOCAL_BATCH_FRAMES_MAX 64u         /* frames in one batch */
#define KV_LOCAL_BATCH_BYTES_MAX  (64u << 10) /* no frame is added once a batch has this many */

/* Raft. */
#define KV_RAFT_NODES_MAX       9u
#define KV_SNAPSHOT_CHUNK_BYTES (256u << 10)

/* Idempotency: remembered keys, and how many Raft indexes a key is kept for. */
#define KV_SESSIONS_MAX           100000u
#define KV_SESSION_WINDOW_ENTRIES 1000000u

/* Transactions (POST /v1/txn): 400 past the counts, 413 past the bytes. */
#define KV_TXN_COMPARES_MAX     64u        /* compares in one transaction */
#define KV_TXN_OPS_MAX          64u        /* ops in one branch (success or failure) */
#define KV_TXN_BYTES_MAX        (4u << 20) /* the JSON request body */
#define KV_TXN_RESULT_BYTES_MAX (1u << 20) /* values its gets return; a get past it: too_large */
#define KV_TXN_PREFIX_KEYS_MAX  10000u     /* keys one delete_prefix may delete */

/* Leases (POST /v1/leases): the TTL bounds, how many, keys on one lease. */
#define KV_LEASE_TTL_MS_MIN 2000u    /* above the election timeout: a leader change fits in */
#define KV_LEASE_TTL_MS_MAX 3600000u /* one hour */
#define KV_LEASES_MAX       10000u   /* leases alive at once; 429 past it */
#define KV_LEASE_KEYS_MAX   1000u    /* keys attached to one lease; 413 past it */

/* Membership changes (POST /v1/members, POST /raft/join): 413 past the body, 400 past the rest. */
#define KV_MEMBER_BODY_BYTES_MAX 4096u  /* the JSON request body */
#define KV_MEMBER_ID_MAX         65535u /* node ids are 1..65535 */
#define KV_MEMBER_HOST_BYTES_MAX 253u   /* a peer address's or URL's host: a DNS name's limit */
#define KV_MEMBER_URL_BYTES_MAX  127u   /* a gateway URL: http(s)://host:port */
#define KV_MEMBER_CURVE_KEY_LEN  40u    /* a Z85 CurveZMQ public key */

#endif

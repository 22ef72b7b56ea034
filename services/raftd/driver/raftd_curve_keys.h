/*
 * raftd_curve_keys.h - CurveZMQ key material for the peer port: this node's
 * secret key file and the allow-list of node ids and their public keys
 * (--peer-keys "1=Z85,2=Z85" or --peer-keys-file, one "ID Z85" a line).
 *
 * Keys are Z85 text (40 characters for 32 bytes), as `raftkvctl keygen`
 * writes them. Parsing is pure; the two *_read_* functions read one small
 * file each. Main thread at startup, and the unit tests.
 */
#ifndef RAFTKV_RAFTD_CURVE_KEYS_H
#define RAFTKV_RAFTD_CURVE_KEYS_H

#include "raft.h"

#include <stddef.h>
#include <stdint.h>

#define RAFTD_CURVE_KEY_BYTES     32u   /* a Curve25519 key */
#define RAFTD_CURVE_Z85_LEN       40u   /* its Z85 text, without a NUL */
#define RAFTD_CURVE_KEYS_TEXT_MAX 8192u /* bytes of --peer-keys or its file accepted */

struct raftd_peer_key {
	uint64_t id;
	char z85[RAFTD_CURVE_Z85_LEN + 1];
	uint8_t bin[RAFTD_CURVE_KEY_BYTES];
};

/* The allow-list: at most RAFT_NODES_MAX entries, ids and keys each unique. */
struct raftd_peer_keys {
	uint32_t n;
	struct raftd_peer_key keys[RAFT_NODES_MAX];
};

/*
 * Parses "1=Z85,2=Z85,..." (sep ',') or the file form, one "ID Z85" a line
 * with blank lines and lines starting with '#' allowed (sep '\n'; '#' is
 * also a Z85 digit, so there are no comments after a key), into out. Ids are
 * 1..RAFTD_NODE_ID_MAX and unique, keys valid Z85 of 32 bytes and unique.
 * Returns 0, or KV_EINVAL / KV_ETOOLARGE with a sentence in err.
 */
int raftd_curve_keys_parse(const char *text, char sep, struct raftd_peer_keys *out, char *err,
                           size_t err_len);

/* The entry for id, or NULL; borrowed from k. */
const struct raftd_peer_key *raftd_curve_keys_find(const struct raftd_peer_keys *k, uint64_t id);

/* The id whose public key is pub[0..32), or 0 when the key is not in the list. */
uint64_t raftd_curve_keys_lookup(const struct raftd_peer_keys *k, const uint8_t *pub);

/*
 * Checks that text (surrounding white space ignored) is one Z85 key and
 * copies it, NUL-terminated, to z85. Returns 0 or KV_EINVAL.
 */
int raftd_curve_keys_parse_one(const char *text, char *z85, uint8_t *bin);

/*
 * Reads a secret key file: at most RAFTD_CURVE_KEYS_TEXT_MAX bytes, a
 * regular file with no group or other permissions (0600 or 0400), or owned
 * by root and readable by raftd's own group only (0640 or 0440: a Kubernetes
 * Secret volume with fsGroup), holding one Z85 key. Returns 0, or a KV_E*
 * code with a sentence in err.
 */
int raftd_curve_keys_read_secret(const char *path, char *z85, char *err, size_t err_len);

/*
 * 1 when a tcp:// endpoint binds only a loopback address (127.x.y.z,
 * localhost or [::1]), else 0 (0.0.0.0, [::], any other address or name).
 */
int raftd_curve_endpoint_is_loopback(const char *endpoint);

/* Reads a whole text file of at most cap-1 bytes into buf (NUL-terminated). */
int raftd_curve_keys_read_file(const char *path, char *buf, size_t cap, char *err, size_t err_len);

#endif

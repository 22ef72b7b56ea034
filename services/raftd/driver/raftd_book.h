/*
 * raftd_book.h - the address book: for each node id, where its raftd listens
 * (peer_address), its gateway's HTTP base URL and its CurveZMQ public key.
 *
 * Addresses travel with the configuration, not with --peers: an ADD_LEARNER
 * CONFIG entry carries the new member's address after the core's 18 bytes
 * (raftd_book_config_encode), a peer SNAPSHOT carries the whole book
 * (raftd_book_encode), and every change is kept in <data-dir>/wal/members
 * (written to a temp file, fsynced, renamed, directory fsynced). At boot the
 * book is the file, then --peers for ids the file lacks (it only seeds a new
 * cluster), then the CONFIG entries of the WAL after the snapshot.
 *
 * Entries are never dropped when a member is removed: an uncommitted REMOVE
 * may be truncated by a new leader, and the member must still be reachable.
 * A stale entry costs nothing (peers are the configuration's members, not the
 * book's); when the book is full, one whose id is not in the current
 * configuration makes room.
 *
 * The pure part (struct raftd_book and its codecs, the file) needs no
 * struct raftd and is unit-tested alone; raftd_book_set / raftd_book_find
 * work on a running raftd's book. Loop thread (and the main thread at boot).
 */
#ifndef RAFTKV_RAFTD_BOOK_H
#define RAFTKV_RAFTD_BOOK_H

#include "proto.h"
#include "raft.h"
#include "raftd_curve_keys.h"
#include "raftd_peerlist.h"

#include <stddef.h>
#include <stdint.h>

/* Entries held: the members plus as many stale ones (removed, or an add that was truncated). */
#define RAFTD_BOOK_MAX      18u
#define RAFTD_BOOK_ADDR_MAX (RAFTD_HOST_BYTES_MAX + 7u) /* "host:port" */

/* One entry's encoding: [addr_len u16 BE][addr][url_len u16 BE][url][key_len u8][key]. */
#define RAFTD_BOOK_ENTRY_BYTES_MAX                                                                 \
	(2u + RAFTD_BOOK_ADDR_MAX + 2u + PROTO_URL_BYTES_MAX + 1u + RAFTD_CURVE_Z85_LEN)
/* A whole book: [count u8] then [id u64 BE][entry] each. */
#define RAFTD_BOOK_BYTES_MAX (1u + RAFTD_BOOK_MAX * (8u + RAFTD_BOOK_ENTRY_BYTES_MAX))

_Static_assert(RAFTD_BOOK_BYTES_MAX <= RAFT_BOOK_BYTES_MAX, "a book fits a SNAPSHOT's field");

struct raftd_book_entry {
	uint64_t id;                                 /* 1..RAFTD_NODE_ID_MAX */
	char peer_address[RAFTD_HOST_BYTES_MAX + 8]; /* "host:port", as in --peers */
	char url[PROTO_URL_BYTES_MAX + 1];           /* "" when not known */
	char curve_key[RAFTD_CURVE_Z85_LEN + 1];     /* Z85 public key; "" when plaintext */
};

struct raftd_book {
	uint32_t n;
	struct raftd_book_entry entries[RAFTD_BOOK_MAX];
};

/* ---- Pure: validation and the book in memory ------------------------------------- */

/*
 * 0 when e is fit to use: id in 1..RAFTD_NODE_ID_MAX, peer_address parses
 * like a --peers item's host:port, url printable ASCII without spaces (may be
 * empty), curve_key empty or a valid Z85 key. KV_EINVAL otherwise.
 */
int raftd_book_entry_check(const struct raftd_book_entry *e);

/* The entry for id, or NULL; borrowed from b until b next changes. */
const struct raftd_book_entry *raftd_book_get(const struct raftd_book *b, uint64_t id);

/*
 * Adds e or replaces the entry with its id (e checked first). When b is full,
 * the first entry whose id is not in keep (may be NULL) makes room. Returns 1
 * when b changed, 0 when e was already there, or KV_EINVAL / KV_EFULL.
 */
int raftd_book_put(struct raftd_book *b, const struct raftd_book_entry *e,
                   const struct raft_config *keep);

/* ---- Pure: codecs --------------------------------------------------------------- */

/*
 * The address part of an ADD_LEARNER CONFIG entry, written after the core's
 * RAFT_CONFIG_CHANGE_BYTES (e->id is not written: the change names the node).
 * Returns the bytes written (at most RAFTD_BOOK_ENTRY_BYTES_MAX), or
 * KV_EINVAL (e not fit) / KV_ETOOLARGE (cap).
 */
int raftd_book_config_encode(const struct raftd_book_entry *e, uint8_t *out, size_t cap);

/*
 * Reads the address part of a CONFIG entry's data (the whole data, change
 * included): 0 and *out (id from the change) when an ADD_LEARNER carries one;
 * KV_ENOTFOUND when the entry carries none (another op, or 18 bytes only: the
 * core's own changes); KV_EPROTO for anything malformed: a length past the
 * bytes or its bound, an address that does not parse, a bad key, trailing bytes.
 */
int raftd_book_config_decode(const uint8_t *data, uint32_t len, struct raftd_book_entry *out);

/* The whole book (a SNAPSHOT's field, the file's body). Bytes written or KV_ETOOLARGE. */
int raftd_book_encode(const struct raftd_book *b, uint8_t *out, size_t cap);

/* Strict inverse of raftd_book_encode: 0, or KV_EPROTO (b is then empty). */
int raftd_book_decode(const uint8_t *data, size_t len, struct raftd_book *b);

/* ---- The file <dir>/members --------------------------------------------------- */

/*
 * Writes b to <dir>/members durably (temp file, fsync, rename, fsync of dir).
 * The file is "RKVBOOK1", the encoded book, then its CRC32C (4 bytes BE).
 */
int raftd_book_save(const char *dir, const struct raftd_book *b);

/*
 * Loads <dir>/members into b. 0; KV_ENOTFOUND when there is no file (b
 * empty); KV_ECORRUPT when it is torn, damaged or malformed, with a sentence
 * in err (b empty); another KV_E* for an I/O error.
 */
int raftd_book_load(const char *dir, struct raftd_book *b, char *err, size_t err_len);

/* ---- A running raftd's book ------------------------------------------------------ */

struct raftd;

/*
 * Adds or replaces e in d's book and persists the book when it changed.
 * Returns 0 or a KV_E* code (KV_EINVAL: e not fit; KV_EFULL; an I/O error of
 * the file: the book in memory has e all the same). Marks the peers for a
 * reconcile (at the next step of the core). Loop thread, or the main thread
 * after raftd_boot_core() (the file goes beside the WAL, which must exist).
 */
int raftd_book_set(struct raftd *d, const struct raftd_book_entry *e);

/* d's entry for id, or NULL; borrowed until the book next changes. */
const struct raftd_book_entry *raftd_book_find(const struct raftd *d, uint64_t id);

#endif

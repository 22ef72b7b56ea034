/*
 * raftd_addresses.c - a running raftd's address book (raftd_book.h): where
 * it comes from at boot, what updates it while the loop runs, and the file
 * that keeps it.
 *
 * Sources, in order: <data-dir>/wal/members; --peers (and --peer-keys) for
 * ids the file lacks, so a new cluster is seeded and old scripts keep
 * working; the CONFIG entries of the WAL after the snapshot (replayed at
 * boot); then, while running, every CONFIG entry the core appends (leader or
 * follower, seen in the update before the executor persists it) and the book
 * a SNAPSHOT carries, adopted when that snapshot installs. A change is
 * written to the file at once: a crash before the write loses nothing, since
 * the entry is replayed from the WAL at the next boot; a write that fails
 * ends the process (the WAL's rule). Main thread at boot,
 * then the loop thread.
 */
#include "raftd.h"

#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configuration a full book keeps entries of (the core's current one). */
static void addresses_config(const struct raftd *d, struct raft_config *c)
{
	struct raft_status st;
	if (d->raft == NULL) {
		c->n = 0;
		return;
	}
	raft_get_status(d->raft, &st);
	*c = st.config;
}

int raftd_book_set(struct raftd *d, const struct raftd_book_entry *e)
{
	struct raft_config keep;
	addresses_config(d, &keep);
	int rc = raftd_book_put(&d->book, e, &keep);
	if (rc <= 0)
		return rc;
	d->peers_stale = 1;
	KV_LOG_INFO(RAFTD_SVC, "address book entry", "node=%" PRIu64 " peer=%s url=%s curve=%s",
	            e->id, e->peer_address, e->url, e->curve_key[0] ? "yes" : "no");
	rc = raftd_book_save(d->wal_dir, &d->book);
	if (rc != 0)
		KV_LOG_ERROR(RAFTD_SVC, "cannot save the address book", "dir=%s err=\"%s\"",
		             d->wal_dir, kv_strerror(rc));
	return rc;
}

const struct raftd_book_entry *raftd_book_find(const struct raftd *d, uint64_t id)
{
	return raftd_book_get(&d->book, id);
}

/*
 * Adds an entry the log or a snapshot gave. A book that cannot be saved ends
 * the process, as a failed WAL write does (F13): once the log holding the
 * entry is compacted, the file is the only copy of the address.
 */
static void addresses_learn(struct raftd *d, const struct raftd_book_entry *e)
{
	int rc = raftd_book_set(d, e);
	if (rc == 0 || rc == KV_EINVAL || rc == KV_EFULL)
		return; /* a bad entry is refused (and was checked before it was sent) */
	KV_LOG_ERROR(RAFTD_SVC, "address book not durable, exiting", "err=\"%s\"", kv_strerror(rc));
	exit(1);
}

/* One CONFIG entry's address, if it carries one. */
static void addresses_from_entry(struct raftd *d, const struct raft_entry *e)
{
	struct raftd_book_entry be;
	int rc = raftd_book_config_decode(e->data, e->len, &be);
	if (rc == KV_ENOTFOUND)
		return;
	if (rc == 0)
		addresses_learn(d, &be);
	else
		KV_LOG_WARN(RAFTD_SVC, "CONFIG entry with a malformed address ignored",
		            "index=%" PRIu64 " len=%u", e->index, e->len);
}

/* --peers entries for ids the book lacks; their keys from --peer-keys. */
static int addresses_seed(struct raftd *d)
{
	for (uint32_t i = 0; i < d->peer_list.n; i++) {
		const struct raftd_peer_addr *a = &d->peer_list.peers[i];
		struct raftd_book_entry e = {.id = a->id};
		if (raftd_book_find(d, a->id) != NULL)
			continue;
		raftd_peerlist_format(a, e.peer_address, sizeof(e.peer_address));
		const struct raftd_peer_key *k = raftd_curve_keys_find(&d->curve.keys, a->id);
		if (d->curve.on && k != NULL)
			snprintf(e.curve_key, sizeof(e.curve_key), "%s", k->z85);
		int rc = raftd_book_set(d, &e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int raftd_addresses_boot(struct raftd *d, const struct wal_recovery *rec)
{
	char err[PATH_MAX + 128];
	int rc = raftd_book_load(d->wal_dir, &d->book, err, sizeof(err));
	if (rc != 0 && rc != KV_ENOTFOUND) {
		KV_LOG_ERROR(RAFTD_SVC,
		             "cannot read the address book; remove the file to rebuild it from "
		             "--peers and the log",
		             "err=\"%s\" detail=\"%s\"", kv_strerror(rc),
		             rc == KV_ECORRUPT ? err : "");
		return rc;
	}
	uint32_t from_file = d->book.n;
	rc = addresses_seed(d);
	for (uint32_t i = 0; rc == 0 && i < rec->n_entries; i++)
		if (rec->entries[i].type == RAFT_ENTRY_CONFIG)
			addresses_from_entry(d, &rec->entries[i]);
	d->peers_stale = 1;
	KV_LOG_INFO(RAFTD_SVC, "address book loaded", "entries=%u from_file=%u", d->book.n,
	            from_file);
	return rc;
}

/* The snapshot stashed by raftd_addresses_stash has installed: its book joins ours. */
static void addresses_adopt(struct raftd *d, uint64_t index)
{
	if (d->snap_book_index == 0 || d->snap_book_index != index)
		return;
	for (uint32_t i = 0; i < d->snap_book.n; i++)
		addresses_learn(d, &d->snap_book.entries[i]);
	KV_LOG_INFO(RAFTD_SVC, "address book from the snapshot", "index=%" PRIu64 " entries=%u",
	            index, d->snap_book.n);
	d->snap_book_index = 0;
}

void raftd_addresses_observe(struct raftd *d, const struct raft_update *u)
{
	if (u->has_snapshot_install) {
		addresses_adopt(d, u->snapshot_install.index);
		d->peers_stale = 1;
	}
	if (u->has_truncate)
		d->peers_stale = 1; /* an uncommitted change may be gone */
	for (uint32_t i = 0; i < u->n_entries; i++) {
		if (u->entries[i].type != RAFT_ENTRY_CONFIG)
			continue;
		addresses_from_entry(d, &u->entries[i]);
		d->peers_stale = 1;
	}
}

void raftd_addresses_stash(struct raftd *d, const struct raft_msg *m)
{
	const struct raft_snapshot *s = &m->u.snapshot;
	/* only the chunk that completes it: that is the one whose step installs */
	if (s->book_len == 0 || s->offset > s->snap_size ||
	    s->chunk_len != s->snap_size - s->offset)
		return;
	if (raftd_book_decode(s->book, s->book_len, &d->snap_book) != 0) {
		d->snap_book_index = 0;
		KV_LOG_WARN(RAFTD_SVC, "SNAPSHOT with a malformed address book ignored",
		            "from=%" PRIu64 " index=%" PRIu64, m->from, s->snap_index);
		return;
	}
	d->snap_book_index = s->snap_index;
}

/*
 * raftd_snapshot_take.c - snapshots of the local state machine and dropping
 * the log prefix they cover.
 *
 * Compaction copies nothing: storaged's LMDB environment is itself a durable
 * image of the state at its durable index (storaged_syncer.c). Once that index
 * is --snapshot-entries past the last snapshot, raftd makes it the snapshot
 * (term from the WAL, configuration from the CONFIG entries), with no image
 * file (size 0); a leader keeps up to RAFTD_COMPACT_KEEP_ENTRIES entries
 * (at most --snapshot-entries) more for its slowest follower. The core is told (SNAPSHOT_TAKEN);
 * when its update names a compact_index, the metadata is made durable in the WAL first and only
 * then the prefix dropped (F8), never past storaged's durable index (raftd_compact.h). An image
 * file is made only when a follower needs one (raftd_image.c), and it may carry a later index:
 * SNAPSHOT_DONE comes here too. Loop thread only.
 */
#include "raftd.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"
#include "raftd_compact.h"
#include "raftd_membership.h"
#include "raftd_snap_name.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The configuration as of index: the snapshot's, plus the CONFIG entries after it. */
static int take_config_at(struct raftd *d, uint64_t index, struct raft_config *out)
{
	*out = d->snap_config;
	for (uint64_t i = d->snap_index + 1; i <= index; i++) {
		struct raft_entry e;
		int rc = wal_get(d->wal, i, &e);
		if (rc != 0)
			return rc;
		if (e.type == RAFT_ENTRY_CONFIG && raftd_membership_apply(out, e.data, e.len) != 0)
			KV_LOG_WARN(RAFTD_SVC, "malformed config entry skipped", "index=%" PRIu64,
			            i);
	}
	return 0;
}

/* The term of the entry at index, from the WAL (or the snapshot's own). */
static int take_term_at(struct raftd *d, uint64_t index, uint64_t *term)
{
	struct raft_entry e;
	if (index == d->snap_index) {
		*term = d->snap_term;
		return 0;
	}
	int rc = wal_get(d->wal, index, &e);
	if (rc == 0)
		*term = e.term;
	return rc;
}

/*
 * While an image is being sent (or made), compaction waits: a new snapshot
 * would restart the transfer from the beginning and a large one might never
 * finish under load. It waits only while the log has room: past
 * RAFTD_COMPACT_FORCE_ENTRIES the core would refuse proposals.
 */
static int take_held_by_transfer(const struct raftd *d, uint64_t now_ms)
{
	if (wal_last_index(d->wal) - d->snap_index > RAFTD_COMPACT_FORCE_ENTRIES)
		return 0;
	return raftd_image_active(d, now_ms);
}

/* On a leader, the lowest match of the other members (UINT64_MAX: none, or not leader). */
static uint64_t take_slowest_match(const struct raftd *d)
{
	struct raft_status st;
	uint64_t slowest = UINT64_MAX;
	raft_get_status(d->raft, &st);
	if (st.role != RAFT_LEADER)
		return slowest;
	for (uint32_t i = 0; i < st.config.n; i++) {
		uint64_t id = st.config.members[i].id;
		uint64_t match = raft_match_of(d->raft, id);
		if (id != st.id && match < slowest)
			slowest = match;
	}
	return slowest;
}

void raftd_snapshot_take_request(struct raftd *d, uint64_t now_ms)
{
	uint64_t index = raftd_compact_snapshot_index(d->applied_index, d->storaged_durable_index);
	uint64_t keep = d->opts.snapshot_entries < RAFTD_COMPACT_KEEP_ENTRIES
	                    ? d->opts.snapshot_entries
	                    : RAFTD_COMPACT_KEEP_ENTRIES;
	index = raftd_compact_keep_for_followers(index, take_slowest_match(d),
	                                         wal_last_index(d->wal), keep);
	if (d->pending.valid || index <= d->snap_index + d->opts.snapshot_entries ||
	    index > d->commit_index || take_held_by_transfer(d, now_ms))
		return;
	struct raftd_snap_pending *p = &d->pending;
	int rc = take_term_at(d, index, &p->term);
	if (rc == 0)
		rc = take_config_at(d, index, &p->config);
	if (rc != 0) {
		KV_LOG_WARN(RAFTD_SVC, "cannot snapshot at storaged's durable index",
		            "index=%" PRIu64 " err=\"%s\"", index, kv_strerror(rc));
		return;
	}
	p->valid = 1;
	p->index = index;
	p->size = 0;
	p->path[0] = '\0';
	KV_LOG_INFO(RAFTD_SVC, "snapshot at storaged's durable index (no copy)", "index=%" PRIu64,
	            index);
	struct raft_event ev = {.type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = index, .snap_size = 0};
	if (raftd_update_step(d, &ev) != 0)
		p->valid = 0;
}

/* Checks storaged's image against the log; 0 if it can become the snapshot's image. */
static int take_check(struct raftd *d, const struct proto_snapshot_done *m, const char *path)
{
	uint64_t term = 0;
	if (m->status != 0)
		return m->status;
	if (m->index < d->snap_index || m->index > d->commit_index || m->path.len == 0 ||
	    m->path.len >= PATH_MAX || m->size == 0)
		return KV_ERANGE;
	if (!raftd_snap_name_ok(d->snap_dir, path))
		return KV_EPROTO; /* not an image of ours: never read, sent or deleted */
	int rc = take_term_at(d, m->index, &term);
	if (rc != 0)
		return rc;
	return term == m->term ? 0 : KV_ECORRUPT;
}

/* An image of the current snapshot's own index: only its size is news to the core. */
static void take_image_same_index(struct raftd *d, const struct proto_snapshot_done *m,
                                  const char *path)
{
	raftd_snapfile_use(d, path);
	d->snap_size = m->size;
	struct raft_event ev = {
	    .type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = m->index, .snap_size = m->size};
	raftd_update_step(d, &ev);
}

void raftd_snapshot_take_done(struct raftd *d, const struct proto_local *lm)
{
	const struct proto_snapshot_done *m = &lm->u.snapshot_done;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%.*s", (int)m->path.len, (const char *)m->path.ptr);
	if (d->snap_req_id == 0 || lm->req_id != d->snap_req_id) {
		/* an answer to a request we gave up on: its image is no one's */
		if (m->status == 0 && m->path.len > 0 && m->path.len < PATH_MAX &&
		    raftd_snap_name_ok(d->snap_dir, path) && strcmp(path, d->snap_path) != 0 &&
		    !(d->pending.valid && strcmp(path, d->pending.path) == 0))
			unlink(path);
		return;
	}
	d->snap_req_id = 0;
	int rc = take_check(d, m, path);
	struct raftd_snap_pending *p = &d->pending;
	if (rc == 0 && m->index > d->snap_index && p->valid)
		rc = KV_EBUSY; /* a compaction is between the core and the WAL: ask again */
	if (rc == 0 && m->index > d->snap_index)
		rc = take_config_at(d, m->index, &p->config);
	if (rc != 0) {
		KV_LOG_WARN(RAFTD_SVC, "snapshot image not usable", "index=%" PRIu64 " err=\"%s\"",
		            m->index, kv_strerror(rc));
		if (m->status == 0 && raftd_snap_name_ok(d->snap_dir, path))
			unlink(path);
		return;
	}
	KV_LOG_INFO(RAFTD_SVC, "snapshot image made for a follower",
	            "index=%" PRIu64 " term=%" PRIu64 " bytes=%" PRIu64 " path=%s", m->index,
	            m->term, m->size, path);
	d->image_used_ms = kv_clock_mono_ms();
	if (m->index == d->snap_index) {
		take_image_same_index(d, m, path);
		return;
	}
	p->valid = 1;
	p->index = m->index;
	p->term = m->term;
	p->size = m->size;
	snprintf(p->path, sizeof(p->path), "%s", path);
	struct raft_event ev = {
	    .type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = m->index, .snap_size = m->size};
	if (raftd_update_step(d, &ev) != 0 && p->valid) {
		unlink(p->path);
		p->valid = 0;
	}
}

int raftd_snapshot_take_compact(struct raftd *d, uint64_t compact_index)
{
	struct raftd_snap_pending *p = &d->pending;
	if (p->valid && p->index >= compact_index) {
		int rc = wal_save_snapshot_meta(d->wal, p->index, p->term, &p->config, p->size);
		if (rc != 0)
			return rc;
		d->snap_index = p->index;
		d->snap_term = p->term;
		d->snap_size = p->size;
		d->snap_config = p->config;
		p->valid = 0;
		raftd_snapfile_use(d, p->path);
	}
	if (compact_index > d->snap_index) {
		KV_LOG_WARN(RAFTD_SVC, "compaction past the snapshot refused",
		            "compact_index=%" PRIu64 " snap_index=%" PRIu64, compact_index,
		            d->snap_index);
		return 0;
	}
	uint64_t bound =
	    raftd_compact_bound(compact_index, d->snap_index, d->storaged_durable_index);
	if (bound < compact_index)
		KV_LOG_INFO(RAFTD_SVC, "compaction held at storaged's durable index",
		            "compact_index=%" PRIu64 " durable=%" PRIu64, compact_index,
		            d->storaged_durable_index);
	if (bound < wal_first_index(d->wal))
		return 0;
	int rc = wal_compact(d->wal, bound);
	if (rc == 0)
		KV_LOG_INFO(RAFTD_SVC, "log compacted", "through=%" PRIu64, bound);
	return rc;
}

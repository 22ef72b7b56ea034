/*
 * raftd_snapshot_take.c - taking snapshots of the local state machine and
 * dropping the log prefix they cover.
 *
 * raftd asks storaged for a snapshot (SNAPSHOT_REQ) once its applied index
 * is --snapshot-entries past the last one; storaged snapshots at its applied
 * index, so an entry can never be compacted before it was applied. When
 * SNAPSHOT_DONE arrives the core is told (SNAPSHOT_TAKEN); when its update
 * names a compact_index, the metadata is made durable in the WAL first and
 * only then the prefix dropped (F8), never past storaged's durable index
 * (raftd_compact.h: storaged applies without syncing LMDB). Loop thread only.
 */
#include "raftd.h"

#include "kv_err.h"
#include "kv_log.h"
#include "raftd_compact.h"
#include "raftd_membership.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void raftd_snapshot_take_request(struct raftd *d, uint64_t now_ms)
{
	if (d->snap_req_id != 0) {
		if (now_ms - d->snap_req_ms < RAFTD_SNAPSHOT_WAIT_MS)
			return;
		KV_LOG_WARN(RAFTD_SVC, "snapshot request unanswered, giving up", "waited_ms=%u",
		            RAFTD_SNAPSHOT_WAIT_MS);
		d->snap_req_id = 0;
	}
	if (d->hello_req_id != 0 || d->apply_next == 0)
		return;
	if (d->applied_index <= d->snap_index + d->opts.snapshot_entries)
		return;
	struct proto_local m = {.type = PROTO_SNAPSHOT_REQ, .req_id = ++d->next_req_id};
	if (raftd_apply_send(d, &m) != 0)
		return;
	d->snap_req_id = m.req_id;
	d->snap_req_ms = now_ms;
	KV_LOG_INFO(RAFTD_SVC, "snapshot requested", "applied=%" PRIu64 " last_snapshot=%" PRIu64,
	            d->applied_index, d->snap_index);
}

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

/* Checks storaged's snapshot against the log; 0 if it can become the new snapshot. */
static int take_check(struct raftd *d, const struct proto_snapshot_done *m)
{
	struct raft_entry e;
	if (m->status != 0)
		return m->status;
	if (m->index <= d->snap_index || m->index > d->commit_index || m->path.len == 0 ||
	    m->path.len >= PATH_MAX)
		return KV_ERANGE;
	int rc = wal_get(d->wal, m->index, &e);
	if (rc != 0)
		return rc;
	return e.term == m->term ? 0 : KV_ECORRUPT;
}

void raftd_snapshot_take_done(struct raftd *d, const struct proto_local *lm)
{
	const struct proto_snapshot_done *m = &lm->u.snapshot_done;

	if (d->snap_req_id == 0 || lm->req_id != d->snap_req_id)
		return; /* an answer to a request we gave up on */
	d->snap_req_id = 0;
	int rc = take_check(d, m);
	struct raftd_snap_pending *p = &d->pending;
	if (rc == 0)
		rc = take_config_at(d, m->index, &p->config);
	if (rc != 0) {
		KV_LOG_WARN(RAFTD_SVC, "snapshot not usable", "index=%" PRIu64 " err=\"%s\"",
		            m->index, kv_strerror(rc));
		return;
	}
	if (p->valid && strncmp(p->path, (const char *)m->path.ptr, m->path.len) != 0)
		unlink(p->path); /* superseded before the core let us use it */
	p->valid = 1;
	p->index = m->index;
	p->term = m->term;
	p->size = m->size;
	snprintf(p->path, sizeof(p->path), "%.*s", (int)m->path.len, (const char *)m->path.ptr);
	KV_LOG_INFO(RAFTD_SVC, "snapshot taken",
	            "index=%" PRIu64 " term=%" PRIu64 " bytes=%" PRIu64 " path=%s", p->index,
	            p->term, p->size, p->path);
	struct raft_event ev = {
	    .type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = m->index, .snap_size = m->size};
	raftd_update_step(d, &ev);
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

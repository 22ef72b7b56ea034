/*
 * raftd_image.c - image files of the snapshot, made only while a follower
 * needs one.
 *
 * Compaction copies nothing (raftd_snapshot_take.c), so the snapshot usually
 * has no image. When the core needs to send one (update.want_image), raftd
 * asks storaged (SNAPSHOT_REQ): storaged copies its environment from a read
 * transaction while it keeps applying (sm_snap.c), at its applied index, and
 * answers SNAPSHOT_DONE; the core then sends the file in CRC32C-checked
 * chunks. An image that no follower read for RAFTD_IMAGE_IDLE_MS is deleted
 * and the core told (SNAPSHOT_TAKEN at the same index, size 0), so the disk
 * holds one copy of the data, plus a second only while a transfer runs.
 * Loop thread only.
 */
#include "raftd.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <unistd.h>

void raftd_image_want(struct raftd *d, uint64_t index)
{
	uint64_t now_ms = kv_clock_mono_ms();
	if (d->snap_req_id != 0 || now_ms < d->image_retry_ms)
		return; /* one at a time; after a failure, not at once again */
	if (d->snap_fd >= 0 && d->snap_index == index)
		return; /* the core is being told about this one */
	if (d->hello_req_id != 0 || d->apply_next == 0)
		return; /* storaged not (re)connected yet: the next heartbeat asks again */
	struct proto_local m = {.type = PROTO_SNAPSHOT_REQ, .req_id = ++d->next_req_id};
	if (raftd_apply_send(d, &m) != 0)
		return;
	d->snap_req_id = m.req_id;
	d->snap_req_ms = now_ms;
	d->image_retry_ms = now_ms + RAFTD_IMAGE_RETRY_MS;
	KV_LOG_INFO(RAFTD_SVC, "a follower needs the snapshot: image requested",
	            "snap_index=%" PRIu64 " applied=%" PRIu64, index, d->applied_index);
}

int raftd_image_active(const struct raftd *d, uint64_t now_ms)
{
	if (d->snap_req_id != 0)
		return 1;
	/* used_ms may be later than now_ms: chunks are read after the loop took its time */
	return d->snap_fd >= 0 &&
	       (now_ms <= d->image_used_ms || now_ms - d->image_used_ms < RAFTD_IMAGE_IDLE_MS);
}

void raftd_image_tick(struct raftd *d, uint64_t now_ms)
{
	/* now_ms may be earlier than snap_req_ms: the loop read its clock before asking */
	if (d->snap_req_id != 0 && now_ms > d->snap_req_ms &&
	    now_ms - d->snap_req_ms >= RAFTD_SNAPSHOT_WAIT_MS) {
		KV_LOG_WARN(RAFTD_SVC, "image request unanswered, giving up", "waited_ms=%u",
		            RAFTD_SNAPSHOT_WAIT_MS);
		d->snap_req_id = 0;
	}
	if (d->snap_path[0] == '\0' || raftd_image_active(d, now_ms))
		return;
	KV_LOG_INFO(RAFTD_SVC, "snapshot image idle, deleted",
	            "snap_index=%" PRIu64 " bytes=%" PRIu64, d->snap_index, d->snap_size);
	raftd_snapfile_use(d, "");
	d->snap_size = 0;
	struct raft_event ev = {
	    .type = RAFT_EVENT_SNAPSHOT_TAKEN, .index = d->snap_index, .snap_size = 0};
	raftd_update_step(d, &ev);
}

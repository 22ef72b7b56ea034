/*
 * raftd_snapfile.c - snapshot files under <data-dir>/snap/.
 *
 * Outgoing: the image a follower needs (raftd_image.c): storaged writes
 * snapshot-<index>.mdb on SNAPSHOT_REQ and chunks are pread from it; it is
 * deleted when idle and at every start (a restart makes a new one when
 * asked). Incoming: chunks are pwritten into incoming.tmp; when complete it
 * is fsynced and renamed to install-<index>.tmp, which storaged renames over
 * its data file (no copy: raftd waits, bounded), and the WAL is reset to it.
 * The received file is then storaged's: this node keeps no image of the
 * snapshot (the core is told, size 0) and makes one if a follower needs it.
 * A crash leaves the old state or the new, and at most a .tmp file that the
 * next start removes. Loop thread only.
 */
#include "raftd.h"

#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"
#include "raftd_membership.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes path ("": none) the current outgoing image; the previous file is removed. */
void raftd_snapfile_use(struct raftd *d, const char *path)
{
	if (d->snap_fd >= 0)
		close(d->snap_fd);
	d->snap_fd = -1;
	if (d->snap_path[0] != '\0' && strcmp(d->snap_path, path) != 0)
		unlink(d->snap_path);
	snprintf(d->snap_path, sizeof(d->snap_path), "%s", path);
	if (path[0] == '\0')
		return;
	d->image_used_ms = kv_clock_mono_ms();
	d->snap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->snap_fd < 0)
		KV_LOG_WARN(RAFTD_SVC, "snapshot file missing", "path=%s err=\"%s\"", path,
		            strerror(errno));
}

/*
 * Removes what an earlier run left in snap/: images (snapshot-*.mdb), copies
 * for storaged (install-*.tmp), a half-received incoming.tmp and storaged's
 * snapshot.tmp. None is needed after a restart, and each may be as big as
 * the data. storaged is not running an image copy now: raftd starts first.
 */
static int snapfile_remove_stale(struct raftd *d)
{
	DIR *dir = opendir(d->snap_dir);
	if (dir == NULL)
		return kv_err_from_errno(errno);
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		int image =
		    strncmp(n, "snapshot-", 9) == 0 && len > 4 && strcmp(n + len - 4, ".mdb") == 0;
		int tmp = len > 4 && strcmp(n + len - 4, ".tmp") == 0;
		if (!image && !tmp)
			continue;
		if (unlinkat(dirfd(dir), n, 0) == 0)
			KV_LOG_INFO(RAFTD_SVC, "stale snapshot file removed", "name=%s", n);
	}
	closedir(dir);
	return 0;
}

int raftd_snapfile_boot(struct raftd *d, const struct wal_recovery *rec)
{
	d->snap_fd = -1;
	d->incoming_fd = -1;
	d->snap_path[0] = '\0';
	if (mkdir(d->snap_dir, 0755) != 0 && errno != EEXIST)
		return kv_err_from_errno(errno);
	d->snap_index = rec->snap_index;
	d->snap_term = rec->snap_term;
	d->snap_size = 0; /* no image: one is made when a follower needs it */
	d->snap_config = rec->snap_config;
	return snapfile_remove_stale(d);
}

void raftd_snapfile_close(struct raftd *d)
{
	if (d->snap_fd >= 0)
		close(d->snap_fd);
	if (d->incoming_fd >= 0)
		close(d->incoming_fd);
	d->snap_fd = d->incoming_fd = -1;
}

static int snapshot_pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return kv_err_from_errno(n < 0 ? errno : EIO);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int raftd_snapfile_write_chunk(struct raftd *d, uint64_t offset, const uint8_t *chunk, uint32_t len)
{
	if (offset == 0 && d->incoming_fd >= 0) {
		close(d->incoming_fd); /* a transfer restarted from the beginning */
		d->incoming_fd = -1;
	}
	if (d->incoming_fd < 0) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/incoming.tmp", d->snap_dir);
		int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (offset == 0 ? O_TRUNC : 0);
		d->incoming_fd = open(path, flags, 0644);
		if (d->incoming_fd < 0)
			return kv_err_from_errno(errno);
		if (offset == 0)
			KV_LOG_INFO(RAFTD_SVC, "receiving snapshot", "path=%s", path);
	}
	return snapshot_pwrite_all(d->incoming_fd, chunk, len, offset);
}

static int snapshot_pread_all(int fd, uint8_t *p, uint32_t len, uint64_t offset)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? kv_err_from_errno(errno) : KV_ECORRUPT; /* file too short */
		got += (size_t)n;
	}
	return 0;
}

/*
 * A chunk of the image storaged made at a later index than the snapshot's
 * (d->pending): the core compacted to that index and sends its first chunks in
 * the same update, before the driver adopts the file at the compaction (step 5).
 * Read from the file itself rather than drop them (which cost two heartbeats).
 */
static int snapshot_read_pending(struct raftd *d, uint64_t offset, uint32_t len)
{
	int fd = open(d->pending.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kv_err_from_errno(errno);
	int rc = snapshot_pread_all(fd, d->chunk_buf, len, offset);
	close(fd);
	return rc;
}

int raftd_snapfile_read_chunk(struct raftd *d, uint64_t snap_index, uint64_t offset, uint32_t len,
                              const uint8_t **out)
{
	int pending = d->pending.valid && d->pending.size > 0 && snap_index == d->pending.index;
#ifdef RAFTD_BUG_PENDING_CHUNKS_DROPPED
	pending = 0; /* planted: the first chunks of a later image are dropped (make
	                cluster-chunks-bug) */
#endif
	int rc = KV_ENOTFOUND;
	if (len > RAFT_SNAPSHOT_CHUNK_BYTES)
		return KV_ENOTFOUND;
	if (snap_index == d->snap_index && d->snap_fd >= 0)
		rc = snapshot_pread_all(d->snap_fd, d->chunk_buf, len, offset);
	else if (pending)
		rc = snapshot_read_pending(d, offset, len);
	if (rc != 0)
		return rc;
	d->image_used_ms = kv_clock_mono_ms();
	*out = d->chunk_buf;
	return 0;
}

/*
 * storaged consumes the file it installs (renames it into its environment and
 * writes to it), so from the outgoing image it gets a private copy and ours
 * stays intact for sending chunks to followers. The copy is not named snapshot-*.mdb: storaged's
 * pruning leaves it alone, and a crash leaves only a stray .tmp behind.
 */
static int snapshot_copy_for_storaged(struct raftd *d, int src_fd, uint64_t index, char *out,
                                      size_t len)
{
	snprintf(out, len, "%s/install-%" PRIu64 ".tmp", d->snap_dir, index);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kv_err_from_errno(errno);
	loff_t in_off = 0;
	int rc = 0;
	for (;;) {
		ssize_t n = copy_file_range(src_fd, &in_off, fd, NULL, 1u << 30, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? kv_err_from_errno(errno) : 0;
			break;
		}
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = kv_err_from_errno(errno);
	close(fd);
	if (rc != 0)
		unlink(out);
	return rc;
}

/*
 * Sends SNAPSHOT_INSTALL for path and waits for storaged's APPLY_STATE
 * answering it: 0 once installed, storaged's error if it refused, KV_ETIMEDOUT
 * past RAFTD_INSTALL_WAIT_MS. Other storaged messages arriving meanwhile are
 * stale: dropped.
 */
static int snapshot_storaged_install_once(struct raftd *d, const char *path, uint64_t index,
                                          uint64_t term)
{
	struct proto_local m = {
	    .type = PROTO_SNAPSHOT_INSTALL,
	    .req_id = ++d->next_req_id,
	    .u.snapshot_install = {.path = {(const uint8_t *)path, (uint32_t)strlen(path)},
	                           .index = index,
	                           .term = term}};
	uint64_t deadline = kv_clock_mono_ms() + RAFTD_INSTALL_WAIT_MS;
	int sent = 0;
	while (kv_clock_mono_ms() < deadline) {
		if (!sent)
			sent = raftd_apply_send(d, &m) == 0;
		zmq_pollitem_t it = {.socket = d->apply_dealer, .events = ZMQ_POLLIN};
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		struct proto_local a;
		struct proto_arena arena;
		proto_arena_init(&arena, d->arena_mem, RAFTD_ARENA_BYTES);
		int ok =
		    zmq_msg_recv(&msg, d->apply_dealer, ZMQ_DONTWAIT) >= 0 &&
		    proto_local_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &a, &arena) == 0 &&
		    a.type == PROTO_APPLY_STATE && a.req_id == m.req_id;
		zmq_msg_close(&msg);
		if (!ok)
			continue;
		if (a.u.apply_state.status == 0 && a.u.apply_state.applied_index >= index)
			return 0;
		return a.u.apply_state.status != 0 ? a.u.apply_state.status : KV_ECORRUPT;
	}
	return KV_ETIMEDOUT;
}

/*
 * Has storaged install a snapshot: the file given (a received snapshot,
 * which storaged renames into its environment: no copy), or else a private
 * copy of src_fd (our own outgoing image, which must stay intact). A refusal
 * (a failed rename or reopen: disk full, I/O error) leaves storaged on its
 * old state, so the install is tried again, RAFTD_INSTALL_TRIES_MAX times
 * RAFTD_INSTALL_RETRY_MS apart: with a fresh copy of src_fd, or with the
 * given file while it is still there. Past that, with no answer at all, or
 * once a given file is gone, raftd exits (a restart recovers: the leader
 * sends the snapshot again). Blocks the loop meanwhile, as the install did.
 */
static void snapshot_storaged_install(struct raftd *d, int src_fd, const char *given,
                                      uint64_t index, uint64_t term)
{
	char copy[PATH_MAX];
	const char *path = given != NULL ? given : copy;
	int rc = 0;
	uint32_t tries_max = RAFTD_INSTALL_TRIES_MAX;
#ifdef RAFTD_BUG_INSTALL_NO_RETRY
	tries_max = 1; /* planted: the first refusal ends raftd (TestSnapshotInstallRefused) */
#endif
	for (uint32_t attempt = 1; attempt <= tries_max; attempt++) {
		if (given == NULL)
			rc = snapshot_copy_for_storaged(d, src_fd, index, copy, sizeof(copy));
		else
			rc = access(given, F_OK) == 0 ? 0 : kv_err_from_errno(errno);
		if (rc == 0)
			rc = snapshot_storaged_install_once(d, path, index, term);
		if (rc == 0)
			return;
		if (given == NULL)
			unlink(copy); /* whatever storaged left of it */
		if (rc == KV_ETIMEDOUT || (given != NULL && access(given, F_OK) != 0))
			break;
		KV_LOG_ERROR(RAFTD_SVC, "storaged refused the snapshot, retrying",
		             "index=%" PRIu64 " attempt=%u of=%u err=\"%s\"", index, attempt,
		             tries_max, kv_strerror(rc));
		if (attempt < tries_max)
			usleep(RAFTD_INSTALL_RETRY_MS * 1000u);
	}
	KV_LOG_ERROR(RAFTD_SVC, "storaged did not install the snapshot, exiting",
	             "index=%" PRIu64 " err=\"%s\"", index, kv_strerror(rc));
	exit(1);
}

/* storaged's state now is the snapshot at index: resume applying after it. */
static void snapshot_storaged_at(struct raftd *d, uint64_t index)
{
	d->applied_index = index;
	d->apply_next = index + 1;
	d->n_apply_inflight = 0;
	d->hello_req_id = 0;
	d->storaged_wait_since_ms = 0;
	d->snap_req_id = 0;
	if (d->commit_index < index)
		d->commit_index = index;
}

/*
 * Makes the complete incoming.tmp durable under the name storaged installs
 * from. A .tmp name: a crash before storaged renamed it leaves only a file
 * that the next start removes.
 */
static int snapshot_incoming_to_install(struct raftd *d, uint64_t index, char *out, size_t len)
{
	char tmp[PATH_MAX];
	int rc = fsync(d->incoming_fd) == 0 ? 0 : kv_err_from_errno(errno);
	close(d->incoming_fd);
	d->incoming_fd = -1;
	if (rc != 0)
		return rc;
	snprintf(tmp, sizeof(tmp), "%s/incoming.tmp", d->snap_dir);
	snprintf(out, len, "%s/install-%" PRIu64 ".tmp", d->snap_dir, index);
	return rename(tmp, out) == 0 ? 0 : kv_err_from_errno(errno);
}

int raftd_snapfile_install(struct raftd *d, const struct raft_snapshot_install *si)
{
	char path[PATH_MAX];
	if (d->incoming_fd < 0)
		return KV_EIO; /* the core asks to install a file we never received */
	int rc = snapshot_incoming_to_install(d, si->index, path, sizeof(path));
	if (rc != 0)
		return rc;
	KV_LOG_INFO(RAFTD_SVC, "installing received snapshot",
	            "index=%" PRIu64 " term=%" PRIu64 " bytes=%" PRIu64, si->index, si->term,
	            si->size);
	/* storaged renames the file into its environment and fsyncs that directory */
	snapshot_storaged_install(d, -1, path, si->index, si->term);
	rc = wal_reset(d->wal, si->index, si->term, &si->config, 0);
	if (rc != 0)
		return rc;
	d->snap_index = si->index;
	d->snap_term = si->term;
	d->snap_size = 0; /* the file is storaged's data now */
	d->snap_config = si->config;
	d->pending.valid = 0;
	raftd_snapfile_use(d, "");
	d->image_handed_over = 1;
	snapshot_storaged_at(d, si->index);
	return 0;
}

int raftd_snapfile_give_storaged(struct raftd *d)
{
	if (d->snap_fd < 0) {
		KV_LOG_ERROR(RAFTD_SVC, "storaged is behind the log and no snapshot file exists",
		             "applied=%" PRIu64 " snap_index=%" PRIu64, d->applied_index,
		             d->snap_index);
		return KV_ENOTFOUND;
	}
	KV_LOG_INFO(RAFTD_SVC, "storaged behind the log start, giving it the snapshot",
	            "applied=%" PRIu64 " snap_index=%" PRIu64, d->applied_index, d->snap_index);
	snapshot_storaged_install(d, d->snap_fd, NULL, d->snap_index, d->snap_term);
	snapshot_storaged_at(d, d->snap_index);
	return 0;
}

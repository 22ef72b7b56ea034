/*
 * raftd_identity.c - this node's incarnation and its cluster's id, in the
 * file "identity" beside the WAL (<data-dir>/wal/identity).
 *
 * The incarnation names the data directory: it is drawn once, when the WAL
 * directory is first used, and travels in every peer message, so a node
 * that comes back on an empty disk is known for what it is (raft_identity.c
 * in the core decides what that means). The cluster id is drawn by the
 * first leader of a brand-new cluster and adopted by every node from the
 * leader's messages; a message from another cluster is dropped and counted.
 * Both are written with write-to-temp, fsync, rename, fsync of the
 * directory. Main thread at boot, then the loop thread.
 */
#include "raftd.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_fs.h"
#include "kv_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IDENTITY_FILE  "identity"
#define IDENTITY_BYTES 128u /* the whole file, far more than its three lines */

/* A non-zero random number from /dev/urandom (the clock if it cannot be read). */
static uint64_t identity_random(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		close(fd);
	}
	if (v == 0)
		v = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	return v != 0 ? v : 1;
}

/* Parses the file's text; 0, or KV_ECORRUPT. */
static int identity_parse(const char *text, uint64_t *incarnation, uint64_t *cluster)
{
	unsigned long long inc = 0, cl = 0;
	if (sscanf(text, "raftkv-identity 1\nincarnation %llu\ncluster %llu\n", &inc, &cl) != 2 ||
	    inc == 0)
		return KV_ECORRUPT;
	*incarnation = inc;
	*cluster = cl;
	return 0;
}

static int identity_path(const struct raftd *d, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", d->wal_dir, name);
	return n > 0 && (size_t)n < cap ? 0 : KV_ETOOLARGE;
}

/* Writes the identity durably; 0 or a KV_E* code. */
static int identity_save(const struct raftd *d)
{
	char path[PATH_MAX], tmp[PATH_MAX], text[IDENTITY_BYTES];
	int n = snprintf(text, sizeof(text),
	                 "raftkv-identity 1\nincarnation %" PRIu64 "\ncluster %" PRIu64 "\n",
	                 d->incarnation, d->cluster_id);
	if (identity_path(d, IDENTITY_FILE, path, sizeof(path)) ||
	    identity_path(d, IDENTITY_FILE ".tmp", tmp, sizeof(tmp)))
		return KV_ETOOLARGE;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kv_err_from_errno(errno);
	int rc = write(fd, text, (size_t)n) == n && fsync(fd) == 0 ? 0 : KV_EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = kv_err_from_errno(errno);
	if (rc != 0)
		return rc;
	return kv_fs_fsync_dir(d->wal_dir);
}

int raftd_identity_load(struct raftd *d, int wal_is_new)
{
	char path[PATH_MAX], text[IDENTITY_BYTES] = {0};
	if (identity_path(d, IDENTITY_FILE, path, sizeof(path)))
		return KV_ETOOLARGE;
	FILE *f = fopen(path, "re");
	if (f != NULL) {
		size_t got = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		int rc = identity_parse(text, &d->incarnation, &d->cluster_id);
		if (rc != 0 || got == 0)
			KV_LOG_ERROR(RAFTD_SVC, "identity file unreadable", "path=%s", path);
		return rc != 0 ? rc : (got == 0 ? KV_ECORRUPT : 0);
	}
	if (errno != ENOENT)
		return kv_err_from_errno(errno);
	if (!wal_is_new)
		/*
		 * A WAL without an identity: seeded by `raftkvctl snapshot restore`, or
		 * the file was lost. A new incarnation is the safe answer either way:
		 * the configuration does not know it, so the node counts for nothing
		 * until the leader has recorded or replaced it (raft_identity.c).
		 */
		KV_LOG_WARN(RAFTD_SVC, "WAL without an identity file: a new incarnation", "path=%s",
		            path);
	d->incarnation = identity_random();
	d->cluster_id = 0;
	int rc = identity_save(d);
	if (rc == 0)
		KV_LOG_INFO(RAFTD_SVC, "new data directory", "incarnation=%" PRIu64,
		            d->incarnation);
	return rc;
}

int raftd_identity_adopt_cluster(struct raftd *d, uint64_t cluster_id)
{
	KV_ASSERT(d->cluster_id == 0 && cluster_id != 0);
	uint64_t before = d->cluster_id;
	d->cluster_id = cluster_id;
	int rc = identity_save(d);
	if (rc != 0) {
		d->cluster_id = before;
		KV_LOG_ERROR(RAFTD_SVC, "cannot save the cluster id", "err=\"%s\"",
		             kv_strerror(rc));
		return rc;
	}
	KV_LOG_INFO(RAFTD_SVC, "cluster id recorded", "cluster=%" PRIu64, cluster_id);
	return 0;
}

void raftd_identity_on_leader(struct raftd *d)
{
	if (d->cluster_id == 0)
		(void)raftd_identity_adopt_cluster(d, identity_random());
}

int raftd_identity_accept(struct raftd *d, const struct raft_msg *m)
{
	if (m->cluster != 0 && d->cluster_id != 0 && m->cluster != d->cluster_id) {
		if (d->other_cluster_msgs++ % 1000 == 0)
			KV_LOG_WARN(RAFTD_SVC, "message from another cluster dropped",
			            "from=%" PRIu64 " cluster=%" PRIu64 " ours=%" PRIu64
			            " count=%" PRIu64,
			            m->from, m->cluster, d->cluster_id, d->other_cluster_msgs);
		return 0;
	}
	/* a node that never joined takes the id of the first leader that reaches it */
	if (d->cluster_id == 0 && m->cluster != 0 &&
	    (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT))
		return raftd_identity_adopt_cluster(d, m->cluster) == 0;
	return 1;
}

/*
 * pod_init.c - `raftkv-pod init`: the init container. A pod beyond the seeds
 * that stopped left the configuration (pod_leave.c wrote the marker first), so
 * its old WAL and state must not come back: with them raftd would take its
 * WAL's configuration, ignore --join and run as a node nobody talks to. This
 * empties the data directory (every entry but the marker and lost+found),
 * makes that durable, then removes the marker: the containers that follow
 * start empty and raftd joins as a new member. Without the marker nothing is
 * touched. Safe to run again after a crash part-way (the marker goes last).
 * Main thread, before the pod's containers start.
 */
#include "pod.h"

#include "kv_err.h"
#include "kv_fs.h"
#include "kv_log.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define POD_NFTW_FDS 16

static unsigned long removed_count;

static int init_remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (remove(path) != 0) {
		KV_LOG_ERROR(POD_SVC, "cannot remove", "path=%s err=\"%s\"", path, strerror(errno));
		return -1;
	}
	removed_count++;
	return 0;
}

/* Removes every entry of dir except the marker and lost+found (a file system's own). */
static int init_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	char path[POD_PATH_MAX];
	int rc = 0;

	if (d == NULL)
		return kv_err_from_errno(errno);
#ifdef POD_BUG_KEEP_DATA
	closedir(d);
	return 0; /* planted (make k8s-pods-bugs): the old WAL comes back, --join is ignored */
#endif
	for (struct dirent *e = readdir(d); e != NULL && rc == 0; e = readdir(d)) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, POD_LEFT_MARKER) == 0 || strcmp(n, "lost+found") == 0)
			continue;
		rc = pod_path(path, dir, n);
		if (rc == 0 && nftw(path, init_remove_one, POD_NFTW_FDS, FTW_DEPTH | FTW_PHYS) != 0)
			rc = KV_EIO;
	}
	closedir(d);
	return rc;
}

int pod_init(const struct pod_self *self)
{
	char marker[POD_PATH_MAX];

	if (pod_path(marker, self->data_dir, POD_LEFT_MARKER) != 0)
		return 2;
	if (access(marker, F_OK) != 0) {
		KV_LOG_INFO(POD_SVC, "no leave marker: the data directory is kept",
		            "node=%" PRIu64 " data_dir=%s", self->node_id, self->data_dir);
		return 0;
	}
	int rc = init_empty_dir(self->data_dir);
	if (rc == 0)
		rc = kv_fs_fsync_dir(self->data_dir);
	if (rc == 0 && unlink(marker) != 0)
		rc = kv_err_from_errno(errno);
	if (rc == 0)
		rc = kv_fs_fsync_dir(self->data_dir);
	if (rc != 0) {
		KV_LOG_ERROR(POD_SVC, "cannot empty the data directory of a pod that left",
		             "data_dir=%s err=\"%s\"", self->data_dir, kv_strerror(rc));
		return 1;
	}
	KV_LOG_INFO(POD_SVC,
	            "this pod left the configuration when it stopped: data directory "
	            "emptied, raftd joins as a new member",
	            "node=%" PRIu64 " data_dir=%s removed=%lu", self->node_id, self->data_dir,
	            removed_count);
	return 0;
}

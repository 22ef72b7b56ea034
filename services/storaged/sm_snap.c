/*
 * sm_snap.c - images of the state machine (F8): a compacted copy of the
 * environment, made from one read transaction while writes go on, written
 * to a temporary file, fsynced, renamed, with the directory fsynced (an
 * image for a follower) or only renamed (a backup, streamed at once); and
 * the atomic install of an image received from the leader. The writers only
 * read the environment and run on storaged's snapshot thread;
 * sm_snap_install() runs on the loop thread.
 *
 * Fault points (libfiu; the failnum is the errno injected): "storaged/snap/copy"
 * (the copy into the temporary file fails, as on a full disk),
 * "storaged/snap/fsync" (its fsync fails), "storaged/snap/install" (renaming a
 * received image over the environment's data file fails). Planted bug
 * SM_BUG_IMAGE_ERROR_IGNORED (docs/testing.md): the copy's and the fsync's
 * errors are ignored.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fiu-local.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef SM_BUG_IMAGE_ERROR_IGNORED
#define SM_SNAP_ERRORS_IGNORED 1
#else
#define SM_SNAP_ERRORS_IGNORED 0
#endif

/*
 * Does the file hold every page its meta names? A file cut short (a copy or a
 * transfer that stopped halfway) would otherwise be mapped and read past its
 * end: SIGBUS, not an error.
 */
static int sm_snap_file_complete(MDB_env *env, const char *path)
{
	MDB_envinfo ei;
	MDB_stat ms;
	struct stat st;
	if (mdb_env_info(env, &ei) != 0 || mdb_env_stat(env, &ms) != 0 || stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size >= ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize;
}

int sm_snap_file_meta(const char *path, uint64_t *index, uint64_t *term)
{
	struct sm tmp;
	memset(&tmp, 0, sizeof(tmp));
	int rc = mdb_env_create(&tmp.env);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	MDB_txn *txn = NULL;
	int err = 0;
	/* A lone data file: no lock file, nobody else writes it. */
	if ((rc = mdb_env_set_maxdbs(tmp.env, 4)) != 0 ||
	    (rc = mdb_env_open(tmp.env, path, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK, 0644)) != 0)
		goto out_close_env;
	if (!sm_snap_file_complete(tmp.env, path)) {
		rc = MDB_CORRUPTED;
		goto out_close_env;
	}
	if ((rc = mdb_txn_begin(tmp.env, NULL, MDB_RDONLY, &txn)) != 0)
		goto out_close_env;
	if ((rc = mdb_dbi_open(txn, "meta", 0, &tmp.dbi_meta)) != 0)
		goto out_abort_txn;
	err = sm_meta_read_applied(&tmp, txn, index, term);
out_abort_txn:
	mdb_txn_abort(txn);
out_close_env:
	mdb_env_close(tmp.env);
	if (rc != 0)
		return rc == ENOENT ? KV_ENOTFOUND : KV_ECORRUPT;
	return err;
}

/* The index in a "snapshot-<index>.mdb" name; 0 when it is not one. */
static uint64_t sm_snap_name_index(const char *name)
{
	unsigned long long idx = 0;
	int end = 0;
	if (sscanf(name, "snapshot-%llu.mdb%n", &idx, &end) != 1 || name[end] != '\0')
		return 0;
	return (uint64_t)idx;
}

_Static_assert(SM_SNAP_KEEP == 2, "sm_snap_prune tracks the two newest");

/* Deletes every snapshot file but the SM_SNAP_KEEP (two) newest. */
static int sm_snap_prune(const char *snap_dir)
{
	uint64_t newest[2] = {0, 0};
	DIR *d = opendir(snap_dir);
	if (d == NULL)
		return kv_err_from_errno(errno);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		uint64_t idx = sm_snap_name_index(de->d_name);
		if (idx > newest[0]) {
			newest[1] = newest[0];
			newest[0] = idx;
		} else if (idx > newest[1] && idx != newest[0]) {
			newest[1] = idx;
		}
	}
	rewinddir(d);
	int err = 0;
	while ((de = readdir(d)) != NULL) {
		uint64_t idx = sm_snap_name_index(de->d_name);
		if (idx == 0 || idx == newest[0] || idx == newest[1])
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
			err = kv_err_from_errno(errno);
	}
	closedir(d);
	return err;
}

/* Copies the environment into the open file fd, compacted, and syncs it if durable. */
static int sm_snap_copy(struct sm *sm, int fd, int durable, uint64_t *size)
{
	int injected = fiu_fail("storaged/snap/copy");
	int rc = injected ? injected : mdb_env_copyfd2(sm->env, fd, MDB_CP_COMPACT);
	if (rc != 0 && !SM_SNAP_ERRORS_IGNORED)
		return sm_err_from_mdb(rc);
	if (durable) {
		injected = fiu_fail("storaged/snap/fsync");
		rc = injected ? injected : (fsync(fd) != 0 ? errno : 0);
		if (rc != 0 && !SM_SNAP_ERRORS_IGNORED)
			return kv_err_from_errno(rc);
	}
	struct stat st;
	if (fstat(fd, &st) != 0)
		return kv_err_from_errno(errno);
	*size = (uint64_t)st.st_size;
	return 0;
}

/*
 * Copies the environment into tmp, names the copy "<prefix>-<index>[-<tag>].mdb"
 * after the index its own meta holds (applies went on meanwhile) and renames
 * it there; durable: fsync of the file and, after the rename, of the directory.
 */
static int sm_snap_write_named(struct sm *sm, const char *snap_dir, const char *prefix,
                               uint64_t tag, int durable, struct sm_snap_info *info)
{
	char tmp[SM_PATH_BYTES_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s/%s-%" PRIu64 ".tmp", snap_dir, prefix, tag) >=
	    (int)sizeof(tmp))
		return KV_EINVAL;
	if (mkdir(snap_dir, 0755) != 0 && errno != EEXIST)
		return kv_err_from_errno(errno);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kv_err_from_errno(errno);
	int err = sm_snap_copy(sm, fd, durable, &info->size);
	if (close(fd) != 0 && err == 0)
		err = kv_err_from_errno(errno);
	if (err == 0)
		err = sm_snap_file_meta(tmp, &info->index, &info->term);
	if (err != 0)
		goto out_unlink_tmp;
	int n = tag != 0
	            ? snprintf(info->path, sizeof(info->path), "%s/%s-%" PRIu64 "-%" PRIu64 ".mdb",
	                       snap_dir, prefix, info->index, tag)
	            : snprintf(info->path, sizeof(info->path), "%s/%s-%" PRIu64 ".mdb", snap_dir,
	                       prefix, info->index);
	if (n >= (int)sizeof(info->path)) {
		err = KV_EINVAL;
		goto out_unlink_tmp;
	}
	if (rename(tmp, info->path) != 0) {
		err = kv_err_from_errno(errno);
		goto out_unlink_tmp;
	}
	return durable ? kv_fs_fsync_dir(snap_dir) : 0;

out_unlink_tmp:
	unlink(tmp);
	return err;
}

int sm_snap_write(struct sm *sm, const char *snap_dir, struct sm_snap_info *info)
{
	KV_ASSERT(sm != NULL && snap_dir != NULL && info != NULL);
	int err = sm_snap_write_named(sm, snap_dir, "snapshot", 0, 1, info);
	return err != 0 ? err : sm_snap_prune(snap_dir);
}

int sm_snap_write_backup(struct sm *sm, const char *snap_dir, uint64_t tag,
                         struct sm_snap_info *info)
{
	KV_ASSERT(sm != NULL && snap_dir != NULL && info != NULL && tag != 0);
	return sm_snap_write_named(sm, snap_dir, "backup", tag, 0, info);
}

int sm_snap_remove_backups(const char *snap_dir)
{
	DIR *d = opendir(snap_dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : kv_err_from_errno(errno);
	struct dirent *de;
	int err = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "backup-", 7) != 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
			err = kv_err_from_errno(errno);
	}
	closedir(d);
	return err;
}

/* Moves path into place as the environment's data file, durably. */
static int sm_snap_replace(struct sm *sm, const char *path)
{
	char data[SM_PATH_BYTES_MAX + 16];
	char lock[SM_PATH_BYTES_MAX + 16];
	snprintf(data, sizeof(data), "%s/data.mdb", sm->dir);
	snprintf(lock, sizeof(lock), "%s/lock.mdb", sm->dir);
	int injected = fiu_fail("storaged/snap/install");
	if (injected || rename(path, data) != 0)
		return kv_err_from_errno(injected ? injected : errno);
	/* The lock file's reader table described the old file. */
	if (unlink(lock) != 0 && errno != ENOENT)
		return kv_err_from_errno(errno);
	return kv_fs_fsync_dir(sm->dir);
}

int sm_snap_install(struct sm *sm, const char *path, uint64_t index, uint64_t term)
{
	KV_ASSERT(sm != NULL && path != NULL && !sm->readonly);
	uint64_t snap_index = 0, snap_term = 0;
	int err = sm_snap_file_meta(path, &snap_index, &snap_term);
	if (err == KV_ENOTFOUND)
		return err;
	if (err != 0 || snap_index != index)
		return KV_ECORRUPT;
	(void)term; /* the index names the state; its term is what the file says */
	mdb_env_close(sm->env);
	sm->env = NULL;
	err = sm_snap_replace(sm, path);
	int reopen = sm_reopen(sm);
	if (err != 0)
		return err;
	if (reopen != 0)
		return reopen;
	return sm->applied_index == index ? 0 : KV_ECORRUPT;
}

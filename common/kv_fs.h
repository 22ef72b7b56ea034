/*
 * kv_fs.h - small file-system helpers shared by the daemons.
 */
#ifndef RAFTKV_KV_FS_H
#define RAFTKV_KV_FS_H

/*
 * mkdir -p: creates dir and every missing parent (mode 0755). Existing
 * directories are fine. Returns 0, KV_EINVAL (empty), KV_ETOOLARGE (longer
 * than PATH_MAX) or the KV_E* translation of mkdir's errno.
 */
int kv_fs_mkdir_p(const char *dir);

/*
 * fsync of the directory itself, so that a file created, renamed or removed
 * in it survives a power cut. Returns 0 or the KV_E* translation of errno.
 */
int kv_fs_fsync_dir(const char *dir);

#endif

/*
 * raftd_snap_name.h - whether a path storaged names is an image raftd may
 * read, keep and delete: a file snapshot-*.mdb directly in the node's
 * snapshot directory (raftd_snap_name.c). storaged is a trusted local
 * process behind a 0700 socket directory; the check keeps a wrong or hostile
 * SNAPSHOT_DONE from making raftd send or unlink any other file.
 */
#ifndef RAFTKV_RAFTD_SNAP_NAME_H
#define RAFTKV_RAFTD_SNAP_NAME_H

/* 1 when path is snap_dir/snapshot-<...>.mdb (the same directory by device and inode,
 * however either is spelled), else 0. Reads the file system (stat), changes nothing. */
int raftd_snap_name_ok(const char *snap_dir, const char *path);

#endif

/*
 * ctl_snapshot.h - raftkvctl snapshot save | restore (ctl_snapshot.c and
 * ctl_restore.c): backups of a node's database and new clusters seeded from
 * them.
 */
#ifndef RAFTKV_CTL_SNAPSHOT_H
#define RAFTKV_CTL_SNAPSHOT_H

#include "ctl.h"

#include <stdint.h>

#define CTL_SNAPSHOT_WAIT_MS  600000 /* the server copies the database before the first byte */
#define CTL_SNAPSHOT_HEAD_MAX 16384u /* bytes of HTTP response head accepted */
#define CTL_SNAPSHOT_META_MAX 256u   /* bytes of FILE.crc32c */

/* What FILE.crc32c records next to a saved backup. */
struct ctl_snapshot_meta {
	uint32_t crc32c;
	uint64_t bytes;
	uint64_t index;
	uint64_t term;
};

/*
 * The snapshot command: argv[0] is "save" or "restore". Returns an enum
 * ctl_exit, or -1 for a usage error.
 */
int ctl_snapshot_run(const struct ctl_ctx *ctx, int argc, char **argv);

/*
 * raftkvctl snapshot save FILE: GET /v1/snapshot from the first endpoint (TLS
 * and token as every command) into FILE (via FILE.part, fsynced, renamed)
 * with FILE.crc32c; progress on stderr. Returns an enum ctl_exit.
 */
int ctl_snapshot_save(const struct ctl_ctx *ctx, const char *file);

/* Writes meta as FILE.crc32c (fsynced); 0 or -1. */
int ctl_snapshot_meta_write(const char *file, const struct ctl_snapshot_meta *m);
/* Reads FILE.crc32c; 0 or -1. */
int ctl_snapshot_meta_read(const char *file, struct ctl_snapshot_meta *m);

/*
 * raftkvctl snapshot restore FILE --data-dir DIR --node-id N --peers SPEC:
 * checks FILE against FILE.crc32c and its own applied index, then prepares
 * DIR (which must hold no data yet) so that raftd and storaged start from
 * it: DIR/kv/data.mdb is the copy, DIR/wal a log that starts after the
 * copy's index with the configuration of --peers. argv: what follows
 * "restore". Returns the exit code: 0, 1 (bad file or DIR), 2 (usage).
 */
int ctl_snapshot_restore(int argc, char **argv);

#endif

/*
 * ctl_restore.c - raftkvctl snapshot restore FILE --data-dir DIR --node-id N
 * --peers SPEC: seeds the data directory of one node of a new cluster from
 * a backup saved by `raftkvctl snapshot save`.
 *
 * The backup is checked first (its CRC32C and size against FILE.crc32c, and
 * the applied index its own LMDB meta holds against the one recorded), DIR
 * must hold no data. Then DIR/kv/data.mdb becomes a copy of FILE (storaged
 * opens it at that applied index) and DIR/wal a log whose snapshot is that
 * index and term, with every --peers entry a voter and the current term the
 * snapshot's (a new leader's entries then follow it in term order). Run it
 * with the same FILE and --peers for every node; each node starts with
 * exactly the backup's data and the cluster goes on from its index.
 */
#include "ctl_snapshot.h"

#include "kv_crc32c.h"
#include "kv_err.h"
#include "raftd_peerlist.h"
#include "sm.h"
#include "wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTL_RESTORE_BUF_BYTES (1u << 20)

struct ctl_restore_args {
	const char *file;
	const char *data_dir;
	const char *peers;
	uint64_t node_id;
};

static int restore_parse(int argc, char **argv, struct ctl_restore_args *a)
{
	if (argc < 1 || argc % 2 != 1)
		return -1;
	a->file = argv[0];
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--data-dir") == 0)
			a->data_dir = argv[i + 1];
		else if (strcmp(argv[i], "--peers") == 0)
			a->peers = argv[i + 1];
		else if (strcmp(argv[i], "--node-id") == 0)
			a->node_id = strtoull(argv[i + 1], NULL, 10);
		else
			return -1;
	}
	return a->data_dir != NULL && a->peers != NULL && a->node_id != 0 ? 0 : -1;
}

/* Copies src into dst (created, must not exist) computing its CRC32C; fsynced. */
static int restore_copy(const char *src, const char *dst, uint32_t *crc, uint64_t *bytes)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = dst ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -2;
	char *buf = malloc(CTL_RESTORE_BUF_BYTES);
	int rc = (out == -1 || buf == NULL) ? -1 : 0;
	*crc = 0;
	*bytes = 0;
	while (rc == 0) {
		ssize_t r = read(in, buf, CTL_RESTORE_BUF_BYTES);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -1 : 0;
			break;
		}
		*crc = kv_crc32c(*crc, buf, (size_t)r);
		*bytes += (uint64_t)r;
		if (out >= 0 && write(out, buf, (size_t)r) != r)
			rc = -1;
	}
	if (out >= 0 && rc == 0 && fsync(out) != 0)
		rc = -1;
	if (out >= 0)
		close(out);
	free(buf);
	close(in);
	return rc;
}

/* The backup is what save wrote: checksum, size, and the index its own meta holds. */
static int restore_check(const char *file, struct ctl_snapshot_meta *m)
{
	uint32_t crc;
	uint64_t bytes, index = 0, term = 0;
	if (ctl_snapshot_meta_read(file, m) != 0) {
		fprintf(stderr, "raftkvctl: cannot read %s.crc32c (written by snapshot save)\n",
		        file);
		return -1;
	}
	if (restore_copy(file, NULL, &crc, &bytes) != 0 || crc != m->crc32c || bytes != m->bytes) {
		fprintf(stderr,
		        "raftkvctl: %s does not match its checksum (%" PRIu64
		        " bytes, crc32c %08" PRIx32 "; recorded %" PRIu64 ", %08" PRIx32 ")\n",
		        file, bytes, crc, m->bytes, m->crc32c);
		return -1;
	}
	int err = sm_snap_file_meta(file, &index, &term);
	if (err != 0 || index != m->index || term != m->term) {
		fprintf(stderr,
		        "raftkvctl: %s holds index %" PRIu64 " term %" PRIu64
		        " (%s), recorded %" PRIu64 " %" PRIu64 "\n",
		        file, index, term, kv_strerror(err), m->index, m->term);
		return -1;
	}
	return 0;
}

/* DIR/wal: the snapshot at (index, term) with config, the term current, no entries. */
static int restore_wal(const char *dir, const struct ctl_snapshot_meta *m,
                       const struct raft_config *config)
{
	struct wal_options wo = {.dir = dir};
	struct wal_recovery rec;
	struct wal *w = NULL;
	int err = wal_open(&wo, &w, &rec);
	if (err != 0)
		return err;
	if (rec.snap_index != 0 || rec.n_entries != 0 || rec.hard_state.term != 0)
		err = KV_EINVAL; /* not a new log */
	struct raft_hard_state hs = {.term = m->term, .vote = 0};
	if (err == 0)
		err = wal_reset(w, m->index, m->term, config, 0);
	if (err == 0)
		err = wal_save_hard_state(w, &hs);
	if (err == 0)
		err = wal_sync(w);
	wal_close(&w);
	return err;
}

/* 1 when path exists (a file or a directory with anything in it). */
static int restore_has_data(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int ctl_snapshot_restore(int argc, char **argv)
{
	struct ctl_restore_args a = {0};
	struct raftd_peer_list peers;
	struct ctl_snapshot_meta m;
	char err_text[256], kv_dir[4096], wal_dir[4096], data[4096 + 16];
	if (restore_parse(argc, argv, &a) != 0)
		return CTL_EXIT_USAGE;
	if (raftd_peerlist_parse(a.peers, &peers, err_text, sizeof(err_text)) != 0 ||
	    raftd_peerlist_find(&peers, a.node_id) == NULL) {
		fprintf(stderr, "raftkvctl: --peers: %s\n",
		        raftd_peerlist_find(&peers, a.node_id) ? err_text
		                                               : "--node-id is not in it");
		return CTL_EXIT_USAGE;
	}
	if (restore_check(a.file, &m) != 0)
		return 1;
	snprintf(kv_dir, sizeof(kv_dir), "%s/kv", a.data_dir);
	snprintf(wal_dir, sizeof(wal_dir), "%s/wal", a.data_dir);
	snprintf(data, sizeof(data), "%s/data.mdb", kv_dir);
	if (restore_has_data(kv_dir) || restore_has_data(wal_dir)) {
		fprintf(stderr,
		        "raftkvctl: %s already holds data (kv/ or wal/): restore only into a new "
		        "directory\n",
		        a.data_dir);
		return 1;
	}
	struct raft_config config = {.n = peers.n};
	for (uint32_t i = 0; i < peers.n; i++) {
		config.members[i].id = peers.peers[i].id;
		config.members[i].role = RAFT_VOTER;
	}
	uint32_t crc;
	uint64_t bytes;
	if ((mkdir(a.data_dir, 0755) != 0 && errno != EEXIST) || mkdir(kv_dir, 0755) != 0 ||
	    restore_copy(a.file, data, &crc, &bytes) != 0 || crc != m.crc32c) {
		fprintf(stderr, "raftkvctl: cannot copy %s to %s: %s\n", a.file, data,
		        strerror(errno));
		return 1;
	}
	int err = restore_wal(wal_dir, &m, &config);
	if (err != 0) {
		fprintf(stderr, "raftkvctl: cannot write the log in %s: %s\n", wal_dir,
		        kv_strerror(err));
		return 1;
	}
	printf("restored node %" PRIu64 " in %s: raft index %" PRIu64 ", term %" PRIu64
	       ", %u voters; start raftd, storaged and gatewayd with --data-dir %s\n",
	       a.node_id, a.data_dir, m.index, m.term, config.n, a.data_dir);
	return 0;
}

/*
 * raftd_boot.c - from the disk to a running core: opens the WAL, decides
 * the configuration (a brand-new node takes every --peers entry as a voter
 * and records it as the snapshot metadata at index 0; a node with state uses
 * its WAL's), loads or makes the node's identity (raftd_identity.c), loads
 * the address book (raftd_addresses.c) and creates the core. A node absent
 * from its own --peers joins the cluster they name: it boots with their
 * configuration, in which it is no member, and learns the rest from the log.
 * A brand-new node with --join registers first (raftd_join.c) and boots with
 * the members the cluster listed. Main thread, before the loop starts.
 */
#include "raftd.h"

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t boot_seed(void)
{
	uint64_t seed = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
			seed = 0;
		close(fd);
	}
	if (seed == 0)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ kv_clock_mono_us();
	return seed;
}

/* The configuration of a new cluster: every --peers entry, as a voter. */
static void boot_initial_config(const struct raftd *d, struct raft_config *c)
{
	c->n = d->peer_list.n;
	for (uint32_t i = 0; i < c->n; i++) {
		c->members[i].id = d->peer_list.peers[i].id;
		c->members[i].role = RAFT_VOTER;
	}
}

/*
 * A new node with --join: registers (raftd_join.c), which also puts every
 * member's address in the book, then saves the members as its configuration
 * at index 0. The log replayed from the leader on top of it ends in the
 * cluster's configuration: the core applies each change to the members it
 * names, and a change already in the base (this node's own add) is a no-op.
 * Nothing is saved before the cluster lists this node, so a crash before
 * that registers again on restart (member_exists for this id and address:
 * already added); after it, the WAL has a configuration and --join is ignored.
 */
static int boot_join(struct raftd *d, struct raft_config *base)
{
	int rc = raftd_join_run(d, base);
#ifdef RAFTD_BUG_JOIN_EMPTY_BASE
	base->n =
	    0; /* planted: no configuration until the leader's snapshot (make cluster-join-bug) */
#endif
	if (rc == 0)
		rc = wal_save_snapshot_meta(d->wal, 0, 0, base, 0);
	if (rc != 0) {
		KV_LOG_ERROR(RAFTD_SVC, "join failed; raftd exits", "err=\"%s\"", kv_strerror(rc));
		return rc;
	}
	KV_LOG_INFO(RAFTD_SVC, "new node, configuration from the cluster's members", "members=%u",
	            base->n);
	return 0;
}

static int boot_open_wal(struct raftd *d, struct wal_recovery *rec)
{
	struct wal_options wo = {.dir = d->wal_dir, .segment_bytes = RAFTD_WAL_SEGMENT_BYTES};
	int rc = wal_open(&wo, &d->wal, rec);
	if (rc != 0) {
		KV_LOG_ERROR(RAFTD_SVC, "cannot open the WAL", "dir=%s err=\"%s\"", d->wal_dir,
		             kv_strerror(rc));
		return rc;
	}
	int is_new = rec->snap_index == 0 && rec->snap_config.n == 0;
	/* before the configuration: a crash in between finds the identity and makes no other */
	rc = raftd_identity_load(d, is_new);
	if (rc != 0)
		return rc;
	if (d->join.on && !(is_new && rec->n_entries == 0)) {
		KV_LOG_INFO(RAFTD_SVC, "--join ignored: the WAL already has a configuration or log",
		            "snap_index=%" PRIu64 " entries=%u", rec->snap_index, rec->n_entries);
	} else if (d->join.on) {
		rc = boot_join(d, &rec->snap_config);
		if (rc != 0)
			return rc;
	} else if (is_new) {
		/* first start: the configuration comes from --peers, once, durably */
		boot_initial_config(d, &rec->snap_config);
		rc = wal_save_snapshot_meta(d->wal, 0, 0, &rec->snap_config, 0);
		if (rc != 0) {
			KV_LOG_ERROR(RAFTD_SVC, "cannot save the initial configuration",
			             "err=\"%s\"", kv_strerror(rc));
			return rc;
		}
		KV_LOG_INFO(RAFTD_SVC, "new node, configuration from --peers", "voters=%u",
		            rec->snap_config.n);
	}
	KV_LOG_INFO(RAFTD_SVC, "WAL recovered",
	            "term=%" PRIu64 " vote=%" PRIu64 " snap_index=%" PRIu64 " entries=%u",
	            rec->hard_state.term, rec->hard_state.vote, rec->snap_index, rec->n_entries);
	return 0;
}

int raftd_boot_core(struct raftd *d)
{
	struct wal_recovery rec;
	int rc = boot_open_wal(d, &rec);
	if (rc != 0)
		return rc;
	rc = raftd_snapfile_boot(d, &rec);
	if (rc == 0)
		rc = raftd_addresses_boot(d, &rec);
	if (rc != 0)
		return rc;
	struct raft_options ro = {.id = d->opts.node_id,
	                          .election_timeout_ms = d->opts.election_timeout_ms,
	                          .heartbeat_ms = d->opts.heartbeat_ms,
	                          .seed = boot_seed(),
	                          .incarnation = d->incarnation,
	                          .prevote = 1,
	                          .check_quorum = 1};
	struct raft_boot rb = {.hard_state = rec.hard_state,
	                       .snap_index = rec.snap_index,
	                       .snap_term = rec.snap_term,
	                       .snap_config = rec.snap_config,
	                       .snap_size = d->snap_size, /* 0: the images were removed */
	                       .n_entries = rec.n_entries,
	                       .entries = rec.entries,
	                       .now_ms = kv_clock_mono_ms()};
	rc = raft_new(&ro, &rb, &d->raft);
	if (rc != 0) {
		KV_LOG_ERROR(RAFTD_SVC, "cannot start the Raft core", "err=\"%s\"",
		             kv_strerror(rc));
		return rc;
	}
	return 0;
}

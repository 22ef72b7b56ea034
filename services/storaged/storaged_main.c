/*
 * storaged_main.c - the storaged daemon's entry point: flags, the state
 * machine in <data-dir>/kv, sockets, the snapshot thread, the loop, and a
 * clean exit on SIGTERM or SIGINT. Main thread (= the loop thread).
 */
#include "storaged.h"

#include "kv_err.h"
#include "kv_hostname.h"
#include "kv_limits.h"
#include "kv_log.h"
#include "kv_opts.h"
#include "kv_sockdir.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

/*
 * After SIGTERM storaged keeps applying for STORAGED_LINGER_MS: a leader's
 * raftd that hands leadership over (raftd_handoff.c) still feeds it the
 * entries committed under the new leader, and the local gatewayd waits on
 * their results; in a Kubernetes pod all three get SIGTERM at once. SIGALRM
 * or a second SIGTERM ends the linger.
 */
#define STORAGED_LINGER_MS 1000

static volatile int storaged_stop;
static volatile int storaged_linger_over;

static void storaged_on_signal(int sig)
{
	if (sig == SIGALRM || storaged_stop)
		storaged_linger_over = 1;
	storaged_stop = 1;
}

/* Only the loop thread may take SIGALRM: the snapshot thread, started while
 * it is blocked, inherits it blocked. */
static void storaged_alarm_mask(int how)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(how, &set, NULL);
}

static int storaged_linger(struct storaged *sd)
{
	struct itimerval it = {.it_value = {.tv_sec = STORAGED_LINGER_MS / 1000,
	                                    .tv_usec = (STORAGED_LINGER_MS % 1000) * 1000L}};
	if (storaged_linger_over || setitimer(ITIMER_REAL, &it, NULL) != 0)
		return 0;
	KV_LOG_INFO("storaged", "stopping: applying a moment longer", "linger_ms=%d",
	            STORAGED_LINGER_MS);
	return storaged_loop_run(sd, &storaged_linger_over);
}

static int storaged_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = storaged_on_signal; /* no SA_RESTART: zmq_poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGALRM, &sa, NULL) != 0)
		return KV_EIO;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Parses flags into cfg; returns an exit status (0 to go on, else exit with it - 1). */
static int storaged_parse(int argc, char **argv, struct storaged_config *cfg, char *sock_dir,
                          size_t sock_dir_len)
{
	const char *log_level = NULL;
	const char *sock = NULL;
	int from_hostname = 0;
	char err[256];
	const struct kv_opt opts[] = {
	    {"node-id", KV_OPT_U64, &cfg->node_id, NULL, 1, UINT64_MAX, 0,
	     "this node's id (1..); required unless --node-id-from-hostname"},
	    {"node-id-from-hostname", KV_OPT_BOOL, &from_hostname, "false", 0, 0, 0,
	     "node id = the number ending the host name + 1 (StatefulSet pod raftkv-0 -> 1)"},
	    {"data-dir", KV_OPT_STR, &cfg->data_dir, "./data", 0, 0, 0,
	     "data directory; LMDB lives in <data-dir>/kv, snapshots in <data-dir>/snap"},
	    {"sock-dir", KV_OPT_STR, &sock, "", 0, 0, 0,
	     "directory of the ipc:// sockets (default <data-dir>/sock)"},
	    {"map-bytes", KV_OPT_U64, &cfg->map_bytes, "67108864", 1u << 20, 1ull << 44, 0,
	     "initial LMDB map size; the map doubles when 80% used, up to 2 x quota + 64 MiB "
	     "or the disk's free space"},
	    {"quota-bytes", KV_OPT_U64, &cfg->quota_bytes, "8589934592", 1u << 20, 1ull << 42, 0,
	     "most data held (keys + values + 16 bytes a key); past it PUTs that add data get "
	     "507; must be the same on every node"},
	    {"watch-history", KV_OPT_U64, &cfg->watch_history, "100000", 1, 100000000, 0,
	     "changes kept for watchers to resume from (older from_index: 410); set alike on "
	     "every node"},
	    {"watch-history-bytes", KV_OPT_U64, &cfg->watch_history_bytes, "268435456", 1u << 16,
	     1ull << 40, 0, "bytes of keys and values the watch history keeps at most"},
	    {"sync-ms", KV_OPT_U64, &cfg->sync_ms, "100", 1, 60000, 0,
	     "period of the background LMDB sync; the WAL keeps what is not yet synced"},
	    {"log-level", KV_OPT_STR, &log_level, "info", 0, 0, 0, "debug, info, warn or error"},
	};
	enum kv_opts_result r =
	    kv_opts_parse(opts, (int)(sizeof(opts) / sizeof(opts[0])), argc, argv, "storaged",
	                  "raftkv's state machine: applies committed entries "
	                  "to LMDB, serves reads and snapshots");
	if (r == KV_OPTS_HELP)
		return 1;
	if (r != KV_OPTS_OK)
		return 3;
	if (kv_hostname_resolve_node_id(from_hostname, &cfg->node_id, err, sizeof(err)) != 0) {
		fprintf(stderr, "error: %s\n", err);
		return 3;
	}
	enum kv_log_level level;
	if (kv_log_parse_level(log_level, &level) != 0) {
		fprintf(stderr, "error: --log-level: \"%s\" is not debug, info, warn or error\n",
		        log_level);
		return 3;
	}
	kv_log_set_level(level);
	int n = sock[0] ? snprintf(sock_dir, sock_dir_len, "%s", sock)
	                : snprintf(sock_dir, sock_dir_len, "%s/sock", cfg->data_dir);
	if (n < 0 || (size_t)n >= sock_dir_len || strlen(cfg->data_dir) > SM_PATH_BYTES_MAX - 16) {
		fprintf(stderr, "error: --data-dir or --sock-dir is too long\n");
		return 3;
	}
	cfg->sock_dir = sock_dir;
	return 0;
}

/*
 * The map's ceiling: 2 x quota + SM_MAP_SLACK_BYTES, or less when the disk
 * cannot hold it (data.mdb's size now + the free space the filesystem gives
 * an unprivileged user, measured once at start). Node-local: it only decides
 * when this node's map is full (MDB_MAP_FULL: the node stalls and answers 507
 * to every write until space is freed), never what a write does.
 */
static uint64_t storaged_map_ceiling(const struct storaged_config *cfg, const char *kv_dir)
{
	/* the watch history is outside the quota: room for it (twice: copy on write) */
	uint64_t want = 2 * cfg->quota_bytes + 2 * cfg->watch_history_bytes + SM_MAP_SLACK_BYTES;
	char file[SM_PATH_BYTES_MAX + 16];
	struct statvfs vfs;
	struct stat st;
	snprintf(file, sizeof(file), "%s/data.mdb", kv_dir);
	if (statvfs(cfg->data_dir, &vfs) != 0)
		return want;
	uint64_t have = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (stat(file, &st) == 0)
		have += (uint64_t)st.st_size;
	if (have >= want)
		return want;
	KV_LOG_WARN("storaged", "the disk cannot hold the quota: the map stops at its free space",
	            "quota_bytes=%" PRIu64 " map_wanted=%" PRIu64 " map_ceiling=%" PRIu64,
	            cfg->quota_bytes, want, have);
	return have < (1u << 20) ? (1u << 20) : have;
}

/* Allocates the loop's buffers and opens the state machine. */
static int storaged_init(struct storaged *sd)
{
	char kv_dir[SM_PATH_BYTES_MAX];
	char abs_dir[PATH_MAX];
	if (mkdir(sd->cfg.data_dir, 0755) != 0 && errno != EEXIST)
		return kv_err_from_errno(errno);
	/* Absolute: SNAPSHOT_DONE's path must mean the same to raftd. */
	if (realpath(sd->cfg.data_dir, abs_dir) == NULL)
		return kv_err_from_errno(errno);
	if (strlen(abs_dir) > SM_PATH_BYTES_MAX - 16)
		return KV_EINVAL;
	snprintf(kv_dir, sizeof(kv_dir), "%s/kv", abs_dir);
	snprintf(sd->snap_dir, sizeof(sd->snap_dir), "%s/snap", abs_dir);
	sd->arena_mem = malloc(STORAGED_ARENA_BYTES);
	sd->results = calloc(STORAGED_APPLY_ENTRIES_MAX, sizeof(*sd->results));
	sd->items = calloc(KV_LIST_LIMIT_MAX, sizeof(*sd->items));
	sd->watch_items = calloc(PROTO_WATCH_ITEMS_MAX, sizeof(*sd->watch_items));
	if (sd->arena_mem == NULL || sd->results == NULL || sd->items == NULL ||
	    sd->watch_items == NULL)
		return KV_ENOMEM;
	struct sm_opts o = {.dir = kv_dir,
	                    .map_bytes = sd->cfg.map_bytes,
	                    .quota_bytes = sd->cfg.quota_bytes,
	                    .watch_history = sd->cfg.watch_history,
	                    .watch_history_bytes = sd->cfg.watch_history_bytes,
	                    .map_max_bytes = storaged_map_ceiling(&sd->cfg, kv_dir)};
	/* a backup file still here was never opened by a gateway (that unlinks it at once) */
	if (sm_snap_remove_backups(sd->snap_dir) != 0)
		KV_LOG_WARN("storaged", "cannot remove stale backup files", "dir=%s", sd->snap_dir);
	int err = sm_open(&o, &sd->sm);
	if (err != 0)
		KV_LOG_ERROR("storaged", "cannot open the state machine", "dir=%s error=\"%s\"",
		             kv_dir, kv_strerror(err));
	return err;
}

static void storaged_fini(struct storaged *sd)
{
	storaged_snapper_stop(sd);
	storaged_syncer_stop(sd);
	storaged_park_flush(sd, KV_ESHUTDOWN);
	storaged_sock_close(sd);
	sm_close(&sd->sm);
	proto_buf_free(&sd->out);
	sm_buf_free(&sd->value);
	sm_list_free(&sd->list);
	sm_events_free(&sd->events);
	free(sd->arena_mem);
	free(sd->results);
	free(sd->items);
	free(sd->watch_items);
}

int main(int argc, char **argv)
{
	static struct storaged sd;
	char sock_dir[SM_PATH_BYTES_MAX];
	int rc = storaged_parse(argc, argv, &sd.cfg, sock_dir, sizeof(sock_dir));
	if (rc != 0)
		return rc - 1;
	int err = kv_sockdir_prepare(sd.cfg.sock_dir, "storaged");
	if (err == 0)
		err = storaged_signals();
	if (err == 0)
		err = storaged_init(&sd);
	if (err == 0)
		err = storaged_sock_open(&sd);
	storaged_alarm_mask(SIG_BLOCK);
	if (err == 0)
		err = storaged_snapper_start(&sd);
	if (err == 0)
		err = storaged_syncer_start(&sd);
	storaged_alarm_mask(SIG_UNBLOCK);
	if (err == 0) {
		KV_LOG_INFO("storaged", "started",
		            "node_id=%" PRIu64 " data_dir=%s sock_dir=%s "
		            "applied_index=%" PRIu64 " map_bytes=%" PRIu64 " map_ceiling=%" PRIu64
		            " quota_bytes=%" PRIu64 " data_bytes=%" PRIu64 " sync_ms=%" PRIu64,
		            sd.cfg.node_id, sd.cfg.data_dir, sd.cfg.sock_dir, sd.sm->applied_index,
		            sd.sm->map_bytes, sd.sm->map_max_bytes, sd.sm->quota_bytes,
		            sd.sm->data_bytes, sd.cfg.sync_ms);
		err = storaged_loop_run(&sd, &storaged_stop);
		if (err == 0)
			err = storaged_linger(&sd);
	}
	if (sd.sm != NULL)
		KV_LOG_INFO("storaged", "stopping",
		            "applied_index=%" PRIu64 " results_dropped=%" PRIu64 " error=\"%s\"",
		            sd.sm->applied_index, sd.results_dropped, kv_strerror(err));
	storaged_fini(&sd);
	return err == 0 ? 0 : 1;
}

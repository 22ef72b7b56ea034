/*
 * raftd_main.c - raftd's entry point: flags, directories, startup, signals
 * and shutdown. Main thread (which then runs the loop).
 */
#include "raftd.h"

#include "kv_err.h"
#include "kv_fs.h"
#include "kv_hostname.h"
#include "kv_limits.h"
#include "kv_log.h"
#include "kv_opts.h"
#include "kv_sockdir.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static volatile sig_atomic_t main_stop;

static void main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

static int main_parse_flags(struct raftd_opts *o, int argc, char **argv)
{
	int from_hostname = 0;
	char err[256];
	const struct kv_opt opts[] = {
	    {"node-id", KV_OPT_U64, &o->node_id, NULL, 1, RAFTD_NODE_ID_MAX, 0,
	     "this node's id (in --peers, or a joining node with --listen); or "
	     "--node-id-from-hostname"},
	    {"node-id-from-hostname", KV_OPT_BOOL, &from_hostname, "false", 0, 0, 0,
	     "node id = the number ending the host name + 1 (StatefulSet pod raftkv-0 -> 1)"},
	    {"peers", KV_OPT_STR, &o->peers, "", 0, 0, 0,
	     "every node of a new cluster: 1=host:port,2=host:port,... (this one included; a node "
	     "left out joins them); later the configuration's addresses are used; not needed "
	     "with --join"},
	    {"listen", KV_OPT_STR, &o->listen, "", 0, 0, 0,
	     "peer endpoint to bind (default tcp://0.0.0.0:<own port in --peers>)"},
	    {"data-dir", KV_OPT_STR, &o->data_dir, "./data", 0, 0, 0,
	     "directory for the WAL and snapshots"},
	    {"sock-dir", KV_OPT_STR, &o->sock_dir, "", 0, 0, 0,
	     "directory of the node's ipc:// sockets (default <data-dir>/sock)"},
	    {"election-timeout-ms", KV_OPT_U64, &o->election_timeout_ms, "1000", 50, 60000, 0,
	     "base election timeout; the randomized one is in [base, 2*base)"},
	    {"heartbeat-ms", KV_OPT_U64, &o->heartbeat_ms, "100", 10, 10000, 0,
	     "leader heartbeat period; below --election-timeout-ms"},
	    {"snapshot-entries", KV_OPT_U64, &o->snapshot_entries, "8192", 16, RAFT_LOG_WINDOW / 2,
	     0, "entries durable in LMDB past the last snapshot before the log is compacted again"},
	    {"log-level", KV_OPT_STR, &o->log_level, "info", 0, 0, 0, "debug, info, warn or error"},
	    {"curve-secret-key", KV_OPT_STR, &o->curve_secret_key, "", 0, 0, 0,
	     "this node's CurveZMQ secret key file (raftkvctl keygen); turns on Curve for peers"},
	    {"peer-keys", KV_OPT_STR, &o->peer_keys, "", 0, 0, 0,
	     "allow-list of peer public keys: 1=Z85,2=Z85,... (every node of --peers)"},
	    {"peer-keys-file", KV_OPT_STR, &o->peer_keys_file, "", 0, 0, 0,
	     "allow-list file instead of --peer-keys: one \"ID Z85PUBLICKEY\" a line"},
	    {"insecure", KV_OPT_BOOL, &o->insecure, "false", 0, 0, 0,
	     "allow plaintext peers on a non-loopback --listen (anyone reaching it can forge)"},
	    {"join", KV_OPT_STR, &o->join, "", 0, 0, 0,
	     "URL,URL,...: on a new data directory, register with the running cluster at these "
	     "HTTP URLs (POST /v1/members); ignored once the WAL has a configuration"},
	    {"join-as", KV_OPT_STR, &o->join_as, "voter", 0, 0, 0,
	     "voter (promoted once caught up) or learner (a read replica)"},
	    {"url", KV_OPT_STR, &o->url, "", 0, 0, 0,
	     "this node's HTTP base URL as the others reach it (its gatewayd); needed by --join"},
	    {"advertise", KV_OPT_STR, &o->advertise, "", 0, 0, 0,
	     "host:port the other nodes reach this raftd at (--join; default: the --peers "
	     "entry or --listen's host:port)"},
	    {"join-token-file", KV_OPT_STR, &o->join_token_file, "", 0, 0, 0,
	     "file holding the admin token --join sends (secured clusters)"},
	    {"join-cacert", KV_OPT_STR, &o->join_cacert, "", 0, 0, 0,
	     "CA certificates for --join's https:// URLs (default: the system's)"},
	};
	int r = kv_opts_parse(opts, (int)(sizeof(opts) / sizeof(opts[0])), argc, argv, "raftd",
	                      "raftd - the Raft consensus process of a raftkv node");
	if (r == KV_OPTS_OK &&
	    kv_hostname_resolve_node_id(from_hostname, &o->node_id, err, sizeof(err)) != 0) {
		fprintf(stderr, "error: %s\n", err);
		return KV_OPTS_BAD;
	}
	return r;
}

/*
 * --peers and --join: a new cluster's node is in --peers; a joining node
 * needs no --peers (or only its own entry) and a plan (raftd_join_plan_make).
 */
static int main_check_peers(struct raftd *d)
{
	char err[512];
	const struct raftd_opts *o = &d->opts;
	if (o->peers[0] != '\0' &&
	    raftd_peerlist_parse(o->peers, &d->peer_list, err, sizeof(err)) != 0) {
		fprintf(stderr, "error: %s\n", err);
		return -1;
	}
	struct raftd_join_flags jf = {.node_id = o->node_id,
	                              .join = o->join,
	                              .join_as = o->join_as,
	                              .url = o->url,
	                              .advertise = o->advertise,
	                              .listen = o->listen,
	                              .token_file = o->join_token_file,
	                              .cacert = o->join_cacert,
	                              .peers = &d->peer_list};
	if (raftd_join_plan_make(&jf, &d->join, err, sizeof(err)) != 0) {
		fprintf(stderr, "error: %s\n", err);
		return -1;
	}
	if (!d->join.on && raftd_peerlist_find(&d->peer_list, o->node_id) == NULL &&
	    (o->peers[0] == '\0' || o->listen[0] == '\0')) {
		fprintf(stderr,
		        "error: --node-id %" PRIu64 " is not in --peers: give --peers, --join to "
		        "join a running cluster, or --listen (a node joining the cluster --peers "
		        "names)\n",
		        o->node_id);
		return -1;
	}
	return 0;
}

/* Cross-flag checks and defaults that depend on other flags; exit status 2 on error. */
static int main_check_flags(struct raftd *d)
{
	static char listen[RAFTD_HOST_BYTES_MAX + 32];
	static char sock_dir[RAFTD_DIR_BYTES_MAX];
	enum kv_log_level level;
	if (kv_log_parse_level(d->opts.log_level, &level) != 0) {
		fprintf(stderr, "error: --log-level \"%s\" is not debug, info, warn or error\n",
		        d->opts.log_level);
		return 2;
	}
	kv_log_set_level(level);
	if (main_check_peers(d) != 0)
		return 2;
	if (d->opts.heartbeat_ms >= d->opts.election_timeout_ms) {
		fprintf(stderr, "error: --heartbeat-ms must be below --election-timeout-ms\n");
		return 2;
	}
	if (strlen(d->opts.data_dir) + 8 >= RAFTD_DIR_BYTES_MAX ||
	    strlen(d->opts.sock_dir) + 8 >= RAFTD_DIR_BYTES_MAX) {
		fprintf(stderr, "error: --data-dir and --sock-dir must be below %u bytes\n",
		        RAFTD_DIR_BYTES_MAX - 8);
		return 2;
	}
	if (d->opts.listen[0] == '\0') {
		const struct raftd_peer_addr *self =
		    raftd_peerlist_find(&d->peer_list, d->opts.node_id);
		int v6 = self != NULL ? self->host[0] == '[' : d->join.peer_address[0] == '[';
		snprintf(listen, sizeof(listen), "tcp://%s:%u", v6 ? "[::]" : "0.0.0.0",
		         self != NULL ? (unsigned)self->port : (unsigned)d->join.peer_port);
		d->opts.listen = listen;
	}
	if (raftd_curve_configure(d) != 0)
		return 2;
	if (d->opts.sock_dir[0] == '\0') {
		snprintf(sock_dir, sizeof(sock_dir), "%s/sock", d->opts.data_dir);
		d->opts.sock_dir = sock_dir;
	}
	snprintf(d->wal_dir, sizeof(d->wal_dir), "%s/wal", d->opts.data_dir);
	snprintf(d->snap_dir, sizeof(d->snap_dir), "%s/snap", d->opts.data_dir);
	return 0;
}

static int main_alloc(struct raftd *d)
{
	d->exec = calloc(1, sizeof(*d->exec));
	d->held = calloc(RAFT_EXEC_HELD_MAX, sizeof(*d->held));
	d->chunk_buf = malloc(RAFT_SNAPSHOT_CHUNK_BYTES);
	d->apply_entries = calloc(RAFTD_APPLY_BATCH_ENTRIES, sizeof(*d->apply_entries));
	d->reads = malloc(sizeof(*d->reads));
	d->relays = malloc(sizeof(*d->relays));
	d->arena_mem = malloc(RAFTD_ARENA_BYTES);
	if (!d->exec || !d->held || !d->chunk_buf || !d->apply_entries || !d->reads || !d->relays ||
	    !d->arena_mem)
		return KV_ENOMEM;
	raftd_read_table_init(d->reads);
	raftd_relay_init(d);
	raftd_update_init(d);
	return 0;
}

static void main_free(struct raftd *d)
{
	if (d->exec != NULL)
		raft_exec_reset(d->exec); /* closes what is still held */
	free(d->exec);
	free(d->held);
	free(d->chunk_buf);
	free(d->apply_entries);
	free(d->reads);
	free(d->relays);
	raftd_relay_free(d);
	free(d->arena_mem);
	proto_buf_free(&d->buf);
	raftd_local_batch_free(&d->replies);
}

static void main_shutdown(struct raftd *d)
{
	/* a leader has handed over by now (raftd_handoff, called by main) */
	if (d->raft != NULL && d->wal != NULL)
		raftd_update_flush(d);
	raftd_snapfile_close(d);
	raftd_sock_close(d);
	raft_destroy(&d->raft);
	wal_close(&d->wal);
	KV_LOG_INFO(RAFTD_SVC, "stopped", "node=%" PRIu64, d->opts.node_id);
}

static void main_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_on_signal; /* no SA_RESTART: zmq_poll returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int main_start(struct raftd *d)
{
	int rc = main_alloc(d);
	if (rc == 0)
		rc = kv_fs_mkdir_p(d->opts.data_dir);
	if (rc != 0) {
		KV_LOG_ERROR(RAFTD_SVC, "cannot prepare directories", "data_dir=%s err=\"%s\"",
		             d->opts.data_dir, kv_strerror(rc));
		return rc;
	}
	rc = kv_sockdir_prepare(d->opts.sock_dir, RAFTD_SVC);
	if (rc != 0)
		return rc;
	rc = raftd_boot_core(d);
	if (rc == 0)
		rc = raftd_sock_open(d);
	if (rc != 0)
		return rc;
	raftd_apply_init(d);
	KV_LOG_INFO(RAFTD_SVC, "started",
	            "node=%" PRIu64 " listen=%s peers=%s sock_dir=%s data_dir=%s", d->opts.node_id,
	            d->opts.listen, d->curve.on ? "curve" : "plaintext", d->opts.sock_dir,
	            d->opts.data_dir);
	return 0;
}

int main(int argc, char **argv)
{
	static struct raftd d;
	switch (main_parse_flags(&d.opts, argc, argv)) {
	case KV_OPTS_OK:
		break;
	case KV_OPTS_HELP:
		return 0;
	default:
		return 2;
	}
	if (main_check_flags(&d) != 0)
		return 2;
	d.stop = &main_stop;
	d.snap_fd = d.incoming_fd = -1;
	main_signals();
	int rc = main_start(&d);
	if (rc == 0)
		rc = raftd_loop_run(&d);
	if (rc == 0)
		raftd_handoff(&d);
	if (rc == 0)
		raftd_relay_finish(&d);
	main_shutdown(&d);
	main_free(&d);
	return rc == 0 ? 0 : 1;
}

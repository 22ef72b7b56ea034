/*
 * gw_main.c - gatewayd: flags, the h2o server and its one event loop, the
 * listening socket with its connection limit, the 10 ms tick, shutdown.
 *
 * One thread runs everything (see gw.h). SIGTERM or SIGINT stops accepting,
 * gives waiting requests a moment to finish and exits 0. SIGHUP reloads the
 * TLS certificate and key (gw_tls.c) and the --auth-file; a file that fails
 * to load is logged and the old one kept.
 *
 * A --listen address other than loopback without --tls-cert is refused
 * unless --insecure is given: tokens and data would cross the network in
 * clear text.
 */
#include "gw.h"
#include "gw_read.h"

#include "gw_consul.h"
#include "gw_routes.h"
#include "kv_assert.h"
#include "kv_clock.h"
#include "kv_err.h"
#include "kv_hostname.h"
#include "kv_log.h"
#include "kv_opts.h"
#include "kv_sockdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define GW_ACCEPT_BATCH   64
#define GW_LISTEN_BACKLOG 1024
#define GW_STOP_GRACE_MS  2000u
/*
 * After SIGTERM, open connections stay open this long before h2o closes the
 * idle ones, answering 503 (shutting down) to what arrives on them: another
 * gateway may have just sent a forwarded write on a pooled connection, and a
 * close with that request unread would leave its outcome unknown (504).
 */
#define GW_STOP_QUIET_MS 300u

static volatile sig_atomic_t gw_signalled;
static volatile sig_atomic_t gw_reload_asked;

static void gw_on_signal(int sig)
{
	if (sig == SIGHUP)
		gw_reload_asked = 1;
	else
		gw_signalled = sig;
}

static enum kv_opts_result gw_parse_flags(struct gw_config *cfg, int argc, char **argv)
{
	int from_hostname = 0;
	char err[256];
	const struct kv_opt opts[] = {
	    {"node-id", KV_OPT_U64, &cfg->node_id, NULL, 1, UINT64_MAX, 0,
	     "this node's id (as in --gateways and raftd's --peers); or --node-id-from-hostname"},
	    {"node-id-from-hostname", KV_OPT_BOOL, &from_hostname, "false", 0, 0, 0,
	     "node id = the number ending the host name + 1 (StatefulSet pod raftkv-0 -> 1)"},
	    {"listen", KV_OPT_STR, &cfg->listen, "127.0.0.1:4001", 0, 0, 0,
	     "HTTP address host:port"},
	    {"consul-listen", KV_OPT_STR, &cfg->consul_listen, "", 0, 0, 0,
	     "also serve Consul's KV HTTP API on host:port (off when empty)"},
	    {"gateways", KV_OPT_STR, &cfg->gateways, "", 0, 0, 0,
	     "every node's gateway URL: 1=http://127.0.0.1:4001,2=..."},
	    {"data-dir", KV_OPT_STR, &cfg->data_dir, "./data", 0, 0, 0, "the node's directory"},
	    {"sock-dir", KV_OPT_STR, &cfg->sock_dir, "", 0, 0, 0,
	     "directory of the node's ipc:// sockets (default <data-dir>/sock)"},
	    {"local-reads", KV_OPT_BOOL, &cfg->local_reads, "false", 0, 0, 0,
	     "GETs read storaged's LMDB in <data-dir>/kv themselves (needs storaged's pid "
	     "namespace)"},
	    {"relay-writes", KV_OPT_BOOL, &cfg->relay_writes, "true", 0, 0, 0,
	     "a follower's raftd carries its writes to the leader; false: forward them to the "
	     "leader's gateway over HTTP (a cluster with raftds older than the relay)"},
	    {"max-value-bytes", KV_OPT_U64, &cfg->max_value_bytes, "1048576", 1,
	     KV_VALUE_BYTES_MAX_LIMIT, 0, "largest value accepted (413 past it)"},
	    {"max-inflight", KV_OPT_U64, &cfg->max_inflight, "1024", 1, 65534, 0,
	     "requests waiting on raftd or storaged (429 past it)"},
	    {"max-watchers", KV_OPT_U64, &cfg->max_watchers, "256", 1, 4096, 0,
	     "open /v1/watch requests at most; each holds one --max-inflight slot"},
	    {"timeout-ms", KV_OPT_U64, &cfg->timeout_ms, "5000", KV_HTTP_TIMEOUT_MS_MIN,
	     KV_HTTP_TIMEOUT_MS_MAX, 0, "default request deadline (?timeout= overrides)"},
	    {"log-level", KV_OPT_STR, &cfg->log_level, "info", 0, 0, 0,
	     "debug, info, warn or error"},
	    {"tls-cert", KV_OPT_STR, &cfg->tls_cert, "", 0, 0, 0,
	     "PEM certificate chain: serve HTTPS (with --tls-key; reloaded on SIGHUP)"},
	    {"tls-key", KV_OPT_STR, &cfg->tls_key, "", 0, 0, 0, "PEM private key of --tls-cert"},
	    {"tls-client-ca", KV_OPT_STR, &cfg->tls_client_ca, "", 0, 0, 0,
	     "PEM CA file: require client certificates signed by it"},
	    {"peer-ca", KV_OPT_STR, &cfg->peer_ca, "", 0, 0, 0,
	     "PEM CA file that signed the https:// peer gateways' certificates"},
	    {"auth-file", KV_OPT_STR, &cfg->auth_file, "", 0, 0, 0,
	     "bearer tokens, one TOKEN ROLE [PREFIX] a line (reloaded on SIGHUP)"},
	    {"insecure", KV_OPT_BOOL, &cfg->insecure, "false", 0, 0, 0,
	     "allow a non-loopback --listen without TLS (RAFTKV_INSECURE=1)"},
	};
	enum kv_opts_result r = kv_opts_parse(opts, (int)(sizeof(opts) / sizeof(opts[0])), argc,
	                                      argv, "gatewayd", "the HTTP API of a raftkv node");
	if (r == KV_OPTS_OK &&
	    kv_hostname_resolve_node_id(from_hostname, &cfg->node_id, err, sizeof(err)) != 0) {
		fprintf(stderr, "error: %s\n", err);
		return KV_OPTS_BAD;
	}
	if (r == KV_OPTS_OK && (cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		fprintf(stderr, "error: --tls-cert and --tls-key go together\n");
		return KV_OPTS_BAD;
	}
	if (r == KV_OPTS_OK && cfg->tls_client_ca[0] != '\0' && cfg->tls_cert[0] == '\0') {
		fprintf(stderr, "error: --tls-client-ca needs --tls-cert and --tls-key\n");
		return KV_OPTS_BAD;
	}
	return r;
}

static void gw_on_conn_close(void *data)
{
	struct gw *gw = data;
	gw->connections--;
}

static void gw_on_accept(h2o_socket_t *listener, const char *err)
{
	struct gw *gw = listener->data;
	if (err != NULL)
		return;
	for (int i = 0; i < GW_ACCEPT_BATCH; i++) {
		h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
		if (sock == NULL)
			return;
		if (gw->connections >= KV_HTTP_CONNECTIONS_MAX) {
			h2o_socket_close(sock); /* past the limit: refuse at once */
			continue;
		}
		gw->connections++;
		sock->on_close.cb = gw_on_conn_close;
		sock->on_close.data = gw;
		gw_screen_start(gw, sock,
		                listener == gw->consul_listener ? &gw->consul_accept
		                                                : &gw->accept_ctx);
	}
}

/* Listens on addr (host:port; the --listen rules) into *out. 0 or a KV_E* code (logged). */
static int gw_listen_on(struct gw *gw, const char *addr, h2o_socket_t **out)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	uint64_t port = 0;
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host) ||
	    gw_parse_u64(colon + 1, strlen(colon + 1), &port) != 0 || port > 65535)
		return KV_EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	struct sockaddr_in sin = {0};
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	else if (host[0] == '\0') /* ":4001": every interface */
		strcpy(host, "0.0.0.0");
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return KV_EINVAL;
	if ((ntohl(sin.sin_addr.s_addr) >> 24) != 127 && gw->tls_server == NULL &&
	    !gw->cfg.insecure) {
		KV_LOG_ERROR(GW_SVC,
		             "refusing to listen on a non-loopback address without TLS: tokens and "
		             "data would cross the network in clear text; give --tls-cert and "
		             "--tls-key, or --insecure to accept that",
		             "listen=%s", addr);
		return KV_EINVAL;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kv_err_from_errno(errno);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, GW_LISTEN_BACKLOG) != 0) {
		int err = kv_err_from_errno(errno);
		KV_LOG_ERROR(GW_SVC, "cannot listen", "listen=%s err=\"%s\"", addr,
		             strerror(errno));
		close(fd);
		return err;
	}
	*out = h2o_evloop_socket_create(gw->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
	(*out)->data = gw;
	h2o_socket_read_start(*out, gw_on_accept);
	return 0;
}

/* --listen, and --consul-listen when given (the same TLS and loopback rules). */
static int gw_listen(struct gw *gw)
{
	int err = gw_listen_on(gw, gw->cfg.listen, &gw->listener);
	if (err == 0 && gw->cfg.consul_listen[0] != '\0')
		err = gw_listen_on(gw, gw->cfg.consul_listen, &gw->consul_listener);
	return err;
}

static void gw_on_tick(h2o_timeout_entry_t *entry)
{
	struct gw *gw = H2O_STRUCT_FROM_MEMBER(struct gw, tick_entry, entry);
	uint64_t now = kv_clock_mono_ms();
	gw_zmq_drain(gw);
	gw_status_poll(gw, now);
	gw_lease_clock_tick(gw, now);
	gw_pending_sweep(gw, now);
	gw_local_check(&gw->local, now); /* a snapshot installed, the node wiped: reopen */
	h2o_timeout_link(gw->ctx.loop, &gw->tick, &gw->tick_entry);
}

static void gw_setup_h2o(struct gw *gw)
{
	h2o_config_init(&gw->globalconf);
	gw->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("raftkv-gatewayd"));
	/* one byte over: the handler answers 413 in JSON; larger bodies h2o refuses unread */
	gw->globalconf.max_request_entity_size = (size_t)gw->cfg.max_value_bytes + 1;
	gw->globalconf.http1.req_timeout = GW_SLOWLORIS_MS;
	gw->globalconf.http1.upgrade_to_http2 = 0;
	h2o_hostconf_t *host =
	    h2o_config_register_host(&gw->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	gw_router_register(h2o_config_register_path(host, "/", 0), gw);
	/* each listener has its own host list: a Host header cannot cross from one API to the other
	 */
	h2o_hostconf_t *consul =
	    h2o_config_register_host(&gw->globalconf, h2o_iovec_init(H2O_STRLIT("consul")), 65535);
	gw_consul_router_register(h2o_config_register_path(consul, "/", 0), gw);
	h2o_context_init(&gw->ctx, h2o_evloop_create(), &gw->globalconf);
	gw->hosts[0] = host;
	gw->accept_ctx.ctx = &gw->ctx;
	gw->accept_ctx.hosts = gw->hosts;
	gw->consul_hosts[0] = consul;
	gw->consul_accept.ctx = &gw->ctx;
	gw->consul_accept.hosts = gw->consul_hosts;
	h2o_timeout_init(gw->ctx.loop, &gw->screen_timeout, GW_SLOWLORIS_MS);
	h2o_timeout_init(gw->ctx.loop, &gw->tick, GW_TICK_MS);
	gw->tick_entry.cb = gw_on_tick;
	h2o_timeout_link(gw->ctx.loop, &gw->tick, &gw->tick_entry);
}

/* The defaults that depend on other flags, and the directories the sockets live in. */
static int gw_prepare_dirs(struct gw_config *cfg, char *sock_dir, size_t cap)
{
	if (cfg->sock_dir[0] == '\0') {
		int n = snprintf(sock_dir, cap, "%s/sock", cfg->data_dir);
		if (n < 0 || (size_t)n >= cap)
			return KV_EINVAL;
		cfg->sock_dir = sock_dir;
	}
	if (mkdir(cfg->data_dir, 0755) != 0 && errno != EEXIST) {
		KV_LOG_ERROR(GW_SVC, "cannot create directory", "err=\"%s\"", strerror(errno));
		return KV_EIO;
	}
	return kv_sockdir_prepare(cfg->sock_dir, GW_SVC);
}

static void gw_stop(struct gw *gw)
{
	KV_LOG_INFO(GW_SVC, "stopping", "signal=%d inflight=%u", (int)gw_signalled,
	            gw->pending.used);
	gw->stopping = 1;
	h2o_socket_read_stop(gw->listener);
	h2o_socket_close(gw->listener);
	gw->listener = NULL;
	if (gw->consul_listener != NULL) {
		h2o_socket_read_stop(gw->consul_listener);
		h2o_socket_close(gw->consul_listener);
		gw->consul_listener = NULL;
	}
	uint64_t quiet_until = kv_clock_mono_ms() + GW_STOP_QUIET_MS;
	while (kv_clock_mono_ms() < quiet_until)
		h2o_evloop_run(gw->ctx.loop, (int32_t)GW_TICK_MS);
	h2o_context_request_shutdown(&gw->ctx);
	uint64_t until = kv_clock_mono_ms() + GW_STOP_GRACE_MS;
	while (gw->pending.used > 0 && kv_clock_mono_ms() < until)
		h2o_evloop_run(gw->ctx.loop, (int32_t)GW_TICK_MS);
}

/* Room for KV_HTTP_CONNECTIONS_MAX connections: a full fd table would make accept spin. */
static void gw_raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = KV_HTTP_CONNECTIONS_MAX + 512;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		KV_LOG_WARN(GW_SVC, "open-file limit below the connection limit", "nofile=%llu",
		            (unsigned long long)rl.rlim_cur);
}

/* A table that breaks the router's assumptions (gw_route_check) is a bug: stop at once. */
static void gw_check_routes(void)
{
	const char *why = NULL;
	size_t row = 0;
	if (gw_route_check(gw_routes, gw_routes_count, &why, &row) != 0) {
		KV_LOG_ERROR(GW_SVC, "bad route table", "row=%zu err=\"%s\"", row, why);
		KV_ASSERT(0);
	}
	if (gw_route_check(gw_consul_routes, gw_consul_routes_count, &why, &row) != 0) {
		KV_LOG_ERROR(GW_SVC, "bad Consul route table", "row=%zu err=\"%s\"", row, why);
		KV_ASSERT(0);
	}
}

/* --auth-file at start: a file that does not load stops the daemon (exit 2). */
static int gw_load_auth(struct gw *gw)
{
	char why[256];
	if (gw->cfg.auth_file[0] == '\0')
		return 0;
	int err = gw_auth_load(gw->cfg.auth_file, &gw->auth, why, sizeof(why));
	if (err != 0) {
		KV_LOG_ERROR(GW_SVC, "bad --auth-file", "file=%s err=\"%s\"", gw->cfg.auth_file,
		             why);
		return KV_EINVAL;
	}
	return 0;
}

/* SIGHUP: the new tokens replace the old at once; a bad file keeps the old ones. */
static void gw_reload_auth(struct gw *gw)
{
	char why[256];
	struct gw_auth fresh;
	if (gw->cfg.auth_file[0] == '\0')
		return;
	if (gw_auth_load(gw->cfg.auth_file, &fresh, why, sizeof(why)) != 0) {
		KV_LOG_ERROR(GW_SVC, "--auth-file reload failed; keeping the old tokens",
		             "file=%s err=\"%s\"", gw->cfg.auth_file, why);
		return;
	}
	gw_auth_free(&gw->auth);
	gw->auth = fresh;
	KV_LOG_INFO(GW_SVC, "--auth-file reloaded", "tokens=%u", gw->auth.n);
}

/* --local-reads: GETs read storaged's environment, <data-dir>/kv, opened on the first one. */
static int gw_local_start(struct gw *gw)
{
	char dir[SM_PATH_BYTES_MAX];
	int n = snprintf(dir, sizeof(dir), "%s/kv", gw->cfg.data_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return KV_EINVAL;
	return gw_local_init(&gw->local, gw->cfg.local_reads ? dir : NULL);
}

static int gw_run(struct gw *gw)
{
	gw_check_routes();
	gw_raise_fd_limit();
	static char sock_dir[512];
	if (gw_prepare_dirs(&gw->cfg, sock_dir, sizeof(sock_dir)) != 0)
		return 1;
	if (gw_pending_init(&gw->pending, (uint32_t)gw->cfg.max_inflight) != 0 ||
	    gw_lease_clock_init(&gw->lease_clock) != 0)
		return 1;
	gw->started_ms = kv_clock_mono_ms();
	gw_setup_h2o(gw);
	int err = gw_local_start(gw);
	if (err == 0)
		err = gw_tls_init(gw);
	if (err == 0)
		err = gw_load_auth(gw);
	if (err == 0)
		err = gw_forward_init(gw);
	if (err == 0)
		err = gw_listen(gw);
	if (err == 0)
		err = gw_zmq_open(gw);
	if (err == 0)
		gw_read_batch_setup(gw);
	if (err != 0) {
		KV_LOG_ERROR(GW_SVC, "cannot start", "listen=%s sock_dir=%s err=\"%s\"",
		             gw->cfg.listen, gw->cfg.sock_dir, kv_strerror(err));
		return err == KV_EINVAL ? 2 : 1; /* a bad --listen or --gateways value: 2 */
	}
	KV_LOG_INFO(GW_SVC, "listening",
	            "node_id=%llu listen=%s consul_listen=%s sock_dir=%s peers=%u tls=%s "
	            "client_certs=%s tokens=%u local_reads=%s",
	            (unsigned long long)gw->cfg.node_id, gw->cfg.listen,
	            gw->cfg.consul_listen[0] != '\0' ? gw->cfg.consul_listen : "off",
	            gw->cfg.sock_dir, gw->n_peers, gw->tls_server != NULL ? "on" : "off",
	            gw->cfg.tls_client_ca[0] != '\0' ? "required" : "off", gw->auth.n,
	            gw->local.dir[0] != '\0' ? gw->local.dir : "off");
	while (!gw_signalled) {
		h2o_evloop_run(gw->ctx.loop, INT32_MAX); /* returns within GW_TICK_MS */
		if (gw_reload_asked) {
			gw_reload_asked = 0;
			gw_tls_reload(gw);
			gw_reload_auth(gw);
		}
	}
	gw_stop(gw);
	gw_forward_dispose(gw); /* the loop runs no more: nothing can use the pools */
	gw_zmq_close(gw);
	gw_tls_dispose(gw);
	gw_auth_free(&gw->auth);
	gw_lease_clock_free(&gw->lease_clock);
	gw_local_close(&gw->local);
	return 0;
}

int main(int argc, char **argv)
{
	static struct gw gw; /* large (metrics tables): not on the stack */
	enum kv_opts_result r = gw_parse_flags(&gw.cfg, argc, argv);
	if (r != KV_OPTS_OK)
		return r == KV_OPTS_HELP ? 0 : 2;
	enum kv_log_level level;
	if (kv_log_parse_level(gw.cfg.log_level, &level) != 0) {
		fprintf(stderr, "error: --log-level: \"%s\" is not debug, info, warn or error\n",
		        gw.cfg.log_level);
		return 2;
	}
	kv_log_set_level(level);
	struct sigaction sa = {0};
	sa.sa_handler = gw_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return gw_run(&gw);
}

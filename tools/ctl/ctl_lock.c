/*
 * ctl_lock.c - raftkvctl lock [--ttl MS] NAME -- COMMAND [ARGS...]: the lock
 * recipe of docs/api.md ("A lock on a lease and a transaction"). Grants a
 * lease, takes locks/NAME with one transaction (compare: absent; put with
 * the lease), retrying every 200 ms while another holder has it, then runs
 * COMMAND with RAFTKV_LOCK_TOKEN set to the lock's mod_index (a fencing
 * token). While COMMAND runs it keeps the lease alive every TTL/3; the lock
 * counts as held only until the send time of the last successful keepalive
 * + TTL - TTL/10, and when that passes or a keepalive gets 404, COMMAND is
 * stopped (SIGTERM, then SIGKILL after a second) and raftkvctl exits 1. When
 * COMMAND ends, the lease is revoked (the lock key goes with it) and its
 * exit code is raftkvctl's.
 */
#include "ctl_coord.h"

#include "ctl_json.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOCK_NAME_BYTES_MAX 200u
#define LOCK_TTL_MS_DEFAULT 10000
#define LOCK_POLL_MS        100
#define LOCK_RETRY_MS       200

struct lock_state {
	struct ctl_ctx ctx; /* the caller's, with a timeout below the TTL */
	long long ttl_ms;
	char name[LOCK_NAME_BYTES_MAX + 1];
	char lease[32];
	long long last_ok_ms; /* send time of the last successful keepalive (or grant) */
	long long token;
	pid_t child;
};

static long long lock_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lock_sleep_ms(long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* 1 when name is 1..LOCK_NAME_BYTES_MAX of [A-Za-z0-9._-] (it goes into a key and JSON). */
static int lock_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= LOCK_NAME_BYTES_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	           n;
}

/* Keeps the lease alive; 0, 1 when it is gone (404), -1 when no answer counted. */
static int lock_keepalive(struct lock_state *ls)
{
	char path[96];
	struct ctl_http_resp resp;
	long long sent = lock_now_ms();
	snprintf(path, sizeof(path), "/v1/leases/%s/keepalive?timeout=%lld", ls->lease,
	         ls->ttl_ms / 4);
	int code = ctl_coord_call(&ls->ctx, "PUT", path, NULL, 0, 1, &resp);
	if (code == CTL_EXIT_OK) {
		ls->last_ok_ms = sent;
		ctl_http_resp_free(&resp);
		return 0;
	}
	return code == CTL_EXIT_REFUSED ? 1 : -1;
}

/* One try at the lock: 1 taken (ls->token set), 0 held by another, or -(exit code). */
static int lock_try(struct lock_state *ls)
{
	char body[512 + LOCK_NAME_BYTES_MAX * 2];
	struct ctl_http_resp resp;
	int n =
	    snprintf(body, sizeof(body),
	             "{\"compare\":[{\"key\":\"locks/%s\",\"exists\":false}],\"success\":[{\"op\":"
	             "\"put\",\"key\":\"locks/%s\",\"value\":\"%s:%ld\",\"lease\":\"%s\"}]}",
	             ls->name, ls->name, "raftkvctl", (long)getpid(), ls->lease);
	int code = ctl_coord_call(&ls->ctx, "POST", "/v1/txn", body, (size_t)n, 0, &resp);
	if (code != CTL_EXIT_OK)
		return -code;
	struct ctl_json_span root, ok, results, first, tok;
	const char *cur = NULL;
	int taken = ctl_json_value(resp.body, resp.body_len, &root) == 0 &&
	            ctl_json_member(root, "succeeded", &ok) == 0 && ctl_json_is(ok, "true");
	/* the put's mod_index; a replayed answer (a retry on another endpoint) has only the index
	 */
	int have = taken && ((ctl_json_member(root, "results", &results) == 0 &&
	                      ctl_json_next(results, &cur, &first) == 1 &&
	                      ctl_json_member(first, "mod_index", &tok) == 0) ||
	                     ctl_json_member(root, "index", &tok) == 0);
	ls->token = 0;
	if (have)
		ctl_json_int(tok, &ls->token);
	ctl_http_resp_free(&resp);
	return taken;
}

/* Waits for the lock, keeping the lease alive meanwhile. 0 taken, or an exit code. */
static int lock_acquire(struct lock_state *ls)
{
	for (;;) {
		int got = lock_try(ls);
		if (got == 1)
			return 0;
		if (got < 0)
			return -got;
		if (lock_now_ms() - ls->last_ok_ms >= ls->ttl_ms / 3 && lock_keepalive(ls) == 1) {
			fprintf(stderr,
			        "raftkvctl: the lease expired while waiting for the lock\n");
			return CTL_EXIT_REFUSED;
		}
		lock_sleep_ms(LOCK_RETRY_MS);
	}
}

static pid_t lock_spawn(const struct lock_state *ls, char **argv)
{
	char token[32];
	snprintf(token, sizeof(token), "%lld", ls->token);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("RAFTKV_LOCK_TOKEN", token, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "raftkvctl: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static void lock_stop_child(pid_t child)
{
	kill(child, SIGTERM);
	for (int i = 0; i < 10; i++) {
		if (waitpid(child, NULL, WNOHANG) == child)
			return;
		lock_sleep_ms(LOCK_POLL_MS);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/* Holds the lock while the child runs; its exit code, or 1 when the lock was lost. */
static int lock_hold(struct lock_state *ls)
{
	for (;;) {
		int status = 0;
		if (waitpid(ls->child, &status, WNOHANG) == ls->child)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		long long now = lock_now_ms();
		int gone = 0;
		if (now - ls->last_ok_ms >= ls->ttl_ms / 3)
			gone = lock_keepalive(ls) == 1;
		if (gone || lock_now_ms() >= ls->last_ok_ms + ls->ttl_ms - ls->ttl_ms / 10) {
			fprintf(stderr, "raftkvctl: lock %s lost (%s); stopping the command\n",
			        ls->name,
			        gone ? "the lease is gone" : "no keepalive succeeded in time");
			lock_stop_child(ls->child);
			return CTL_EXIT_REFUSED;
		}
		lock_sleep_ms(LOCK_POLL_MS);
	}
}

static void lock_release(struct lock_state *ls)
{
	char path[64];
	struct ctl_http_resp resp;
	snprintf(path, sizeof(path), "/v1/leases/%s", ls->lease);
	if (ctl_coord_call(&ls->ctx, "DELETE", path, NULL, 0, 1, &resp) == CTL_EXIT_OK)
		ctl_http_resp_free(&resp);
}

/* [--ttl MS] NAME -- COMMAND...: *cmd is where COMMAND starts; -1 when the words do not fit. */
static int lock_args(struct lock_state *ls, int argc, char **argv, int *cmd)
{
	int a = 0;
	ls->ttl_ms = LOCK_TTL_MS_DEFAULT;
	if (a + 1 < argc && strcmp(argv[a], "--ttl") == 0) {
		char *end = NULL;
		ls->ttl_ms = strtoll(argv[a + 1], &end, 10);
		if (end == argv[a + 1] || *end != '\0' || ls->ttl_ms <= 0)
			return -1;
		a += 2;
	}
	if (a + 2 >= argc || strcmp(argv[a + 1], "--") != 0 || !lock_name_ok(argv[a]))
		return -1;
	snprintf(ls->name, sizeof(ls->name), "%s", argv[a]);
	*cmd = a + 2;
	return 0;
}

int ctl_lock(const struct ctl_ctx *ctx, int argc, char **argv)
{
	static struct lock_state ls;
	int cmd = 0;
	memset(&ls, 0, sizeof(ls));
	if (lock_args(&ls, argc, argv, &cmd) != 0)
		return -1;
	ls.ctx = *ctx;
	ls.ctx.timeout_ms = (int)(ls.ttl_ms / 4); /* no request may outlast a keepalive period */
	ls.last_ok_ms = lock_now_ms();
	int code = ctl_coord_grant(&ls.ctx, ls.ttl_ms, ls.lease, sizeof(ls.lease));
	if (code != CTL_EXIT_OK)
		return code;
	if ((code = lock_acquire(&ls)) != CTL_EXIT_OK) {
		lock_release(&ls);
		return code;
	}
	if ((ls.child = lock_spawn(&ls, argv + cmd)) < 0) {
		fprintf(stderr, "raftkvctl: fork: %s\n", strerror(errno));
		lock_release(&ls);
		return CTL_EXIT_USAGE;
	}
	code = lock_hold(&ls);
	lock_release(&ls);
	return code;
}

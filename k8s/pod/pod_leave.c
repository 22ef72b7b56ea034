/*
 * pod_leave.c - `raftkv-pod leave [SECONDS]`: gatewayd's preStop hook. A pod
 * beyond the seeds removes itself from the configuration before it stops:
 * `raftkvctl member remove ID` (DELETE /v1/members/ID, admin token and CA from
 * the container's RAFTKV_TOKEN_FILE and RAFTKV_CACERT) through the seeds'
 * gateways (from RAFTKV_GATEWAYS), not this pod's own: the kubelet stops the
 * pod's other containers while the hook runs. Retried (a 409 while another pod
 * leaves at the same moment, a 503 during an election) for at most SECONDS.
 *
 * The marker is written before the first request and kept whatever the
 * outcome, so the pod always comes back empty (pod_init.c) and joins as a new
 * member: if the removal happened it must (its old WAL would make it a node
 * nobody talks to); if it did not, or its answer was lost, the node is still a
 * member with a new disk, which the leader heals by itself (REJOIN, F15).
 * Seeds never leave: they are the cluster's base, and a scale-down stops at
 * them. The pod does not know why it stops (a scale-down or a restart: a
 * StatefulSet's pod cannot tell), so a restart of a pod beyond the seeds is
 * a leave and a join (docs/design.md, "Scaling a deployment").
 * Main thread; the one child is raftkvctl.
 */
#include "pod.h"

#include "kv_err.h"
#include "kv_fs.h"
#include "kv_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POD_LEAVE_SECONDS_DEFAULT 15
#define POD_LEAVE_SECONDS_MAX     600
#define POD_CTL_OUT_MAX           2048u

static double leave_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The seeds' gateway URLs from RAFTKV_GATEWAYS ("1=https://...,2=...") as a
 * --endpoints list: ids 1..seeds, this node excluded. 0, or KV_EINVAL.
 */
static int leave_endpoints(const struct pod_self *self, char *out, size_t cap)
{
	const char *s = getenv("RAFTKV_GATEWAYS");
	size_t used = 0;

	out[0] = '\0';
	while (s != NULL && *s != '\0') {
		const char *end = strchr(s, ',');
		size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
		char *eq = NULL;
		unsigned long long id = strtoull(s, &eq, 10);
		if (eq != NULL && eq < s + len && *eq == '=' && id >= 1 && id <= self->seeds &&
		    id != self->node_id) {
			size_t url_len = len - (size_t)(eq + 1 - s);
			if (used + url_len + 2 > cap)
				return KV_EINVAL;
			if (used > 0)
				out[used++] = ',';
			memcpy(out + used, eq + 1, url_len);
			used += url_len;
			out[used] = '\0';
		}
		s = end != NULL ? end + 1 : s + len;
	}
	return used > 0 ? 0 : KV_EINVAL;
}

/* The marker pod_init.c looks for, durable before any request is sent. */
static int leave_write_marker(const struct pod_self *self)
{
	char path[POD_PATH_MAX], line[96];

	if (pod_path(path, self->data_dir, POD_LEFT_MARKER) != 0)
		return KV_ETOOLARGE;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kv_err_from_errno(errno);
	int n = snprintf(line, sizeof(line), "node %" PRIu64 " left the configuration\n",
	                 self->node_id);
	int rc = write(fd, line, (size_t)n) == n && fsync(fd) == 0 ? 0 : kv_err_from_errno(errno);
	close(fd);
	return rc != 0 ? rc : kv_fs_fsync_dir(self->data_dir);
}

/* Reads the child's output into out until it closes or the deadline; 1 if the deadline hit. */
static int leave_read_child(int fd, char *out, size_t cap, double deadline)
{
	size_t used = 0;

	for (;;) {
		int wait_ms = (int)((deadline - leave_now_s()) * 1000);
		if (wait_ms <= 0)
			return 1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, wait_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0;
		char buf[512];
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got <= 0)
			return 0;
		size_t keep = (size_t)got < cap - 1 - used ? (size_t)got : cap - 1 - used;
		memcpy(out + used, buf, keep);
		used += keep;
		out[used] = '\0';
	}
}

/* One `raftkvctl member remove ID`, killed at the deadline; its exit status, or -1. */
static int leave_run_ctl(const struct pod_self *self, const char *endpoints, char *out,
                         double deadline)
{
	char id[24];
	int pipefd[2];

	snprintf(id, sizeof(id), "%" PRIu64, self->node_id);
	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		char *args[] = {"raftkvctl", "--endpoints", (char *)endpoints, "--timeout-ms",
		                "3000",      "member",      "remove",          id,
		                NULL};
		execv(POD_CTL_PATH, args);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -1;
	}
	if (leave_read_child(pipefd[0], out, POD_CTL_OUT_MAX, deadline) != 0)
		kill(pid, SIGKILL);
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int leave_parse_seconds(int argc, char **argv, int *seconds)
{
	char *end = NULL;
	long s = argc > 0 ? strtol(argv[0], &end, 10) : POD_LEAVE_SECONDS_DEFAULT;

	if (argc > 0 && (end == argv[0] || *end != '\0'))
		return KV_EINVAL;
	if (s < 1 || s > POD_LEAVE_SECONDS_MAX)
		return KV_EINVAL;
	*seconds = (int)s;
	return 0;
}

int pod_leave(const struct pod_self *self, int argc, char **argv)
{
	char endpoints[POD_ENDPOINTS_MAX], out[POD_CTL_OUT_MAX];
	int seconds = 0;

	if (leave_parse_seconds(argc, argv, &seconds) != 0) {
		KV_LOG_ERROR(POD_SVC, "leave takes the seconds it may take, 1..600", "got=%s",
		             argc > 0 ? argv[0] : "");
		return 2;
	}
	if (self->node_id <= self->seeds) {
		KV_LOG_INFO(POD_SVC, "a seed pod stays a member when it stops", "node=%" PRIu64,
		            self->node_id);
		return 0;
	}
	if (leave_endpoints(self, endpoints, sizeof(endpoints)) != 0) {
		KV_LOG_ERROR(POD_SVC, "RAFTKV_GATEWAYS names no seed gateway to leave through",
		             "seeds=%" PRIu64, self->seeds);
		return 2;
	}
#ifdef POD_BUG_NO_LEAVE
	KV_LOG_INFO(POD_SVC, "left the configuration", "node=%" PRIu64 " planted=no_request",
	            self->node_id); /* planted (make k8s-pods-bugs): says so, asks nothing */
	return 0;
#endif
	int rc = leave_write_marker(self);
	if (rc != 0) {
		KV_LOG_ERROR(POD_SVC, "cannot write the leave marker: stays a member",
		             "data_dir=%s err=\"%s\"", self->data_dir, kv_strerror(rc));
		return 1;
	}
	double start = leave_now_s(), deadline = start + seconds;
	for (int attempt = 1;; attempt++) {
		int status = leave_run_ctl(self, endpoints, out, deadline);
		out[strcspn(out, "\n")] = '\0';
		if (status == 0 || strstr(out, "member_not_found") != NULL) {
			KV_LOG_INFO(POD_SVC, "left the configuration",
			            "node=%" PRIu64 " attempts=%d seconds=%.1f answer=\"%s\"",
			            self->node_id, attempt, leave_now_s() - start, out);
			return 0;
		}
		KV_LOG_WARN(POD_SVC, "leave refused or not answered",
		            "node=%" PRIu64 " attempt=%d status=%d answer=\"%s\"", self->node_id,
		            attempt, status, out);
		if (leave_now_s() + 1 >= deadline)
			break;
		sleep(1);
	}
	KV_LOG_ERROR(POD_SVC,
	             "could not leave in time: still a member until an operator runs "
	             "raftkvctl member remove",
	             "node=%" PRIu64 " seconds=%d", self->node_id, seconds);
	return 1;
}

/*
 * pod_raftd.c - `raftkv-pod raftd [FLAGS...]`: the raftd container's command.
 * A StatefulSet has one pod template, so every pod gets the same environment:
 * RAFTKV_PEERS (the seed pods, nodes 1..RAFTKV_POD_SEEDS) and the join flags
 * (RAFTKV_JOIN: the seeds' gateways; RAFTKV_URL, RAFTKV_ADVERTISE: this pod's
 * names). A seed keeps --peers, as the first pods of a new
 * cluster do (with a data directory, raftd uses its WAL's configuration and
 * --peers does nothing); a pod beyond the seeds drops RAFTKV_PEERS and joins.
 * Then it execs raftd with the flags given. Main thread, before exec.
 */
#include "pod.h"

#include "kv_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POD_ARGS_MAX 64

/* The flags only a joining raftd takes (raftd refuses them without --join). */
static const char *const raftd_join_vars[] = {
    "RAFTKV_JOIN",        "RAFTKV_JOIN_AS", "RAFTKV_JOIN_TOKEN_FILE",
    "RAFTKV_JOIN_CACERT", "RAFTKV_URL",     "RAFTKV_ADVERTISE",
};

/* A seed never joins: drops the join flags from the environment raftd gets. */
static void raftd_drop_join(void)
{
	for (size_t i = 0; i < sizeof(raftd_join_vars) / sizeof(raftd_join_vars[0]); i++)
		unsetenv(raftd_join_vars[i]);
}

int pod_raftd(const struct pod_self *self, int argc, char **argv)
{
	char *args[POD_ARGS_MAX + 2];

	if (argc > POD_ARGS_MAX) {
		KV_LOG_ERROR(POD_SVC, "too many raftd flags", "max=%d", POD_ARGS_MAX);
		return 2;
	}
	if (self->node_id <= self->seeds) {
		raftd_drop_join();
		KV_LOG_INFO(POD_SVC, "a seed pod: raftd starts with --peers",
		            "node=%" PRIu64 " seeds=%" PRIu64, self->node_id, self->seeds);
	} else {
		const char *join = getenv("RAFTKV_JOIN");
		if (join == NULL || join[0] == '\0') {
			KV_LOG_ERROR(POD_SVC, "a pod beyond the seeds needs RAFTKV_JOIN",
			             "node=%" PRIu64 " seeds=%" PRIu64, self->node_id, self->seeds);
			return 2;
		}
		unsetenv("RAFTKV_PEERS");
		KV_LOG_INFO(POD_SVC, "beyond the seed pods: raftd joins",
		            "node=%" PRIu64 " seeds=%" PRIu64 " join=\"%s\"", self->node_id,
		            self->seeds, join);
	}
	args[0] = "raftd";
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	args[argc + 1] = NULL;
	execv(POD_RAFTD_PATH, args);
	KV_LOG_ERROR(POD_SVC, "cannot exec raftd", "path=%s err=\"%s\"", POD_RAFTD_PATH,
	             strerror(errno));
	return 1;
}

/*
 * pod_main.c - raftkv-pod's entry point: who this pod is (node id from the
 * host name, the number of seed pods, the data directory) and the dispatch to
 * init, raftd or leave (pod.h). Main thread only.
 */
#include "pod.h"

#include "kv_err.h"
#include "kv_hostname.h"
#include "kv_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: raftkv-pod init | raftd [RAFTD-FLAGS...] | leave [SECONDS]\n"
    "  init   (init container) empty the data directory of a pod that left the cluster\n"
    "  raftd  exec raftd as a seed (node id <= RAFTKV_POD_SEEDS: --peers) or a joiner\n"
    "         (--join; RAFTKV_PEERS is dropped)\n"
    "  leave  (preStop) a pod beyond the seeds removes itself from the configuration\n"
    "         through the seeds' gateways (RAFTKV_GATEWAYS), for at most SECONDS (15)\n"
    "environment: RAFTKV_POD_SEEDS (required), RAFTKV_DATA_DIR (/data); the node id is\n"
    "the host name's ordinal + 1 (raftkv-3 is node 4)\n";

int pod_self_get(struct pod_self *self, char *err, size_t err_len)
{
	const char *seeds = getenv("RAFTKV_POD_SEEDS");
	char *end = NULL;

	memset(self, 0, sizeof(*self));
	if (kv_hostname_resolve_node_id(1, &self->node_id, err, err_len) != 0)
		return KV_EINVAL;
	errno = 0;
	unsigned long long n = seeds != NULL ? strtoull(seeds, &end, 10) : 0;
	if (seeds == NULL || end == seeds || *end != '\0' || errno != 0 || n == 0 ||
	    n > KV_HOSTNAME_ORDINAL_MAX) {
		snprintf(err, err_len, "RAFTKV_POD_SEEDS must be the number of seed pods (got %s)",
		         seeds != NULL ? seeds : "nothing");
		return KV_EINVAL;
	}
	self->seeds = n;
	self->data_dir = getenv("RAFTKV_DATA_DIR");
	if (self->data_dir == NULL || self->data_dir[0] == '\0')
		self->data_dir = "/data";
	return 0;
}

int pod_path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, POD_PATH_MAX, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= POD_PATH_MAX ? KV_ETOOLARGE : 0;
}

int main(int argc, char **argv)
{
	struct pod_self self;
	char err[256];

	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (pod_self_get(&self, err, sizeof(err)) != 0) {
		KV_LOG_ERROR(POD_SVC, "cannot tell which pod this is", "err=\"%s\"", err);
		return 2;
	}
	if (strcmp(argv[1], "init") == 0 && argc == 2)
		return pod_init(&self);
	if (strcmp(argv[1], "raftd") == 0)
		return pod_raftd(&self, argc - 2, argv + 2);
	if (strcmp(argv[1], "leave") == 0 && argc <= 3)
		return pod_leave(&self, argc - 2, argv + 2);
	fputs(usage, stderr);
	return 2;
}

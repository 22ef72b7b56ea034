/*
 * pod.h - raftkv-pod: what a StatefulSet pod does differently by its ordinal
 * (k8s/20-statefulset.yaml). The image has no shell, so this small program is
 * the pod's startup and stop logic:
 *
 *   raftkv-pod init   the init container: a pod that left the configuration
 *                     (pod_leave wrote the marker) starts with an empty data
 *                     volume, so it joins again as a new member
 *   raftkv-pod raftd  the raftd container: execs raftd as a seed (ordinal <
 *                     RAFTKV_POD_SEEDS: --peers, as the first pods of a new
 *                     cluster) or as a joiner (--join through the seeds)
 *   raftkv-pod leave  gatewayd's preStop hook: a pod beyond the seeds removes
 *                     itself from the configuration before it stops
 *
 * Each runs once on the main thread and exits (or execs). Exit status: 0 done,
 * 1 failed, 2 bad usage or environment.
 */
#ifndef RAFTKV_POD_H
#define RAFTKV_POD_H

#include <stddef.h>
#include <stdint.h>

#define POD_SVC           "raftkv-pod"
#define POD_LEFT_MARKER   "raftkv-pod.left" /* in the data directory */
#define POD_RAFTD_PATH    "/usr/bin/raftd"
#define POD_CTL_PATH      "/usr/bin/raftkvctl"
#define POD_PATH_MAX      4096u
#define POD_ENDPOINTS_MAX 2048u /* bytes of the seeds' gateway URLs, comma-separated */

/* Who this pod is: from its host name (the pod name) and its environment. */
struct pod_self {
	uint64_t node_id;     /* ordinal + 1 */
	uint64_t seeds;       /* RAFTKV_POD_SEEDS: nodes 1..seeds seed a new cluster */
	const char *data_dir; /* RAFTKV_DATA_DIR (default /data); borrowed from environ */
};

/* Fills self; 0, or KV_EINVAL with the reason in err. */
int pod_self_get(struct pod_self *self, char *err, size_t err_len);

/* The subcommands; each returns the process's exit status (pod_raftd only on failure). */
int pod_init(const struct pod_self *self);
int pod_raftd(const struct pod_self *self, int argc, char **argv);
int pod_leave(const struct pod_self *self, int argc, char **argv);

/* Joins dir and name into out (POD_PATH_MAX); 0, or KV_ETOOLARGE. */
int pod_path(char *out, const char *dir, const char *name);

#endif

/*
 * kv_hostname.h - a node id from the host name, for deployments where each
 * node is a Kubernetes StatefulSet pod (raftkv-0, raftkv-1, ...): the id is
 * the pod's ordinal + 1, so raftkv-0 is node 1. Used by all three daemons'
 * --node-id-from-hostname flag, once at start on the main thread.
 */
#ifndef RAFTKV_KV_HOSTNAME_H
#define RAFTKV_KV_HOSTNAME_H

#include <stddef.h>
#include <stdint.h>

#define KV_HOSTNAME_BYTES_MAX   253u  /* a DNS name's limit */
#define KV_HOSTNAME_ORDINAL_MAX 9999u /* far above any cluster size, far below the id limits */

/*
 * The node id in hostname: the decimal number at the end of its first label
 * (up to the first '.'), plus 1. The number has no leading zero (except "0"
 * itself), at most 4 digits, and follows at least one other character:
 * "raftkv-0" -> 1, "raftkv-2.raftkv-peers.raftkv.svc" -> 3, "db7" -> 8.
 * Pure, no I/O. Returns 0 with *node_id set, or KV_EINVAL with a sentence in
 * err (always NUL-terminated when err_len > 0); *node_id is then untouched.
 */
int kv_hostname_node_id(const char *hostname, uint64_t *node_id, char *err, size_t err_len);

/*
 * The --node-id / --node-id-from-hostname rule of every daemon: with
 * from_hostname, *node_id is taken from gethostname() (an explicit --node-id
 * that disagrees is an error); without it, *node_id must already be set
 * (non-zero). Returns 0, or KV_EINVAL with the reason in err.
 */
int kv_hostname_resolve_node_id(int from_hostname, uint64_t *node_id, char *err, size_t err_len);

#endif

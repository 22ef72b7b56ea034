/*
 * raftd_peerlist.h - the --peers flag: "1=host:port,2=host:port,...".
 *
 * Pure parsing, no I/O; used once at start on the main thread and by the
 * unit tests. The list names every voter of a new cluster, this node included.
 */
#ifndef RAFTKV_RAFTD_PEERLIST_H
#define RAFTKV_RAFTD_PEERLIST_H

#include "raft.h"

#include <stddef.h>
#include <stdint.h>

#define RAFTD_NODE_ID_MAX    65535u /* ids travel as "raftd-<id>" routing ids */
#define RAFTD_HOST_BYTES_MAX 253u   /* a DNS name's limit */
#define RAFTD_PEERS_TEXT_MAX 4096u  /* bytes of --peers accepted */

struct raftd_peer_addr {
	uint64_t id;
	char host[RAFTD_HOST_BYTES_MAX + 1]; /* a name, an IPv4 address or "[v6]" */
	uint16_t port;
};

struct raftd_peer_list {
	uint32_t n;
	struct raftd_peer_addr peers[RAFT_NODES_MAX];
};

/*
 * Parses text strictly: ids 1..RAFTD_NODE_ID_MAX, unique; host a DNS name,
 * an IPv4 address or a bracketed IPv6 address; port 1..65535; at most
 * RAFT_NODES_MAX entries. Returns 0, or KV_EINVAL with a sentence naming
 * the bad part in err (always NUL-terminated when err_len > 0).
 */
int raftd_peerlist_parse(const char *text, struct raftd_peer_list *out, char *err, size_t err_len);

/*
 * Parses one "host:port" of len bytes (no id), as a --peers item's address
 * (the address a MEMBER_CHANGE or a CONFIG entry gives). 0 or KV_EINVAL.
 */
int raftd_peerlist_parse_addr(const char *text, size_t len, struct raftd_peer_addr *out);

/* The entry for id, or NULL; borrowed from l. */
const struct raftd_peer_addr *raftd_peerlist_find(const struct raftd_peer_list *l, uint64_t id);

/* Writes "host:port" of a into out; returns 0 or KV_ETOOLARGE. */
int raftd_peerlist_format(const struct raftd_peer_addr *a, char *out, size_t out_len);

#endif

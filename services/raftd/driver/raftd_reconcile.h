/*
 * raftd_reconcile.h - which peers raftd keeps a connection to, decided from
 * the core's configuration and the address book (pure; no sockets).
 *
 * The peers are the members of the current configuration (uncommitted
 * changes included, as the core uses them) other than this node, each at
 * the address and with the Curve key the book gives. A node whose
 * configuration is empty (it joins and has not received its snapshot yet)
 * follows the book instead. raftd_peers.c closes the connections of peers
 * that left or moved and opens the new ones; a message held for a peer
 * (struct raftd_held) names the peer's id, not a slot, and is looked up
 * again when sent, so it never reaches another node that took the slot.
 * Loop thread and the unit tests.
 */
#ifndef RAFTKV_RAFTD_RECONCILE_H
#define RAFTKV_RAFTD_RECONCILE_H

#include "raftd_book.h"

#include <stdint.h>

/* One peer raftd should be connected to. */
struct raftd_peer_target {
	uint64_t id;
	char peer_address[RAFTD_HOST_BYTES_MAX + 8]; /* "host:port" */
	char curve_key[RAFTD_CURVE_Z85_LEN + 1];     /* "" without Curve or not known */
};

/*
 * Fills out[RAFT_NODES_MAX] with the peers to connect to: cfg's members
 * (all of the book's entries when cfg is empty) except self, each with its
 * book entry. A member the book has no address for is left out (counted in
 * *missing, may be NULL): nothing can reach it until an entry arrives.
 * seeds (--peers) already seeded the book at boot and are not used here
 * (only by the planted bug RAFTD_BUG_BOOK_FROM_PEERS_ONLY). Returns how many.
 */
uint32_t raftd_reconcile_targets(const struct raft_config *cfg, const struct raftd_book *book,
                                 const struct raftd_peer_list *seeds, uint64_t self,
                                 struct raftd_peer_target *out, uint32_t *missing);

/* The target for id in t[0..n), or NULL. */
const struct raftd_peer_target *raftd_reconcile_find(const struct raftd_peer_target *t, uint32_t n,
                                                     uint64_t id);

struct raftd_peer;

/* 1 when peer p (connected to p->addr with p->curve_key) still matches a target. */
int raftd_reconcile_keep(const struct raftd_peer_target *t, uint32_t n, const struct raftd_peer *p);

/*
 * Removes slot i of peers[0..*n) (its socket already closed by the caller)
 * by moving the last slot into it: slots are not stable, which is why held
 * messages name ids.
 */
void raftd_reconcile_remove(struct raftd_peer *peers, uint32_t *n, uint32_t i);

/* The slot of id in peers[0..n), or -1. */
int raftd_reconcile_slot(const struct raftd_peer *peers, uint32_t n, uint64_t id);

#endif

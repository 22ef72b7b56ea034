/*
 * raftd_reconcile.c - which peers to connect to, from the configuration and
 * the address book (raftd_reconcile.h). Pure; loop thread and the unit tests.
 *
 * Planted bug for the tests (docs/testing.md): -DRAFTD_BUG_BOOK_FROM_PEERS_ONLY
 * ignores the configuration and the book and connects to the --peers a
 * node was started with, as raftd did before addresses travelled with the
 * configuration (and without Curve keys: the bug predates them).
 */
#include "raftd_reconcile.h"

#include "raftd.h"

#include "kv_assert.h"

#include <string.h>

#ifdef RAFTD_BUG_BOOK_FROM_PEERS_ONLY
uint32_t raftd_reconcile_targets(const struct raft_config *cfg, const struct raftd_book *book,
                                 const struct raftd_peer_list *seeds, uint64_t self,
                                 struct raftd_peer_target *out, uint32_t *missing)
{
	uint32_t n = 0;
	(void)cfg;
	(void)book;
	if (missing != NULL)
		*missing = 0;
	for (uint32_t i = 0; i < seeds->n; i++) {
		if (seeds->peers[i].id == self)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].id = seeds->peers[i].id;
		raftd_peerlist_format(&seeds->peers[i], out[n].peer_address,
		                      sizeof(out[n].peer_address));
		n++;
	}
	return n;
}
#else
static void reconcile_target(const struct raftd_book_entry *e, struct raftd_peer_target *t)
{
	memset(t, 0, sizeof(*t));
	t->id = e->id;
	memcpy(t->peer_address, e->peer_address,
	       strnlen(e->peer_address, sizeof(t->peer_address) - 1));
	memcpy(t->curve_key, e->curve_key, strnlen(e->curve_key, sizeof(t->curve_key) - 1));
}

uint32_t raftd_reconcile_targets(const struct raft_config *cfg, const struct raftd_book *book,
                                 const struct raftd_peer_list *seeds, uint64_t self,
                                 struct raftd_peer_target *out, uint32_t *missing)
{
	uint32_t n = 0, lost = 0;

	(void)seeds; /* they seeded the book at boot */
	KV_ASSERT(cfg->n <= RAFT_NODES_MAX);
	if (cfg->n == 0) {
		for (uint32_t i = 0; i < book->n && n < RAFT_NODES_MAX; i++)
			if (book->entries[i].id != self)
				reconcile_target(&book->entries[i], &out[n++]);
	}
	for (uint32_t i = 0; i < cfg->n; i++) {
		uint64_t id = cfg->members[i].id;
		const struct raftd_book_entry *e = raftd_book_get(book, id);
		if (id == self)
			continue;
		if (e == NULL)
			lost++;
		else
			reconcile_target(e, &out[n++]);
	}
	if (missing != NULL)
		*missing = lost;
	return n;
}
#endif

const struct raftd_peer_target *raftd_reconcile_find(const struct raftd_peer_target *t, uint32_t n,
                                                     uint64_t id)
{
	for (uint32_t i = 0; i < n; i++)
		if (t[i].id == id)
			return &t[i];
	return NULL;
}

int raftd_reconcile_keep(const struct raftd_peer_target *t, uint32_t n, const struct raftd_peer *p)
{
	const struct raftd_peer_target *w = raftd_reconcile_find(t, n, p->id);

	return w != NULL && strcmp(w->peer_address, p->addr) == 0 &&
	       strcmp(w->curve_key, p->curve_key) == 0;
}

void raftd_reconcile_remove(struct raftd_peer *peers, uint32_t *n, uint32_t i)
{
	KV_ASSERT(i < *n);
	if (i != *n - 1)
		peers[i] = peers[*n - 1];
	memset(&peers[*n - 1], 0, sizeof(peers[0]));
	(*n)--;
}

int raftd_reconcile_slot(const struct raftd_peer *peers, uint32_t n, uint64_t id)
{
	for (uint32_t i = 0; i < n; i++)
		if (peers[i].id == id)
			return (int)i;
	return -1;
}

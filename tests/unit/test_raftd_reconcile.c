/*
 * test_raftd_reconcile.c - which peers raftd connects to (raftd_reconcile.c):
 * the configuration's members at the book's addresses, the book while the
 * configuration is empty; after a restart, the members the WAL and the
 * book name, not --peers (`make raftd-bugs` builds this test against
 * -DRAFTD_BUG_BOOK_FROM_PEERS_ONLY: test_restart_connects_to_the_book must
 * fail); a peer that moved is reconnected; a held message finds its peer by
 * id, never the node that took its slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd.h"

#include <stdio.h>
#include <string.h>

static void t_put(struct raftd_book *b, uint64_t id, const char *addr)
{
	struct raftd_book_entry e;
	memset(&e, 0, sizeof(e));
	e.id = id;
	snprintf(e.peer_address, sizeof(e.peer_address), "%s", addr);
	snprintf(e.url, sizeof(e.url), "http://n%llu", (unsigned long long)id);
	assert_true(raftd_book_put(b, &e, NULL) >= 0);
}

static struct raft_config t_config(const uint64_t *ids, uint32_t n)
{
	struct raft_config c = {0};
	for (uint32_t i = 0; i < n; i++)
		c.members[c.n++] = (struct raft_member){.id = ids[i], .role = RAFT_VOTER};
	return c;
}

/* The --peers of the three seed nodes, 127.0.0.1:7001..7003. */
static struct raftd_peer_list t_seeds(void)
{
	struct raftd_peer_list l;
	char err[128];
	assert_int_equal(raftd_peerlist_parse("1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003",
	                                      &l, err, sizeof(err)),
	                 0);
	return l;
}

static void test_members_at_book_addresses(void **state)
{
	(void)state;
	struct raftd_book b = {0};
	struct raftd_peer_list seeds = t_seeds();
	struct raftd_peer_target t[RAFT_NODES_MAX];
	const uint64_t ids[] = {1, 2, 3, 5};
	struct raft_config c = t_config(ids, 4);
	uint32_t missing = 99;

	t_put(&b, 1, "127.0.0.1:7001");
	t_put(&b, 2, "127.0.0.1:7002");
	t_put(&b, 3, "127.0.0.1:7003");
	t_put(&b, 4, "127.0.0.1:7004"); /* removed: stale in the book, not a peer */
	uint32_t n = raftd_reconcile_targets(&c, &b, &seeds, 2, t, &missing);
	assert_int_equal(n, 2); /* 1 and 3; 5 has no address yet, 2 is self */
	assert_int_equal(missing, 1);
	assert_non_null(raftd_reconcile_find(t, n, 1));
	assert_string_equal(raftd_reconcile_find(t, n, 3)->peer_address, "127.0.0.1:7003");
	assert_null(raftd_reconcile_find(t, n, 4));
	t_put(&b, 5, "10.1.2.3:7005");
	n = raftd_reconcile_targets(&c, &b, &seeds, 2, t, &missing);
	assert_int_equal(n, 3);
	assert_int_equal(missing, 0);
	assert_string_equal(raftd_reconcile_find(t, n, 5)->peer_address, "10.1.2.3:7005");
	/* a joining node has no configuration yet: it follows the book */
	struct raft_config empty = {0};
	n = raftd_reconcile_targets(&empty, &b, &seeds, 5, t, NULL);
	assert_int_equal(n, 4);
	assert_null(raftd_reconcile_find(t, n, 5));
	print_message("peers: members but self at the book's addresses (one without an address "
	              "counted); an empty configuration follows the book\n");
}

/*
 * A node of a cluster grown to 1..5 by changes restarts with its old
 * --peers (1..3): it must connect to 4 and 5 at the addresses the book and
 * the log gave, and to 3 where 3 moved.
 */
static void test_restart_connects_to_the_book(void **state)
{
	(void)state;
	struct raftd_book b = {0};
	struct raftd_peer_list seeds = t_seeds();
	struct raftd_peer_target t[RAFT_NODES_MAX];
	const uint64_t ids[] = {1, 2, 3, 4, 5};
	struct raft_config c = t_config(ids, 5);

	t_put(&b, 1, "127.0.0.1:7001");
	t_put(&b, 2, "127.0.0.1:7002");
	t_put(&b, 3, "127.0.0.1:7103"); /* moved: removed and added back elsewhere */
	t_put(&b, 4, "127.0.0.1:7004");
	t_put(&b, 5, "127.0.0.1:7005");
	uint32_t n = raftd_reconcile_targets(&c, &b, &seeds, 1, t, NULL);
	assert_int_equal(n, 4);
	assert_non_null(raftd_reconcile_find(t, n, 4));
	assert_non_null(raftd_reconcile_find(t, n, 5));
	assert_string_equal(raftd_reconcile_find(t, n, 3)->peer_address, "127.0.0.1:7103");
	/* a peer still connected to 3's old address is not kept */
	struct raftd_peer old = {.id = 3};
	snprintf(old.addr, sizeof(old.addr), "127.0.0.1:7003");
	assert_false(raftd_reconcile_keep(t, n, &old));
	snprintf(old.addr, sizeof(old.addr), "127.0.0.1:7103");
	assert_true(raftd_reconcile_keep(t, n, &old));
	print_message("restarted with --peers 1..3: connects to 2, 3 (moved), 4 and 5 as the "
	              "book says\n");
}

static void t_slot(struct raftd_peer *peers, uint32_t *n, uint64_t id)
{
	memset(&peers[*n], 0, sizeof(peers[0]));
	peers[*n].id = id;
	(*n)++;
}

static void test_held_message_never_reaches_another_node(void **state)
{
	(void)state;
	struct raftd_peer peers[RAFT_NODES_MAX];
	uint32_t n = 0;

	t_slot(peers, &n, 2);
	t_slot(peers, &n, 3);
	t_slot(peers, &n, 4);
	/* messages held for 2 and for 4 (slot 2) until the next fsync */
	uint64_t held_for_2 = 2, held_for_4 = 4;
	assert_int_equal(raftd_reconcile_slot(peers, n, held_for_4), 2);
	/* 2 is removed, 5 added: 4 moves to slot 0 and 5 takes slot 2 */
	raftd_reconcile_remove(peers, &n, 0);
	t_slot(peers, &n, 5);
	assert_int_equal(n, 3);
	assert_int_equal(peers[2].id, 5);
	assert_int_equal(raftd_reconcile_slot(peers, n, held_for_4), 0);
	assert_int_equal(peers[raftd_reconcile_slot(peers, n, held_for_4)].id, 4);
	assert_int_equal(raftd_reconcile_slot(peers, n, held_for_2), -1); /* dropped */
	/* removing the last slot clears it */
	raftd_reconcile_remove(peers, &n, 2);
	assert_int_equal(n, 2);
	assert_int_equal(peers[2].id, 0);
	assert_int_equal(raftd_reconcile_slot(peers, n, 5), -1);
	print_message("held messages name ids: after 2 left and 5 took a slot, 4's message finds "
	              "4 and 2's is dropped\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_members_at_book_addresses),
	    cmocka_unit_test(test_restart_connects_to_the_book),
	    cmocka_unit_test(test_held_message_never_reaches_another_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

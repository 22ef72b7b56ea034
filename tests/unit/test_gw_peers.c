/*
 * test_gw_peers.c - the gateway table that forwarding uses (gw->peers),
 * updated from STATUS answers (services/gatewayd/gw_peers.c through
 * gw_status_update, gw_forward.c's table): a member whose url the
 * configuration gives and --gateways lacks is learned, so a request can be
 * forwarded to a leader that joined after the gateway started; --gateways
 * entries stay as given; this node, empty and bad URLs are skipped; a full
 * table reuses the slot of a learned member that left, but never while a
 * forward is in flight (its pool may hold a connection in use).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw.h"

#include <stdio.h>
#include <string.h>

static struct gw t_gw;
static h2o_evloop_t *t_loop; /* one for the run: h2o asserts its timeouts are gone at destroy */

static int t_setup(void **state)
{
	memset(&t_gw, 0, sizeof(t_gw));
	if (t_loop == NULL)
		t_loop = h2o_evloop_create();
	t_gw.ctx.loop = t_loop;
	t_gw.cfg.node_id = 1;
	t_gw.cfg.gateways =
	    "1=http://127.0.0.1:4001,2=http://127.0.0.1:4002,3=http://127.0.0.1:4003";
	assert_int_equal(gw_pending_init(&t_gw.pending, 4), 0);
	assert_int_equal(gw_forward_init(&t_gw), 0);
	assert_int_equal(t_gw.n_peers, 3);
	return 0;
}

static int t_teardown(void **state)
{
	gw_forward_dispose(&t_gw);
	gw_pending_free(&t_gw.pending);
	return 0;
}

/* A STATUS from raftd naming members ids[i] with urls[i] ("" for none). */
static void t_status(const uint64_t *ids, const char *const *urls, uint32_t n)
{
	static struct proto_member members[RAFT_NODES_MAX];
	static char addrs[RAFT_NODES_MAX][32];
	struct proto_local m = {.type = PROTO_STATUS_RESP};

	assert_true(n <= RAFT_NODES_MAX);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.1:%u", (unsigned)(7000 + ids[i]));
		members[i] = (struct proto_member){.id = ids[i], .role = RAFT_VOTER};
		members[i].addr = (struct proto_bytes){(const uint8_t *)addrs[i], strlen(addrs[i])};
		members[i].url = (struct proto_bytes){(const uint8_t *)urls[i], strlen(urls[i])};
	}
	m.u.status_resp.node_id = 1;
	m.u.status_resp.role = RAFT_FOLLOWER;
	m.u.status_resp.leader_id = ids[n - 1];
	m.u.status_resp.members = members;
	m.u.status_resp.n_members = n;
	gw_status_update(&t_gw, &m);
}

static const char *t_url(uint64_t id)
{
	const struct gw_peer *p = gw_status_peer(&t_gw, id);
	return p != NULL ? p->url : NULL;
}

static void test_learns_new_members(void **state)
{
	const uint64_t ids[] = {1, 2, 3, 4, 5, 6};
	const char *const urls[] = {
	    "http://elsewhere:1", "http://127.0.0.1:9002", "", "http://127.0.0.1:4004/",
	    "ftp://x:1",          "http://node-6.svc:4006"};

	t_status(ids, urls, 6);
	/* the new members' gateways, with the trailing '/' cut as --gateways cuts it */
	assert_non_null(t_url(4));
	assert_string_equal(t_url(4), "http://127.0.0.1:4004");
	assert_true(gw_status_peer(&t_gw, 4)->learned);
	assert_string_equal(t_url(6), "http://node-6.svc:4006");
	assert_int_equal(gw_status_peer(&t_gw, 6)->port, 4006);
	/* --gateways entries stay as given; no URL, a bad one: nothing */
	assert_string_equal(t_url(1), "http://127.0.0.1:4001");
	assert_string_equal(t_url(2), "http://127.0.0.1:4002");
	assert_false(gw_status_peer(&t_gw, 2)->learned);
	assert_string_equal(t_url(3), "http://127.0.0.1:4003");
	assert_null(t_url(5));
	assert_int_equal(t_gw.n_peers, 5);
	/* what /v1/status and /v1/members print: the configuration's URL first */
	assert_string_equal(gw_status_member_url(&t_gw, 2), "http://127.0.0.1:9002");
	assert_string_equal(gw_status_member_url(&t_gw, 3), "http://127.0.0.1:4003");
	/* the next STATUS changes nothing */
	t_status(ids, urls, 6);
	assert_int_equal(t_gw.n_peers, 5);
	printf("checked: two gateways learned, --gateways kept, no or a bad URL skipped, stable\n");
}

static void test_full_table_reuses_departed(void **state)
{
	uint64_t ids[RAFT_NODES_MAX];
	char bufs[RAFT_NODES_MAX][40];
	const char *urls[RAFT_NODES_MAX];
	struct gw_req r = {.gw = &t_gw, .cfg = &t_gw.cfg};
	h2o_req_t req;
	struct gw_call *c;

	for (uint32_t i = 0; i < RAFT_NODES_MAX; i++) {
		ids[i] = i + 1;
		snprintf(bufs[i], sizeof(bufs[i]), "http://127.0.0.1:%u", (unsigned)(4001 + i));
		urls[i] = bufs[i];
	}
	t_status(ids, urls, RAFT_NODES_MAX);
	assert_int_equal(t_gw.n_peers, RAFT_NODES_MAX); /* 3 given, 6 learned: full */
	/* member 9 leaves and 10 joins while a forward is in flight: not yet */
	ids[RAFT_NODES_MAX - 1] = 10;
	snprintf(bufs[RAFT_NODES_MAX - 1], sizeof(bufs[0]), "http://127.0.0.1:4010");
	memset(&req, 0, sizeof(req));
	h2o_mem_init_pool(&req.pool);
	r.http = (struct gw_http){.req = &req, .slot = 1, .method = GW_M_GET};
	c = gw_pending_start(&r, NULL, 1000);
	assert_non_null(c);
	c->fwd = (struct gw_forward *)&req; /* stands for a forward in flight: never touched */
	t_status(ids, urls, RAFT_NODES_MAX);
	assert_null(t_url(10));
	assert_string_equal(t_url(9), "http://127.0.0.1:4009");
	/* once it is done, the next STATUS reuses member 9's slot for member 10 */
	c->fwd = NULL;
	gw_pending_end(&t_gw, c);
	h2o_mem_clear_pool(&req.pool);
	t_status(ids, urls, RAFT_NODES_MAX);
	assert_string_equal(t_url(10), "http://127.0.0.1:4010");
	assert_null(t_url(9));
	assert_int_equal(t_gw.n_peers, RAFT_NODES_MAX);
	/* a --gateways entry is never reused: member 3 leaving frees nothing */
	ids[2] = 11;
	snprintf(bufs[2], sizeof(bufs[0]), "http://127.0.0.1:4011");
	t_status(ids, urls, RAFT_NODES_MAX);
	assert_null(t_url(11));
	assert_string_equal(t_url(3), "http://127.0.0.1:4003");
	printf("checked: a full table reuses a departed learned slot, not during a forward, "
	       "never a --gateways one\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_learns_new_members, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_full_table_reuses_departed, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

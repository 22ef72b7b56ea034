/*
 * test_gw_pending.c - gatewayd's request table (services/gatewayd/gw_pending.c),
 * linked with the real gateway: capacity and 429, request ids (slot in the
 * low bits, a fresh id per message so a late reply to an earlier message is
 * dropped), unknown ids dropped, a request whose client left ended on its
 * next event, retries and deadlines run by the sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw.h"
#include "kv_clock.h"

#include <stdio.h>
#include <string.h>

static int t_msgs, t_retries, t_deadlines;

static void t_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *m)
{
	t_msgs++;
}

static void t_on_retry(struct gw *gw, struct gw_call *c)
{
	t_retries++;
}

static void t_on_deadline(struct gw *gw, struct gw_call *c)
{
	t_deadlines++;
	gw_pending_end(gw, c); /* as every real deadline handler does after answering */
}

static const struct gw_call_ops t_ops = {t_on_msg, t_on_retry, t_on_deadline};

static struct gw t_gw;
static h2o_req_t t_reqs[3];

static int t_setup(void **state)
{
	memset(&t_gw, 0, sizeof(t_gw));
	assert_int_equal(gw_pending_init(&t_gw.pending, 2), 0);
	for (int i = 0; i < 3; i++) {
		memset(&t_reqs[i], 0, sizeof(t_reqs[i]));
		h2o_mem_init_pool(&t_reqs[i].pool);
	}
	t_msgs = t_retries = t_deadlines = 0;
	return 0;
}

static int t_teardown(void **state)
{
	for (int i = 0; i < 3; i++)
		h2o_mem_clear_pool(&t_reqs[i].pool);
	gw_pending_free(&t_gw.pending);
	return 0;
}

static struct gw_call *t_start(int i, uint64_t timeout_ms)
{
	struct gw_req r = {.gw = &t_gw, .cfg = &t_gw.cfg};
	r.http = (struct gw_http){.req = &t_reqs[i], .slot = 1, .method = GW_M_GET};
	return gw_pending_start(&r, &t_ops, timeout_ms);
}

static void t_reply(uint64_t req_id)
{
	struct proto_local m = {0};
	m.type = PROTO_GET_RESP;
	m.req_id = req_id;
	gw_pending_dispatch(&t_gw, &m);
}

static void test_capacity_and_ids(void **state)
{
	struct gw_call *a = t_start(0, 5000), *b = t_start(1, 5000);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(t_start(2, 5000)); /* full: the handler answers 429 */
	assert_int_equal(t_gw.pending.used, 2);
	assert_int_not_equal(a->req_id, b->req_id);
	assert_int_equal(a->req_id & 0xffff, (uint64_t)(a - t_gw.pending.calls));
	assert_int_equal(b->req_id & 0xffff, (uint64_t)(b - t_gw.pending.calls));
	gw_pending_end(&t_gw, a);
	assert_int_equal(t_gw.pending.used, 1);
	struct gw_call *c = t_start(2, 5000);
	assert_non_null(c); /* the freed slot is reused... */
	assert_ptr_equal(c, a);
	assert_int_not_equal(c->req_id, 0); /* ...under a new id */
	printf("checked: 2 slots then NULL; ids carry their slot; a freed slot is reused\n");
}

static void test_replies_matched_by_id(void **state)
{
	struct gw_call *a = t_start(0, 5000);
	uint64_t first = a->req_id;
	t_reply(first);
	assert_int_equal(t_msgs, 1);
	uint64_t second = gw_pending_next_id(&t_gw, a);
	assert_int_not_equal(first, second);
	t_reply(first); /* a late reply to the earlier message */
	assert_int_equal(t_msgs, 1);
	t_reply(second);
	assert_int_equal(t_msgs, 2);
	t_reply(second ^ (1u << 20)); /* same slot, other counter */
	t_reply(0);
	t_reply(0xffff); /* the slot the polls use */
	assert_int_equal(t_msgs, 2);
	printf("checked: the current id reaches the call; an earlier id, a foreign id, 0 and the "
	       "poll slot are dropped\n");
}

static void test_client_gone(void **state)
{
	struct gw_call *a = t_start(0, 5000);
	uint64_t id = a->req_id;
	h2o_mem_clear_pool(&t_reqs[0].pool); /* h2o disposes the request: the client left */
	h2o_mem_init_pool(&t_reqs[0].pool);
	assert_null(a->http.req);
	assert_int_equal(t_gw.pending.used, 1); /* kept: its reply may still come */
	t_reply(id);
	assert_int_equal(t_msgs, 0); /* not handed to the handler */
	assert_int_equal(t_gw.pending.used, 0);
	struct gw_call *b = t_start(1, 5000);
	h2o_mem_clear_pool(&t_reqs[1].pool);
	h2o_mem_init_pool(&t_reqs[1].pool);
	gw_pending_sweep(&t_gw, kv_clock_mono_ms());
	assert_int_equal(t_gw.pending.used, 0); /* the sweep frees it too */
	(void)b;
	printf("checked: a gone client's call is ended by its reply or the next sweep, never "
	       "handed on\n");
}

static void test_retry_and_deadline(void **state)
{
	struct gw_call *a = t_start(0, 5000), *b = t_start(1, 5000);
	uint64_t now = kv_clock_mono_ms();
	a->retry_at_ms = now + 50;
	gw_pending_sweep(&t_gw, now);
	assert_int_equal(t_retries, 0);
	gw_pending_sweep(&t_gw, now + 60);
	assert_int_equal(t_retries, 1);
	assert_int_equal(a->retry_at_ms, 0); /* once */
	gw_pending_sweep(&t_gw, now + 70);
	assert_int_equal(t_retries, 1);
	assert_int_equal(t_deadlines, 0);
	b->deadline_ms = now + 100;
	gw_pending_sweep(&t_gw, now + 100);
	assert_int_equal(t_deadlines, 1);
	assert_int_equal(t_gw.pending.used, 1);
	assert_true(gw_pending_left_ms(a) > 4000);
	printf("checked: a retry runs once when due; a deadline runs at its time and frees the "
	       "slot; time left\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_capacity_and_ids, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_replies_matched_by_id, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_client_gone, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_retry_and_deadline, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

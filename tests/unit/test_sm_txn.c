/*
 * test_sm_txn.c - transactions and leases in storaged's state machine
 * (libsm) on a temporary LMDB environment: compares choosing the branch,
 * every op kind, all-or-nothing branches (quota, unknown lease, a
 * delete_prefix past its bound), idempotent retries, lease grant, attach,
 * revoke and expiry deleting exactly the keys still on the lease, and the
 * lease reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "kv_limits.h"
#include "proto.h"
#include "proto_txn.h"
#include "sm.h"
#include "test_sm_util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_BUFS_MAX 256

struct t_ctx {
	struct ts_env env;
	struct sm *sm;
	struct proto_buf bufs[T_BUFS_MAX];
	int n_bufs;
	uint64_t index; /* the last applied */
	struct sm_result res;
	struct proto_txn_result out; /* the last TXN's decoded outcome */
};

static int t_open(struct t_ctx *t, uint64_t quota)
{
	struct sm_opts o = {.dir = t->env.dir, .map_bytes = 32u << 20, .quota_bytes = quota};
	return sm_open(&o, &t->sm);
}

static int t_setup(void **state)
{
	struct t_ctx *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	ts_env_make(&t->env, "test_sm_txn");
	assert_int_equal(t_open(t, 0), 0);
	*state = t;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	for (int i = 0; i < t->n_bufs; i++)
		proto_buf_free(&t->bufs[i]);
	ts_env_remove(&t->env);
	free(t);
	return 0;
}

static struct proto_buf *t_buf(struct t_ctx *t)
{
	assert_true(t->n_bufs < T_BUFS_MAX);
	return &t->bufs[t->n_bufs++];
}

static struct proto_bytes t_b(const char *s)
{
	return (struct proto_bytes){(const uint8_t *)s, (uint32_t)strlen(s)};
}

/* Applies command c as the next entry; its result in t->res, a TXN's outcome in t->out. */
static void t_apply(struct t_ctx *t, struct proto_kv_cmd *c)
{
	struct proto_buf *b = t_buf(t);
	c->origin = 1;
	c->req_id = t->index + 1;
	assert_int_equal(proto_kv_cmd_encode(c, b), 0);
	struct raft_entry e = {.term = 1,
	                       .index = ++t->index,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b->len,
	                       .data = b->ptr};
	uint32_t n = 0;
	assert_int_equal(sm_batch_apply(t->sm, &e, 1, &t->res, &n), 0);
	assert_int_equal(n, 1);
	memset(&t->out, 0, sizeof(t->out));
	if (t->res.body_len > 0)
		assert_int_equal(proto_txn_result_decode(t->sm->result_body.ptr + t->res.body_off,
		                                         t->res.body_len, &t->out),
		                 0);
}

static void t_put(struct t_ctx *t, const char *key, const char *value)
{
	struct proto_kv_cmd c = {.op = PROTO_KV_PUT, .key = t_b(key), .value = t_b(value)};
	t_apply(t, &c);
	assert_int_equal(t->res.status, 0);
}

static void t_txn(struct t_ctx *t, const struct proto_txn *txn, const char *idem)
{
	struct proto_buf *b = t_buf(t);
	assert_int_equal(proto_txn_encode(txn, b), 0);
	struct proto_kv_cmd c = {.op = PROTO_KV_TXN,
	                         .value = {b->ptr, (uint32_t)b->len},
	                         .idem_key = t_b(idem ? idem : "")};
	t_apply(t, &c);
}

static uint64_t t_grant(struct t_ctx *t, uint64_t ttl_ms)
{
	struct proto_kv_cmd c = {.op = PROTO_KV_LEASE_GRANT, .ttl_ms = ttl_ms};
	t_apply(t, &c);
	assert_int_equal(t->res.status, 0);
	assert_int_equal(t->res.create_index, t->index);
	return t->index;
}

static void t_lease_end(struct t_ctx *t, uint8_t op, uint64_t id)
{
	struct proto_kv_cmd c = {.op = op, .lease = id, .term = 1}; /* t_apply's entries: term 1 */
	t_apply(t, &c);
}

static struct proto_txn_op t_op(uint8_t kind, const char *key, const char *value, uint64_t lease)
{
	return (struct proto_txn_op){kind, t_b(key), t_b(value ? value : ""), lease};
}

static void test_txn_compare_chooses_branch(void **state)
{
	struct t_ctx *t = *state;
	t_put(t, "a", "1");
	uint64_t a_mod = t->index;
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_cmp = 3;
	txn.cmp[0] = (struct proto_txn_cmp){
	    .target = PROTO_TXN_CMP_MOD_INDEX, .key = t_b("a"), .mod_index = a_mod};
	txn.cmp[1] = (struct proto_txn_cmp){.target = PROTO_TXN_CMP_EXISTS, .key = t_b("b")};
	txn.cmp[2] = (struct proto_txn_cmp){
	    .target = PROTO_TXN_CMP_VALUE, .key = t_b("a"), .value = t_b("1")};
	txn.n_success = 3;
	txn.success[0] = t_op(PROTO_TXN_PUT, "a", "2", 0);
	txn.success[1] = t_op(PROTO_TXN_PUT, "b", "x", 0);
	txn.success[2] = t_op(PROTO_TXN_GET, "a", NULL, 0);
	txn.n_failure = 1;
	txn.failure[0] = t_op(PROTO_TXN_GET, "a", NULL, 0);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, 0);
	assert_int_equal(t->out.succeeded, 1);
	assert_int_equal(t->out.n_results, 3);
	assert_int_equal(t->out.results[0].mod_index, t->index);
	assert_int_equal(t->out.results[1].create_index, t->index);
	/* the get sees the branch's own put */
	assert_int_equal(t->out.results[2].value.len, 1);
	assert_memory_equal(t->out.results[2].value.ptr, "2", 1);
	/* again: a's mod_index moved and b exists, so the failure branch runs, writing nothing */
	uint64_t applied = t->index;
	t_txn(t, &txn, NULL);
	assert_int_equal(t->out.succeeded, 0);
	assert_int_equal(t->out.n_results, 1);
	assert_int_equal(t->out.results[0].status, 0);
	assert_int_equal(t->out.results[0].mod_index, applied);
	char v[16];
	assert_true(ts_get(t->sm, "a", v, sizeof(v), NULL, NULL));
	assert_string_equal(v, "2");
}

static void test_txn_compare_absent_key(void **state)
{
	struct t_ctx *t = *state;
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	/* mod_index 0 matches an absent key; a value compare never does */
	txn.n_cmp = 1;
	txn.cmp[0] = (struct proto_txn_cmp){.target = PROTO_TXN_CMP_MOD_INDEX, .key = t_b("k")};
	txn.n_success = 1;
	txn.success[0] = t_op(PROTO_TXN_PUT, "k", "v", 0);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->out.succeeded, 1);
	txn.cmp[0] = (struct proto_txn_cmp){
	    .target = PROTO_TXN_CMP_VALUE, .key = t_b("nope"), .value = t_b("")};
	t_txn(t, &txn, NULL);
	assert_int_equal(t->out.succeeded, 0);
}

static void test_txn_delete_and_prefix(void **state)
{
	struct t_ctx *t = *state;
	t_put(t, "p/1", "x");
	t_put(t, "p/2", "y");
	t_put(t, "q", "z");
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 3;
	txn.success[0] = t_op(PROTO_TXN_DELETE_PREFIX, "p/", NULL, 0);
	txn.success[1] = t_op(PROTO_TXN_DELETE, "q", NULL, 0);
	txn.success[2] = t_op(PROTO_TXN_DELETE, "absent", NULL, 0);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, 0);
	assert_int_equal(t->out.results[0].count, 2);
	assert_int_equal(t->out.results[1].count, 1);
	assert_int_equal(t->out.results[2].status, KV_ENOTFOUND);
	assert_false(ts_get(t->sm, "p/1", NULL, 0, NULL, NULL));
	assert_false(ts_get(t->sm, "p/2", NULL, 0, NULL, NULL));
	assert_false(ts_get(t->sm, "q", NULL, 0, NULL, NULL));
}

/* The empty prefix is every key (Consul's DeleteTree("") travels as this op). */
static void test_txn_delete_every_key(void **state)
{
	struct t_ctx *t = *state;
	t_put(t, "a", "1");
	t_put(t, "b/c", "2");
	t_put(t, "\xff", "3"); /* the last key in byte order */
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 1;
	txn.success[0] = t_op(PROTO_TXN_DELETE_PREFIX, "", NULL, 0);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, 0);
	assert_int_equal(t->out.results[0].count, 3);
	assert_false(ts_get(t->sm, "a", NULL, 0, NULL, NULL));
	assert_false(ts_get(t->sm, "b/c", NULL, 0, NULL, NULL));
	assert_false(ts_get(t->sm, "\xff", NULL, 0, NULL, NULL));
	assert_int_equal(t->sm->data_bytes, 0);
	/* nothing left: it deletes none, and that is no failure */
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, 0);
	assert_int_equal(t->out.results[0].count, 0);
}

static void test_txn_prefix_bound_changes_nothing(void **state)
{
	struct t_ctx *t = *state;
	static struct proto_kv_cmd c;
	char key[32];
	for (uint32_t i = 0; i <= KV_TXN_PREFIX_KEYS_MAX; i++) {
		snprintf(key, sizeof(key), "m/%06u", i);
		struct proto_buf *b = t_buf(t);
		memset(&c, 0, sizeof(c));
		c.op = PROTO_KV_PUT;
		c.key = t_b(key);
		assert_int_equal(proto_kv_cmd_encode(&c, b), 0);
		struct raft_entry e = {1, ++t->index, RAFT_ENTRY_COMMAND, (uint32_t)b->len, b->ptr};
		uint32_t n = 0;
		assert_int_equal(sm_batch_apply(t->sm, &e, 1, &t->res, &n), 0);
		proto_buf_free(b);
		t->n_bufs--;
	}
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 2;
	txn.success[0] = t_op(PROTO_TXN_PUT, "before", "1", 0);
	txn.success[1] = t_op(PROTO_TXN_DELETE_PREFIX, "m/", NULL, 0);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, KV_ETOOLARGE);
	assert_int_equal(t->res.body_len, 0);
	assert_false(ts_get(t->sm, "before", NULL, 0, NULL, NULL)); /* all or nothing */
	assert_true(ts_get(t->sm, "m/000000", NULL, 0, NULL, NULL));
	/* the empty prefix (every key) has the same bound */
	txn.success[1] = t_op(PROTO_TXN_DELETE_PREFIX, "", NULL, 0);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, KV_ETOOLARGE);
	assert_false(ts_get(t->sm, "before", NULL, 0, NULL, NULL));
	assert_true(ts_get(t->sm, "m/000000", NULL, 0, NULL, NULL));
}

static void test_txn_quota_is_all_or_nothing(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open(t, 200), 0);
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 2;
	txn.success[0] = t_op(PROTO_TXN_PUT, "small", "1", 0);
	char big[300];
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	txn.success[1] = t_op(PROTO_TXN_PUT, "big", big, 0);
	uint64_t data_before = t->sm->data_bytes;
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, KV_EFULL);
	assert_false(ts_get(t->sm, "small", NULL, 0, NULL, NULL));
	assert_int_equal(t->sm->data_bytes, data_before);
}

static void test_txn_idempotent_retry(void **state)
{
	struct t_ctx *t = *state;
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_cmp = 1;
	txn.cmp[0] = (struct proto_txn_cmp){.target = PROTO_TXN_CMP_EXISTS, .key = t_b("once")};
	txn.n_success = 1;
	txn.success[0] = t_op(PROTO_TXN_PUT, "once", "1", 0);
	t_txn(t, &txn, "idem-1");
	assert_int_equal(t->out.succeeded, 1);
	uint64_t first = t->index;
	t_txn(t, &txn, "idem-1");
	/* the first attempt's outcome, nothing applied: no body, the original index */
	assert_int_equal(t->res.status, 0);
	assert_int_equal(t->res.index, first);
	assert_int_equal(t->res.mod_index, 1); /* succeeded */
	assert_int_equal(t->res.body_len, 0);
}

static void test_txn_malformed_is_einval(void **state)
{
	struct t_ctx *t = *state;
	const uint8_t junk[3] = {0x93, 0x01, 0x02};
	struct proto_kv_cmd c = {.op = PROTO_KV_TXN, .value = {junk, sizeof(junk)}};
	t_apply(t, &c);
	assert_int_equal(t->res.status, KV_EINVAL);
	assert_int_equal(t->res.body_len, 0);
}

static void test_lease_keys_go_with_it(void **state)
{
	struct t_ctx *t = *state;
	uint64_t id = t_grant(t, 5000);
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 3;
	txn.success[0] = t_op(PROTO_TXN_PUT, "l/1", "a", id);
	txn.success[1] = t_op(PROTO_TXN_PUT, "l/2", "b", id);
	txn.success[2] = t_op(PROTO_TXN_PUT, "l/3", "c", id);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, 0);
	/* l/2 rewritten without the lease: no longer the lease's; l/3 deleted */
	t_put(t, "l/2", "mine");
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 1;
	txn.success[0] = t_op(PROTO_TXN_DELETE, "l/3", NULL, 0);
	t_txn(t, &txn, NULL);
	uint64_t ttl = 0;
	struct sm_list l = {0};
	assert_int_equal(sm_lease_read(t->sm, id, 0, KV_LIST_LIMIT_MAX, &ttl, &l), 0);
	assert_int_equal(ttl, 5000);
	assert_int_equal(l.n_items, 1);
	assert_memory_equal(l.buf.ptr + l.items[0].key_off, "l/1", 3);
	assert_int_equal(sm_lease_read(t->sm, 0, 0, KV_LIST_LIMIT_MAX, &ttl, &l), 0);
	assert_int_equal(l.n_items, 1);
	assert_int_equal(l.items[0].create_index, id);
	assert_int_equal(l.items[0].mod_index, 5000);
	t_put(t, "other", "x");
	t_lease_end(t, PROTO_KV_LEASE_EXPIRE, id);
	assert_int_equal(t->res.status, 0);
	assert_int_equal(t->res.mod_index, 1); /* keys deleted */
	assert_false(ts_get(t->sm, "l/1", NULL, 0, NULL, NULL));
	assert_true(ts_get(t->sm, "l/2", NULL, 0, NULL, NULL));
	assert_true(ts_get(t->sm, "other", NULL, 0, NULL, NULL));
	assert_int_equal(sm_lease_read(t->sm, id, 0, KV_LIST_LIMIT_MAX, &ttl, &l), KV_ENOLEASE);
	assert_int_equal(sm_lease_read(t->sm, 0, 0, KV_LIST_LIMIT_MAX, &ttl, &l), 0);
	assert_int_equal(l.n_items, 0);
	sm_list_free(&l);
	/* ending it again, or revoking it, finds nothing */
	t_lease_end(t, PROTO_KV_LEASE_REVOKE, id);
	assert_int_equal(t->res.status, KV_ENOLEASE);
}

static void test_lease_unknown_refuses_branch(void **state)
{
	struct t_ctx *t = *state;
	uint64_t id = t_grant(t, 3000);
	t_lease_end(t, PROTO_KV_LEASE_REVOKE, id);
	assert_int_equal(t->res.status, 0);
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 2;
	txn.success[0] = t_op(PROTO_TXN_PUT, "free", "1", 0);
	txn.success[1] = t_op(PROTO_TXN_PUT, "leased", "1", id);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, KV_ENOLEASE);
	assert_false(ts_get(t->sm, "free", NULL, 0, NULL, NULL));
	txn.success[1] = t_op(PROTO_TXN_PUT, "leased", "1", 999999);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, KV_ENOLEASE);
}

static void test_lease_keys_bound(void **state)
{
	struct t_ctx *t = *state;
	uint64_t id = t_grant(t, 3000);
	static struct proto_txn txn;
	char keys[KV_TXN_OPS_MAX][16];
	uint32_t attached = 0;
	while (attached < KV_LEASE_KEYS_MAX) {
		memset(&txn, 0, sizeof(txn));
		for (uint32_t i = 0; i < KV_TXN_OPS_MAX && attached < KV_LEASE_KEYS_MAX; i++) {
			snprintf(keys[i], sizeof(keys[i]), "b/%05u", attached++);
			txn.success[txn.n_success++] = t_op(PROTO_TXN_PUT, keys[i], "v", id);
		}
		t_txn(t, &txn, NULL);
		assert_int_equal(t->res.status, 0);
	}
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 1;
	txn.success[0] = t_op(PROTO_TXN_PUT, "one-more", "v", id);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, KV_ETOOLARGE);
	/* re-attaching a key it already holds is no new record */
	txn.success[0] = t_op(PROTO_TXN_PUT, "b/00000", "w", id);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, 0);
	t_lease_end(t, PROTO_KV_LEASE_REVOKE, id);
	assert_int_equal(t->res.mod_index, KV_LEASE_KEYS_MAX);
}

static void test_lease_expire_of_another_term(void **state)
{
	struct t_ctx *t = *state;
	uint64_t id = t_grant(t, 3000);
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 1;
	txn.success[0] = t_op(PROTO_TXN_PUT, "held", "v", id);
	t_txn(t, &txn, NULL);
	/* decided by term 2's clock, appended in a term 1 entry: not applied */
	struct proto_kv_cmd c = {.op = PROTO_KV_LEASE_EXPIRE, .lease = id, .term = 2};
	t_apply(t, &c);
	assert_int_equal(t->res.status, KV_ESTALE);
	assert_true(ts_get(t->sm, "held", NULL, 0, NULL, NULL));
	t_lease_end(t, PROTO_KV_LEASE_EXPIRE, id);
	assert_int_equal(t->res.status, 0);
	assert_false(ts_get(t->sm, "held", NULL, 0, NULL, NULL));
}

static void test_lease_records_in_quota(void **state)
{
	struct t_ctx *t = *state;
	uint64_t id = t_grant(t, 3000);
	uint64_t before = t->sm->data_bytes;
	static struct proto_txn txn;
	memset(&txn, 0, sizeof(txn));
	txn.n_success = 1;
	txn.success[0] = t_op(PROTO_TXN_PUT, "k", "v", id);
	t_txn(t, &txn, NULL);
	assert_int_equal(t->res.status, 0);
	/* the key (1 + 16 + 1) and the lease's record of it (16 + 1) */
	assert_int_equal(t->sm->data_bytes, before + 18 + 17);
	t_lease_end(t, PROTO_KV_LEASE_REVOKE, id);
	assert_int_equal(t->sm->data_bytes, before);
}

static void test_lease_grant_bounds(void **state)
{
	struct t_ctx *t = *state;
	struct proto_buf b = {0};
	struct proto_kv_cmd c = {.op = PROTO_KV_LEASE_GRANT, .ttl_ms = KV_LEASE_TTL_MS_MIN - 1};
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	c.ttl_ms = KV_LEASE_TTL_MS_MAX + 1;
	assert_int_equal(proto_kv_cmd_encode(&c, &b), KV_EINVAL);
	proto_buf_free(&b);
	uint64_t a = t_grant(t, KV_LEASE_TTL_MS_MIN);
	uint64_t b2 = t_grant(t, KV_LEASE_TTL_MS_MAX);
	assert_true(b2 > a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_txn_compare_chooses_branch, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_txn_compare_absent_key, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_txn_delete_and_prefix, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_txn_delete_every_key, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_txn_prefix_bound_changes_nothing, t_setup,
	                                    t_teardown),
	    cmocka_unit_test_setup_teardown(test_txn_quota_is_all_or_nothing, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_txn_idempotent_retry, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_txn_malformed_is_einval, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_lease_keys_go_with_it, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_lease_unknown_refuses_branch, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_lease_keys_bound, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_lease_expire_of_another_term, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_lease_records_in_quota, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_lease_grant_bounds, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

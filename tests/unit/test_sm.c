/*
 * test_sm.c - storaged's state machine (libsm) on a temporary LMDB
 * environment: writes, conditions, idempotency and session ageing, skipped
 * duplicates and rejected gaps, malformed commands, a full map, snapshots,
 * and the one-transaction rule (F4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "kv_limits.h"
#include "proto.h"
#include "sm.h"
#include "test_sm_util.h"

#define FIU_ENABLE 1 /* the real fiu_init(), not fiu.h's no-op */
#include <fiu-control.h>
#include <fiu.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_ENTRIES_MAX 64
#define T_MAP_BYTES   (32u << 20)

struct t_ctx {
	struct ts_env env;
	struct sm *sm;
	struct proto_buf bufs[T_ENTRIES_MAX]; /* payloads of the entries built so far */
	int n_bufs;
};

static int t_open(struct t_ctx *t, uint64_t map_bytes, uint64_t sessions_max, uint64_t window)
{
	struct sm_opts o = {.dir = t->env.dir,
	                    .map_bytes = map_bytes,
	                    .sessions_max = sessions_max,
	                    .session_window = window};
	return sm_open(&o, &t->sm);
}

static int t_setup(void **state)
{
	struct t_ctx *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	ts_env_make(&t->env, "test_sm");
	assert_int_equal(t_open(t, T_MAP_BYTES, 0, 0), 0);
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

struct t_cmd {
	uint8_t op;
	const char *key;
	const char *value;
	uint8_t cond;
	uint64_t cond_index;
	const char *idem;
	uint64_t req_id;
	uint64_t flags; /* PUT_FLAGS */
};

/* A COMMAND entry at index carrying c, its payload kept in t until teardown. */
static struct raft_entry t_cmd_entry(struct t_ctx *t, uint64_t index, const struct t_cmd *c)
{
	assert_true(t->n_bufs < T_ENTRIES_MAX);
	struct proto_buf *b = &t->bufs[t->n_bufs++];
	struct proto_kv_cmd kc = {
	    .op = c->op,
	    .origin = 1,
	    .req_id = c->req_id ? c->req_id : index,
	    .key = {(const uint8_t *)c->key, (uint32_t)strlen(c->key)},
	    .value = {(const uint8_t *)(c->value ? c->value : ""),
	              (uint32_t)(c->value ? strlen(c->value) : 0)},
	    .cond = c->cond,
	    .cond_index = c->cond_index,
	    .flags = c->flags,
	    .idem_key = {(const uint8_t *)(c->idem ? c->idem : ""),
	                 (uint32_t)(c->idem ? strlen(c->idem) : 0)},
	};
	assert_int_equal(proto_kv_cmd_encode(&kc, b), 0);
	struct raft_entry e = {.term = 1,
	                       .index = index,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b->len,
	                       .data = b->ptr};
	return e;
}

static struct raft_entry t_noop(uint64_t index)
{
	struct raft_entry e = {.term = 1, .index = index, .type = RAFT_ENTRY_NOOP};
	return e;
}

/* Applies one entry in its own batch; returns the batch's code and the result. */
static int t_apply(struct t_ctx *t, struct raft_entry e, struct sm_result *res)
{
	uint32_t n = 0;
	struct sm_result r;
	memset(&r, 0, sizeof(r));
	int err = sm_batch_apply(t->sm, &e, 1, &r, &n);
	if (res != NULL)
		*res = r;
	if (err == 0 && e.index > 0)
		assert_true(n <= 1);
	return err;
}

static int t_put(struct t_ctx *t, uint64_t index, const char *key, const char *value,
                 struct sm_result *res)
{
	struct t_cmd c = {.op = PROTO_KV_PUT, .key = key, .value = value};
	return t_apply(t, t_cmd_entry(t, index, &c), res);
}

/* Asserts key holds value with these indexes (value NULL: absent). */
static void t_expect(struct t_ctx *t, const char *key, const char *value, uint64_t create_index,
                     uint64_t mod_index)
{
	size_t cap = value != NULL ? strlen(value) + 1 : 0;
	char *got = value != NULL ? malloc(cap) : NULL;
	uint64_t ci = 0, mi = 0;
	assert_true(value == NULL || got != NULL);
	assert_int_equal(ts_get(t->sm, key, got, cap, &ci, &mi), value != NULL);
	if (value != NULL) {
		assert_string_equal(got, value);
		assert_int_equal(ci, create_index);
		assert_int_equal(mi, mod_index);
	}
	free(got);
}

static void test_put_get(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	assert_int_equal(t_put(t, 1, "a", "one", &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.create_index, 1);
	assert_int_equal(r.mod_index, 1);
	assert_int_equal(t_put(t, 2, "a", "two", &r), 0);
	assert_int_equal(r.create_index, 1); /* PUT keeps create_index */
	assert_int_equal(r.mod_index, 2);
	assert_int_equal(r.origin, 1);
	assert_int_equal(r.req_id, 2);
	t_expect(t, "a", "two", 1, 2);
	t_expect(t, "b", NULL, 0, 0);
	assert_int_equal(t->sm->applied_index, 2);
	/* Durable across a reopen: data and applied index come back together. */
	sm_close(&t->sm);
	assert_int_equal(t_open(t, T_MAP_BYTES, 0, 0), 0);
	assert_int_equal(t->sm->applied_index, 2);
	assert_int_equal(t->sm->applied_term, 1);
	t_expect(t, "a", "two", 1, 2);
	printf("checked: put/get, create kept, mod = index, survives reopen\n");
}

/*
 * A second, read-only handle (another process in production, e.g. gatewayd)
 * sees commits. LMDB advises one handle per process because closing one drops
 * the fcntl locks of both; nothing here relies on them after the close.
 */
static void test_readonly_reader(void **state)
{
	struct t_ctx *t = *state;
	assert_int_equal(t_put(t, 1, "ro", "v1", NULL), 0);
	struct sm *ro = NULL;
	struct sm_opts o = {.dir = t->env.dir, .map_bytes = T_MAP_BYTES, .readonly = 1};
	assert_int_equal(sm_open(&o, &ro), 0);
	assert_int_equal(ro->applied_index, 1);
	assert_int_equal(t_put(t, 2, "ro", "v2", NULL), 0);
	struct sm_buf v = {0};
	uint64_t ci = 0, mi = 0;
	assert_int_equal(sm_read_get(ro, (const uint8_t *)"ro", 2, &v, &ci, &mi, NULL), 0);
	assert_int_equal(mi, 2);
	assert_memory_equal(v.ptr, "v2", 2);
	sm_buf_free(&v);
	sm_close(&ro);
	assert_null(ro);
	sm_close(&ro); /* safe twice */
	struct sm_opts missing = {
	    .dir = "/nonexistent/raftkv", .map_bytes = T_MAP_BYTES, .readonly = 1};
	assert_int_not_equal(sm_open(&missing, &ro), 0);
	printf("checked: read-only handle sees committed writes; missing env is an error\n");
}

static void test_delete(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	assert_int_equal(t_put(t, 1, "k", "v", &r), 0);
	struct t_cmd del = {.op = PROTO_KV_DELETE, .key = "k"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 2, &del), &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.mod_index, 2);
	t_expect(t, "k", NULL, 0, 0);
	assert_int_equal(t_apply(t, t_cmd_entry(t, 3, &del), &r), 0);
	assert_int_equal(r.status, KV_ENOTFOUND);
	assert_int_equal(t->sm->applied_index, 3);
	/* A re-created key gets a new create_index. */
	assert_int_equal(t_put(t, 4, "k", "w", &r), 0);
	t_expect(t, "k", "w", 4, 4);
	printf("checked: delete, delete of missing -> ENOTFOUND, re-create\n");
}

static void test_conditions(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	assert_int_equal(t_put(t, 1, "c", "v1", &r), 0);
	struct t_cmd m_bad = {.op = PROTO_KV_PUT,
	                      .key = "c",
	                      .value = "x",
	                      .cond = PROTO_COND_IF_MATCH,
	                      .cond_index = 7};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 2, &m_bad), &r), 0);
	assert_int_equal(r.status, KV_ECONDITION);
	assert_int_equal(r.mod_index, 1); /* the current version, for the client */
	t_expect(t, "c", "v1", 1, 1);
	struct t_cmd m_ok = {.op = PROTO_KV_PUT,
	                     .key = "c",
	                     .value = "v2",
	                     .cond = PROTO_COND_IF_MATCH,
	                     .cond_index = 1};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 3, &m_ok), &r), 0);
	assert_int_equal(r.status, 0);
	t_expect(t, "c", "v2", 1, 3);
	struct t_cmd nm = {
	    .op = PROTO_KV_PUT, .key = "c", .value = "v3", .cond = PROTO_COND_IF_NONE_MATCH};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 4, &nm), &r), 0);
	assert_int_equal(r.status, KV_ECONDITION);
	t_expect(t, "c", "v2", 1, 3);
	nm.key = "new";
	assert_int_equal(t_apply(t, t_cmd_entry(t, 5, &nm), &r), 0);
	assert_int_equal(r.status, 0);
	t_expect(t, "new", "v3", 5, 5);
	struct t_cmd m_missing = {.op = PROTO_KV_PUT,
	                          .key = "nope",
	                          .value = "x",
	                          .cond = PROTO_COND_IF_MATCH,
	                          .cond_index = 0};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 6, &m_missing), &r), 0);
	assert_int_equal(r.status, KV_ECONDITION);
	t_expect(t, "nope", NULL, 0, 0);
	struct t_cmd del_bad = {
	    .op = PROTO_KV_DELETE, .key = "c", .cond = PROTO_COND_IF_MATCH, .cond_index = 1};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 7, &del_bad), &r), 0);
	assert_int_equal(r.status, KV_ECONDITION);
	t_expect(t, "c", "v2", 1, 3);
	del_bad.cond_index = 3;
	assert_int_equal(t_apply(t, t_cmd_entry(t, 8, &del_bad), &r), 0);
	assert_int_equal(r.status, 0);
	t_expect(t, "c", NULL, 0, 0);
	printf("checked: if-match right/wrong/missing, if-none-match existing/missing, "
	       "conditional delete\n");
}

static void test_idempotency(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	struct t_cmd c = {
	    .op = PROTO_KV_PUT, .key = "i", .value = "first", .idem = "key-1", .req_id = 100};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 1, &c), &r), 0);
	assert_int_equal(r.status, 0);
	c.value = "second";
	c.req_id = 101;
	assert_int_equal(t_apply(t, t_cmd_entry(t, 2, &c), &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.index, 1); /* the original write's result */
	assert_int_equal(r.mod_index, 1);
	assert_int_equal(r.req_id, 101); /* answered to the retry's request */
	t_expect(t, "i", "first", 1, 1);
	assert_int_equal(t->sm->applied_index, 2);
	/* A failed first attempt is remembered as failed, too. */
	struct t_cmd f = {.op = PROTO_KV_DELETE, .key = "missing", .idem = "key-2"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 3, &f), &r), 0);
	assert_int_equal(r.status, KV_ENOTFOUND);
	assert_int_equal(t_put(t, 4, "missing", "now", &r), 0);
	assert_int_equal(t_apply(t, t_cmd_entry(t, 5, &f), &r), 0);
	assert_int_equal(r.status, KV_ENOTFOUND);
	assert_int_equal(r.index, 3);
	t_expect(t, "missing", "now", 4, 4);
	printf("checked: same idempotency key applies once, returns the original result\n");
}

static void test_session_age_count(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open(t, T_MAP_BYTES, 3, 0), 0);
	struct sm_result r;
	const char *keys[] = {"s-a", "s-b", "s-c", "s-d"};
	for (int i = 0; i < 4; i++) {
		struct t_cmd c = {
		    .op = PROTO_KV_PUT, .key = "cnt", .value = keys[i], .idem = keys[i]};
		assert_int_equal(t_apply(t, t_cmd_entry(t, (uint64_t)i + 1, &c), &r), 0);
	}
	/* At most 3 sessions: s-a (the oldest) is gone and applies again. */
	struct t_cmd again_a = {.op = PROTO_KV_PUT, .key = "cnt", .value = "a2", .idem = "s-a"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 5, &again_a), &r), 0);
	assert_int_equal(r.index, 5);
	t_expect(t, "cnt", "a2", 1, 5);
	/* s-c is still remembered (s-b dropped when s-a came back). */
	struct t_cmd again_c = {.op = PROTO_KV_PUT, .key = "cnt", .value = "c2", .idem = "s-c"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 6, &again_c), &r), 0);
	assert_int_equal(r.index, 3);
	t_expect(t, "cnt", "a2", 1, 5);
	struct t_cmd again_b = {.op = PROTO_KV_PUT, .key = "cnt", .value = "b2", .idem = "s-b"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 7, &again_b), &r), 0);
	assert_int_equal(r.index, 7);
	t_expect(t, "cnt", "b2", 1, 7);
	printf("checked: sessions aged out by count (max 3), oldest first\n");
}

static void test_session_age_window(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open(t, T_MAP_BYTES, 0, 10), 0);
	struct sm_result r;
	struct t_cmd c = {.op = PROTO_KV_PUT, .key = "w", .value = "v1", .idem = "win"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 1, &c), &r), 0);
	for (uint64_t i = 2; i <= 10; i++)
		assert_int_equal(t_apply(t, t_noop(i), NULL), 0);
	c.value = "v2";
	assert_int_equal(t_apply(t, t_cmd_entry(t, 11, &c), &r), 0);
	assert_int_equal(r.index, 1); /* 11 - 1 = 10: still inside the window */
	t_expect(t, "w", "v1", 1, 1);
	assert_int_equal(t_apply(t, t_cmd_entry(t, 12, &c), &r), 0);
	assert_int_equal(r.index, 12); /* 12 - 1 > 10: expired, applies again */
	t_expect(t, "w", "v2", 1, 12);
	/* And the new session is remembered from index 12. */
	c.value = "v3";
	assert_int_equal(t_apply(t, t_cmd_entry(t, 13, &c), &r), 0);
	assert_int_equal(r.index, 12);
	t_expect(t, "w", "v2", 1, 12);
	printf("checked: sessions aged out by index window (10)\n");
}

static void test_duplicates_and_gap(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result res[4];
	uint32_t n = 0;
	struct t_cmd c1 = {.op = PROTO_KV_PUT, .key = "d", .value = "1"};
	struct t_cmd c2 = {.op = PROTO_KV_PUT, .key = "d", .value = "2"};
	struct t_cmd c3 = {.op = PROTO_KV_PUT, .key = "d", .value = "3"};
	struct raft_entry b1[2] = {t_cmd_entry(t, 1, &c1), t_cmd_entry(t, 2, &c2)};
	assert_int_equal(sm_batch_apply(t->sm, b1, 2, res, &n), 0);
	assert_int_equal(n, 2);
	/* Resent after a raftd restart: 1 and 2 again (with other payloads), then 3. */
	struct raft_entry b2[3] = {t_cmd_entry(t, 1, &c3), t_cmd_entry(t, 2, &c3),
	                           t_cmd_entry(t, 3, &c3)};
	assert_int_equal(sm_batch_apply(t->sm, b2, 3, res, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(res[0].index, 3);
	t_expect(t, "d", "3", 1, 3);
	assert_int_equal(sm_batch_apply(t->sm, b2, 3, res, &n), 0);
	assert_int_equal(n, 0);
	/* A gap: 5 after applied 3. */
	struct raft_entry gap = t_cmd_entry(t, 5, &c1);
	assert_int_equal(sm_batch_apply(t->sm, &gap, 1, res, &n), KV_ERANGE);
	assert_int_equal(t->sm->applied_index, 3);
	/* A hole inside a batch: 4, 6. Nothing of it is applied. */
	struct raft_entry hole[2] = {t_cmd_entry(t, 4, &c1), t_cmd_entry(t, 6, &c1)};
	assert_int_equal(sm_batch_apply(t->sm, hole, 2, res, &n), KV_ERANGE);
	assert_int_equal(t->sm->applied_index, 3);
	t_expect(t, "d", "3", 1, 3);
	printf("checked: old entries skipped, gap and hole rejected with KV_ERANGE\n");
}

static void test_malformed(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	assert_int_equal(t_put(t, 1, "m", "keep", &r), 0);
	static const uint8_t junk[] = {0xc1, 0xff, 0x00, 0x93, 0x01};
	struct raft_entry e = {
	    .term = 2, .index = 2, .type = RAFT_ENTRY_COMMAND, .len = sizeof(junk), .data = junk};
	assert_int_equal(t_apply(t, e, &r), 0);
	assert_int_equal(r.status, KV_EINVAL);
	assert_int_equal(r.origin, 0); /* nobody to answer */
	struct raft_entry empty = {.term = 2, .index = 3, .type = RAFT_ENTRY_COMMAND};
	assert_int_equal(t_apply(t, empty, &r), 0);
	assert_int_equal(r.status, KV_EINVAL);
	struct raft_entry unknown = {.term = 2, .index = 4, .type = 99};
	assert_int_equal(t_apply(t, unknown, &r), 0);
	assert_int_equal(t->sm->applied_index, 4);
	assert_int_equal(t->sm->applied_term, 2);
	t_expect(t, "m", "keep", 1, 1);
	printf("checked: malformed and empty commands -> KV_EINVAL no-ops, index advances\n");
}

static void test_config_kept(void **state)
{
	struct t_ctx *t = *state;
	static const uint8_t cfg[9] = {RAFT_CONFIG_ADD_LEARNER, 0, 0, 0, 0, 0, 0, 0, 4};
	struct raft_entry e = {
	    .term = 1, .index = 1, .type = RAFT_ENTRY_CONFIG, .len = 9, .data = cfg};
	struct sm_result r;
	assert_int_equal(t_apply(t, e, &r), 0);
	assert_int_equal(r.has_result, 0);
	MDB_txn *txn = NULL;
	assert_int_equal(mdb_txn_begin(t->sm->env, NULL, MDB_RDONLY, &txn), 0);
	uint8_t kb[11] = {'c', 'f', 'g'};
	sm_u64_put(kb + 3, 1);
	MDB_val k = {sizeof(kb), kb}, d;
	assert_int_equal(mdb_get(txn, t->sm->dbi_meta, &k, &d), 0);
	assert_int_equal(d.mv_size, 9);
	assert_memory_equal(d.mv_data, cfg, 9);
	mdb_txn_abort(txn);
	printf("checked: CONFIG entry data stored in meta\n");
}

static void test_list(void **state)
{
	struct t_ctx *t = *state;
	const char *keys[] = {"a", "p/1", "p/2", "p/3", "p0", "q"};
	for (int i = 0; i < 6; i++)
		assert_int_equal(t_put(t, (uint64_t)i + 1, keys[i], keys[i], NULL), 0);
	struct sm_list l = {0};
	assert_int_equal(sm_read_list(t->sm, (const uint8_t *)"p/", 2, NULL, 0, 2, &l), 0);
	assert_int_equal(l.n_items, 2);
	assert_int_equal(l.more, 1);
	assert_memory_equal(l.buf.ptr + l.items[0].key_off, "p/1", 3);
	assert_memory_equal(l.buf.ptr + l.items[1].value_off, "p/2", 3);
	assert_int_equal(l.items[1].create_index, 3);
	assert_int_equal(
	    sm_read_list(t->sm, (const uint8_t *)"p/", 2, (const uint8_t *)"p/2", 3, 10, &l), 0);
	assert_int_equal(l.n_items, 1);
	assert_int_equal(l.more, 0);
	assert_memory_equal(l.buf.ptr + l.items[0].key_off, "p/3", 3);
	assert_int_equal(sm_read_list(t->sm, NULL, 0, (const uint8_t *)"p0", 2, 10, &l), 0);
	assert_int_equal(l.n_items, 1);
	assert_int_equal(l.applied_index, 6);
	assert_int_equal(sm_read_list(t->sm, NULL, 0, NULL, 0, KV_LIST_LIMIT_MAX + 1, &l),
	                 KV_EINVAL);
	sm_list_free(&l);
	printf("checked: list by prefix, after, limit and more\n");
}

/* Puts 100 KiB values until the map is full; returns how many fit. */
static uint64_t t_fill(struct t_ctx *t, char *big, int *last_err)
{
	uint64_t i = 1;
	for (; i < 100; i++) {
		char key[32];
		snprintf(key, sizeof(key), "big%03llu", (unsigned long long)i);
		big[0] = (char)('a' + i % 26);
		*last_err = t_put(t, i, key, big, NULL);
		if (*last_err != 0)
			break;
	}
	return i - 1;
}

static void test_map_full(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open(t, 1u << 20, 0, 0), 0);
	char *big = malloc(100 << 10);
	assert_non_null(big);
	memset(big, 'x', (100 << 10) - 1);
	big[(100 << 10) - 1] = '\0';
	int err = 0;
	uint64_t fitted = t_fill(t, big, &err);
	assert_int_equal(err, KV_EFULL);
	assert_true(fitted > 0);
	assert_int_equal(t->sm->applied_index, fitted);
	assert_int_equal(t->sm->full, 1);
	struct sm_stats st;
	assert_int_equal(sm_stats_get(t->sm, &st), 0);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.map_bytes, 1u << 20);
	assert_true(st.used_bytes > 0 && st.used_bytes <= st.map_bytes);
	assert_int_equal(st.keys, fitted);
	/* Reads go on. */
	struct sm_buf v = {0};
	uint64_t ci, mi;
	assert_int_equal(sm_read_get(t->sm, (const uint8_t *)"big001", 6, &v, &ci, &mi, NULL), 0);
	assert_int_equal(v.len, (100 << 10) - 1);
	assert_int_equal(ci, 1);
	sm_buf_free(&v);
	/* Mid-batch failure: a small PUT then a too-big one; neither is applied. */
	struct t_cmd small = {.op = PROTO_KV_PUT, .key = "small", .value = "s"};
	struct t_cmd huge = {.op = PROTO_KV_PUT, .key = "huge", .value = big};
	struct raft_entry b[2] = {t_cmd_entry(t, fitted + 1, &small),
	                          t_cmd_entry(t, fitted + 2, &huge)};
	struct sm_result res[2];
	uint32_t n = 0;
	assert_int_equal(sm_batch_apply(t->sm, b, 2, res, &n), KV_EFULL);
	assert_int_equal(n, 0);
	assert_int_equal(t->sm->applied_index, fitted);
	t_expect(t, "small", NULL, 0, 0);
	free(big);
	printf("checked: map full after %llu x 100 KiB in 1 MiB -> KV_EFULL, applied index "
	       "unchanged, stats full, reads work, half batch not applied\n",
	       (unsigned long long)fitted);
}

/* F4: entries applied inside a transaction that never commits leave no trace. */
static void test_one_txn(void **state)
{
	struct t_ctx *t = *state;
	assert_int_equal(t_put(t, 1, "f4", "before", NULL), 0);
	MDB_txn *txn = NULL;
	assert_int_equal(mdb_txn_begin(t->sm->env, NULL, 0, &txn), 0);
	struct t_cmd c = {.op = PROTO_KV_PUT, .key = "f4", .value = "after"};
	struct t_cmd s = {.op = PROTO_KV_PUT, .key = "f4s", .value = "x", .idem = "sess"};
	struct raft_entry e2 = t_cmd_entry(t, 2, &c);
	struct raft_entry e3 = t_cmd_entry(t, 3, &s);
	struct sm_result r;
	assert_int_equal(sm_apply_entry(t->sm, txn, &e2, &r), 0);
	assert_int_equal(sm_apply_entry(t->sm, txn, &e3, &r), 0);
	assert_int_equal(sm_meta_write_applied(t->sm, txn, 3, 1), 0);
	mdb_txn_abort(txn); /* the process died before the commit */
	sm_close(&t->sm);
	assert_int_equal(t_open(t, T_MAP_BYTES, 0, 0), 0);
	assert_int_equal(t->sm->applied_index, 1);
	t_expect(t, "f4", "before", 1, 1);
	t_expect(t, "f4s", NULL, 0, 0);
	/* raftd resends 2 and 3: both apply now, the session is new. */
	struct raft_entry b[2] = {e2, e3};
	struct sm_result res[2];
	uint32_t n = 0;
	assert_int_equal(sm_batch_apply(t->sm, b, 2, res, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(res[1].index, 3);
	t_expect(t, "f4", "after", 1, 2);
	printf(
	    "checked: F4 - an aborted batch leaves applied index, data and sessions unchanged\n");
}

/*
 * F4 through sm_batch_apply itself: the process "dies" at the fault point just
 * before the commit. Fails with -DSM_BUG_APPLIED_OUTSIDE_TXN (planted bug).
 */
static void test_crash_before_commit(void **state)
{
	struct t_ctx *t = *state;
	assert_int_equal(t_put(t, 1, "c4", "before", NULL), 0);
	struct t_cmd c = {.op = PROTO_KV_PUT, .key = "c4", .value = "after", .idem = "c4-s"};
	struct raft_entry b[2] = {t_noop(2), t_cmd_entry(t, 3, &c)};
	struct sm_result res[2];
	uint32_t n = 0;
	assert_int_equal(fiu_init(0), 0);
	assert_int_equal(fiu_enable("storaged/apply/before_commit", 1, NULL, FIU_ONETIME), 0);
	assert_int_equal(sm_batch_apply(t->sm, b, 2, res, &n), KV_EIO);
	fiu_disable("storaged/apply/before_commit");
	sm_close(&t->sm);
	assert_int_equal(t_open(t, T_MAP_BYTES, 0, 0), 0);
	assert_int_equal(t->sm->applied_index, 1);
	t_expect(t, "c4", "before", 1, 1);
	/* The retry after restart applies it, and the session is recorded only now. */
	assert_int_equal(sm_batch_apply(t->sm, b, 2, res, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(res[1].index, 3);
	t_expect(t, "c4", "after", 1, 3);
	printf("checked: F4 - a crash before the batch commit leaves applied index 1 and the old "
	       "data\n");
}

/*
 * Apply without a sync (MDB_NOSYNC): a kill -9 of the process loses nothing
 * committed (the pages are in the page cache), and the reopened environment
 * is synced before its applied index counts as durable (sm_open).
 */
static void test_kill9_keeps_unsynced(void **state)
{
	struct t_ctx *t = *state;
	unsigned int flags = 0;
	assert_int_equal(mdb_env_get_flags(t->sm->env, &flags), 0);
	assert_true(flags & MDB_NOSYNC);
	sm_close(&t->sm);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child applies 40 batches, never syncs, says how far, dies */
		if (t_open(t, T_MAP_BYTES, 0, 0) != 0)
			_exit(2);
		for (uint64_t i = 1; i <= 40; i++) {
			char k[16];
			snprintf(k, sizeof(k), "k%llu", (unsigned long long)i);
			if (t_put(t, i, k, "v", NULL) != 0)
				_exit(3);
		}
		uint64_t applied = t->sm->applied_index;
		if (write(fds[1], &applied, sizeof(applied)) != (ssize_t)sizeof(applied))
			_exit(4);
		raise(SIGKILL);
		_exit(5);
	}
	close(fds[1]);
	uint64_t reported = 0;
	assert_int_equal(read(fds[0], &reported, sizeof(reported)), (ssize_t)sizeof(reported));
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(t_open(t, T_MAP_BYTES, 0, 0), 0);
	assert_int_equal(reported, 40);
	assert_int_equal(t->sm->applied_index, 40);
	t_expect(t, "k1", "v", 1, 1);
	t_expect(t, "k40", "v", 40, 40);
	printf("checked: 40 batches applied without a sync survive kill -9 of the process\n");
}

/* A failed background sync is an error, never a silent success (F13). */
static void test_sync_fault(void **state)
{
	struct t_ctx *t = *state;
	assert_int_equal(t_put(t, 1, "s", "v", NULL), 0);
	assert_int_equal(sm_sync(t->sm), 0);
	assert_int_equal(fiu_init(0), 0);
	assert_int_equal(fiu_enable("storaged/sync/fail", 1, NULL, FIU_ONETIME), 0);
	assert_int_equal(sm_sync(t->sm), KV_EIO);
	fiu_disable("storaged/sync/fail");
	assert_int_equal(sm_sync(t->sm), 0);
	printf("checked: sm_sync reports a failed fdatasync as KV_EIO\n");
}

static int t_open_quota(struct t_ctx *t, uint64_t map_bytes, uint64_t quota_bytes)
{
	struct sm_opts o = {.dir = t->env.dir, .map_bytes = map_bytes, .quota_bytes = quota_bytes};
	return sm_open(&o, &t->sm);
}

/*
 * The map grows on demand: 30 x 100 KiB into a 1 MiB map, growing (as
 * storaged does) before a batch when 80% is used and after MDB_MAP_FULL.
 */
static void test_map_grows(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open_quota(t, 1u << 20, 64u << 20), 0);
	assert_int_equal(t->sm->map_max_bytes, 2 * (64ull << 20) +
	                                           2 * SM_WATCH_HISTORY_BYTES_DEFAULT +
	                                           SM_MAP_SLACK_BYTES);
	char *big = malloc(100 << 10);
	assert_non_null(big);
	memset(big, 'g', (100 << 10) - 1);
	big[(100 << 10) - 1] = '\0';
	int grown_after_full = 0;
	for (uint64_t i = 1; i <= 30; i++) {
		char key[32];
		snprintf(key, sizeof(key), "g%03llu", (unsigned long long)i);
		assert_int_equal(sm_map_grow(t->sm, 0), 0);
		int err = t_put(t, i, key, big, NULL);
		if (err == KV_EFULL) {
			assert_int_equal(sm_map_grow(t->sm, 1), 0);
			grown_after_full++;
			err = t_put(t, i, key, big, NULL);
		}
		assert_int_equal(err, 0);
	}
	uint64_t m = t->sm->map_bytes;
	assert_true(m >= (4u << 20) && (m & (m - 1)) == 0); /* doubled from 1 MiB */
	struct sm_stats st;
	assert_int_equal(sm_stats_get(t->sm, &st), 0);
	assert_int_equal(st.keys, 30);
	assert_int_equal(st.full, 0);
	t_expect(t, "g001", big, 1, 1);
	/* the data counted is what the quota counts, and it survives a reopen */
	uint64_t data = t->sm->data_bytes;
	assert_int_equal(data, 30 * (4 + SM_KV_HEADER_BYTES + (100 << 10) - 1));
	sm_close(&t->sm);
	assert_int_equal(t_open_quota(t, 1u << 20, 64u << 20), 0);
	assert_int_equal(t->sm->data_bytes, data);
	/* LMDB reopens at max(--map-bytes, the pages in use); the next grow doubles that */
	assert_int_equal(sm_stats_get(t->sm, &st), 0);
	assert_true(st.used_bytes <= t->sm->map_bytes);
	assert_int_equal(sm_map_grow(t->sm, 0), 0);
	assert_int_equal(t_put(t, 31, "g031", big, NULL), 0);
	free(big);
	printf("checked: map grew 1 MiB -> %llu bytes (%d times after MDB_MAP_FULL); "
	       "data_bytes kept across a reopen\n",
	       (unsigned long long)m, grown_after_full);
}

/* A ceiling reached: sm_map_grow(force) says KV_EFULL instead of growing. */
static void test_map_ceiling(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	struct sm_opts o = {.dir = t->env.dir, .map_bytes = 1u << 20, .map_max_bytes = 2u << 20};
	assert_int_equal(sm_open(&o, &t->sm), 0);
	assert_int_equal(sm_map_grow(t->sm, 1), 0);
	assert_int_equal(t->sm->map_bytes, 2u << 20);
	assert_int_equal(sm_map_grow(t->sm, 1), KV_EFULL);
	printf("checked: the map stops at its ceiling\n");
}

/*
 * Past the quota: a PUT that adds data gets KV_EFULL and changes nothing
 * (no session kept), while a shrinking PUT and a DELETE apply, after which
 * adds work again. Only replicated state decides (data_bytes), so every node
 * decides alike.
 */
static void test_quota_dig_out(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->sm);
	assert_int_equal(t_open_quota(t, 4u << 20, 300u << 10), 0);
	char *big = malloc(100 << 10);
	assert_non_null(big);
	memset(big, 'q', (100 << 10) - 1);
	big[(100 << 10) - 1] = '\0';
	struct sm_result res;
	uint64_t i = 1;
	for (;; i++) {
		char key[32];
		snprintf(key, sizeof(key), "q%llu", (unsigned long long)i);
		assert_int_equal(t_put(t, i, key, big, &res), 0); /* the batch applies... */
		if (res.status != 0)
			break;
		assert_true(i < 10);
	}
	assert_int_equal(res.status, KV_EFULL); /* ...the write is refused */
	assert_int_equal(i, 3);                 /* 2 x ~100 KiB fit in 300 KiB, not 3 */
	t_expect(t, "q3", NULL, 0, 0);
	assert_int_equal(t->sm->applied_index, 3);
	struct sm_stats st;
	assert_int_equal(sm_stats_get(t->sm, &st), 0);
	assert_true(st.data_bytes <= st.quota_bytes && st.alarm == 0);
	/* refused with an idempotency key: not remembered */
	struct t_cmd c = {.op = PROTO_KV_PUT, .key = "q9", .value = big, .idem = "dig"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 4, &c), &res), 0);
	assert_int_equal(res.status, KV_EFULL);
	/* dig out: a shrinking PUT and a DELETE apply */
	assert_int_equal(t_put(t, 5, "q1", "small", &res), 0);
	assert_int_equal(res.status, 0);
	struct t_cmd del = {.op = PROTO_KV_DELETE, .key = "q2"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 6, &del), &res), 0);
	assert_int_equal(res.status, 0);
	assert_int_equal(t->sm->data_bytes, 2 + SM_KV_HEADER_BYTES + 5);
	/* the retry with the same key now applies */
	assert_int_equal(t_apply(t, t_cmd_entry(t, 7, &c), &res), 0);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.index, 7);
	t_expect(t, "q9", big, 7, 7);
	free(big);
	printf("checked: quota 300 KiB: the 3rd 100 KiB PUT refused (KV_EFULL, not kept as a "
	       "session); shrink + DELETE dig out; the retry applies\n");
}

static int t_count_snapshots(const char *dir)
{
	int n = 0;
	for (uint64_t i = 0; i < 20; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/snapshot-%llu.mdb", dir, (unsigned long long)i);
		n += access(p, F_OK) == 0;
	}
	return n;
}

static void test_snapshot_round_trip(void **state)
{
	struct t_ctx *t = *state;
	char snap_dir[160];
	snprintf(snap_dir, sizeof(snap_dir), "%s/snap", t->env.root);
	struct sm_snap_info info;
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(t_put(t, i, "s", i == 3 ? "three" : "old", NULL), 0);
		assert_int_equal(sm_snap_write(t->sm, snap_dir, &info), 0);
		assert_int_equal(info.index, i);
		assert_int_equal(info.term, 1);
		assert_true(info.size > 0);
	}
	assert_int_equal(t_count_snapshots(snap_dir), 2); /* the newest two kept */
	/* A second node with other data installs it. */
	struct t_ctx other = {0};
	strcpy(other.env.root, t->env.root);
	snprintf(other.env.dir, sizeof(other.env.dir), "%s/kv2", t->env.root);
	assert_int_equal(t_open(&other, T_MAP_BYTES, 0, 0), 0);
	for (uint64_t i = 1; i <= 5; i++)
		assert_int_equal(t_put(&other, i, "other", "x", NULL), 0);
	assert_int_equal(sm_snap_install(other.sm, info.path, 4, 1), KV_ECORRUPT);
	t_expect(&other, "other", "x", 1, 5); /* a wrong index replaces nothing */
	assert_int_equal(sm_snap_install(other.sm, info.path, 3, 1), 0);
	assert_int_equal(other.sm->applied_index, 3);
	t_expect(&other, "s", "three", 1, 3);
	t_expect(&other, "other", NULL, 0, 0);
	assert_int_equal(access(info.path, F_OK), -1); /* consumed by the rename */
	assert_int_equal(t_put(&other, 4, "after", "install", NULL), 0);
	sm_close(&other.sm);
	for (int i = 0; i < other.n_bufs; i++)
		proto_buf_free(&other.bufs[i]);
	assert_int_equal(t_open(&other, T_MAP_BYTES, 0, 0), 0);
	assert_int_equal(other.sm->applied_index, 4);
	sm_close(&other.sm);
	printf("checked: snapshot write (kept 2), install with index check, reopen\n");
}

/* Puts key=value at index through a buffer of its own (for many keys: t->bufs is small). */
static void t_put_many_one(struct t_ctx *t, uint64_t index, const char *key)
{
	struct proto_buf b = {0};
	struct proto_kv_cmd kc = {.op = PROTO_KV_PUT,
	                          .origin = 1,
	                          .req_id = index,
	                          .key = {(const uint8_t *)key, (uint32_t)strlen(key)},
	                          .value = {(const uint8_t *)"v", 1}};
	assert_int_equal(proto_kv_cmd_encode(&kc, &b), 0);
	struct raft_entry e = {.term = 1,
	                       .index = index,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b.len,
	                       .data = b.ptr};
	struct sm_result r;
	assert_int_equal(t_apply(t, e, &r), 0);
	assert_int_equal(r.status, 0);
	proto_buf_free(&b);
}

static void test_delete_prefix(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	uint64_t before = t->sm->data_bytes;
	assert_int_equal(t_put(t, 1, "a/1", "x", &r), 0);
	assert_int_equal(t_put(t, 2, "a/2/z", "y", &r), 0);
	assert_int_equal(t_put(t, 3, "a", "top", &r), 0);
	assert_int_equal(t_put(t, 4, "b/1", "keep", &r), 0);
	uint64_t with_b = t->sm->data_bytes;
	struct t_cmd dp = {.op = PROTO_KV_DELETE_PREFIX, .key = "a/"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 5, &dp), &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.mod_index, 5);
	t_expect(t, "a/1", NULL, 0, 0);
	t_expect(t, "a/2/z", NULL, 0, 0);
	t_expect(t, "a", "top", 3, 3);
	t_expect(t, "b/1", "keep", 4, 4);
	assert_true(t->sm->data_bytes < with_b);
	/* nothing left under the prefix: not found, nothing changes */
	assert_int_equal(t_apply(t, t_cmd_entry(t, 6, &dp), &r), 0);
	assert_int_equal(r.status, KV_ENOTFOUND);
	/* a condition on a range is refused alike everywhere */
	struct t_cmd cond = {.op = PROTO_KV_DELETE_PREFIX, .key = "b", .cond = PROTO_COND_IF_MATCH};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 7, &cond), &r), 0);
	assert_int_equal(r.status, KV_EINVAL);
	t_expect(t, "b/1", "keep", 4, 4);
	struct t_cmd all = {.op = PROTO_KV_DELETE_PREFIX, .key = "a"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 8, &all), &r), 0);
	struct t_cmd bs = {.op = PROTO_KV_DELETE_PREFIX, .key = "b"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 9, &bs), &r), 0);
	assert_int_equal(t->sm->data_bytes, before);
	printf("checked: delete of a prefix removes exactly the keys under it, quota bytes back\n");
}

/* key's flags as GET and LIST report them (LIST of the key as prefix: its first item). */
static uint64_t t_flags(struct t_ctx *t, const char *key)
{
	struct sm_buf v = {0};
	uint64_t ci = 0, mi = 0, f = 99;
	assert_int_equal(
	    sm_read_get(t->sm, (const uint8_t *)key, (uint32_t)strlen(key), &v, &ci, &mi, &f), 0);
	sm_buf_free(&v);
	struct sm_list l = {0};
	assert_int_equal(
	    sm_read_list(t->sm, (const uint8_t *)key, (uint32_t)strlen(key), NULL, 0, 1, &l), 0);
	assert_int_equal(l.n_items, 1);
	assert_int_equal(l.items[0].flags, f);
	sm_list_free(&l);
	return f;
}

static void test_flags(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	struct t_cmd pf = {.op = PROTO_KV_PUT_FLAGS, .key = "f", .value = "v1", .flags = 42};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 1, &pf), &r), 0);
	assert_int_equal(r.status, 0);
	t_expect(t, "f", "v1", 1, 1);
	assert_int_equal(t_flags(t, "f"), 42);
	assert_int_equal(t_put(t, 2, "f", "v2", &r), 0); /* a plain PUT sets them to 0 */
	assert_int_equal(t_flags(t, "f"), 0);
	pf.flags = UINT64_MAX;
	assert_int_equal(t_apply(t, t_cmd_entry(t, 3, &pf), &r), 0);
	assert_int_equal(t_flags(t, "f"), UINT64_MAX);
	struct t_cmd del = {.op = PROTO_KV_DELETE, .key = "f"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 4, &del), &r), 0);
	assert_int_equal(t_put(t, 5, "f", "again", &r), 0); /* re-created: no old flags */
	assert_int_equal(t_flags(t, "f"), 0);
	struct t_cmd g1 = {.op = PROTO_KV_PUT_FLAGS, .key = "g/1", .value = "x", .flags = 7};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 6, &g1), &r), 0);
	struct t_cmd gp = {.op = PROTO_KV_DELETE_PREFIX, .key = "g/"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 7, &gp), &r), 0);
	assert_int_equal(t_put(t, 8, "g/1", "y", &r), 0);
	assert_int_equal(t_flags(t, "g/1"), 0);
	/* a failed condition writes no flags */
	struct t_cmd bad = {.op = PROTO_KV_PUT_FLAGS,
	                    .key = "g/1",
	                    .value = "z",
	                    .flags = 9,
	                    .cond = PROTO_COND_IF_MATCH,
	                    .cond_index = 1};
	assert_int_equal(t_apply(t, t_cmd_entry(t, 9, &bad), &r), 0);
	assert_int_equal(r.status, KV_ECONDITION);
	assert_int_equal(t_flags(t, "g/1"), 0);
	printf("checked: PUT_FLAGS stores flags for GET and LIST; PUT, DELETE, DELETE_PREFIX and a "
	       "failed condition leave none behind\n");
}

static void test_delete_prefix_limit(void **state)
{
	struct t_ctx *t = *state;
	struct sm_result r;
	char key[32];
	uint64_t index = 1;
	for (uint32_t i = 0; i <= SM_DELETE_PREFIX_KEYS_MAX; i++) {
		snprintf(key, sizeof(key), "m/%05u", i);
		t_put_many_one(t, index++, key);
	}
	struct t_cmd dp = {.op = PROTO_KV_DELETE_PREFIX, .key = "m/"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, index++, &dp), &r), 0);
	assert_int_equal(r.status, KV_ETOOLARGE);
	t_expect(t, "m/00000", "v", 1, 1); /* over the limit: nothing was deleted */
	struct t_cmd one = {.op = PROTO_KV_DELETE, .key = "m/00000"};
	assert_int_equal(t_apply(t, t_cmd_entry(t, index++, &one), &r), 0);
	assert_int_equal(t_apply(t, t_cmd_entry(t, index++, &dp), &r), 0);
	assert_int_equal(r.status, 0); /* exactly the limit: all of them */
	t_expect(t, "m/10000", NULL, 0, 0);
	printf("checked: a prefix over %u keys is refused whole; at the limit it goes\n",
	       SM_DELETE_PREFIX_KEYS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_get, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_delete, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_prefix, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_prefix_limit, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_flags, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_readonly_reader, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_conditions, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_idempotency, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_session_age_count, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_session_age_window, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates_and_gap, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_config_kept, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_list, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_map_full, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_one_txn, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_crash_before_commit, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_kill9_keeps_unsynced, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_sync_fault, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_map_grows, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_map_ceiling, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_quota_dig_out, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_round_trip, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

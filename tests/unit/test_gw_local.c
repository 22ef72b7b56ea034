/*
 * test_gw_local.c - gatewayd's local reads (gw_local.c) against a real
 * writer: storaged's state machine (libsm) in a child process, as in a node
 * (LMDB tells readers apart by pid, and one process must not open an
 * environment twice), and the gateway's reader here, on one temporary
 * directory. The reader sees committed writes, refuses a read that needs an
 * index above the applied one, follows the environment when a snapshot is
 * installed over it, and keeps reading after the writer grew the map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_local.h"
#include "kv_err.h"
#include "proto.h"
#include "sm.h"
#include "test_sm_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_MAP_BYTES  (1u << 20) /* small: the growth test outgrows it */
#define T_BIG_BYTES  (64u << 10)
#define T_BIG_VALUES 48u /* 3 MB of values: the map grows twice */

struct t_ctx {
	struct ts_env env;
	struct gw_local local;
};

static int t_setup(void **state)
{
	struct t_ctx *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	ts_env_make(&t->env, "test_gw_local");
	assert_int_equal(gw_local_init(&t->local, t->env.dir), 0);
	*state = t;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_ctx *t = *state;
	gw_local_close(&t->local);
	ts_env_remove(&t->env);
	free(t);
	return 0;
}

/* Applies PUT key=value (len bytes) at index in sm, growing the map when it must. */
static int t_put(struct sm *sm, uint64_t index, const char *key, const char *value, size_t len)
{
	struct proto_buf b = {0};
	struct proto_kv_cmd kc = {.op = PROTO_KV_PUT,
	                          .origin = 1,
	                          .req_id = index,
	                          .key = {(const uint8_t *)key, (uint32_t)strlen(key)},
	                          .value = {(const uint8_t *)value, (uint32_t)len}};
	if (proto_kv_cmd_encode(&kc, &b) != 0)
		return -1;
	struct raft_entry e = {.term = 1,
	                       .index = index,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b.len,
	                       .data = b.ptr};
	struct sm_result res;
	uint32_t n = 0;
	if (sm_map_should_grow(sm))
		(void)sm_map_grow(sm, 0);
	int err = sm_batch_apply(sm, &e, 1, &res, &n);
	if (err == KV_EFULL && sm_map_grow(sm, 1) == 0)
		err = sm_batch_apply(sm, &e, 1, &res, &n);
	proto_buf_free(&b);
	return err;
}

static int t_open_writer(const char *dir, struct sm **sm)
{
	struct sm_opts o = {.dir = dir, .map_bytes = T_MAP_BYTES};
	return sm_open(&o, sm);
}

/* In a child process (storaged's place): PUT key=value at indexes from..to in dir. */
static void t_write(const char *dir, uint64_t from, uint64_t to, const char *key, const char *value)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sm *sm = NULL;
		int bad = t_open_writer(dir, &sm) != 0;
		for (uint64_t i = from; !bad && i <= to; i++)
			bad = t_put(sm, i, key, value, strlen(value)) != 0;
		sm_close(&sm);
		_exit(bad);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Reads key through t's reader at need; returns gw_local_get's code, the value into buf. */
static int t_get(struct t_ctx *t, const char *key, uint64_t need, char *buf, size_t cap,
                 struct gw_local_answer *a)
{
	int err = gw_local_get(&t->local, (const uint8_t *)key, (uint32_t)strlen(key), need, 0, a);
	if (err == 0 && buf != NULL) {
		assert_true(a->value_len < cap);
		memcpy(buf, a->value, a->value_len);
		buf[a->value_len] = '\0';
	}
	return err;
}

static void test_off_without_environment(void **state)
{
	struct t_ctx *t = *state;
	struct gw_local_answer a;
	assert_int_not_equal(t_get(t, "k", 0, NULL, 0, &a), 0); /* nothing there yet */
	struct gw_local off;
	assert_int_equal(gw_local_init(&off, ""), 0);
	assert_int_equal(gw_local_get(&off, (const uint8_t *)"k", 1, 0, 0, &a), KV_EUNAVAIL);
	gw_local_close(&off);
}

static void test_reads_committed_writes(void **state)
{
	struct t_ctx *t = *state;
	struct gw_local_answer a;
	char v[64];
	t_write(t->env.dir, 1, 3, "k", "one");
	assert_int_equal(t_get(t, "k", 0, v, sizeof(v), &a), 0);
	assert_string_equal(v, "one");
	assert_int_equal(a.applied_index, 3);
	assert_int_equal(a.create_index, 1);
	assert_int_equal(a.mod_index, 3);
	assert_int_equal(t_get(t, "absent", 3, NULL, 0, &a), 0);
	assert_false(a.exists);
	assert_int_equal(a.applied_index, 3);
	/* the environment stays open: a later commit shows in the next read */
	t_write(t->env.dir, 4, 4, "k", "two");
	assert_int_equal(t_get(t, "k", 4, v, sizeof(v), &a), 0);
	assert_string_equal(v, "two");
	assert_int_equal(a.applied_index, 4);
	assert_int_equal(t->local.reopens, 0);
}

static void test_refuses_index_above_applied(void **state)
{
	struct t_ctx *t = *state;
	struct gw_local_answer a;
	t_write(t->env.dir, 1, 5, "k", "five");
	assert_int_equal(t_get(t, "k", 5, NULL, 0, &a), 0);
	/* a read index storaged has not applied yet: storaged must answer (it waits) */
	assert_int_equal(t_get(t, "k", 6, NULL, 0, &a), KV_ESTALE);
	assert_int_equal(t_get(t, "k", 1000, NULL, 0, &a), KV_ESTALE);
	/* storaged answered at 7: a stale read here may not show 5 afterwards */
	gw_local_saw(&t->local, 7);
	assert_int_equal(t_get(t, "k", 0, NULL, 0, &a), KV_ESTALE);
	t_write(t->env.dir, 6, 7, "k", "seven");
	assert_int_equal(t_get(t, "k", 0, NULL, 0, &a), 0);
	assert_int_equal(a.applied_index, 7);
}

/* Installs, as storaged would, a snapshot at index `at` holding key=value over dir. */
static void t_install_snapshot(const struct ts_env *e, uint64_t at, const char *key,
                               const char *value)
{
	char other[160], snap[160];
	snprintf(other, sizeof(other), "%s/other", e->root);
	snprintf(snap, sizeof(snap), "%s/snap", e->root);
	t_write(other, 1, at, key, value);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sm *src = NULL, *dst = NULL;
		struct sm_snap_info info;
		int bad = t_open_writer(other, &src) != 0 || sm_snap_write(src, snap, &info) != 0;
		sm_close(&src);
		bad = bad || t_open_writer(e->dir, &dst) != 0 ||
		      sm_snap_install(dst, info.path, at, 1) != 0;
		sm_close(&dst);
		_exit(bad);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_follows_installed_snapshot(void **state)
{
	struct t_ctx *t = *state;
	struct gw_local_answer a;
	char v[64];
	t_write(t->env.dir, 1, 3, "k", "old");
	assert_int_equal(t_get(t, "k", 0, v, sizeof(v), &a), 0);
	assert_string_equal(v, "old");
	t_install_snapshot(&t->env, 9, "k", "new");
	/* the tick's check sees the new file; the next read opens it */
	assert_int_equal(gw_local_check(&t->local, 10), 1);
	assert_int_equal(t_get(t, "k", 0, v, sizeof(v), &a), 0);
	assert_string_equal(v, "new");
	assert_int_equal(a.applied_index, 9);
	assert_int_equal(t->local.reopens, 1);
	/* and again without the tick: a read index above the old file's state checks */
	t_install_snapshot(&t->env, 20, "k", "newer");
	assert_int_equal(t_get(t, "k", 15, v, sizeof(v), &a), 0);
	assert_string_equal(v, "newer");
	assert_int_equal(a.applied_index, 20);
	/* a stale read after storaged answered from a newer file: never the old one */
	t_install_snapshot(&t->env, 30, "k", "newest");
	gw_local_saw(&t->local, 30);
	assert_int_equal(t_get(t, "k", 0, v, sizeof(v), &a), 0);
	assert_string_equal(v, "newest");
	assert_int_equal(t->local.reopens, 3);
}

static void test_reads_after_map_growth(void **state)
{
	struct t_ctx *t = *state;
	struct gw_local_answer a;
	char v[64];
	t_write(t->env.dir, 1, 1, "k", "small");
	assert_int_equal(t_get(t, "k", 0, v, sizeof(v), &a), 0);
	uint64_t map_before = t->local.sm->map_bytes;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char big[T_BIG_BYTES];
		memset(big, 'x', sizeof(big));
		struct sm *sm = NULL;
		int bad = t_open_writer(t->env.dir, &sm) != 0;
		for (uint64_t i = 0; !bad && i < T_BIG_VALUES; i++) {
			char key[32];
			snprintf(key, sizeof(key), "big/%03llu", (unsigned long long)i);
			bad = t_put(sm, 2 + i, key, big, sizeof(big)) != 0;
		}
		bad = bad || t_put(sm, 2 + T_BIG_VALUES, "last", "grown", 5) != 0;
		bad = bad || sm->map_bytes <= T_MAP_BYTES;
		sm_close(&sm);
		_exit(bad);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(t_get(t, "last", 2 + T_BIG_VALUES, v, sizeof(v), &a), 0);
	assert_string_equal(v, "grown");
	assert_int_equal(t_get(t, "big/047", 0, NULL, 0, &a), 0);
	assert_int_equal(a.value_len, T_BIG_BYTES);
	assert_true(t->local.sm->map_bytes > map_before);
	assert_int_equal(t->local.reopens, 0); /* the same file, a larger map */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_off_without_environment, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_reads_committed_writes, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_index_above_applied, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_follows_installed_snapshot, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_reads_after_map_growth, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_sm_util.h - helpers shared by the state machine's unit tests
 * (test_sm*.c): a temporary directory per test for its LMDB environment, and
 * reading a key back as the gateway would (sm_read_get, its own read
 * transaction). Single-threaded test code; every helper fails the test on a
 * setup error.
 */
#ifndef RAFTKV_TEST_SM_UTIL_H
#define RAFTKV_TEST_SM_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kv_err.h"
#include "sm.h"

struct ts_env {
	char root[64]; /* the test's temporary directory: /tmp/NAME.XXXXXX */
	char dir[128]; /* root/kv: where sm_open creates the environment */
};

/* Makes e's temporary directory; name (a test's name) says whose it is. */
static inline void ts_env_make(struct ts_env *e, const char *name)
{
	int n = snprintf(e->root, sizeof(e->root), "/tmp/%s.XXXXXX", name);
	assert_true(n > 0 && (size_t)n < sizeof(e->root));
	assert_non_null(mkdtemp(e->root));
	n = snprintf(e->dir, sizeof(e->dir), "%s/kv", e->root);
	assert_true(n > 0 && (size_t)n < sizeof(e->dir));
}

static inline int ts_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Removes e's directory and all below it (the environment must be closed). */
static inline void ts_env_remove(struct ts_env *e)
{
	nftw(e->root, ts_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * 1 when key exists in sm, 0 when it does not. When it exists: its value,
 * NUL-terminated, into value (room for cap bytes; NULL: not wanted) and its
 * indexes into *create_index and *mod_index (NULL: not wanted).
 */
static inline int ts_get(struct sm *sm, const char *key, char *value, size_t cap,
                         uint64_t *create_index, uint64_t *mod_index)
{
	struct sm_buf v = {0};
	uint64_t ci = 0, mi = 0;
	int err = sm_read_get(sm, (const uint8_t *)key, (uint32_t)strlen(key), &v, &ci, &mi, NULL);
	assert_true(err == 0 || err == KV_ENOTFOUND);
	if (err == 0 && value != NULL) {
		assert_true(v.len < cap);
		if (v.len > 0)
			memcpy(value, v.ptr, v.len);
		value[v.len] = '\0';
	}
	if (create_index != NULL)
		*create_index = ci;
	if (mod_index != NULL)
		*mod_index = mi;
	sm_buf_free(&v);
	return err == 0;
}

#endif

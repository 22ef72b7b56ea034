/*
 * test_sm_snap_faults.c - a full disk (ENOSPC) and I/O errors (EIO) while
 * storaged copies an image for a follower and while a follower's storaged
 * installs one (libfiu points in sm_snap.c): the error is returned (storaged
 * answers it in SNAPSHOT_DONE / APPLY_STATE, raftd asks again), applying goes
 * on, no temporary or partial file is left or installed, and the retry gives
 * the follower the full state. Planted bug SM_BUG_IMAGE_ERROR_IGNORED makes
 * test_image_copy_faults fail (`make sm-bugs`).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "proto.h"
#include "sm.h"

#define FIU_ENABLE 1 /* the real fiu_init(), not fiu.h's no-op */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fiu-control.h>
#include <fiu.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T_MAP_BYTES (32u << 20)
#define T_KEYS      200u /* enough for an image of several pages */

struct t_node {
	char dir[160];
	struct sm *sm;
};

struct t_ctx {
	char root[64];
	char snap_dir[160];
	struct t_node leader, follower;
};

static int t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void t_node_open(struct t_ctx *t, struct t_node *n, const char *name)
{
	snprintf(n->dir, sizeof(n->dir), "%s/%s", t->root, name);
	struct sm_opts o = {.dir = n->dir, .map_bytes = T_MAP_BYTES};
	assert_int_equal(sm_open(&o, &n->sm), 0);
}

static int t_setup(void **state)
{
	struct t_ctx *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	strcpy(t->root, "/tmp/test_sm_snap.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->snap_dir, sizeof(t->snap_dir), "%s/snap", t->root);
	t_node_open(t, &t->leader, "kv");
	t_node_open(t, &t->follower, "kv2");
	assert_int_equal(fiu_init(0), 0);
	*state = t;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_ctx *t = *state;
	sm_close(&t->leader.sm);
	sm_close(&t->follower.sm);
	nftw(t->root, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* Applies PUT key=value at index in a batch of its own. */
static void t_put(struct t_node *n, uint64_t index, const char *key, const char *value)
{
	struct proto_buf b = {0};
	struct proto_kv_cmd kc = {.op = PROTO_KV_PUT,
	                          .origin = 1,
	                          .req_id = index,
	                          .key = {(const uint8_t *)key, (uint32_t)strlen(key)},
	                          .value = {(const uint8_t *)value, (uint32_t)strlen(value)}};
	assert_int_equal(proto_kv_cmd_encode(&kc, &b), 0);
	struct raft_entry e = {.term = 1,
	                       .index = index,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b.len,
	                       .data = b.ptr};
	struct sm_result r;
	uint32_t n_res = 0;
	memset(&r, 0, sizeof(r));
	assert_int_equal(sm_batch_apply(n->sm, &e, 1, &r, &n_res), 0);
	assert_int_equal(r.status, 0);
	proto_buf_free(&b);
}

static void t_expect(struct t_node *n, const char *key, const char *value)
{
	struct sm_buf v = {0};
	uint64_t ci = 0, mi = 0;
	int err =
	    sm_read_get(n->sm, (const uint8_t *)key, (uint32_t)strlen(key), &v, &ci, &mi, NULL);
	if (value == NULL) {
		assert_int_equal(err, KV_ENOTFOUND);
	} else {
		assert_int_equal(err, 0);
		assert_int_equal(v.len, strlen(value));
		assert_memory_equal(v.ptr, value, v.len);
	}
	sm_buf_free(&v);
}

/* The leader applies keys k1..kN at indexes 1..N. */
static void t_fill_leader(struct t_ctx *t)
{
	char key[32];
	for (uint64_t i = 1; i <= T_KEYS; i++) {
		snprintf(key, sizeof(key), "k%llu", (unsigned long long)i);
		t_put(&t->leader, i, key, key);
	}
}

/* Files in dir (0 when dir does not exist). */
static int t_count_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (d == NULL)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Every key the leader applied, with its value, on the follower. */
static void t_expect_full_state(struct t_ctx *t, uint64_t index)
{
	char key[32];
	assert_int_equal(t->follower.sm->applied_index, index);
	for (uint64_t i = 1; i <= T_KEYS; i++) {
		snprintf(key, sizeof(key), "k%llu", (unsigned long long)i);
		t_expect(&t->follower, key, key);
	}
}

static const struct t_fault {
	const char *point;
	int err;
	int want;
} t_copy_faults[] = {
    {"storaged/snap/copy", ENOSPC, KV_ENOSPC},
    {"storaged/snap/copy", EIO, KV_EIO},
    {"storaged/snap/fsync", EIO, KV_EIO},
    {"storaged/snap/fsync", ENOSPC, KV_ENOSPC},
};

static void test_image_copy_faults(void **state)
{
	struct t_ctx *t = *state;
	struct sm_snap_info info;
	uint64_t index = T_KEYS;
	t_fill_leader(t);
	for (size_t i = 0; i < sizeof(t_copy_faults) / sizeof(t_copy_faults[0]); i++) {
		const struct t_fault *f = &t_copy_faults[i];
		assert_int_equal(fiu_enable(f->point, f->err, NULL, 0), 0);
		memset(&info, 0, sizeof(info));
		int err = sm_snap_write(t->leader.sm, t->snap_dir, &info);
		fiu_disable(f->point);
		if (err != f->want)
			fail_msg("%s with %s: sm_snap_write returned %s, want %s", f->point,
			         strerror(f->err), kv_strerror(err), kv_strerror(f->want));
		/* no image named, and the temporary file is gone */
		assert_int_equal(t_count_files(t->snap_dir), 0);
		/* the leader keeps applying */
		t_put(&t->leader, ++index, "during", "faults");
	}
	/* the retry: a complete image of everything applied, which a follower installs */
	assert_int_equal(sm_snap_write(t->leader.sm, t->snap_dir, &info), 0);
	assert_int_equal(info.index, index);
	assert_int_equal(t_count_files(t->snap_dir), 1);
	assert_int_equal(sm_snap_install(t->follower.sm, info.path, info.index, info.term), 0);
	t_expect_full_state(t, index);
	t_expect(&t->follower, "during", "faults");
	printf("checked: ENOSPC and EIO in the image copy and its fsync: error returned, "
	       "no file left, applying goes on, the retry installs the full state\n");
}

/* Writes the first half of src to dst: what a copy cut short leaves. */
static void t_write_half(const char *src, const char *dst)
{
	struct stat st;
	assert_int_equal(stat(src, &st), 0);
	size_t half = (size_t)st.st_size / 2;
	char *buf = malloc(half);
	assert_non_null(buf);
	int in = open(src, O_RDONLY);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(in >= 0 && out >= 0);
	assert_int_equal(read(in, buf, half), (ssize_t)half);
	assert_int_equal(write(out, buf, half), (ssize_t)half);
	close(in);
	close(out);
	free(buf);
}

static void test_image_install_faults(void **state)
{
	struct t_ctx *t = *state;
	struct sm_snap_info info;
	char partial[256];
	static const int errs[] = {EIO, ENOSPC};
	t_fill_leader(t);
	assert_int_equal(sm_snap_write(t->leader.sm, t->snap_dir, &info), 0);
	t_put(&t->follower, 1, "old", "state");
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		assert_int_equal(fiu_enable("storaged/snap/install", errs[i], NULL, 0), 0);
		int err = sm_snap_install(t->follower.sm, info.path, info.index, info.term);
		fiu_disable("storaged/snap/install");
		assert_int_equal(err, kv_err_from_errno(errs[i]));
		/* nothing replaced: the old state, still applying; the image kept for a retry */
		assert_int_equal(t->follower.sm->applied_index, 1 + i);
		t_expect(&t->follower, "old", "state");
		t_expect(&t->follower, "k1", NULL);
		assert_int_equal(access(info.path, F_OK), 0);
		t_put(&t->follower, 2 + i, "old", "state");
	}
	/* a partial image (a transfer or a copy cut short) is refused, nothing replaced */
	snprintf(partial, sizeof(partial), "%s/partial.mdb", t->snap_dir);
	t_write_half(info.path, partial);
	assert_int_not_equal(sm_snap_install(t->follower.sm, partial, info.index, info.term), 0);
	t_expect(&t->follower, "old", "state");
	t_expect(&t->follower, "k1", NULL);
	unlink(partial);
	/* the retry installs the full state */
	assert_int_equal(sm_snap_install(t->follower.sm, info.path, info.index, info.term), 0);
	t_expect_full_state(t, info.index);
	t_expect(&t->follower, "old", NULL);
	printf("checked: EIO and ENOSPC while installing: error returned, old state kept and "
	       "applying, a half image refused, the retry installs the full state\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_image_copy_faults, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_image_install_faults, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

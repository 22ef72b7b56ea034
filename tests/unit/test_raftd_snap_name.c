/*
 * test_raftd_snap_name.c - raftd reads, sends and deletes only images in its
 * own snapshot directory (raftd_snap_name.h), whatever path a SNAPSHOT_DONE
 * names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "raftd_snap_name.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct t_dirs {
	char root[64];
	char snap[128];  /* root/node/snap, as raftd spells it */
	char other[128]; /* root/other, a directory beside it */
};

static int t_setup(void **state)
{
	struct t_dirs *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "/tmp/raftkv-snapname.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	char node[96];
	snprintf(node, sizeof(node), "%s/node", t->root);
	snprintf(t->snap, sizeof(t->snap), "%s/node/snap", t->root);
	snprintf(t->other, sizeof(t->other), "%s/other", t->root);
	assert_int_equal(mkdir(node, 0700), 0);
	assert_int_equal(mkdir(t->snap, 0700), 0);
	assert_int_equal(mkdir(t->other, 0700), 0);
	*state = t;
	return 0;
}

static int t_teardown(void **state)
{
	struct t_dirs *t = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->root);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static int t_ok(const struct t_dirs *t, const char *fmt, const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), fmt, dir);
	return raftd_snap_name_ok(t->snap, path);
}

static void test_own_images_accepted(void **state)
{
	struct t_dirs *t = *state;
	assert_int_equal(t_ok(t, "%s/snapshot-817.mdb", t->snap), 1);
	assert_int_equal(t_ok(t, "%s/snapshot-817-2.mdb", t->snap), 1);
	/* storaged spells the directory its own way (absolute, through ..): same inode */
	char other_spelling[160];
	snprintf(other_spelling, sizeof(other_spelling), "%s/node/../node/snap", t->root);
	assert_int_equal(t_ok(t, "%s/snapshot-9.mdb", other_spelling), 1);
	printf("snapshot-*.mdb in the snapshot directory, however spelled: accepted\n");
}

static void test_other_paths_refused(void **state)
{
	struct t_dirs *t = *state;
	assert_int_equal(t_ok(t, "%s/snapshot-817.mdb", t->other), 0); /* another directory */
	assert_int_equal(t_ok(t, "%s/../snapshot-817.mdb", t->snap), 0);
	assert_int_equal(t_ok(t, "%s/data.mdb", t->snap), 0);      /* not an image name */
	assert_int_equal(t_ok(t, "%s/incoming.tmp", t->snap), 0);  /* raftd's own file */
	assert_int_equal(t_ok(t, "%s/backup-3.mdb", t->snap), 0);  /* storaged's backups */
	assert_int_equal(t_ok(t, "%s/snapshot-.mdb", t->snap), 0); /* nothing between */
	assert_int_equal(t_ok(t, "%s/snapshot-1.mdbx", t->snap), 0);
	assert_int_equal(t_ok(t, "%s/missing/snapshot-1.mdb", t->snap), 0);
	assert_int_equal(raftd_snap_name_ok(t->snap, "snapshot-1.mdb"), 0); /* no directory */
	assert_int_equal(raftd_snap_name_ok(t->snap, "/snapshot-1.mdb"), 0);
	assert_int_equal(raftd_snap_name_ok(t->snap, "/etc/passwd"), 0);
	assert_int_equal(raftd_snap_name_ok(t->snap, ""), 0);
	printf("other directories, other names, no directory: refused\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_own_images_accepted, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_other_paths_refused, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

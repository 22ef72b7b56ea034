/*
 * test_raftd_identity.c - raftd's identity file (raftd_identity.c): a new
 * WAL (or one seeded by a restore) gets an incarnation that survives
 * restarts, a damaged file is refused, the cluster id is adopted from
 * the first leader's message and kept, and messages from another cluster
 * are dropped and counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fresh_dir(struct raftd *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->wal_dir, sizeof(d->wal_dir), "/tmp/test_raftd_identity.XXXXXX");
	assert_non_null(mkdtemp(d->wal_dir));
}

static void remove_dir(const struct raftd *d)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/identity", d->wal_dir);
	unlink(path);
	rmdir(d->wal_dir);
}

static void write_file(const struct raftd *d, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/identity", d->wal_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_new_wal_gets_a_lasting_incarnation(void **state)
{
	struct raftd d, again;
	uint64_t first;

	fresh_dir(&d);
	assert_int_equal(raftd_identity_load(&d, 1), 0);
	assert_int_not_equal(d.incarnation, 0);
	assert_int_equal(d.cluster_id, 0);
	first = d.incarnation;
	again = d;
	again.incarnation = 0;
	assert_int_equal(raftd_identity_load(&again, 0), 0); /* a restart: the same one */
	assert_int_equal(again.incarnation, first);
	remove_dir(&d);
	fresh_dir(&d);
	assert_int_equal(raftd_identity_load(&d, 1), 0);
	assert_int_not_equal(d.incarnation, first); /* a wiped directory: another one */
	printf("incarnation %llu kept across a restart; a new directory drew %llu\n",
	       (unsigned long long)first, (unsigned long long)d.incarnation);
	remove_dir(&d);
}

static void test_missing_or_damaged_identity_refused(void **state)
{
	struct raftd d;

	fresh_dir(&d);
	assert_int_equal(raftd_identity_load(&d, 0), 0); /* state, no identity: a restore */
	assert_int_not_equal(d.incarnation, 0);
	write_file(&d, "raftkv-identity 1\nincarnation 0\ncluster 5\n");
	assert_int_equal(raftd_identity_load(&d, 1), KV_ECORRUPT);
	write_file(&d, "garbage");
	assert_int_equal(raftd_identity_load(&d, 1), KV_ECORRUPT);
	write_file(&d, "");
	assert_int_equal(raftd_identity_load(&d, 1), KV_ECORRUPT);
	printf("a WAL with state but no identity gets a new incarnation; incarnation 0, garbage "
	       "and an empty file: KV_ECORRUPT\n");
	remove_dir(&d);
}

static void test_cluster_id_adopted_and_others_dropped(void **state)
{
	struct raftd d;
	struct raft_msg m = {.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 1};

	fresh_dir(&d);
	assert_int_equal(raftd_identity_load(&d, 1), 0);
	m.cluster = 0; /* a brand-new cluster's first messages carry none */
	assert_int_equal(raftd_identity_accept(&d, &m), 1);
	assert_int_equal(d.cluster_id, 0);
	m.type = RAFT_MSG_VOTE;
	m.cluster = 77; /* only a leader's APPEND or SNAPSHOT makes us adopt */
	assert_int_equal(raftd_identity_accept(&d, &m), 1);
	assert_int_equal(d.cluster_id, 0);
	m.type = RAFT_MSG_APPEND;
	assert_int_equal(raftd_identity_accept(&d, &m), 1);
	assert_int_equal(d.cluster_id, 77);
	m.cluster = 78;
	assert_int_equal(raftd_identity_accept(&d, &m), 0);
	assert_int_equal(d.other_cluster_msgs, 1);
	m.cluster = 0;
	assert_int_equal(raftd_identity_accept(&d, &m), 1);
	d.cluster_id = 0;
	assert_int_equal(raftd_identity_load(&d, 0), 0);
	assert_int_equal(d.cluster_id, 77); /* kept on disk */
	printf("cluster 77 adopted from an APPEND and kept; cluster 78 dropped and counted\n");
	remove_dir(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_wal_gets_a_lasting_incarnation),
	    cmocka_unit_test(test_missing_or_damaged_identity_refused),
	    cmocka_unit_test(test_cluster_id_adopted_and_others_dropped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

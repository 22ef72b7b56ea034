/*
 * test_kv_sockdir.c - the private ipc:// socket directory check: created
 * 0700 with its parents, an existing private one accepted, a group- or
 * other-accessible one, a file and a symlink refused with a sentence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "kv_sockdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_sockdir(void **state)
{
	char base[] = "/tmp/test_sockdirXXXXXX", dir[128], why[512], link[128];
	struct stat st;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/a/b/sock", base);
	assert_int_equal(kv_sockdir_check(dir, why, sizeof(why)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(kv_sockdir_check(dir, why, sizeof(why)), 0); /* exists: fine */
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(kv_sockdir_check(dir, why, sizeof(why)), KV_EINVAL);
	assert_non_null(strstr(why, "chmod 700"));
	assert_int_equal(chmod(dir, 0701), 0);
	assert_int_equal(kv_sockdir_check(dir, why, sizeof(why)), KV_EINVAL);
	assert_int_equal(chmod(dir, 0700), 0);
	snprintf(link, sizeof(link), "%s/link", base);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(kv_sockdir_check(link, why, sizeof(why)), KV_EINVAL);
	assert_non_null(strstr(why, "not a directory"));
	unlink(link);
	snprintf(link, sizeof(link), "%s/file", base);
	fclose(fopen(link, "w"));
	assert_true(kv_sockdir_check(link, why, sizeof(why)) < 0);
	unlink(link);
	if (geteuid() == 0) { /* root can give the directory away */
		assert_int_equal(chown(dir, 12345, 12345), 0);
		assert_int_equal(kv_sockdir_check(dir, why, sizeof(why)), KV_EINVAL);
		assert_non_null(strstr(why, "owned by uid 12345"));
	}
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a/b", base);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a", base);
	rmdir(dir);
	rmdir(base);
	printf("checked: created 0700 with parents; 0750, 0701, a symlink, a file%s refused\n",
	       geteuid() == 0 ? " and another uid's directory" : "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_sockdir)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

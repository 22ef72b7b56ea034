/*
 * test_raftd_curve_keys.c - raftd's Curve key material: the --peer-keys and
 * --peer-keys-file allow-list parser (accepted forms, every rejected form,
 * limits), lookup by id and by binary key, the secret key file (mode and
 * content checks) and the loopback test behind --insecure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd_curve_keys.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static char pub[4][41], sec[4][41];

static int setup(void **state)
{
	for (int i = 0; i < 4; i++)
		if (zmq_curve_keypair(pub[i], sec[i]) != 0)
			return -1;
	return 0;
}

static void test_list_and_file_forms(void **state)
{
	struct raftd_peer_keys k;
	char text[1024], err[256];
	snprintf(text, sizeof(text), "1=%s,2=%s,3=%s", pub[0], pub[1], pub[2]);
	assert_int_equal(raftd_curve_keys_parse(text, ',', &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, 3);
	assert_int_equal(k.keys[2].id, 3);
	assert_string_equal(k.keys[1].z85, pub[1]);
	snprintf(text, sizeof(text), "# raftkv peer keys\n\n1 %s\n  # node two\n  2\t%s   \n3 %s",
	         pub[0], pub[1], pub[2]);
	assert_int_equal(raftd_curve_keys_parse(text, '\n', &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, 3);
	assert_string_equal(k.keys[1].z85, pub[1]);
	uint8_t bin[32];
	assert_non_null(zmq_z85_decode(bin, pub[2]));
	assert_int_equal(raftd_curve_keys_lookup(&k, bin), 3);
	assert_non_null(zmq_z85_decode(bin, pub[3]));
	assert_int_equal(raftd_curve_keys_lookup(&k, bin), 0);
	assert_string_equal(raftd_curve_keys_find(&k, 2)->z85, pub[1]);
	assert_null(raftd_curve_keys_find(&k, 4));
	/* '#' is a Z85 digit: a key holding one is a key, not a comment */
	const char *hashed = "tYRi@kP]]HHFq&H@#?+1w7BgcS@%H:LWVdrl5ZmZ";
	snprintf(text, sizeof(text), "1 %s\n", hashed);
	assert_int_equal(raftd_curve_keys_parse(text, '\n', &k, err, sizeof(err)), 0);
	assert_string_equal(k.keys[0].z85, hashed);
	printf("checked: list and file forms (comment lines, blank lines, tabs, keys holding '#'), "
	       "lookup by id and key\n");
}

static void expect_reject(const char *text, char sep, int want_rc, const char *want_in_err)
{
	struct raftd_peer_keys k;
	char err[256] = "";
	assert_int_equal(raftd_curve_keys_parse(text, sep, &k, err, sizeof(err)), want_rc);
	if (strstr(err, want_in_err) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", text, err, want_in_err);
}

static void test_rejects(void **state)
{
	char text[1024];
	expect_reject("", ',', KV_EINVAL, "no node");
	expect_reject("# only a comment\n", '\n', KV_EINVAL, "no node");
	snprintf(text, sizeof(text), "0=%s", pub[0]);
	expect_reject(text, ',', KV_EINVAL, "the id must be");
	snprintf(text, sizeof(text), "65536=%s", pub[0]);
	expect_reject(text, ',', KV_EINVAL, "the id must be");
	snprintf(text, sizeof(text), "x=%s", pub[0]);
	expect_reject(text, ',', KV_EINVAL, "does not start with a node id");
	snprintf(text, sizeof(text), "1:%s", pub[0]);
	expect_reject(text, ',', KV_EINVAL, "the id must be");
	expect_reject("1=short", ',', KV_EINVAL, "not a 40-character Z85");
	snprintf(text, sizeof(text), "1=%.39s~", pub[0]); /* '~' is not Z85 */
	expect_reject(text, ',', KV_EINVAL, "not a 40-character Z85");
	snprintf(text, sizeof(text), "1=%sA", pub[0]);
	expect_reject(text, ',', KV_EINVAL, "not a 40-character Z85");
	snprintf(text, sizeof(text), "1 %s extra", pub[0]);
	expect_reject(text, '\n', KV_EINVAL, "not a 40-character Z85");
	snprintf(text, sizeof(text), "1=%s,1=%s", pub[0], pub[1]);
	expect_reject(text, ',', KV_EINVAL, "appears twice");
	snprintf(text, sizeof(text), "1=%s,2=%s", pub[0], pub[0]);
	expect_reject(text, ',', KV_EINVAL, "appears twice");
	printf("checked: empty, id 0, id over the limit, no id, bad separator, short, non-Z85, "
	       "long and two-word keys, duplicate ids and duplicate keys are refused\n");
}

static void test_limits(void **state)
{
	char text[RAFTD_CURVE_KEYS_TEXT_MAX + 64];
	size_t len = 0;
	for (int i = 1; i <= (int)RAFT_NODES_MAX + 1; i++) {
		char p[41], s[41];
		assert_int_equal(zmq_curve_keypair(p, s), 0);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%d=%s", i > 1 ? "," : "",
		                        i, p);
	}
	expect_reject(text, ',', KV_ETOOLARGE, "more than");
	memset(text, ' ', RAFTD_CURVE_KEYS_TEXT_MAX);
	text[RAFTD_CURVE_KEYS_TEXT_MAX] = '\0';
	expect_reject(text, ',', KV_ETOOLARGE, "longer than");
	printf("checked: more than RAFT_NODES_MAX keys and over-long text are refused\n");
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_secret_file(void **state)
{
	char dir[] = "/tmp/test_curve_keysXXXXXX", path[64], z85[41], err[256], text[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/curve.key", dir);
	snprintf(text, sizeof(text), "%s\n", sec[0]);
	write_file(path, text, 0600);
	assert_int_equal(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)), 0);
	assert_string_equal(z85, sec[0]);
	write_file(path, text, 0644); /* others may read */
	assert_int_equal(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)), KV_EINVAL);
	assert_non_null(strstr(err, "chmod 600"));
	write_file(path, text, 0660); /* the group may write */
	assert_int_equal(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)), KV_EINVAL);
	write_file(path, text, 0640);
	if (geteuid() == 0) {
		/* root:own group 0640, as a Kubernetes Secret with fsGroup: accepted */
		assert_int_equal(chown(path, 0, getegid()), 0);
		assert_int_equal(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)), 0);
		/* root:another group 0640: refused */
		assert_int_equal(chown(path, 0, getegid() + 4321), 0);
		assert_int_equal(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)),
		                 KV_EINVAL);
	} else {
		/* group-readable but not owned by root: refused */
		assert_int_equal(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)),
		                 KV_EINVAL);
	}
	write_file(path, "not a key\n", 0600);
	assert_int_equal(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)), KV_EINVAL);
	assert_non_null(strstr(err, "Z85 secret key"));
	unlink(path);
	assert_true(raftd_curve_keys_read_secret(path, z85, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot stat"));
	assert_true(raftd_curve_keys_read_secret(dir, z85, err, sizeof(err)) < 0);
	rmdir(dir);
	printf("checked: secret file read (0600; root:own group 0640); other-readable, "
	       "group-writable, "
	       "another group, garbage, missing and directory refused\n");
}

static void test_loopback(void **state)
{
	assert_true(raftd_curve_endpoint_is_loopback("tcp://127.0.0.1:7001"));
	assert_true(raftd_curve_endpoint_is_loopback("tcp://127.10.20.30:7001"));
	assert_true(raftd_curve_endpoint_is_loopback("tcp://localhost:7001"));
	assert_true(raftd_curve_endpoint_is_loopback("tcp://[::1]:7001"));
	assert_false(raftd_curve_endpoint_is_loopback("tcp://0.0.0.0:7001"));
	assert_false(raftd_curve_endpoint_is_loopback("tcp://[::]:7001"));
	assert_false(raftd_curve_endpoint_is_loopback("tcp://10.0.0.1:7001"));
	assert_false(raftd_curve_endpoint_is_loopback("tcp://127.0.0.1.evil.com:7001"));
	assert_false(raftd_curve_endpoint_is_loopback("tcp://*:7001"));
	assert_false(raftd_curve_endpoint_is_loopback("tcp://eth0:7001"));
	assert_false(raftd_curve_endpoint_is_loopback("ipc:///tmp/x"));
	printf("checked: loopback endpoints recognised; wildcard, other addresses and names not\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_and_file_forms),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_secret_file),
	    cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

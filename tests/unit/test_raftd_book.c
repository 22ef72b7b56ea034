/*
 * test_raftd_book.c - the address book (raftd_book.c): the address part of
 * a CONFIG entry and the whole book round trip, and every hostile variant
 * (each truncation, lengths past the bytes or their bound, trailing bytes,
 * bad addresses and keys, duplicate ids) is refused; the file
 * <dir>/members round trips and a torn, flipped or foreign file is refused
 * with a sentence saying so; a full book makes room only from non-members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "raftd_book.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A valid Z85 public key (raftkvctl keygen's form). */
#define T_KEY "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"

static struct raftd_book_entry t_entry(uint64_t id, const char *addr, const char *url,
                                       const char *key)
{
	struct raftd_book_entry e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	snprintf(e.peer_address, sizeof(e.peer_address), "%s", addr);
	snprintf(e.url, sizeof(e.url), "%s", url);
	snprintf(e.curve_key, sizeof(e.curve_key), "%s", key);
	return e;
}

/* An ADD_LEARNER CONFIG entry's data for e: the core's 18 bytes, then the address part. */
static uint32_t t_add_entry(const struct raftd_book_entry *e, uint8_t op, uint8_t *out, size_t cap)
{
	struct raft_config_change ch = {.op = op, .node = e->id};
	raft_config_change_encode(&ch, out);
	int n = raftd_book_config_encode(e, out + RAFT_CONFIG_CHANGE_BYTES,
	                                 cap - RAFT_CONFIG_CHANGE_BYTES);
	assert_true(n > 0);
	return RAFT_CONFIG_CHANGE_BYTES + (uint32_t)n;
}

static void test_entry_check(void **state)
{
	(void)state;
	struct raftd_book_entry ok = t_entry(4, "10.0.0.4:7004", "http://10.0.0.4:8004", T_KEY);
	assert_int_equal(raftd_book_entry_check(&ok), 0);
	const struct raftd_book_entry bad[] = {
	    t_entry(0, "a:1", "", ""),
	    t_entry(65536, "a:1", "", ""),
	    t_entry(4, "", "", ""),
	    t_entry(4, "a", "", ""),
	    t_entry(4, "a:0", "", ""),
	    t_entry(4, "a:65536", "", ""),
	    t_entry(4, "a b:1", "", ""),
	    t_entry(4, "-a:1", "", ""),
	    t_entry(4, "a:1", "http://x y", ""),
	    t_entry(4, "a:1", "", "short"),
	    t_entry(4, "a:1", "", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf "),
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(raftd_book_entry_check(&bad[i]), KV_EINVAL);
	print_message("entry: id 1..65535, host:port as --peers, printable URL, Z85 key or none; "
	              "%zu bad entries refused\n",
	              sizeof(bad) / sizeof(bad[0]));
}

static void test_config_entry_round_trip_and_hostile(void **state)
{
	(void)state;
	uint8_t data[RAFT_CONFIG_CHANGE_BYTES + RAFTD_BOOK_ENTRY_BYTES_MAX + 8];
	struct raftd_book_entry got, e = t_entry(7, "[::1]:7007", "https://n7.example:8443", T_KEY);
	uint32_t len = t_add_entry(&e, RAFT_CONFIG_ADD_LEARNER, data, sizeof(data));

	assert_int_equal(raftd_book_config_decode(data, len, &got), 0);
	assert_memory_equal(&got, &e, sizeof(e));
	/* the core's own changes (18 bytes) carry no address */
	assert_int_equal(raftd_book_config_decode(data, RAFT_CONFIG_CHANGE_BYTES, &got),
	                 KV_ENOTFOUND);
	/* every truncation inside the address part, and one byte too many */
	for (uint32_t cut = RAFT_CONFIG_CHANGE_BYTES + 1; cut < len; cut++)
		assert_int_equal(raftd_book_config_decode(data, cut, &got), KV_EPROTO);
	data[len] = 0;
	assert_int_equal(raftd_book_config_decode(data, len + 1, &got), KV_EPROTO);
	assert_int_equal(got.id, 0); /* nothing half-decoded is left */
	/* an address part after another op */
	uint32_t plen = t_add_entry(&e, RAFT_CONFIG_PROMOTE, data, sizeof(data));
	assert_int_equal(raftd_book_config_decode(data, plen, &got), KV_EPROTO);
	/* lengths that lie: address length 0xff00 (past the bytes and its bound), URL 0xffff */
	len = t_add_entry(&e, RAFT_CONFIG_ADD_LEARNER, data, sizeof(data));
	data[RAFT_CONFIG_CHANGE_BYTES] = 0xff;
	assert_int_equal(raftd_book_config_decode(data, len, &got), KV_EPROTO);
	len = t_add_entry(&e, RAFT_CONFIG_ADD_LEARNER, data, sizeof(data));
	size_t url_at = RAFT_CONFIG_CHANGE_BYTES + 2 + strlen(e.peer_address);
	data[url_at] = 0xff, data[url_at + 1] = 0xff;
	assert_int_equal(raftd_book_config_decode(data, len, &got), KV_EPROTO);
	/* a NUL inside the address, a bad host, a key that is not Z85 */
	len = t_add_entry(&e, RAFT_CONFIG_ADD_LEARNER, data, sizeof(data));
	data[RAFT_CONFIG_CHANGE_BYTES + 3] = '\0';
	assert_int_equal(raftd_book_config_decode(data, len, &got), KV_EPROTO);
	len = t_add_entry(&e, RAFT_CONFIG_ADD_LEARNER, data, sizeof(data));
	data[RAFT_CONFIG_CHANGE_BYTES + 3] = ' ';
	assert_int_equal(raftd_book_config_decode(data, len, &got), KV_EPROTO);
	len = t_add_entry(&e, RAFT_CONFIG_ADD_LEARNER, data, sizeof(data));
	data[len - 1] = ' ';
	assert_int_equal(raftd_book_config_decode(data, len, &got), KV_EPROTO);
	/* no valid entry can be encoded into less than it needs */
	assert_int_equal(raftd_book_config_encode(&e, data, 10), KV_ETOOLARGE);
	struct raftd_book_entry bad = t_entry(7, "nope", "", "");
	assert_int_equal(raftd_book_config_encode(&bad, data, sizeof(data)), KV_EINVAL);
	print_message("CONFIG address part: round trips; 18 bytes carry none; every truncation, "
	              "a trailing byte, lying lengths, NUL, bad host, bad key and a part after "
	              "PROMOTE refused\n");
}

static struct raftd_book t_book3(void)
{
	struct raftd_book b = {0};
	struct raftd_book_entry e1 = t_entry(1, "127.0.0.1:7001", "http://127.0.0.1:4001", "");
	struct raftd_book_entry e2 = t_entry(2, "node-2.raftkv:7001", "", T_KEY);
	struct raftd_book_entry e9 = t_entry(9, "[fe80::1]:7009", "http://[fe80::1]:4009", "");
	assert_int_equal(raftd_book_put(&b, &e1, NULL), 1);
	assert_int_equal(raftd_book_put(&b, &e2, NULL), 1);
	assert_int_equal(raftd_book_put(&b, &e9, NULL), 1);
	return b;
}

static void test_book_round_trip_and_hostile(void **state)
{
	(void)state;
	static uint8_t buf[RAFTD_BOOK_BYTES_MAX + 8];
	struct raftd_book got, b = t_book3();
	int n = raftd_book_encode(&b, buf, sizeof(buf));

	assert_true(n > 0);
	assert_int_equal(raftd_book_decode(buf, (size_t)n, &got), 0);
	assert_memory_equal(&got, &b, sizeof(b));
	for (int cut = 0; cut < n; cut++)
		assert_int_equal(raftd_book_decode(buf, (size_t)cut, &got), KV_EPROTO);
	assert_int_equal(got.n, 0);
	assert_int_equal(raftd_book_decode(buf, (size_t)n + 1, &got), KV_EPROTO);
	buf[0] = RAFTD_BOOK_MAX + 1; /* a count past the bound */
	assert_int_equal(raftd_book_decode(buf, (size_t)n, &got), KV_EPROTO);
	/* the same id twice */
	struct raftd_book dup = b;
	dup.entries[2].id = dup.entries[0].id;
	n = raftd_book_encode(&dup, buf, sizeof(buf));
	assert_int_equal(raftd_book_decode(buf, (size_t)n, &got), KV_EPROTO);
	/* the largest book fits its bound and the SNAPSHOT field */
	struct raftd_book big = {0};
	char url[PROTO_URL_BYTES_MAX + 1];
	memset(url, 'u', PROTO_URL_BYTES_MAX);
	url[PROTO_URL_BYTES_MAX] = '\0';
	char host[RAFTD_HOST_BYTES_MAX + 8];
	memset(host, 'h', RAFTD_HOST_BYTES_MAX);
	snprintf(host + RAFTD_HOST_BYTES_MAX, 8, ":65535");
	for (uint64_t id = 1; id <= RAFTD_BOOK_MAX; id++) {
		struct raftd_book_entry e = t_entry(id, host, url, T_KEY);
		assert_int_equal(raftd_book_put(&big, &e, NULL), 1);
	}
	n = raftd_book_encode(&big, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n <= RAFTD_BOOK_BYTES_MAX);
	assert_int_equal(raftd_book_decode(buf, (size_t)n, &got), 0);
	assert_int_equal(raftd_book_encode(&big, buf, (size_t)n - 1), KV_ETOOLARGE);
	print_message("book: round trips; every truncation, a trailing byte, a count past %u "
	              "and a duplicate id refused; the largest is %d bytes (bound %u)\n",
	              RAFTD_BOOK_MAX, n, RAFTD_BOOK_BYTES_MAX);
}

static void test_put_replaces_and_makes_room(void **state)
{
	(void)state;
	struct raftd_book b = {0};
	struct raft_config members = {0};
	struct raftd_book_entry e = t_entry(1, "a:1", "", "");

	assert_int_equal(raftd_book_put(&b, &e, NULL), 1);
	assert_int_equal(raftd_book_put(&b, &e, NULL), 0); /* already there */
	snprintf(e.peer_address, sizeof(e.peer_address), "b:2");
	assert_int_equal(raftd_book_put(&b, &e, NULL), 1);
	assert_int_equal(b.n, 1);
	assert_string_equal(raftd_book_get(&b, 1)->peer_address, "b:2");
	for (uint64_t id = 2; id <= RAFTD_BOOK_MAX; id++) {
		e = t_entry(id, "c:3", "", "");
		assert_int_equal(raftd_book_put(&b, &e, NULL), 1);
	}
	/* full: members 1..9 are kept, the first non-member (10) makes room */
	members.n = RAFT_NODES_MAX;
	for (uint32_t i = 0; i < members.n; i++)
		members.members[i] = (struct raft_member){.id = i + 1, .role = RAFT_VOTER};
	e = t_entry(100, "d:4", "", "");
	assert_int_equal(raftd_book_put(&b, &e, &members), 1);
	assert_null(raftd_book_get(&b, 10));
	assert_non_null(raftd_book_get(&b, 100));
	for (uint64_t id = 1; id <= RAFT_NODES_MAX; id++)
		assert_non_null(raftd_book_get(&b, id));
	e = t_entry(0, "e:5", "", "");
	assert_int_equal(raftd_book_put(&b, &e, NULL), KV_EINVAL);
	print_message("put: replaces by id, says when nothing changed; a full book drops a "
	              "non-member only; a bad entry is refused\n");
}

static void t_dir(char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/test_raftd_book.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void t_rm(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/members", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/members.tmp", dir);
	unlink(path);
	rmdir(dir);
}

static long t_file_size(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/members", dir);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/* Rewrites the file: cut to len bytes, or (flip >= 0) with byte flip inverted. */
static void t_damage(const char *dir, long len, long flip)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/members", dir);
	if (flip >= 0) {
		int fd = open(path, O_RDWR);
		uint8_t c;
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &c, 1, flip), 1);
		c ^= 0xff;
		assert_int_equal(pwrite(fd, &c, 1, flip), 1);
		close(fd);
	} else {
		assert_int_equal(truncate(path, len), 0);
	}
}

static void test_file_round_trip_and_damage(void **state)
{
	(void)state;
	char dir[64], err[PATH_MAX + 128];
	struct raftd_book got, b = t_book3();

	t_dir(dir, sizeof(dir));
	assert_int_equal(raftd_book_load(dir, &got, err, sizeof(err)), KV_ENOTFOUND);
	assert_int_equal(raftd_book_save(dir, &b), 0);
	assert_int_equal(raftd_book_load(dir, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got, &b, sizeof(b));
	long size = t_file_size(dir);
	/* torn: every shorter length */
	for (long len = 0; len < size; len++) {
		assert_int_equal(raftd_book_save(dir, &b), 0);
		t_damage(dir, len, -1);
		assert_int_equal(raftd_book_load(dir, &got, err, sizeof(err)), KV_ECORRUPT);
		assert_int_equal(got.n, 0);
	}
	print_message("torn file refused: \"%s\"\n", err);
	/* any flipped byte */
	for (long at = 0; at < size; at++) {
		assert_int_equal(raftd_book_save(dir, &b), 0);
		t_damage(dir, 0, at);
		assert_int_equal(raftd_book_load(dir, &got, err, sizeof(err)), KV_ECORRUPT);
	}
	print_message("flipped byte refused: \"%s\"\n", err);
	assert_non_null(strstr(err, "members"));
	/* the book saved over a damaged file is whole again */
	assert_int_equal(raftd_book_save(dir, &b), 0);
	assert_int_equal(raftd_book_load(dir, &got, err, sizeof(err)), 0);
	assert_int_equal(got.n, 3);
	t_rm(dir);
	print_message("file: round trips; each of %ld truncations and %ld flipped bytes is "
	              "refused with KV_ECORRUPT\n",
	              size, size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entry_check),
	    cmocka_unit_test(test_config_entry_round_trip_and_hostile),
	    cmocka_unit_test(test_book_round_trip_and_hostile),
	    cmocka_unit_test(test_put_replaces_and_makes_room),
	    cmocka_unit_test(test_file_round_trip_and_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

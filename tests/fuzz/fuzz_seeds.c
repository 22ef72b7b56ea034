/*
 * fuzz_seeds.c - writes the seed corpus of the proto fuzzers: one encoded
 * message of every type of each family, with every field the type uses set,
 * so the fuzzers start from frames that decode and mutate from there.
 *
 *   fuzz_seeds DIR   creates DIR/raft, DIR/local, DIR/kv (one file per type),
 *                    DIR/txn (a transaction and a transaction's result)
 *
 * Generated at build time rather than committed as binary blobs.
 */
#include "proto.h"
#include "proto_sample.h"

#include "kv_err.h"
#include "proto_txn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char seed_payload[] = "a command payload";
static uint8_t seed_chunk[64];

static struct raft_entry seed_entries[2] = {
    {4, 11, RAFT_ENTRY_COMMAND, sizeof(seed_payload) - 1, (const uint8_t *)seed_payload},
    {4, 12, RAFT_ENTRY_NOOP, 0, NULL},
};

static struct proto_member seed_members[2] = {
    {1,
     RAFT_VOTER,
     {(const uint8_t *)"127.0.0.1:7001", 14},
     {(const uint8_t *)"http://127.0.0.1:4001", 21}},
    {2, RAFT_LEARNER, {(const uint8_t *)"127.0.0.1:7002", 14}, {NULL, 0}},
};

static struct proto_item seed_items[2] = {
    {{(const uint8_t *)"k1", 2}, {(const uint8_t *)"v1", 2}, 5, 6, 0},
    {{(const uint8_t *)"k2", 2}, {NULL, 0}, 7, 7, 0},
};

static int seed_write(const char *dir, const char *family, const char *name,
                      const struct proto_buf *b)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, family, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "fuzz_seeds: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fwrite(b->ptr, 1, b->len, f);
	return fclose(f) != 0;
}

/* Every field of every peer type set: proto_sample.h expands proto_messages.h. */
static int seed_raft(const char *dir, struct proto_buf *b)
{
	static const struct raft_config config = {
	    .n = 2, .members = {{.id = 1, .role = RAFT_VOTER}, {.id = 3, .role = RAFT_LEARNER}}};
	struct proto_sample s = {.entries = seed_entries,
	                         .n_entries = 2,
	                         .seq = 3,
	                         .config = &config,
	                         .chunk = seed_chunk,
	                         .chunk_len = sizeof(seed_chunk)};
	struct raft_msg m;
	int bad = 0;

	for (uint8_t t = 1; t <= RAFT_MSG_TYPE_MAX; t++) {
		proto_sample_raft(&s, t, &m);
		proto_buf_reset(b);
		if (proto_raft_encode(&m, b) != 0)
			return 1;
		bad |= seed_write(dir, "raft", proto_raft_type_name(t), b);
	}
	return bad;
}

/* Every field of every local type set: proto_sample.h expands proto_messages.h. */
static int seed_local(const char *dir, struct proto_buf *b)
{
	static const uint8_t bytes[64] = "k1/a local message's bytes, cut to each field's range..";
	struct proto_sample s = {.entries = seed_entries,
	                         .n_entries = 2,
	                         .members = seed_members,
	                         .n_members = 2,
	                         .items = seed_items,
	                         .n_items = 2,
	                         .bytes = bytes,
	                         .seq = 9};
	struct proto_local m;
	int bad = 0;

	for (uint8_t t = 1; t <= PROTO_LOCAL_TYPE_MAX; t++) {
		proto_sample_local(&s, t, &m);
		proto_buf_reset(b);
		if (proto_local_encode(&m, b) != 0)
			return 1;
		bad |= seed_write(dir, "local", proto_local_type_name(t), b);
	}
	return bad;
}

static int seed_kv(const char *dir, struct proto_buf *b)
{
	struct proto_kv_cmd c = {
	    .origin = 1,
	    .req_id = 300,
	    .key = {(const uint8_t *)"users/1", 7},
	    .value = {(const uint8_t *)"{\"n\":1}", 7},
	    .cond = PROTO_COND_IF_MATCH,
	    .cond_index = 40,
	    .idem_key = {(const uint8_t *)"idem-1", 6},
	};
	int bad = 0;

	for (uint8_t op = PROTO_KV_PUT; op <= PROTO_KV_DELETE; op++) {
		c.op = op;
		proto_buf_reset(b);
		if (proto_kv_cmd_encode(&c, b) != 0)
			return 1;
		bad |= seed_write(dir, "kv", op == PROTO_KV_PUT ? "PUT" : "DELETE", b);
	}
	struct proto_kv_cmd t = {.op = PROTO_KV_TXN, .origin = 1, .req_id = 301, .value = c.value};
	struct proto_kv_cmd g = {
	    .op = PROTO_KV_LEASE_GRANT, .origin = 1, .req_id = 302, .ttl_ms = 10000};
	struct proto_kv_cmd e = {
	    .op = PROTO_KV_LEASE_EXPIRE, .origin = 1, .req_id = 303, .lease = 7, .term = 2};
	const struct proto_kv_cmd *more[] = {&t, &g, &e};
	const char *names[] = {"TXN", "LEASE_GRANT", "LEASE_EXPIRE"};
	for (size_t i = 0; i < 3; i++) {
		proto_buf_reset(b);
		if (proto_kv_cmd_encode(more[i], b) != 0)
			return 1;
		bad |= seed_write(dir, "kv", names[i], b);
	}
	return bad;
}

/* A transaction with every compare and op kind, and a result with every op's outcome. */
static int seed_txn(const char *dir, struct proto_buf *b)
{
	static struct proto_txn t;
	static struct proto_txn_result r;
	struct proto_bytes k = {(const uint8_t *)"a", 1}, v = {(const uint8_t *)"1", 1};
	t.n_cmp = 3;
	t.cmp[0] =
	    (struct proto_txn_cmp){.target = PROTO_TXN_CMP_MOD_INDEX, .key = k, .mod_index = 5};
	t.cmp[1] = (struct proto_txn_cmp){.target = PROTO_TXN_CMP_EXISTS, .key = k, .exists = 1};
	t.cmp[2] = (struct proto_txn_cmp){.target = PROTO_TXN_CMP_VALUE, .key = k, .value = v};
	t.n_success = 4;
	t.success[0] = (struct proto_txn_op){PROTO_TXN_PUT, k, v, 7};
	t.success[1] = (struct proto_txn_op){PROTO_TXN_DELETE, k, {0}, 0};
	t.success[2] = (struct proto_txn_op){PROTO_TXN_GET, k, {0}, 0};
	t.success[3] = (struct proto_txn_op){PROTO_TXN_DELETE_PREFIX, {0}, {0}, 0};
	t.n_failure = 1;
	t.failure[0] = t.success[2];
	proto_buf_reset(b);
	if (proto_txn_encode(&t, b) != 0)
		return 1;
	int bad = seed_write(dir, "txn", "TXN", b);
	r.succeeded = 1;
	r.n_results = 2;
	r.results[0] = (struct proto_txn_op_result){.kind = PROTO_TXN_PUT, .mod_index = 9};
	r.results[1] = (struct proto_txn_op_result){.kind = PROTO_TXN_GET, .status = KV_ENOTFOUND};
	proto_buf_reset(b);
	if (proto_txn_result_encode(&r, b) != 0)
		return 1;
	return bad | seed_write(dir, "txn", "RESULT", b);
}

int main(int argc, char **argv)
{
	const char *families[] = {"raft", "local", "kv", "txn"};
	struct proto_buf b = {0};
	char path[512];
	int bad;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(seed_chunk); i++)
		seed_chunk[i] = (uint8_t)(i * 13);
	mkdir(argv[1], 0755);
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], families[i]);
		mkdir(path, 0755);
	}
	bad = seed_raft(argv[1], &b) | seed_local(argv[1], &b) | seed_kv(argv[1], &b) |
	      seed_txn(argv[1], &b);
	proto_buf_free(&b);
	if (bad)
		fprintf(stderr, "fuzz_seeds: could not write every seed\n");
	return bad;
}

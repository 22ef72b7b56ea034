/*
 * test_storaged_ipc.c - the real storaged binary on a temporary directory,
 * driven over its real ipc:// sockets: this test plays raftd (a DEALER on
 * the apply socket) and gatewayd (a DEALER on the query socket and the PULL
 * that RESULTs arrive on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_err.h"
#include "kv_limits.h"
#include "proto.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#ifndef STORAGED_BIN
#define STORAGED_BIN "build/storaged"
#endif

#define T_RECV_MS  5000
#define T_CMDS_MAX (KV_LOCAL_BATCH_FRAMES_MAX + 16)

struct t_ipc {
	char dir[64];
	pid_t pid;
	void *ctx;
	void *apply;   /* as raftd */
	void *query;   /* as gatewayd */
	void *results; /* as gatewayd */
	struct proto_buf out;
	uint8_t in[1 << 20];
	uint8_t arena_mem[1 << 16];
	struct proto_arena arena;
	struct proto_buf cmds[T_CMDS_MAX];
	int n_cmds;
};

static struct t_ipc T;

static int t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void *t_sock(int type, const char *name, int bind)
{
	char ep[256];
	snprintf(ep, sizeof(ep), "ipc://%s/sock/%s", T.dir, name);
	void *s = zmq_socket(T.ctx, type);
	int linger = 0, rcv_ms = T_RECV_MS;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &rcv_ms, sizeof(rcv_ms));
	assert_int_equal(bind ? zmq_bind(s, ep) : zmq_connect(s, ep), 0);
	return s;
}

static void t_start(void)
{
	char data_arg[128];
	snprintf(data_arg, sizeof(data_arg), "--data-dir=%s", T.dir);
	T.pid = fork();
	assert_true(T.pid >= 0);
	if (T.pid == 0) {
		execl(STORAGED_BIN, "storaged", "--node-id=1", data_arg, "--map-bytes=16777216",
		      "--log-level=warn", (char *)NULL);
		_exit(127);
	}
}

static int t_setup(void **state)
{
	strcpy(T.dir, "/tmp/test_storaged.XXXXXX");
	assert_non_null(mkdtemp(T.dir));
	char sock_dir[128];
	snprintf(sock_dir, sizeof(sock_dir), "%s/sock", T.dir);
	assert_int_equal(mkdir(sock_dir, 0700), 0);
	T.ctx = zmq_ctx_new();
	T.results = t_sock(ZMQ_PULL, "gatewayd-results.sock", 1);
	t_start();
	T.apply = t_sock(ZMQ_DEALER, "storaged-apply.sock", 0);
	T.query = t_sock(ZMQ_DEALER, "storaged-query.sock", 0);
	return 0;
}

static int t_teardown(void **state)
{
	if (T.pid > 0) {
		kill(T.pid, SIGKILL);
		waitpid(T.pid, NULL, 0);
	}
	zmq_close(T.apply);
	zmq_close(T.query);
	zmq_close(T.results);
	zmq_ctx_term(T.ctx);
	proto_buf_free(&T.out);
	for (int i = 0; i < T.n_cmds; i++)
		proto_buf_free(&T.cmds[i]);
	T.n_cmds = 0;
	nftw(T.dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void t_send(void *sock, const struct proto_local *m)
{
	proto_buf_reset(&T.out);
	assert_int_equal(proto_local_encode(m, &T.out), 0);
	assert_int_equal(zmq_send(sock, T.out.ptr, T.out.len, 0), (int)T.out.len);
}

/* Receives one message of the expected type (fails after T_RECV_MS). */
static void t_recv(void *sock, uint8_t type, struct proto_local *m)
{
	int n = zmq_recv(sock, T.in, sizeof(T.in), 0);
	assert_true(n > 0);
	proto_arena_init(&T.arena, T.arena_mem, sizeof(T.arena_mem));
	assert_int_equal(proto_local_decode(T.in, (size_t)n, m, &T.arena), 0);
	assert_int_equal(m->type, type);
}

static struct raft_entry t_put(uint64_t index, uint64_t origin, uint64_t req_id, const char *key,
                               const char *value)
{
	assert_true(T.n_cmds < (int)T_CMDS_MAX);
	struct proto_buf *b = &T.cmds[T.n_cmds++];
	struct proto_kv_cmd c = {.op = PROTO_KV_PUT,
	                         .origin = origin,
	                         .req_id = req_id,
	                         .key = {(const uint8_t *)key, (uint32_t)strlen(key)},
	                         .value = {(const uint8_t *)value, (uint32_t)strlen(value)}};
	assert_int_equal(proto_kv_cmd_encode(&c, b), 0);
	struct raft_entry e = {.term = 2,
	                       .index = index,
	                       .type = RAFT_ENTRY_COMMAND,
	                       .len = (uint32_t)b->len,
	                       .data = b->ptr};
	return e;
}

static void t_apply(struct raft_entry *e, uint32_t n, int status, uint64_t applied)
{
	struct proto_local m = {.type = PROTO_APPLY,
	                        .req_id = 500 + applied,
	                        .u.apply = {.n_entries = n, .entries = e}};
	t_send(T.apply, &m);
	struct proto_local r;
	t_recv(T.apply, PROTO_APPLY_STATE, &r);
	assert_int_equal(r.req_id, 500 + applied);
	assert_int_equal(r.u.apply_state.status, status);
	assert_int_equal(r.u.apply_state.applied_index, applied);
}

static void t_get(const char *key, uint64_t min_index, uint64_t wait_ms, struct proto_local *r)
{
	struct proto_local m = {.type = PROTO_GET,
	                        .req_id = 900,
	                        .u.get = {.key = {(const uint8_t *)key, (uint32_t)strlen(key)},
	                                  .min_index = min_index,
	                                  .wait_ms = wait_ms}};
	t_send(T.query, &m);
	t_recv(T.query, PROTO_GET_RESP, r);
	assert_int_equal(r->req_id, 900);
}

static void test_apply_and_read(void **state)
{
	struct proto_local m = {.type = PROTO_APPLY_HELLO, .req_id = 1};
	struct proto_local r;
	t_send(T.apply, &m);
	t_recv(T.apply, PROTO_APPLY_STATE, &r);
	assert_int_equal(r.req_id, 1);
	assert_int_equal(r.u.apply_state.applied_index, 0);
	struct raft_entry b1[3] = {{.term = 2, .index = 1, .type = RAFT_ENTRY_NOOP},
	                           t_put(2, 1, 77, "k", "v"),
	                           t_put(3, 2, 78, "x", "other")};
	t_apply(b1, 3, 0, 3);
	/* Our node's write gets a RESULT; node 2's does not. */
	t_recv(T.results, PROTO_RESULT, &r);
	assert_int_equal(r.req_id, 77);
	assert_int_equal(r.u.result.index, 2);
	assert_int_equal(r.u.result.term, 2);
	assert_int_equal(r.u.result.status, 0);
	assert_int_equal(r.u.result.create_index, 2);
	assert_int_equal(r.u.result.mod_index, 2);
	zmq_pollitem_t pi = {.socket = T.results, .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&pi, 1, 200), 0);
	t_get("k", 3, 0, &r);
	assert_int_equal(r.u.get_resp.status, 0);
	assert_int_equal(r.u.get_resp.value.len, 1);
	assert_memory_equal(r.u.get_resp.value.ptr, "v", 1);
	assert_int_equal(r.u.get_resp.mod_index, 2);
	assert_int_equal(r.u.get_resp.applied_index, 3);
	t_get("nope", 0, 0, &r);
	assert_int_equal(r.u.get_resp.status, KV_ENOTFOUND);
	t_get("k", 100, 100, &r);
	assert_int_equal(r.u.get_resp.status, KV_ETIMEDOUT);
	printf("checked: hello, apply, RESULT only for own origin, get, not found, timeout\n");
}

static void test_parked_read_and_gap(void **state)
{
	struct raft_entry b1[1] = {t_put(1, 1, 10, "p", "one")};
	t_apply(b1, 1, 0, 1);
	struct proto_local r;
	t_recv(T.results, PROTO_RESULT, &r);
	/* A read at index 2 waits until 2 is applied. */
	struct proto_local g = {
	    .type = PROTO_GET,
	    .req_id = 901,
	    .u.get = {.key = {(const uint8_t *)"p", 1}, .min_index = 2, .wait_ms = 3000}};
	t_send(T.query, &g);
	zmq_pollitem_t pi = {.socket = T.query, .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&pi, 1, 200), 0); /* still parked */
	struct raft_entry b2[1] = {t_put(2, 3, 11, "p", "two")};
	t_apply(b2, 1, 0, 2);
	t_recv(T.query, PROTO_GET_RESP, &r);
	assert_int_equal(r.req_id, 901);
	assert_int_equal(r.u.get_resp.status, 0);
	assert_memory_equal(r.u.get_resp.value.ptr, "two", 3);
	assert_int_equal(r.u.get_resp.applied_index, 2);
	/* A gap is refused; applied index stays. */
	struct raft_entry gap[1] = {{.term = 2, .index = 9, .type = RAFT_ENTRY_NOOP}};
	t_apply(gap, 1, KV_ERANGE, 2);
	/* LIST and STATS. */
	struct proto_local l = {.type = PROTO_LIST, .req_id = 902, .u.list.limit = 10};
	t_send(T.query, &l);
	t_recv(T.query, PROTO_LIST_RESP, &r);
	assert_int_equal(r.u.list_resp.status, 0);
	assert_int_equal(r.u.list_resp.n_items, 1);
	assert_memory_equal(r.u.list_resp.items[0].key.ptr, "p", 1);
	struct proto_local s = {.type = PROTO_STATS_REQ, .req_id = 903};
	t_send(T.query, &s);
	t_recv(T.query, PROTO_STATS_RESP, &r);
	assert_int_equal(r.u.stats_resp.applied_index, 2);
	assert_int_equal(r.u.stats_resp.size, 1);
	assert_int_equal(r.u.stats_resp.map_bytes, 16777216);
	assert_int_equal(r.u.stats_resp.full, 0);
	printf("checked: parked read answered on apply, gap -> KV_ERANGE, list, stats\n");
}

static void test_snapshot_and_sigterm(void **state)
{
	struct raft_entry b1[2] = {t_put(1, 1, 20, "s", "snap"), t_put(2, 1, 21, "t", "too")};
	t_apply(b1, 2, 0, 2);
	struct proto_local m = {.type = PROTO_SNAPSHOT_REQ, .req_id = 30};
	struct proto_local r;
	t_send(T.apply, &m);
	t_recv(T.apply, PROTO_SNAPSHOT_DONE, &r);
	assert_int_equal(r.req_id, 30);
	assert_int_equal(r.u.snapshot_done.status, 0);
	assert_int_equal(r.u.snapshot_done.index, 2);
	assert_true(r.u.snapshot_done.size > 0);
	char snap[512], recv_path[512];
	snprintf(snap, sizeof(snap), "%.*s", (int)r.u.snapshot_done.path.len,
	         (const char *)r.u.snapshot_done.path.ptr);
	assert_int_equal(access(snap, R_OK), 0);
	/* raftd would have received this file from a leader: copy it aside. */
	snprintf(recv_path, sizeof(recv_path), "%s/received.mdb", T.dir);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", snap, recv_path);
	assert_int_equal(system(cmd), 0);
	struct raft_entry b2[1] = {t_put(3, 1, 22, "u", "later")};
	t_apply(b2, 1, 0, 3);
	struct proto_local ins = {.type = PROTO_SNAPSHOT_INSTALL,
	                          .req_id = 31,
	                          .u.snapshot_install = {.path = {(const uint8_t *)recv_path,
	                                                          (uint32_t)strlen(recv_path)},
	                                                 .index = 2,
	                                                 .term = 2}};
	t_send(T.apply, &ins);
	t_recv(T.apply, PROTO_APPLY_STATE, &r);
	assert_int_equal(r.req_id, 31);
	assert_int_equal(r.u.apply_state.status, 0);
	assert_int_equal(r.u.apply_state.applied_index, 2);
	t_get("u", 0, 0, &r);
	assert_int_equal(r.u.get_resp.status, KV_ENOTFOUND);
	t_get("t", 0, 0, &r);
	assert_int_equal(r.u.get_resp.status, 0);
	kill(T.pid, SIGTERM);
	int st = 0;
	pid_t done = 0;
	for (int i = 0; i < 50 && (done = waitpid(T.pid, &st, WNOHANG)) == 0; i++)
		usleep(100000);
	assert_int_equal(done, T.pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	T.pid = 0;
	printf("checked: snapshot written and installed over ipc, clean exit on SIGTERM\n");
}

/* Receives one frame of a RESULT batch: its req_id, and whether more frames follow. */
static uint64_t t_recv_result_frame(int *more)
{
	struct proto_local r;
	t_recv(T.results, PROTO_RESULT, &r);
	size_t len = sizeof(*more);
	assert_int_equal(zmq_getsockopt(T.results, ZMQ_RCVMORE, more, &len), 0);
	return r.req_id;
}

/*
 * The RESULTs of one APPLY come as the frames of as few ZeroMQ messages as
 * KV_LOCAL_BATCH_FRAMES_MAX allows, in index order, only for our own writes.
 */
static void test_results_batched(void **state)
{
	enum { N = KV_LOCAL_BATCH_FRAMES_MAX + 10 };
	struct raft_entry b[N];
	char key[N][8];
	uint32_t ours = 0;
	for (uint32_t i = 0; i < N; i++) {
		snprintf(key[i], sizeof(key[i]), "b%u", i);
		uint64_t origin = i % 10 == 9 ? 2 : 1; /* some were proposed through node 2 */
		ours += origin == 1;
		b[i] = t_put(i + 1, origin, 100 + i, key[i], "v");
	}
	assert_true(ours > KV_LOCAL_BATCH_FRAMES_MAX);
	t_apply(b, N, 0, N);
	uint32_t got = 0, frames = 0, messages = 0;
	for (uint32_t i = 0; i < N; i++) {
		if (i % 10 == 9)
			continue;
		int more = 0;
		assert_int_equal(t_recv_result_frame(&more), 100 + i);
		got++;
		frames++;
		if (!more) {
			messages++;
			assert_int_equal(frames, messages == 1 ? KV_LOCAL_BATCH_FRAMES_MAX
			                                       : ours - KV_LOCAL_BATCH_FRAMES_MAX);
			frames = 0;
		}
	}
	assert_int_equal(got, ours);
	assert_int_equal(messages, 2);
	zmq_pollitem_t pi = {.socket = T.results, .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&pi, 1, 200), 0);
	printf("checked: %u RESULTs of one APPLY in 2 messages of at most %u frames\n", ours,
	       KV_LOCAL_BATCH_FRAMES_MAX);
}

/* HELLO's APPLY_STATE; asserts the durable index never passes the applied one. */
static void t_hello(uint64_t req_id, struct proto_local *r)
{
	struct proto_local m = {.type = PROTO_APPLY_HELLO, .req_id = req_id};
	t_send(T.apply, &m);
	t_recv(T.apply, PROTO_APPLY_STATE, r);
	assert_int_equal(r->req_id, req_id);
	assert_true(r->u.apply_state.durable_index <= r->u.apply_state.applied_index);
}

/*
 * The background sync: APPLY_STATE reports the durable index catching up with
 * the applied one within a few --sync-ms periods; kill -9 right after an
 * apply loses nothing, and the restarted storaged reports what it has as
 * durable (it syncs at open), so raftd replays from there.
 */
static void test_durable_index_and_kill9(void **state)
{
	struct proto_local r;
	t_hello(40, &r);
	assert_int_equal(r.u.apply_state.durable_index, 0);
	struct raft_entry b1[3] = {{.term = 2, .index = 1, .type = RAFT_ENTRY_NOOP},
	                           t_put(2, 2, 1, "d", "one"),
	                           t_put(3, 2, 2, "e", "two")};
	t_apply(b1, 3, 0, 3);
	uint64_t durable = 0;
	for (int i = 0; i < 100 && durable < 3; i++) {
		usleep(20000);
		t_hello(41 + (uint64_t)i, &r);
		durable = r.u.apply_state.durable_index;
	}
	assert_int_equal(durable, 3);
	struct raft_entry b2[2] = {t_put(4, 2, 3, "f", "three"), t_put(5, 2, 4, "d", "four")};
	t_apply(b2, 2, 0, 5);
	kill(T.pid, SIGKILL);
	waitpid(T.pid, NULL, 0);
	t_start();
	t_hello(200, &r);
	assert_int_equal(r.u.apply_state.applied_index, 5);
	assert_int_equal(r.u.apply_state.durable_index, 5);
	t_get("d", 5, 0, &r);
	assert_int_equal(r.u.get_resp.status, 0);
	assert_memory_equal(r.u.get_resp.value.ptr, "four", 4);
	printf("checked: durable index reaches the applied one; kill -9 after an apply loses "
	       "nothing and the restart reports it durable\n");
}

/* Past STORAGED_PARK_MAX (4096) waiting reads, the next one gets KV_EBUSY at once. */
static void test_park_limit(void **state)
{
	struct proto_local g = {
	    .type = PROTO_GET,
	    .u.get = {.key = {(const uint8_t *)"k", 1}, .min_index = 100, .wait_ms = 5000}};
	for (uint64_t i = 1; i <= 4097; i++) {
		g.req_id = i;
		t_send(T.query, &g);
	}
	struct proto_local r;
	t_recv(T.query, PROTO_GET_RESP, &r);
	assert_int_equal(r.req_id, 4097);
	assert_int_equal(r.u.get_resp.status, KV_EBUSY);
	/* Index 1 is applied but 100 is not reached: the 4096 keep waiting. */
	struct raft_entry e = {.term = 1, .index = 1, .type = RAFT_ENTRY_NOOP};
	t_apply(&e, 1, 0, 1);
	zmq_pollitem_t pi = {.socket = T.query, .events = ZMQ_POLLIN};
	assert_int_equal(zmq_poll(&pi, 1, 100), 0);
	printf("checked: 4096 reads parked, the 4097th refused with KV_EBUSY\n");
}

/* Garbage on both sockets is dropped; the daemon keeps answering. */
static void test_hostile_frames(void **state)
{
	static const uint8_t junk[] = {0x93, 0x01, 0x10, 0xdd, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t huge_count[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	void *socks[2] = {T.apply, T.query};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(zmq_send(socks[i], "", 0, 0), 0);
		assert_int_equal(zmq_send(socks[i], junk, sizeof(junk), 0), (int)sizeof(junk));
		assert_int_equal(zmq_send(socks[i], huge_count, sizeof(huge_count), 0),
		                 (int)sizeof(huge_count));
		assert_int_equal(zmq_send(socks[i], junk, 3, ZMQ_SNDMORE), 3);
		assert_int_equal(zmq_send(socks[i], junk, 2, 0), 2);
	}
	/* A reply type sent as a request, and a GET with an empty key. */
	struct proto_local wrong = {.type = PROTO_GET_RESP, .req_id = 5};
	t_send(T.apply, &wrong);
	t_send(T.query, &wrong);
	struct proto_local m = {.type = PROTO_APPLY_HELLO, .req_id = 6};
	struct proto_local r;
	t_send(T.apply, &m);
	t_recv(T.apply, PROTO_APPLY_STATE, &r);
	assert_int_equal(r.req_id, 6);
	struct proto_local s = {.type = PROTO_STATS_REQ, .req_id = 7};
	t_send(T.query, &s);
	t_recv(T.query, PROTO_STATS_RESP, &r);
	assert_int_equal(r.req_id, 7);
	assert_int_equal(kill(T.pid, 0), 0);
	printf("checked: empty, truncated, huge-count, multi-frame and wrong-type messages "
	       "dropped; daemon still answers\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_apply_and_read, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_parked_read_and_gap, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_results_batched, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_and_sigterm, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_frames, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_park_limit, t_setup, t_teardown),
	    cmocka_unit_test_setup_teardown(test_durable_index_and_kill9, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

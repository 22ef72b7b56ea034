/*
 * peer_hostile.c - sends hostile frames to a raftd peer port (docs/testing.md,
 * "Peer and local sockets"): zero-length and truncated frames, a wrong number
 * of frames, msgpack with counts of 0xFFFFFFFF, deep nesting, wrong types,
 * messages from unknown or own node ids, a term of UINT64_MAX, index
 * arithmetic that overflows, a commit index past the last index, replayed
 * old-term messages, and snapshot chunks out of order.
 *
 * usage: peer_hostile ENDPOINT TARGET_ID [--ids 1,2,3] [--curve-server-key Z85
 *                    [--curve-secret-file PATH]]
 *   --ids               also connect as each listed member ("raftd-<id>") and
 *                       forge APPEND, VOTE and SNAPSHOT from it with huge terms
 *   --curve-server-key  be a CurveZMQ client of the target (its public key),
 *                       with a fresh random key pair unless --curve-secret-file
 *                       gives one (e.g. another member's, to claim a wrong id)
 * Prints how many frames it sent. The cluster test then checks that raftd is
 * alive, still serves, counted the drops, and that term, log and data did not
 * change.
 */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static int sent;

/* Curve client settings applied to every socket (all empty: plaintext). */
static char curve_server[41], curve_public[41], curve_secret[41];

static void send_frame(void *sock, const void *data, size_t len, int more)
{
	if (zmq_send(sock, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) >= 0)
		sent++;
}

static void send_msg(void *sock, const struct raft_msg *m)
{
	struct proto_buf b = {0};
	if (proto_raft_encode(m, &b) == 0)
		send_frame(sock, b.ptr, b.len, 0);
	proto_buf_free(&b);
}

static void send_truncations(void *sock, const struct raft_msg *m)
{
	struct proto_buf b = {0};
	if (proto_raft_encode(m, &b) != 0)
		return;
	for (size_t cut = 0; cut < b.len; cut++)
		send_frame(sock, b.ptr, cut, 0);
	uint8_t *flipped = malloc(b.len);
	for (size_t i = 0; flipped != NULL && i < b.len; i++) {
		memcpy(flipped, b.ptr, b.len);
		flipped[i] ^= 0xFF;
		send_frame(sock, flipped, b.len, 0);
	}
	free(flipped);
	proto_buf_free(&b);
}

static void send_raw_msgpack(void *sock)
{
	static const uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t huge_bin[] = {0x93, 0x01, 0x01, 0xc6, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t wrong_types[] = {0x93, 0xa1, 'x', 0xc3, 0xc0};
	static const uint8_t not_msgpack[] = {0xc1, 0xc1, 0xc1};
	uint8_t deep[4096];
	memset(deep, 0x91, sizeof(deep));
	send_frame(sock, "", 0, 0);
	send_frame(sock, huge_array, sizeof(huge_array), 0);
	send_frame(sock, huge_bin, sizeof(huge_bin), 0);
	send_frame(sock, huge_map, sizeof(huge_map), 0);
	send_frame(sock, wrong_types, sizeof(wrong_types), 0);
	send_frame(sock, not_msgpack, sizeof(not_msgpack), 0);
	send_frame(sock, deep, sizeof(deep), 0);
	send_frame(sock, huge_array, sizeof(huge_array), 1); /* a wrong number of frames */
	send_frame(sock, huge_bin, sizeof(huge_bin), 1);
	send_frame(sock, wrong_types, sizeof(wrong_types), 0);
}

static void send_hostile_messages(void *sock, uint64_t target, uint64_t impostor)
{
	static struct raft_entry entries[2] = {
	    {.term = 1,
	     .index = 1,
	     .type = RAFT_ENTRY_COMMAND,
	     .len = 3,
	     .data = (const uint8_t *)"abc"},
	    {.term = 1, .index = 2, .type = RAFT_ENTRY_NOOP, .len = 0, .data = NULL},
	};
	struct raft_msg m = {
	    .type = RAFT_MSG_APPEND,
	    .from = impostor,
	    .to = target,
	    .term = 1,
	    .u.append = {
	        .prev_index = 0, .prev_term = 0, .commit = 2, .n_entries = 2, .entries = entries}};
	send_truncations(sock, &m);
	m.term = UINT64_MAX; /* unknown node with the largest term */
	send_msg(sock, &m);
	m.from = target; /* claims to be the target itself */
	send_msg(sock, &m);
	m.from = impostor;
	m.term = 1;
	m.u.append.commit = UINT64_MAX; /* commit index past the last index */
	send_msg(sock, &m);
	m.u.append.prev_index = UINT64_MAX - 1; /* index arithmetic that overflows */
	send_msg(sock, &m);
	struct raft_msg v = {.type = RAFT_MSG_VOTE,
	                     .from = impostor,
	                     .to = target,
	                     .term = UINT64_MAX,
	                     .u.vote = {.last_index = UINT64_MAX, .last_term = UINT64_MAX}};
	send_msg(sock, &v);
	struct raft_msg s = {.type = RAFT_MSG_SNAPSHOT,
	                     .from = impostor,
	                     .to = target,
	                     .term = 1,
	                     .u.snapshot = {.snap_index = 10,
	                                    .snap_term = 1,
	                                    .snap_size = 100,
	                                    .offset = 50,
	                                    .chunk_len = 4,
	                                    .chunk = (const uint8_t *)"zzzz"}};
	s.u.snapshot.snap_config.n = 1;
	s.u.snapshot.snap_config.members[0].id = impostor;
	s.u.snapshot.snap_config.members[0].role = RAFT_VOTER;
	send_msg(sock, &s);            /* a chunk out of order */
	for (int t = 0; t < 50; t++) { /* replayed old-term heartbeats */
		struct raft_msg hb = {
		    .type = RAFT_MSG_APPEND, .from = impostor, .to = target, .term = 0};
		send_msg(sock, &hb);
	}
}

/* A DEALER named identity, a Curve client when asked, connected to endpoint. */
static void *hostile_socket(void *ctx, const char *endpoint, const char *identity)
{
	void *sock = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 2000;
	zmq_setsockopt(sock, ZMQ_ROUTING_ID, identity, strlen(identity));
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (curve_server[0] != '\0') {
		zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, curve_server, 40);
		zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, curve_public, 40);
		zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, curve_secret, 40);
	}
	if (zmq_connect(sock, endpoint) != 0) {
		fprintf(stderr, "connect %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
		exit(1);
	}
	return sock;
}

/* Forges what would take over the log if believed: from member id, huge terms. */
static void send_forged_member(void *sock, uint64_t target, uint64_t id)
{
	static struct raft_entry entries[1] = {{.term = UINT64_MAX / 2,
	                                        .index = 1,
	                                        .type = RAFT_ENTRY_COMMAND,
	                                        .len = 3,
	                                        .data = (const uint8_t *)"abc"}};
	struct raft_msg a = {
	    .type = RAFT_MSG_APPEND,
	    .from = id,
	    .to = target,
	    .term = UINT64_MAX / 2,
	    .u.append = {
	        .prev_index = 0, .prev_term = 0, .commit = 1, .n_entries = 1, .entries = entries}};
	struct raft_msg v = {.type = RAFT_MSG_VOTE,
	                     .from = id,
	                     .to = target,
	                     .term = UINT64_MAX / 2,
	                     .u.vote = {.last_index = UINT64_MAX / 2, .last_term = UINT64_MAX / 2}};
	struct raft_msg sn = {.type = RAFT_MSG_SNAPSHOT,
	                      .from = id,
	                      .to = target,
	                      .term = UINT64_MAX / 2,
	                      .u.snapshot = {.snap_index = 1000000,
	                                     .snap_term = 1,
	                                     .snap_size = 4,
	                                     .offset = 0,
	                                     .chunk_len = 4,
	                                     .chunk = (const uint8_t *)"zzzz"}};
	sn.u.snapshot.snap_config.n = 1;
	sn.u.snapshot.snap_config.members[0].id = id;
	sn.u.snapshot.snap_config.members[0].role = RAFT_VOTER;
	for (int i = 0; i < 3; i++) {
		send_msg(sock, &v);
		send_msg(sock, &a);
		send_msg(sock, &sn);
	}
	send_hostile_messages(sock, target, id);
}

/* Reads the Curve options; 0, or 2 after a usage message. */
static int parse_options(int argc, char **argv, const char **ids)
{
	const char *secret_file = NULL;
	for (int i = 3; i < argc; i += 2) {
		if (i + 1 >= argc)
			return 2;
		if (strcmp(argv[i], "--ids") == 0)
			*ids = argv[i + 1];
		else if (strcmp(argv[i], "--curve-server-key") == 0 && strlen(argv[i + 1]) == 40)
			memcpy(curve_server, argv[i + 1], 41);
		else if (strcmp(argv[i], "--curve-secret-file") == 0)
			secret_file = argv[i + 1];
		else
			return 2;
	}
	if (curve_server[0] == '\0')
		return secret_file == NULL ? 0 : 2;
	if (secret_file == NULL)
		return zmq_curve_keypair(curve_public, curve_secret) == 0 ? 0 : 2;
	FILE *f = fopen(secret_file, "r");
	int ok = f != NULL && fscanf(f, "%40s", curve_secret) == 1 &&
	         zmq_curve_public(curve_public, curve_secret) == 0;
	if (f != NULL)
		fclose(f);
	return ok ? 0 : 2;
}

int main(int argc, char **argv)
{
	const char *ids = NULL;
	if (argc < 3 || parse_options(argc, argv, &ids) != 0) {
		fprintf(stderr,
		        "usage: %s ENDPOINT TARGET_ID [--ids 1,2,3] "
		        "[--curve-server-key Z85 [--curve-secret-file PATH]]\n",
		        argv[0]);
		return 2;
	}
	uint64_t target = strtoull(argv[2], NULL, 10);
	void *ctx = zmq_ctx_new();
	for (int round = 0; round < 2; round++) {
		/* round 0: an unknown identity; round 1: an id not in the cluster */
		void *sock = hostile_socket(ctx, argv[1], round == 0 ? "intruder" : "raftd-99");
		zmq_sleep(1);
		send_raw_msgpack(sock);
		send_hostile_messages(sock, target, 99);
		zmq_close(sock);
	}
	char list[256], identity[32];
	snprintf(list, sizeof(list), "%s", ids != NULL ? ids : "");
	char *save = NULL;
	for (char *id = strtok_r(list, ",", &save); id != NULL; id = strtok_r(NULL, ",", &save)) {
		uint64_t member = strtoull(id, NULL, 10);
		snprintf(identity, sizeof(identity), "raftd-%llu", (unsigned long long)member);
		void *sock = hostile_socket(ctx, argv[1], identity);
		zmq_sleep(1);
		send_forged_member(sock, target, member);
		zmq_close(sock);
	}
	zmq_ctx_term(ctx);
	printf("peer_hostile: sent %d hostile frames to %s (%s)\n", sent, argv[1],
	       curve_server[0] == '\0' ? "plaintext" : "curve client");
	return 0;
}

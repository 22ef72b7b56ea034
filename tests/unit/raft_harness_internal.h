/*
 * raft_harness_internal.h - what the raft_harness*.c files share and tests do
 * not see: the queued message, the stored-log helpers, the failure path.
 */
#ifndef RAFTKV_RAFT_HARNESS_INTERNAL_H
#define RAFTKV_RAFT_HARNESS_INTERNAL_H

#include "raft_harness.h"

#include <stddef.h>
#include <stdint.h>

struct rh_msg {
	struct raft_msg m;
	struct raft_entry ents[RAFT_APPEND_ENTRIES_MAX];
	uint8_t payload[RAFT_APPEND_ENTRIES_MAX][RH_PAYLOAD_BYTES_MAX];
	uint8_t *chunk;
};

/* Fails the running cmocka test with a message; never returns. */
void rh_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* calloc that fails the test instead of returning NULL. */
void *rh_calloc(size_t n, size_t size);

struct rh_node *rh_node_or_null(struct rh *h, uint64_t id);

/* The stored log, and freeing a message (raft_harness.c). */
uint64_t rh_log_last(const struct rh_node *n);
const struct rh_entry *rh_log_get(const struct rh_node *n, uint64_t index);
uint64_t rh_log_last_term(const struct rh_node *n, uint64_t base_term);
void rh_log_append(struct rh_node *n, const struct raft_entry *e);
void rh_log_compact(struct rh_node *n, uint64_t index, uint64_t *base_term);
void rh_msg_free(struct rh_msg **m);

/* Messages and stepping (raft_harness_exec.c). */
void rh_msg_fix(struct rh_msg *q);
/* A queued copy of m with payloads from from's log; the caller owns it. */
struct rh_msg *rh_msg_copy(struct rh_node *from, const struct raft_msg *m);
int rh_link_cut(const struct rh *h, uint64_t from, uint64_t to);
void rh_enqueue(struct rh *h, struct rh_msg *q);
void rh_check_invariants(struct rh *h, struct rh_node *n);
int rh_step_node(struct rh *h, struct rh_node *n, struct raft_event *ev);

/* Sets up n's executor over the harness I/O (raft_harness_io.c); nothing held. */
void rh_exec_init(struct rh *h, struct rh_node *n);

/* The queue (raft_harness_net.c). */
struct rh_msg *rh_dequeue(struct rh *h, uint32_t pos);
void rh_deliver_at(struct rh *h, uint32_t pos);

#endif

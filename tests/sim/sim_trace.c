/*
 * sim_trace.c - a ring of the last SIM_TRACE_LINES things that happened,
 * kept as small binary records (formatting every step would cost more than
 * the step) and printed as text only when a violation is reported.
 * Simulator thread.
 */
#include "sim.h"

#include <stdio.h>

void sim_trace_add(struct sim_trace *t, uint64_t at_ms, uint8_t kind, uint8_t node, uint64_t a,
                   uint64_t b, uint64_t c, uint64_t d)
{
	struct sim_trace_rec *r = &t->recs[t->n++ % SIM_TRACE_LINES];

	r->at_ms = at_ms;
	r->kind = kind;
	r->node = node;
	r->a = a;
	r->b = b;
	r->c = c;
	r->d = d;
}

/* "APPEND", ...: from the one list of peer messages (proto_messages.h). */
#define MSG_NAME(NAME, BODY, body, doc) [RAFT_MSG_##NAME] = #NAME,
static const char *msg_name(uint64_t type)
{
	static const char *const names[RAFT_MSG_TYPE_MAX + 1] = {"?",
	                                                         PROTO_RAFT_MESSAGES(MSG_NAME)};

	return type <= RAFT_MSG_TYPE_MAX ? names[type] : "?";
}

static const char *role_name(uint64_t role)
{
	static const char *const names[] = {"?", "follower", "precandidate", "candidate", "leader"};

	return role <= RAFT_LEADER ? names[role] : "?";
}

#define U(x) ((unsigned long long)(x))

static void rec_print(const struct sim_trace_rec *r)
{
	printf("  %8llu ms n%u ", U(r->at_ms), r->node + 1u);
	switch (r->kind) {
	case SIM_TR_SEND:
		printf("send %s to n%llu term %llu entries %llu\n", msg_name(r->a), U(r->b),
		       U(r->c), U(r->d));
		break;
	case SIM_TR_DELIVER:
		printf("recv %s from n%llu term %llu entries %llu\n", msg_name(r->a), U(r->b),
		       U(r->c), U(r->d));
		break;
	case SIM_TR_DROP:
		printf("drop %s from n%llu (partition or down)\n", msg_name(r->a), U(r->b));
		break;
	case SIM_TR_ROLE:
		printf("is %s term %llu last %llu commit %llu\n", role_name(r->a), U(r->b), U(r->c),
		       U(r->d));
		break;
	case SIM_TR_PROPOSE:
		printf("propose key %llu value %llu -> index %llu rc %lld\n", U(r->a), U(r->b),
		       U(r->c), -(long long)r->d);
		break;
	case SIM_TR_APPLY:
		printf("apply index %llu term %llu\n", U(r->a), U(r->b));
		break;
	case SIM_TR_ACK:
		printf("ack key %llu value %llu index %llu\n", U(r->a), U(r->b), U(r->c));
		break;
	case SIM_TR_READ:
		printf("read %llu key %llu at index %llu saw mod index %llu\n", U(r->a), U(r->b),
		       U(r->c), U(r->d));
		break;
	case SIM_TR_CRASH:
		printf("%s (kept %llu unsynced writes, torn %llu, durable last %llu)\n",
		       r->a == SIM_NODE_OFF ? "stopped" : "crashed", U(r->b), U(r->c), U(r->d));
		break;
	case SIM_TR_WIPE:
		printf("disk lost: back empty with incarnation %llu\n", U(r->a));
		break;
	case SIM_TR_RESTART:
		printf("boot %llu from snapshot %llu, log to %llu, term %llu\n", U(r->a), U(r->b),
		       U(r->c), U(r->d));
		break;
	case SIM_TR_PARTITION:
		printf("partition kind %llu mask 0x%llx other 0x%llx\n", U(r->a), U(r->b), U(r->c));
		break;
	case SIM_TR_SYNC:
		printf("sync ops to %llu, persisted (%llu, %llu)\n", U(r->a), U(r->b), U(r->c));
		break;
	case SIM_TR_SNAPSHOT:
		printf("%s at %llu term %llu (%llu bytes)\n",
		       r->d ? "image for a follower" : "snapshot taken", U(r->a), U(r->b), U(r->c));
		break;
	case SIM_TR_SM_SYNC:
		printf("state machine synced: durable index %llu\n", U(r->a));
		break;
	case SIM_TR_CONFIG:
		printf("config change op %llu node %llu rc %lld index %llu\n", U(r->a), U(r->b),
		       -(long long)r->c, U(r->d));
		break;
	case SIM_TR_TRANSFER:
		printf("transfer to n%llu rc %lld\n", U(r->a), -(long long)r->b);
		break;
	case SIM_TR_INSTALL:
		printf("install snapshot %llu term %llu (%llu bytes) rc %lld\n", U(r->a), U(r->b),
		       U(r->c), -(long long)r->d);
		break;
	case SIM_TR_HEAL:
		printf("heal: all faults off, all nodes up\n");
		break;
	default:
		printf("note %llu %llu %llu %llu\n", U(r->a), U(r->b), U(r->c), U(r->d));
	}
}

void sim_trace_dump(const struct sim_trace *t)
{
	uint64_t first = t->n > SIM_TRACE_LINES ? t->n - SIM_TRACE_LINES : 0;

	printf("last %llu of %llu trace lines:\n", U(t->n - first), U(t->n));
	for (uint64_t i = first; i < t->n; i++)
		rec_print(&t->recs[i % SIM_TRACE_LINES]);
}

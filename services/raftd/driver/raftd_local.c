/*
 * raftd_local.c - requests from the local gatewayd on the ROUTER at
 * ipc://<sock-dir>/raftd.sock: PROPOSE, READ_INDEX, STATUS_REQ, TRANSFER.
 * Each answer goes back to the requester's identity with its req_id; the
 * answers of one drain leave together (raftd_local_batch.c).
 * Malformed requests are dropped (the gateway's deadline answers its client).
 * Loop thread only.
 */
#include "raftd.h"

#include "kv_clock.h"

#include "kv_err.h"
#include "kv_log.h"

#include <string.h>

static uint64_t local_leader(const struct raftd *d)
{
	struct raft_status st;
	raft_get_status(d->raft, &st);
	return st.leader;
}

/* Through the reply batch: held while a drain runs, sent at once otherwise. */
void raftd_local_reply(struct raftd *d, const void *identity, size_t identity_len,
                       const struct proto_local *resp)
{
	int rc =
	    raftd_local_batch_reply(&d->replies, d->local_router, identity, identity_len, resp);
	if (rc != 0)
		KV_LOG_WARN(RAFTD_SVC, "local reply dropped", "type=%u err=\"%s\"",
		            (unsigned)resp->type, kv_strerror(rc));
}

static void local_propose(struct raftd *d, const zmq_msg_t *id, const struct proto_local *m)
{
	struct raft_event ev = {.type = RAFT_EVENT_PROPOSE,
	                        .entry_type = RAFT_ENTRY_COMMAND,
	                        .data = m->u.propose.data.ptr,
	                        .len = m->u.propose.data.len};
	int rc = raftd_update_step(d, &ev);
	const void *ident = zmq_msg_data((zmq_msg_t *)id);
	size_t ident_len = zmq_msg_size((zmq_msg_t *)id);
	/* a follower carries the write to the leader; the leader's answer comes later */
	if (rc == KV_ENOTLEADER && raftd_relay_propose(d, local_leader(d), ident, ident_len,
	                                               m->req_id, ev.data, ev.len) == 0)
		return;
	struct proto_local resp = {.type = PROTO_PROPOSE_RESP, .req_id = m->req_id};
	struct proto_propose_resp *r = &resp.u.propose_resp;
	r->status = rc;
	if (rc == 0) {
		r->index = d->update.proposed_index;
		r->term = d->update.proposed_term;
	}
	r->leader_id = local_leader(d);
	raftd_local_reply(d, ident, ident_len, &resp);
}

static void local_read_index(struct raftd *d, const zmq_msg_t *id, const struct proto_local *m)
{
	const void *ident = zmq_msg_data((zmq_msg_t *)id);
	size_t ident_len = zmq_msg_size((zmq_msg_t *)id);
	uint64_t read_id = raftd_read_table_add(d->reads, ident, ident_len, m->req_id);
	int rc = KV_EINVAL;
	if (read_id != 0) {
		struct raft_event ev = {.type = RAFT_EVENT_READ, .read_id = read_id};
		rc = raftd_update_step(d, &ev);
	}
	/* refused at once; a read the core took is answered from update.reads */
	if (rc != 0 && (read_id == 0 || raftd_read_table_take(d->reads, read_id) != NULL)) {
		struct proto_local resp = {.type = PROTO_READ_INDEX_RESP,
		                           .req_id = m->req_id,
		                           .u.read_index_resp.status = rc,
		                           .u.read_index_resp.leader_id = local_leader(d)};
		raftd_local_reply(d, ident, ident_len, &resp);
	}
}

void raftd_local_answer_reads(struct raftd *d, const struct raft_read *reads, uint32_t n)
{
	uint64_t leader = local_leader(d);
	for (uint32_t i = 0; i < n; i++) {
		const struct raft_read *r = &reads[i];
		const struct raftd_read_slot *s = raftd_read_table_take(d->reads, r->read_id);
		if (s == NULL)
			continue; /* forgotten: its slot was reused long ago */
		struct proto_local resp = {.type = PROTO_READ_INDEX_RESP,
		                           .req_id = s->req_id,
		                           .u.read_index_resp.status = r->status,
		                           .u.read_index_resp.index = r->status == 0 ? r->index : 0,
		                           .u.read_index_resp.leader_id = leader};
		raftd_local_reply(d, s->identity, s->identity_len, &resp);
	}
}

/* Fills members with the configuration and each member's addresses from the book. */
static uint32_t local_members(struct raftd *d, const struct raft_status *st,
                              struct proto_member *members)
{
	for (uint32_t i = 0; i < st->config.n; i++) {
		const struct raft_member *rm = &st->config.members[i];
		/* borrowed until the book changes: after the reply is encoded */
		const struct raftd_book_entry *e = raftd_book_find(d, rm->id);
		members[i].id = rm->id;
		members[i].role = rm->role;
		members[i].addr = (struct proto_bytes){NULL, 0};
		members[i].url = (struct proto_bytes){NULL, 0};
		if (e == NULL)
			continue;
		members[i].addr.ptr = (const uint8_t *)e->peer_address;
		members[i].addr.len = (uint32_t)strnlen(e->peer_address, PROTO_ADDR_BYTES_MAX);
		members[i].url.ptr = (const uint8_t *)e->url;
		members[i].url.len = (uint32_t)strlen(e->url);
	}
	return st->config.n;
}

/*
 * 1 when member id is this node, or a message from it arrived within an
 * election timeout: what a leader "hears from" (gatewayd refuses a removal
 * that would leave fewer of these than a quorum).
 */
static int local_member_live(const struct raftd *d, uint64_t id)
{
	int p = raftd_peers_index(d, id);
	uint64_t now_ms = kv_clock_mono_ms();

	if (id == d->opts.node_id)
		return 1;
	return p >= 0 && d->peers[p].last_recv_ms != 0 &&
	       now_ms - d->peers[p].last_recv_ms <= d->opts.election_timeout_ms;
}

static void local_status(struct raftd *d, const zmq_msg_t *id, const struct proto_local *m)
{
	struct raft_status st;
	struct proto_member members[RAFT_NODES_MAX];
	uint8_t match[8 * RAFT_NODES_MAX], live[RAFT_NODES_MAX];
	raft_get_status(d->raft, &st);
	for (uint32_t i = 0; i < st.config.n; i++) {
		uint64_t v = raft_match_of(d->raft, st.config.members[i].id);
		for (unsigned b = 0; b < 8; b++)
			match[8 * i + b] = (uint8_t)(v >> (56 - 8 * b));
		live[i] = (uint8_t)local_member_live(d, st.config.members[i].id);
	}
	struct proto_local resp = {
	    .type = PROTO_STATUS_RESP,
	    .req_id = m->req_id,
	    .u.status_resp.node_id = st.id,
	    .u.status_resp.role = st.role,
	    .u.status_resp.is_learner = (uint8_t)st.is_learner,
	    .u.status_resp.term = st.term,
	    .u.status_resp.leader_id = st.leader,
	    .u.status_resp.commit_index = st.commit_index,
	    .u.status_resp.leader_commit = st.leader_commit,
	    .u.status_resp.applied_index = d->applied_index,
	    .u.status_resp.last_index = st.last_index,
	    .u.status_resp.wal_fsyncs = d->wal_fsyncs,
	    .u.status_resp.wal_fsync_us_total = d->wal_fsync_us_total,
	    .u.status_resp.wal_fsync_us_max = d->wal_fsync_us_max,
	    .u.status_resp.peer_msgs_dropped = d->peer_msgs_dropped + st.dropped_msgs,
	    .u.status_resp.incarnation = d->incarnation,
	    .u.status_resp.cluster_id = d->cluster_id,
	    .u.status_resp.replaced = (uint8_t)st.replaced,
	    .u.status_resp.votes_granted = st.votes_granted,
	    .u.status_resp.other_cluster_msgs = d->other_cluster_msgs,
	    .u.status_resp.member_match = {match, st.role == RAFT_LEADER ? 8 * st.config.n : 0},
	    .u.status_resp.member_live = {live, st.role == RAFT_LEADER ? st.config.n : 0},
	    .u.status_resp.members = members,
	};
	resp.u.status_resp.n_members = local_members(d, &st, members);
	raftd_local_reply(d, zmq_msg_data((zmq_msg_t *)id), zmq_msg_size((zmq_msg_t *)id), &resp);
}

static void local_transfer(struct raftd *d, const zmq_msg_t *id, const struct proto_local *m)
{
	struct raft_event ev = {.type = RAFT_EVENT_TRANSFER, .node_id = m->u.transfer.node_id};
	int rc = raftd_update_step(d, &ev);
	KV_LOG_INFO(RAFTD_SVC, "leadership transfer requested", "to=%llu status=\"%s\"",
	            (unsigned long long)m->u.transfer.node_id, rc == 0 ? "ok" : kv_strerror(rc));
	struct proto_local resp = {
	    .type = PROTO_TRANSFER_RESP, .req_id = m->req_id, .u.transfer_resp.status = rc};
	raftd_local_reply(d, zmq_msg_data((zmq_msg_t *)id), zmq_msg_size((zmq_msg_t *)id), &resp);
}

static void local_handle(struct raftd *d, const zmq_msg_t *id, zmq_msg_t *payload)
{
	struct proto_arena arena;
	struct proto_local m;
	proto_arena_init(&arena, d->arena_mem, RAFTD_ARENA_BYTES);
	int rc = proto_local_decode(zmq_msg_data(payload), zmq_msg_size(payload), &m, &arena);
	if (rc != 0 || zmq_msg_size((zmq_msg_t *)id) == 0) {
		KV_LOG_WARN(RAFTD_SVC, "malformed local request dropped", "err=\"%s\"",
		            kv_strerror(rc));
		return;
	}
	d->gateway_heard_ms = kv_clock_mono_ms();
	switch (m.type) {
	case PROTO_PROPOSE:
		local_propose(d, id, &m);
		break;
	case PROTO_READ_INDEX:
		local_read_index(d, id, &m);
		break;
	case PROTO_STATUS_REQ:
		d->status_asked++;
		local_status(d, id, &m);
		break;
	case PROTO_TRANSFER:
		local_transfer(d, id, &m);
		break;
	case PROTO_MEMBER_CHANGE:
		raftd_members_change(d, zmq_msg_data((zmq_msg_t *)id),
		                     zmq_msg_size((zmq_msg_t *)id), &m);
		break;
	default:
		KV_LOG_WARN(RAFTD_SVC, "unexpected local message dropped", "type=%u",
		            (unsigned)m.type);
	}
}

uint32_t raftd_local_drain(struct raftd *d, uint32_t budget)
{
	uint32_t n = 0;
	raftd_local_batch_open(&d->replies); /* the replies of this drain leave together */
	for (; n < budget; n++) {
		zmq_msg_t id, payload;
		zmq_msg_init(&id);
		zmq_msg_init(&payload);
		if (zmq_msg_recv(&id, d->local_router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&id);
			zmq_msg_close(&payload);
			break;
		}
		int frames = 1, more = zmq_msg_more(&id);
		while (more) {
			zmq_msg_close(&payload);
			zmq_msg_init(&payload);
			if (zmq_msg_recv(&payload, d->local_router, ZMQ_DONTWAIT) < 0)
				break;
			frames++;
			more = zmq_msg_more(&payload);
		}
		if (frames == 2)
			local_handle(d, &id, &payload);
		else
			KV_LOG_WARN(RAFTD_SVC, "local request with wrong frames dropped",
			            "frames=%d", frames);
		zmq_msg_close(&id);
		zmq_msg_close(&payload);
	}
	raftd_relay_flush(d); /* the drain's relays in one message; refusals join the replies */
	raftd_local_batch_close(&d->replies, d->local_router);
	return n;
}

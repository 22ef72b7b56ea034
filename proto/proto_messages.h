/*
 * proto_messages.h - the one list of every message and its fields.
 *
 * Each message type is declared once, here, as an X-macro of its fields in
 * wire order (after [version, type] and the family's header fields). That
 * one declaration is expanded into:
 *   - its C struct (local messages: struct proto_<name>, a member of the
 *     union in struct proto_local, see proto.h; peer messages: struct
 *     raft_<body>, a member of the union in struct raft_msg, see raft_wire.h),
 *   - the codec table that encodes, decodes, checks and compares it
 *     (proto_table.c),
 *   - the round trips and refusals of tests/unit/test_proto_gen.c,
 *   - the message reference docs/protocol.md (proto_doc.c, `make proto-doc`;
 *     test_proto_doc in `make unit-test` fails when the checked-in copy differs).
 *
 * A field is F(X, KIND, name, min, max, "what it is"): X is passed through
 * for the expander, KIND one of
 *   U64     uint64_t in [min, max]
 *   U8      uint8_t in [min, max]: enums and 0/1 flags
 *   STATUS  int32_t: 0 or a negative KV_E* code (min, max unused: 0, 0)
 *   BYTES   struct proto_bytes, length in [min, max]
 *   ENTRIES struct raft_entry *name with uint32_t n_name <= max
 *   MEMBERS struct proto_member *name with uint32_t n_name <= max ([id, role, addr, url])
 *   ITEMS   struct proto_item *name with uint32_t n_name <= max
 *   CONFIG  struct raft_config name, at most max members (peer messages)
 *   CHUNK   const uint8_t *name with uint32_t name_len <= max, sent with its
 *           CRC32C (peer messages)
 * A message is M(NAME, name, "direction: what it is"); its type number is
 * its place in the family's list, starting at 1, so append new types at the
 * end of a list (and bump PROTO_VERSION when a type's fields change).
 *
 * Adding a local message takes two places: one M() line in
 * PROTO_LOCAL_MESSAGES and its PROTO_LOCAL_<NAME> field list below (then
 * `make proto-doc`); the sender and the receiver handle it. Adding a peer
 * message takes one M() line in PROTO_RAFT_MESSAGES and, unless it shares an
 * existing body, one B() line in PROTO_RAFT_BODIES and its PROTO_RAFT_<BODY>
 * field list (then `make proto-doc`); the core's dispatch (raft.c,
 * raft_validate.c) and its handler receive it.
 */
#ifndef RAFTKV_PROTO_MESSAGES_H
#define RAFTKV_PROTO_MESSAGES_H

/* clang-format off */

/* ---- Local messages (one node's gatewayd, raftd, storaged) ------------------ */

/* Header of every local message: a request and its reply carry the same req_id. */
#define PROTO_LOCAL_HEADER(F, X) \
	F(X, U64, req_id, 0, UINT64_MAX, "the sender's request id, echoed in the reply")

#define PROTO_LOCAL_MESSAGES(M) \
	M(PROPOSE,          propose,          "gatewayd->raftd: append a command to the log") \
	M(PROPOSE_RESP,     propose_resp,     "raftd->gatewayd: where the command went") \
	M(READ_INDEX,       read_index,       "gatewayd->raftd: a linearizable read point") \
	M(READ_INDEX_RESP,  read_index_resp,  "raftd->gatewayd: the read point") \
	M(STATUS_REQ,       status_req,       "gatewayd->raftd: the node's Raft status") \
	M(STATUS_RESP,      status_resp,      "raftd->gatewayd: the node's Raft status") \
	M(TRANSFER,         transfer,         "gatewayd->raftd: hand leadership over") \
	M(TRANSFER_RESP,    transfer_resp,    "raftd->gatewayd: whether the transfer started") \
	M(APPLY_HELLO,      apply_hello,      "raftd->storaged: who has applied what?") \
	M(APPLY,            apply,            "raftd->storaged: committed entries, in order") \
	M(APPLY_STATE,      apply_state,      "storaged->raftd: what is applied") \
	M(SNAPSHOT_REQ,     snapshot_req,     "raftd->storaged: an image of the applied state for a follower (gatewayd->storaged, query socket: a backup)") \
	M(SNAPSHOT_DONE,    snapshot_done,    "storaged->raftd (or gatewayd): the image (backup) written") \
	M(SNAPSHOT_INSTALL, snapshot_install, "raftd->storaged: replace the state; answered by APPLY_STATE") \
	M(RESULT,           result,           "storaged->gatewayd: a proposed command applied") \
	M(GET,              get,              "gatewayd->storaged: read one key") \
	M(GET_RESP,         get_resp,         "storaged->gatewayd: the key's value") \
	M(LIST,             list,             "gatewayd->storaged: read keys by prefix") \
	M(LIST_RESP,        list_resp,        "storaged->gatewayd: one page of keys") \
	M(STATS_REQ,        stats_req,        "gatewayd->storaged: the state machine's size") \
	M(STATS_RESP,       stats_resp,       "storaged->gatewayd: the state machine's size") \
	M(WATCH,            watch,            "gatewayd->storaged: changes of a key or prefix from an index") \
	M(WATCH_RESP,       watch_resp,       "storaged->gatewayd: those changes, and where to ask next") \
	M(LEASE_QUERY,      lease_query,      "gatewayd->storaged: one lease's keys, or the leases") \
	M(LEASE_QUERY_RESP, lease_query_resp, "storaged->gatewayd: the lease or one page of leases") \
	M(MEMBER_CHANGE,    member_change,    "gatewayd->raftd: one membership change (the leader only)") \
	M(MEMBER_CHANGE_RESP, member_change_resp, "raftd->gatewayd: whether it was appended")

#define PROTO_LOCAL_PROPOSE(F, X) \
	F(X, BYTES,   data,        0, KV_MSG_BYTES_MAX, "an encoded proto_kv_cmd")
#define PROTO_LOCAL_PROPOSE_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or KV_ENOTLEADER, KV_EBUSY, ...") \
	F(X, U64,     index,       0, UINT64_MAX,       "log index given to the command") \
	F(X, U64,     term,        0, UINT64_MAX,       "term of that index") \
	F(X, U64,     leader_id,   0, UINT64_MAX,       "the leader known, 0: none")
#define PROTO_LOCAL_READ_INDEX(F, X)
#define PROTO_LOCAL_READ_INDEX_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or a KV_E* code") \
	F(X, U64,     index,       0, UINT64_MAX,       "read once this index is applied") \
	F(X, U64,     leader_id,   0, UINT64_MAX,       "the leader known, 0: none")
#define PROTO_LOCAL_STATUS_REQ(F, X)
#define PROTO_LOCAL_STATUS_RESP(F, X) \
	F(X, U64,     node_id,     0, UINT64_MAX,       "this node") \
	F(X, U8,      role,        RAFT_FOLLOWER, RAFT_LEADER, "enum raft_role") \
	F(X, U8,      is_learner,  0, 1,                "1: a non-voting member") \
	F(X, U64,     term,        0, UINT64_MAX,       "current term") \
	F(X, U64,     leader_id,   0, UINT64_MAX,       "the leader known, 0: none") \
	F(X, U64,     commit_index, 0, UINT64_MAX,      "highest committed index") \
	F(X, U64,     applied_index, 0, UINT64_MAX,     "highest index storaged applied") \
	F(X, U64,     last_index,  0, UINT64_MAX,       "last index in the log") \
	F(X, MEMBERS, members,     0, RAFT_NODES_MAX,   "the configuration") \
	F(X, U64,     wal_fsyncs,  0, UINT64_MAX,       "fdatasync calls since start") \
	F(X, U64,     wal_fsync_us_total, 0, UINT64_MAX, "their summed latency") \
	F(X, U64,     wal_fsync_us_max, 0, UINT64_MAX,  "the slowest") \
	F(X, U64,     peer_msgs_dropped, 0, UINT64_MAX, "malformed, unknown-sender or overflowing peer messages") \
	F(X, U64,     incarnation, 0, UINT64_MAX,       "this node's data directory") \
	F(X, U64,     cluster_id,  0, UINT64_MAX,       "its cluster, 0: not known yet") \
	F(X, U8,      replaced,    0, 1,                "1: the configuration holds another incarnation for it: it does not vote") \
	F(X, U64,     votes_granted, 0, UINT64_MAX,     "VOTE requests it granted since it started") \
	F(X, U64,     other_cluster_msgs, 0, UINT64_MAX, "peer messages from another cluster, dropped") \
	F(X, BYTES,   member_match, 0, 8ull * RAFT_NODES_MAX, "leader only: each member's match index, 8 bytes big-endian, in members order; empty elsewhere") \
	F(X, BYTES,   member_live, 0, RAFT_NODES_MAX,   "leader only: one byte per member in members order, 1 when heard from within an election timeout (the leader itself: 1); empty elsewhere") \
	F(X, U64,     leader_commit, 0, UINT64_MAX,     "the leader's commit index as last announced to this node (the leader: its own), >= commit_index")
#define PROTO_LOCAL_TRANSFER(F, X) \
	F(X, U64,     node_id,     0, UINT64_MAX,       "the new leader, 0: any")
#define PROTO_LOCAL_TRANSFER_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or a KV_E* code")
#define PROTO_LOCAL_APPLY_HELLO(F, X)
#define PROTO_LOCAL_APPLY(F, X) \
	F(X, ENTRIES, entries,     0, PROTO_APPLY_ENTRIES_MAX, "committed entries, indexes consecutive")
#define PROTO_LOCAL_APPLY_STATE(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or a KV_E* code") \
	F(X, U64,     applied_index, 0, UINT64_MAX,     "highest index applied") \
	F(X, U64,     term,        0, UINT64_MAX,       "term of that index") \
	F(X, U8,      full,        0, 1,                "1: the map is full, writes refused") \
	F(X, U64,     durable_index, 0, UINT64_MAX,     "highest index made durable in LMDB (mdb_env_sync)")
#define PROTO_LOCAL_SNAPSHOT_REQ(F, X)
#define PROTO_LOCAL_SNAPSHOT_DONE(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or a KV_E* code") \
	F(X, U64,     index,       0, UINT64_MAX,       "last index in the snapshot") \
	F(X, U64,     term,        0, UINT64_MAX,       "term of that index") \
	F(X, U64,     size,        0, UINT64_MAX,       "bytes of the snapshot file") \
	F(X, BYTES,   path,        0, PROTO_PATH_BYTES_MAX, "the snapshot file")
#define PROTO_LOCAL_SNAPSHOT_INSTALL(F, X) \
	F(X, BYTES,   path,        1, PROTO_PATH_BYTES_MAX, "the snapshot file to install") \
	F(X, U64,     index,       0, UINT64_MAX,       "last index in the snapshot") \
	F(X, U64,     term,        0, UINT64_MAX,       "term of that index")
#define PROTO_LOCAL_RESULT(F, X) \
	F(X, U64,     index,       0, UINT64_MAX,       "log index of the command") \
	F(X, U64,     term,        0, UINT64_MAX,       "term of that index") \
	F(X, STATUS,  status,      0, 0,                "0 or KV_ECONDITION, ...") \
	F(X, U64,     create_index, 0, UINT64_MAX,      "the key's create index") \
	F(X, U64,     mod_index,   0, UINT64_MAX,       "the key's modify index") \
	F(X, BYTES,   body,        0, KV_TXN_RESULT_BYTES_MAX + KV_TXN_BYTES_MAX, "TXN: struct proto_txn_result encoded; else empty")
#define PROTO_LOCAL_GET(F, X) \
	F(X, BYTES,   key,         1, KV_KEY_BYTES_MAX, "the key") \
	F(X, U64,     min_index,   0, UINT64_MAX,       "answer once this index is applied") \
	F(X, U64,     wait_ms,     0, UINT64_MAX,       "how long to wait for it")
#define PROTO_LOCAL_GET_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or KV_ENOTFOUND, ...") \
	F(X, BYTES,   value,       0, KV_VALUE_BYTES_MAX_LIMIT, "the value") \
	F(X, U64,     create_index, 0, UINT64_MAX,      "the key's create index") \
	F(X, U64,     mod_index,   0, UINT64_MAX,       "the key's modify index") \
	F(X, U64,     applied_index, 0, UINT64_MAX,     "highest index applied") \
	F(X, U64,     flags,       0, UINT64_MAX,       "the key's flags (0 unless a Consul PUT set them)")
#define PROTO_LOCAL_LIST(F, X) \
	F(X, BYTES,   prefix,      0, KV_KEY_BYTES_MAX, "keys that start with it") \
	F(X, BYTES,   after,       0, KV_KEY_BYTES_MAX, "keys after it, empty: from the start") \
	F(X, U64,     limit,       0, UINT64_MAX,       "at most this many items") \
	F(X, U64,     min_index,   0, UINT64_MAX,       "answer once this index is applied") \
	F(X, U64,     wait_ms,     0, UINT64_MAX,       "how long to wait for it")
#define PROTO_LOCAL_LIST_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or a KV_E* code") \
	F(X, ITEMS,   items,       0, PROTO_LIST_ITEMS_MAX, "the keys, in order") \
	F(X, U8,      more,        0, 1,                "1: more keys follow the last") \
	F(X, U64,     applied_index, 0, UINT64_MAX,     "highest index applied")
#define PROTO_LOCAL_STATS_REQ(F, X)
#define PROTO_LOCAL_STATS_RESP(F, X) \
	F(X, U64,     applied_index, 0, UINT64_MAX,     "highest index applied") \
	F(X, U64,     term,        0, UINT64_MAX,       "term of that index") \
	F(X, U64,     map_bytes,   0, UINT64_MAX,       "LMDB map size") \
	F(X, U64,     used_bytes,  0, UINT64_MAX,       "bytes in use") \
	F(X, U8,      full,        0, 1,                "1: the map is full, writes refused") \
	F(X, U64,     size,        0, UINT64_MAX,       "keys stored") \
	F(X, U64,     quota_bytes, 0, UINT64_MAX,       "--quota-bytes: the most data (keys + values + 16 per key)") \
	F(X, U64,     data_bytes,  0, UINT64_MAX,       "data held, counted as the quota counts it") \
	F(X, U8,      alarm,       0, 1,                "1: data past 95% of the quota")
#define PROTO_LOCAL_MEMBER_CHANGE(F, X) \
	F(X, U8,      op,          1, 3,                "enum raft_config_op: 1 add learner, 2 promote, 3 remove") \
	F(X, U64,     node_id,     1, UINT64_MAX,       "the member") \
	F(X, U8,      flags,       0, 1,                "op 1: RAFT_CONFIG_FLAG_PROMOTE, promote it once caught up; else 0") \
	F(X, BYTES,   peer_address, 0, PROTO_ADDR_BYTES_MAX, "op 1: its \"host:port\" for peers (required); else empty") \
	F(X, BYTES,   url,         0, PROTO_URL_BYTES_MAX, "op 1: its HTTP base URL, may be empty; else empty") \
	F(X, BYTES,   curve_key,   0, 40,               "op 1: its Z85 CurveZMQ public key (40 bytes); empty when peers are plaintext")
#define PROTO_LOCAL_MEMBER_CHANGE_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0, or KV_ENOTLEADER (leader_id), KV_ENOTFOUND (no such member), KV_ECONFIG (a change in progress), KV_EBUSY (not caught up), KV_EEXIST (the id or peer address is taken), KV_EINVAL (the last voter, a bad address or key, a promote of a voter)") \
	F(X, U64,     index,       0, UINT64_MAX,       "the change's log index") \
	F(X, U64,     leader_id,   0, UINT64_MAX,       "the leader known, 0: none")

/*
 * WATCH is answered as soon as there is at least one change from from_index
 * on (once min_index is applied; with at_once, as soon as it is applied), or
 * when wait_ms runs out with none; a delete is an item with create_index 0
 * and an empty value.
 */
#define PROTO_LOCAL_WATCH(F, X) \
	F(X, BYTES,   match,       0, KV_KEY_BYTES_MAX, "the key, or the prefix") \
	F(X, U8,      prefix,      0, 1,                "1: match is a prefix (empty: every key)") \
	F(X, U64,     from_index,  0, UINT64_MAX,       "changes at this index or later") \
	F(X, U64,     limit,       1, PROTO_WATCH_LIMIT_MAX, "at most this many changes (plus the rest of one entry's)") \
	F(X, U64,     min_index,   0, UINT64_MAX,       "read once this index is applied") \
	F(X, U64,     wait_ms,     0, UINT64_MAX,       "how long to wait for min_index and a change") \
	F(X, U8,      at_once,     0, 1,                "1: answer once min_index is applied, change or not")
#define PROTO_LOCAL_WATCH_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0, KV_ECOMPACTED (oldest_index says what is kept), ...") \
	F(X, ITEMS,   items,       0, PROTO_WATCH_ITEMS_MAX, "the changes in index order (mod_index); create_index 0: a delete") \
	F(X, U64,     next_index,  0, UINT64_MAX,       "every change below it is answered: the next from_index") \
	F(X, U64,     oldest_index, 0, UINT64_MAX,      "the oldest from_index the history still answers") \
	F(X, U64,     applied_index, 0, UINT64_MAX,     "highest index applied")
#define PROTO_LOCAL_LEASE_QUERY(F, X) \
	F(X, U64,     lease,       0, UINT64_MAX,       "the lease; 0: list the leases") \
	F(X, U64,     after,       0, UINT64_MAX,       "listing: leases with a higher id") \
	F(X, U64,     min_index,   0, UINT64_MAX,       "answer once this index is applied") \
	F(X, U64,     wait_ms,     0, UINT64_MAX,       "how long to wait for it")
#define PROTO_LOCAL_LEASE_QUERY_RESP(F, X) \
	F(X, STATUS,  status,      0, 0,                "0 or KV_ENOLEASE, ...") \
	F(X, U64,     ttl_ms,      0, UINT64_MAX,       "one lease: its TTL") \
	F(X, ITEMS,   items,       0, PROTO_LIST_ITEMS_MAX, "one lease: its keys; listing: create_index id, mod_index TTL") \
	F(X, U8,      more,        0, 1,                "1: more follow the last") \
	F(X, U64,     applied_index, 0, UINT64_MAX,     "highest index applied")

/* ---- The key-value command (payload of RAFT_ENTRY_COMMAND; type is the op) -- */

/* struct proto_kv_cmd (proto.h) holds the fields of both ops. */
#define PROTO_KV_MESSAGES(M) \
	M(PUT,    put,    "write a key's value") \
	M(DELETE, delete, "remove a key") \
	M(TXN,    txn,    "compares, then one branch of ops, atomically (proto_txn.c)") \
	M(LEASE_GRANT,  lease_grant,  "create a lease; its id is this entry's index") \
	M(LEASE_REVOKE, lease_revoke, "a client ends a lease: it and its keys go") \
	M(LEASE_EXPIRE, lease_expire, "the leader saw a lease's TTL run out: it and its keys go") \
	M(DELETE_PREFIX, delete_prefix, "remove every key that starts with key (at most SM_DELETE_PREFIX_KEYS_MAX, else nothing)") \
	M(PUT_FLAGS, put_flags, "write a key's value and its flags (Consul's ?flags=)")

#define PROTO_KV_HEADER(F, X) \
	F(X, U64,   origin,     0, UINT64_MAX, "node whose gateway proposed it: it gets the RESULT") \
	F(X, U64,   req_id,     0, UINT64_MAX, "that gateway's request id")
/* The key leads PUT's and DELETE's own fields (the wire is as when it was in the header). */
#define PROTO_KV_KEY(F, X) \
	F(X, BYTES, key,        1, KV_KEY_BYTES_MAX, "the key")
#define PROTO_KV_COND(F, X) \
	F(X, U8,    cond,       PROTO_COND_NONE, PROTO_COND_IF_NONE_MATCH, "enum proto_kv_cond") \
	F(X, U64,   cond_index, 0, UINT64_MAX, "IF_MATCH: the key's mod_index") \
	F(X, BYTES, idem_key,   0, KV_IDEMPOTENCY_KEY_BYTES_MAX, "idempotency key, empty: none")
#define PROTO_KV_PUT(F, X) \
	PROTO_KV_KEY(F, X) \
	F(X, BYTES, value,      0, KV_VALUE_BYTES_MAX_LIMIT, "the value") \
	PROTO_KV_COND(F, X)
#define PROTO_KV_DELETE(F, X) \
	PROTO_KV_KEY(F, X) \
	PROTO_KV_COND(F, X)
#define PROTO_KV_TXN(F, X) \
	F(X, BYTES, value,      0, KV_TXN_BYTES_MAX, "the transaction: struct proto_txn encoded") \
	F(X, BYTES, idem_key,   0, KV_IDEMPOTENCY_KEY_BYTES_MAX, "idempotency key, empty: none")
#define PROTO_KV_LEASE_GRANT(F, X) \
	F(X, U64,   ttl_ms,     KV_LEASE_TTL_MS_MIN, KV_LEASE_TTL_MS_MAX, "the lease's time to live") \
	F(X, BYTES, idem_key,   0, KV_IDEMPOTENCY_KEY_BYTES_MAX, "idempotency key, empty: none")
#define PROTO_KV_LEASE_REVOKE(F, X) \
	F(X, U64,   lease,      1, UINT64_MAX, "the lease id")
#define PROTO_KV_LEASE_EXPIRE(F, X) \
	F(X, U64,   lease,      1, UINT64_MAX, "the lease id") \
	F(X, U64,   term,       1, UINT64_MAX, "the term whose leader's clock decided it: applied only from an entry of that term")
#define PROTO_KV_DELETE_PREFIX(F, X) \
	PROTO_KV_KEY(F, X) \
	PROTO_KV_COND(F, X)
#define PROTO_KV_PUT_FLAGS(F, X) \
	PROTO_KV_KEY(F, X) \
	F(X, BYTES, value,      0, KV_VALUE_BYTES_MAX_LIMIT, "the value") \
	F(X, U64,   flags,      0, UINT64_MAX, "the key's flags, kept with it and returned by GET and LIST") \
	PROTO_KV_COND(F, X)

/* ---- Peer messages (raftd <-> raftd; struct raft_msg in raft_wire.h) -------- */

#define PROTO_RAFT_HEADER(F, X) \
	F(X, U64, from, 1, UINT64_MAX, "sender's node id") \
	F(X, U64, to,   1, UINT64_MAX, "receiver's node id") \
	F(X, U64, term, 0, UINT64_MAX, "sender's term") \
	F(X, U64, incarnation, 0, UINT64_MAX, "sender's incarnation: its data directory (0: unknown)") \
	F(X, U64, cluster, 0, UINT64_MAX, "sender's cluster id (0: not known yet); others are dropped")
/* reject is a reason, not only a flag: READ_INDEX_RESP says why (busy, not leader). */
#define PROTO_RAFT_REJECT(F, X) \
	F(X, U8,  reject, 0, UINT8_MAX, "0: granted/accepted, else why not")

/*
 * A peer message is M(NAME, BODY, body, "what it is"): BODY names the field
 * list PROTO_RAFT_<BODY> and body the struct raft_<body> that holds them, the
 * member u.<body> of struct raft_msg. Types with the same fields share a body
 * (PREVOTE and VOTE: vote; their answers: vote_resp); each body is listed
 * once in PROTO_RAFT_BODIES.
 */
#define PROTO_RAFT_MESSAGES(M) \
	M(APPEND,          APPEND,          append,          "leader->follower: entries after prev_index") \
	M(APPEND_RESP,     APPEND_RESP,     append_resp,     "follower->leader: match or a hint") \
	M(PREVOTE,         VOTE,            vote,            "candidate->all: would you vote? (term: the one it would campaign in)") \
	M(PREVOTE_RESP,    VOTE_RESP,       vote_resp,       "the answer") \
	M(VOTE,            VOTE,            vote,            "candidate->all: vote for me") \
	M(VOTE_RESP,       VOTE_RESP,       vote_resp,       "the answer") \
	M(SNAPSHOT,        SNAPSHOT,        snapshot,        "leader->follower: one chunk of a snapshot") \
	M(SNAPSHOT_RESP,   SNAPSHOT_RESP,   snapshot_resp,   "follower->leader: chunk received") \
	M(TIMEOUT_NOW,     TIMEOUT_NOW,     timeout_now,     "leader->target: campaign now (transfer)") \
	M(READ_INDEX,      READ_INDEX,      read_index,      "follower->leader: confirm leadership for a read") \
	M(READ_INDEX_RESP, READ_INDEX_RESP, read_index_resp, "the answer (reject 1: not leader, 2: busy)") \
	M(PROPOSE,         PROPOSE,         propose,         "follower->leader: commands its gateway proposed (relayed by the driver, never the core's)") \
	M(PROPOSE_RESP,    PROPOSE_RESP,    propose_resp,    "the answer: the first `appended` at index.., the rest refused (reject 1: not leader, 2: busy, 3: refused)")

#define PROTO_RAFT_BODIES(B) \
	B(APPEND,          append) \
	B(APPEND_RESP,     append_resp) \
	B(VOTE,            vote) \
	B(VOTE_RESP,       vote_resp) \
	B(SNAPSHOT,        snapshot) \
	B(SNAPSHOT_RESP,   snapshot_resp) \
	B(TIMEOUT_NOW,     timeout_now) \
	B(READ_INDEX,      read_index) \
	B(READ_INDEX_RESP, read_index_resp) \
	B(PROPOSE,         propose) \
	B(PROPOSE_RESP,    propose_resp)

#define PROTO_RAFT_APPEND(F, X) \
	F(X, U64,     prev_index, 0, UINT64_MAX, "index before the first entry") \
	F(X, U64,     prev_term,  0, UINT64_MAX, "its term") \
	F(X, U64,     commit,     0, UINT64_MAX, "leader's commit index") \
	F(X, U64,     seq,        0, UINT64_MAX, "the leader's heartbeat round, echoed in APPEND_RESP (ReadIndex)") \
	F(X, ENTRIES, entries,    0, RAFT_APPEND_ENTRIES_MAX, "indexes from prev_index + 1; none: a heartbeat")
#define PROTO_RAFT_APPEND_RESP(F, X) \
	PROTO_RAFT_REJECT(F, X) \
	F(X, U64,     match_index, 0, UINT64_MAX, "accepted: last index known to match") \
	F(X, U64,     hint_index, 0, UINT64_MAX, "rejected: the follower's conflict index, where to retry") \
	F(X, U64,     hint_term,  0, UINT64_MAX, "rejected: the term there (0: log too short)") \
	F(X, U64,     seq,        0, UINT64_MAX, "the APPEND's seq")
#define PROTO_RAFT_VOTE(F, X) \
	F(X, U64,     last_index, 0, UINT64_MAX, "candidate's last index") \
	F(X, U64,     last_term,  0, UINT64_MAX, "its term") \
	F(X, U8,      transfer,   0, 1, "1: a leadership transfer (after TIMEOUT_NOW; bypasses the lease)")
#define PROTO_RAFT_VOTE_RESP(F, X) PROTO_RAFT_REJECT(F, X)
#define PROTO_RAFT_SNAPSHOT(F, X) \
	F(X, U64,     snap_index, 0, UINT64_MAX, "last index in the snapshot") \
	F(X, U64,     snap_term,  0, UINT64_MAX, "its term") \
	F(X, CONFIG,  snap_config, 0, RAFT_NODES_MAX, "configuration at snap_index") \
	F(X, U64,     snap_size,  0, UINT64_MAX, "bytes of the whole snapshot") \
	F(X, U64,     offset,     0, UINT64_MAX, "of this chunk; offset + chunk_len == snap_size ends it") \
	F(X, CHUNK,   chunk,      0, RAFT_SNAPSHOT_CHUNK_BYTES, "the chunk and its CRC32C (core's outgoing: NULL, the driver attaches it)") \
	F(X, U64,     commit,     0, UINT64_MAX, "leader's commit index") \
	F(X, CHUNK,   book,       0, RAFT_BOOK_BYTES_MAX, "the sender's address book (raftd_book.h) and its CRC32C; opaque to the core (outgoing: empty, the driver attaches it)")
#define PROTO_RAFT_SNAPSHOT_RESP(F, X) \
	PROTO_RAFT_REJECT(F, X) \
	F(X, U64,     snap_index, 0, UINT64_MAX, "the snapshot's index") \
	F(X, U64,     snap_term,  0, UINT64_MAX, "its term") \
	F(X, U64,     snap_size,  0, UINT64_MAX, "its size") \
	F(X, U64,     offset,     0, UINT64_MAX, "bytes received so far: the next offset wanted") \
	F(X, U64,     match_index, 0, UINT64_MAX, "last index known to match")
#define PROTO_RAFT_TIMEOUT_NOW(F, X)
#define PROTO_RAFT_READ_INDEX(F, X) \
	F(X, U64,     read_id,    0, UINT64_MAX, "echoed in the answer")
#define PROTO_RAFT_READ_INDEX_RESP(F, X) \
	PROTO_RAFT_REJECT(F, X) \
	F(X, U64,     read_id,    0, UINT64_MAX, "the request's read_id") \
	F(X, U64,     read_index, 0, UINT64_MAX, "the leader's commit index")
/*
 * A follower's raftd relays its gateway's PROPOSEs to the leader's raftd
 * (raftd_relay.c), those of one drain in one message; the leader appends
 * them in order as if proposed locally, stops at the first it cannot, and
 * answers at once. Each command carries its origin and req_id: the RESULT
 * still goes to the origin node's gateway, from its own storaged.
 */
#define PROTO_RAFT_PROPOSE(F, X) \
	F(X, U64,     relay_id,   1, UINT64_MAX, "the origin raftd's id for the first command; the next ones follow it") \
	F(X, ENTRIES, commands,   1, RAFT_RELAY_COMMANDS_MAX, "type COMMAND, data an encoded proto_kv_cmd (term 0, index 1, 2, ...: unused); at most RAFT_RELAY_BYTES_MAX bytes of data in all")
#define PROTO_RAFT_PROPOSE_RESP(F, X) \
	PROTO_RAFT_REJECT(F, X) \
	F(X, U64,     relay_id,   1, UINT64_MAX, "the PROPOSE's relay_id") \
	F(X, U64,     count,      1, RAFT_RELAY_COMMANDS_MAX, "its commands, answered here") \
	F(X, U64,     appended,   0, RAFT_RELAY_COMMANDS_MAX, "the first this many are appended at index, index + 1, ...; the others are refused with reject") \
	F(X, U64,     index,      0, UINT64_MAX, "the first appended command's log index") \
	F(X, U64,     log_term,   0, UINT64_MAX, "the term of the appended ones") \
	F(X, U64,     leader_id,  0, UINT64_MAX, "the leader this node knows, 0: none")

/* clang-format on */

#endif

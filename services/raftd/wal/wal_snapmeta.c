/*
 * wal_snapmeta.c - the snapshot metadata (index, term, size, configuration)
 * in the two-slot file "snapmeta", durable on every save.
 * reset_pending marks a wal_reset that saved the metadata but may not have
 * dropped the old log yet; recovery finishes it.
 * Called from raftd's event loop thread.
 */
#include "wal_internal.h"

#include <string.h>

#include "kv_err.h"
#include "kv_log.h"

#define SM_FILE "snapmeta"
/*
 * index, term, size u64; n u32; reset_pending u8; pad[3];
 * members[9] {id u64, role u8, flags u8, pad[6], incarnation u64}
 */
#define SM_MEMBERS_OFF   32u
#define SM_MEMBER_BYTES  24u
#define SM_PAYLOAD_BYTES (SM_MEMBERS_OFF + RAFT_NODES_MAX * SM_MEMBER_BYTES)

static void snapmeta_encode(const struct wal_snapmeta *m, uint8_t *p)
{
	memset(p, 0, SM_PAYLOAD_BYTES);
	wal_put_le(p, m->index, 8);
	wal_put_le(p + 8, m->term, 8);
	wal_put_le(p + 16, m->size, 8);
	wal_put_le(p + 24, m->config.n, 4);
	p[28] = m->reset_pending;
	for (uint32_t i = 0; i < m->config.n; i++) {
		uint8_t *q = p + SM_MEMBERS_OFF + (size_t)i * SM_MEMBER_BYTES;
		wal_put_le(q, m->config.members[i].id, 8);
		q[8] = m->config.members[i].role;
		q[9] = m->config.members[i].flags;
		wal_put_le(q + 16, m->config.members[i].incarnation, 8);
	}
}

/* The CRC held, so a bad count means a bug that wrote it, not a flipped bit: still an error. */
static int snapmeta_decode(const uint8_t *p, struct wal_snapmeta *m)
{
	memset(m, 0, sizeof(*m));
	m->index = wal_get_le(p, 8);
	m->term = wal_get_le(p + 8, 8);
	m->size = wal_get_le(p + 16, 8);
	uint64_t n = wal_get_le(p + 24, 4);
	m->reset_pending = p[28];
	if (n > RAFT_NODES_MAX || m->reset_pending > 1) {
		KV_LOG_ERROR(WAL_SVC, "wal snapshot metadata out of range", "file=%s members=%llu",
		             SM_FILE, (unsigned long long)n);
		return KV_ECORRUPT;
	}
	m->config.n = (uint32_t)n;
	for (uint32_t i = 0; i < m->config.n; i++) {
		const uint8_t *q = p + SM_MEMBERS_OFF + (size_t)i * SM_MEMBER_BYTES;
		m->config.members[i].id = wal_get_le(q, 8);
		m->config.members[i].role = q[8];
		m->config.members[i].flags = q[9];
		m->config.members[i].incarnation = wal_get_le(q + 16, 8);
	}
	return 0;
}

int wal_snapmeta_open(int dir_fd, struct wal_stats *st, struct wal_slotfile *sf,
                      struct wal_snapmeta *m)
{
	uint8_t payload[SM_PAYLOAD_BYTES];
	int found;
	int rc = wal_slotfile_open(dir_fd, SM_FILE, SM_PAYLOAD_BYTES, payload, &found, st, sf);
	if (rc != 0)
		return rc;
	memset(m, 0, sizeof(*m));
	if (found)
		rc = snapmeta_decode(payload, m);
	if (rc != 0)
		wal_slotfile_close(sf);
	return rc;
}

int wal_snapmeta_save(struct wal_slotfile *sf, const struct wal_snapmeta *m, struct wal_stats *st)
{
	uint8_t payload[SM_PAYLOAD_BYTES];
	if (m->config.n > RAFT_NODES_MAX)
		return KV_EINVAL;
	snapmeta_encode(m, payload);
	int rc = wal_slotfile_write(sf, payload);
	if (rc == 0)
		rc = wal_slotfile_sync(sf, st);
	return rc;
}

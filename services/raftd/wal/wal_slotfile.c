/*
 * wal_slotfile.c - a small file with two fixed slots written alternately,
 * for state that must change atomically (hard state, snapshot metadata).
 * A slot is {magic, payload_bytes, seq, payload, crc32c}; a torn or flipped
 * slot fails its CRC and the other one, one write older, is used.
 * The slots sit in different 4 KiB blocks so one torn write cannot touch both.
 * Called from raftd's event loop thread.
 */
#include "wal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kv_assert.h"
#include "kv_crc32c.h"
#include "kv_err.h"
#include "kv_log.h"

#define SLOT_MAGIC      0x534c5752u /* "RWLS" */
#define SLOT_STRIDE     4096u
#define SLOT_HEAD_BYTES 16u /* magic u32, payload_bytes u32, seq u64 */
#define SLOT_BYTES_MAX  (SLOT_HEAD_BYTES + WAL_SLOT_PAYLOAD_BYTES_MAX + 4u)

static uint32_t slot_bytes(const struct wal_slotfile *sf)
{
	return SLOT_HEAD_BYTES + sf->payload_bytes + 4u;
}

/* Returns the slot's seq if it is valid, 0 if not; *blank = 1 if it is all zero. */
static uint64_t slot_check(const struct wal_slotfile *sf, const uint8_t *buf, int *blank)
{
	uint32_t n = slot_bytes(sf);
	*blank = 1;
	for (uint32_t i = 0; i < n; i++) {
		if (buf[i] != 0) {
			*blank = 0;
			break;
		}
	}
	if (wal_get_le(buf, 4) != SLOT_MAGIC || wal_get_le(buf + 4, 4) != sf->payload_bytes)
		return 0;
	if (kv_crc32c(0, buf, n - 4) != (uint32_t)wal_get_le(buf + n - 4, 4))
		return 0;
	return wal_get_le(buf + 8, 8);
}

static int slot_read(struct wal_slotfile *sf, int slot, uint8_t *buf)
{
	uint32_t n = slot_bytes(sf);
	memset(buf, 0, n);
	ssize_t got;
	do
		got = pread(sf->fd, buf, n, (off_t)slot * SLOT_STRIDE);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		KV_LOG_ERROR(WAL_SVC, "wal read failed", "file=%s errno=\"%s\"", sf->name,
		             strerror(errno));
		return KV_EIO;
	}
	return 0; /* a short read leaves zeros: a slot never written */
}

/* Picks the valid slot with the highest seq; KV_ECORRUPT if data but none valid. */
static int slots_load(struct wal_slotfile *sf, uint8_t *payload, int *found)
{
	uint8_t buf[2][SLOT_BYTES_MAX];
	uint64_t seq[2];
	int blank[2];
	for (int i = 0; i < 2; i++) {
		int rc = slot_read(sf, i, buf[i]);
		if (rc != 0)
			return rc;
		seq[i] = slot_check(sf, buf[i], &blank[i]);
	}
	*found = 0;
	sf->newest = 1; /* so that the first write goes to slot 0 */
	if (seq[0] == 0 && seq[1] == 0) {
		if (blank[0] && blank[1])
			return 0;
		KV_LOG_ERROR(WAL_SVC, "wal file corrupt: both slots fail their checksum",
		             "file=%s offsets=0,%u", sf->name, SLOT_STRIDE);
		return KV_ECORRUPT;
	}
	int best = seq[1] > seq[0] ? 1 : 0;
	if (seq[1 - best] == 0 && !blank[1 - best])
		KV_LOG_WARN(WAL_SVC, "wal slot fails its checksum; using the other slot",
		            "file=%s bad_offset=%u seq=%llu", sf->name, (1 - best) * SLOT_STRIDE,
		            (unsigned long long)seq[best]);
	sf->seq = seq[best];
	sf->newest = best;
	memcpy(payload, buf[best] + SLOT_HEAD_BYTES, sf->payload_bytes);
	*found = 1;
	return 0;
}

int wal_slotfile_open(int dir_fd, const char *name, uint32_t payload_bytes, uint8_t *payload,
                      int *found, struct wal_stats *st, struct wal_slotfile *sf)
{
	KV_ASSERT(payload_bytes <= WAL_SLOT_PAYLOAD_BYTES_MAX);
	memset(sf, 0, sizeof(*sf));
	sf->name = name;
	sf->payload_bytes = payload_bytes;
	int created = 1;
	sf->fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (sf->fd < 0 && errno == EEXIST) {
		created = 0;
		sf->fd = openat(dir_fd, name, O_RDWR | O_CLOEXEC);
	}
	if (sf->fd < 0) {
		KV_LOG_ERROR(WAL_SVC, "wal file open failed", "file=%s errno=\"%s\"", name,
		             strerror(errno));
		return kv_err_from_errno(errno);
	}
	int rc = created ? wal_io_fdatasync(dir_fd, st, "wal directory") : 0;
	if (rc == 0)
		rc = slots_load(sf, payload, found);
	if (rc != 0) {
		close(sf->fd);
		sf->fd = -1;
	}
	return rc;
}

int wal_slotfile_write(struct wal_slotfile *sf, const uint8_t *payload)
{
	uint8_t buf[SLOT_BYTES_MAX];
	uint32_t n = slot_bytes(sf);
	uint64_t seq = sf->seq + 1;
	wal_put_le(buf, SLOT_MAGIC, 4);
	wal_put_le(buf + 4, sf->payload_bytes, 4);
	wal_put_le(buf + 8, seq, 8);
	memcpy(buf + SLOT_HEAD_BYTES, payload, sf->payload_bytes);
	wal_put_le(buf + n - 4, kv_crc32c(0, buf, n - 4), 4);
	/* Overwrite the older slot, never the newest: a torn write leaves the newest. */
	int slot = 1 - sf->newest;
	sf->dirty = 1;
	int rc = wal_io_pwrite(sf->fd, buf, n, (uint64_t)slot * SLOT_STRIDE, sf->name);
	if (rc != 0)
		return rc;
	sf->seq = seq;
	sf->newest = slot;
	return 0;
}

int wal_slotfile_sync(struct wal_slotfile *sf, struct wal_stats *st)
{
	if (!sf->dirty)
		return 0;
	int rc = wal_io_fdatasync(sf->fd, st, sf->name);
	if (rc == 0)
		sf->dirty = 0;
	return rc;
}

void wal_slotfile_close(struct wal_slotfile *sf)
{
	if (sf->fd >= 0)
		close(sf->fd);
	sf->fd = -1;
}

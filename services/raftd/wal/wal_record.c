/*
 * wal_record.c - framing of one WAL record and the scans recovery needs.
 * Pure functions over a byte range (a segment's mapping); any thread.
 * Every length read from disk is checked against the bytes left before use,
 * so a hostile length field can neither read out of bounds nor allocate.
 */
#include "wal_internal.h"

#include <string.h>

#include "kv_crc32c.h"

#define HDR_CRC_OFF 28u

uint64_t wal_record_bytes(uint32_t len)
{
	uint64_t n = (uint64_t)WAL_RECORD_HEADER_BYTES + len;
	return (n + WAL_RECORD_ALIGN - 1) & ~(uint64_t)(WAL_RECORD_ALIGN - 1);
}

void wal_record_encode(const struct raft_entry *e, uint8_t hdr[WAL_RECORD_HEADER_BYTES])
{
	memset(hdr, 0, WAL_RECORD_HEADER_BYTES);
	wal_put_le(hdr, WAL_RECORD_MAGIC, 4);
	wal_put_le(hdr + 4, e->len, 4);
	wal_put_le(hdr + 8, e->index, 8);
	wal_put_le(hdr + 16, e->term, 8);
	hdr[24] = e->type;
	uint32_t crc = kv_crc32c(0, hdr, HDR_CRC_OFF);
	if (e->len > 0)
		crc = kv_crc32c(crc, e->data, e->len);
	wal_put_le(hdr + HDR_CRC_OFF, crc, 4);
}

static int header_is_zero(const uint8_t *hdr)
{
	for (uint32_t i = 0; i < WAL_RECORD_HEADER_BYTES; i++) {
		if (hdr[i] != 0)
			return 0;
	}
	return 1;
}

enum wal_record_status wal_record_decode(const uint8_t *base, uint64_t size, uint64_t off,
                                         struct raft_entry *out)
{
	if (off > size)
		return WAL_RECORD_BAD;
	if (size - off < WAL_RECORD_HEADER_BYTES) /* too short for a header: the end if blank */
		return wal_record_used_end(base, size, off) == off ? WAL_RECORD_ZERO
		                                                   : WAL_RECORD_BAD;
	const uint8_t *hdr = base + off;
	if (header_is_zero(hdr))
		return WAL_RECORD_ZERO;
	uint32_t len = (uint32_t)wal_get_le(hdr + 4, 4);
	uint8_t type = hdr[24];
	if ((uint32_t)wal_get_le(hdr, 4) != WAL_RECORD_MAGIC || hdr[25] != 0 || hdr[26] != 0 ||
	    hdr[27] != 0)
		return WAL_RECORD_BAD;
	if (type < RAFT_ENTRY_NOOP || type > RAFT_ENTRY_CONFIG || len > WAL_ENTRY_BYTES_MAX)
		return WAL_RECORD_BAD;
	if (wal_record_bytes(len) > size - off)
		return WAL_RECORD_BAD;
	uint32_t crc = kv_crc32c(0, hdr, HDR_CRC_OFF);
	crc = kv_crc32c(crc, hdr + WAL_RECORD_HEADER_BYTES, len);
	if (crc != (uint32_t)wal_get_le(hdr + HDR_CRC_OFF, 4))
		return WAL_RECORD_BAD;
	out->index = wal_get_le(hdr + 8, 8);
	out->term = wal_get_le(hdr + 16, 8);
	out->type = type;
	out->len = len;
	out->data = hdr + WAL_RECORD_HEADER_BYTES;
	if (out->index == 0)
		return WAL_RECORD_BAD;
	return WAL_RECORD_OK;
}

uint64_t wal_record_find_valid(const uint8_t *base, uint64_t size, uint64_t from)
{
	struct raft_entry e;
	uint64_t off = (from + WAL_RECORD_ALIGN - 1) & ~(uint64_t)(WAL_RECORD_ALIGN - 1);
	/* Only offsets holding the magic are worth a CRC: this stays a linear scan. */
	for (; off < size && size - off >= WAL_RECORD_HEADER_BYTES; off += WAL_RECORD_ALIGN) {
		if ((uint32_t)wal_get_le(base + off, 4) != WAL_RECORD_MAGIC)
			continue;
		if (wal_record_decode(base, size, off, &e) == WAL_RECORD_OK)
			return off;
	}
	return UINT64_MAX;
}

uint64_t wal_record_used_end(const uint8_t *base, uint64_t size, uint64_t from)
{
	uint64_t end = size;
	while (end > from && base[end - 1] == 0)
		end--;
	return end;
}

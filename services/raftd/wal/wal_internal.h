/*
 * wal_internal.h - what the WAL's files (services/raftd/wal/) share and nobody else uses:
 * struct wal itself, segments, the entry index, record framing, the
 * two-slot files and the syscall wrappers (the only place with fault points).
 * One thread at a time per struct wal.
 */
#ifndef RAFTKV_WAL_INTERNAL_H
#define RAFTKV_WAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "raft.h"
#include "wal.h"

#define WAL_SVC "raftd"

/* Little-endian fields of n bytes (1..8): every on-disk integer of the WAL. */
static inline void wal_put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t wal_get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- Records (wal_record.c) -------------------------------------------
 * Little-endian header, 8-byte aligned records:
 *   0 magic u32 | 4 len u32 | 8 index u64 | 16 term u64 | 24 type u8 | 25 zero[3] | 28 crc u32
 * then len payload bytes, then zero padding to a multiple of 8. The CRC32C
 * covers header bytes [0, 28) and the payload. An all-zero header is where the
 * written log ends.
 */
#define WAL_RECORD_MAGIC        0x4c415752u /* "RWAL" */
#define WAL_RECORD_HEADER_BYTES 32u
#define WAL_RECORD_ALIGN        8u

enum wal_record_status { WAL_RECORD_OK = 0, WAL_RECORD_ZERO = 1, WAL_RECORD_BAD = 2 };

/* Bytes one record of len payload bytes takes on disk, padding included. */
uint64_t wal_record_bytes(uint32_t len);

/* Fills hdr with the framing of e (its CRC covers e->data). */
void wal_record_encode(const struct raft_entry *e, uint8_t hdr[WAL_RECORD_HEADER_BYTES]);

/*
 * Checks the record at off in base[0, size): framing, bounds, CRC. On OK
 * fills out (data points into base). Never reads outside base[0, size).
 */
enum wal_record_status wal_record_decode(const uint8_t *base, uint64_t size, uint64_t off,
                                         struct raft_entry *out);

/* The offset of the first valid record at an aligned offset >= from, or UINT64_MAX. */
uint64_t wal_record_find_valid(const uint8_t *base, uint64_t size, uint64_t from);

/* One past the last non-zero byte in base[from, size), or from if all zero. */
uint64_t wal_record_used_end(const uint8_t *base, uint64_t size, uint64_t from);

/* ---- Syscalls (wal_io.c): errno becomes KV_E* here; fault points live here */

int wal_io_pwritev(int fd, struct iovec *iov, int iovcnt, uint64_t off, const char *what);
int wal_io_pwrite(int fd, const void *buf, size_t len, uint64_t off, const char *what);
int wal_io_fdatasync(int fd, struct wal_stats *st, const char *what);
int wal_io_fallocate(int fd, uint64_t len, const char *what);
int wal_io_zero(int fd, uint64_t off, uint64_t len, const char *what);

/* ---- Segments (wal_segment.c) ------------------------------------------ */

#define WAL_SEGMENT_NAME_BYTES 32u

struct wal_segment {
	uint64_t first_index; /* from the file name */
	uint64_t last_index;  /* of the last record; first_index - 1 when empty */
	uint64_t size;        /* file size = mapping size */
	uint64_t write_off;   /* end of the last valid record: the next append goes here */
	uint8_t *map;         /* PROT_READ, MAP_SHARED: sees our pwrite()s */
	int fd;               /* -1 once sealed: only the last segment is written */
	int dirty;            /* written since its last fdatasync */
	char name[WAL_SEGMENT_NAME_BYTES];
};

/* "%020llu.seg"; returns 0, or KV_EINVAL if name is not a segment name. */
int wal_segment_parse_name(const char *name, uint64_t *first_index);

/* Creates, preallocates and maps a new segment; the file and its directory entry are durable. */
int wal_segment_create(int dir_fd, uint64_t first_index, uint64_t size, struct wal_stats *st,
                       struct wal_segment **out);

/* Opens and maps an existing segment (records not yet scanned). */
int wal_segment_open(int dir_fd, const char *name, struct wal_segment **out);

/* Writes records e[0, n) at s->write_off; they must fit. */
int wal_segment_write(struct wal_segment *s, const struct raft_entry *e, uint32_t n);

/* Zeroes [off, write_off) durably and moves write_off back to off. */
int wal_segment_cut(struct wal_segment *s, uint64_t off, struct wal_stats *st);

int wal_segment_sync(struct wal_segment *s, struct wal_stats *st);

/* Syncs and closes the descriptor of a segment no longer written (the mapping stays). */
int wal_segment_seal(struct wal_segment *s, struct wal_stats *st);

/* Reopens a sealed segment for writing (after a truncation made it the last again). */
int wal_segment_unseal(struct wal_segment *s, int dir_fd);

/* Unmaps, closes and frees; sets *s to NULL. Safe on NULL. */
void wal_segment_close(struct wal_segment **s);

/* Closes and unlinks the file; the caller then syncs the directory. */
int wal_segment_remove(struct wal_segment **s, int dir_fd);

/* ---- Two-slot files (wal_slotfile.c) ------------------------------------ */

#define WAL_SLOT_PAYLOAD_BYTES_MAX 256u

struct wal_slotfile {
	int fd;
	uint64_t seq; /* of the newest valid slot; the next write uses seq + 1 */
	int newest;   /* 0 or 1: the slot holding seq; the next write goes to the other */
	uint32_t payload_bytes;
	int dirty;
	const char *name; /* static */
};

/*
 * Opens or creates name in dir_fd and loads the valid slot with the highest
 * seq into payload. *found = 0 for a new or all-zero file. KV_ECORRUPT when
 * the file holds data but no valid slot.
 */
int wal_slotfile_open(int dir_fd, const char *name, uint32_t payload_bytes, uint8_t *payload,
                      int *found, struct wal_stats *st, struct wal_slotfile *sf);

/* Writes payload into the older slot; durable after wal_slotfile_sync. */
int wal_slotfile_write(struct wal_slotfile *sf, const uint8_t *payload);

int wal_slotfile_sync(struct wal_slotfile *sf, struct wal_stats *st);

void wal_slotfile_close(struct wal_slotfile *sf);

/* ---- Hard state and snapshot metadata (wal_hardstate.c, wal_snapmeta.c) -- */

struct wal_snapmeta {
	uint64_t index;
	uint64_t term;
	uint64_t size;
	struct raft_config config;
	uint8_t reset_pending; /* wal_reset saved this but may not have dropped the log yet */
};

int wal_hardstate_open(int dir_fd, struct wal_stats *st, struct wal_slotfile *sf,
                       struct raft_hard_state *hs);
int wal_hardstate_write(struct wal_slotfile *sf, const struct raft_hard_state *hs);

int wal_snapmeta_open(int dir_fd, struct wal_stats *st, struct wal_slotfile *sf,
                      struct wal_snapmeta *m);
/* Writes m and makes it durable. */
int wal_snapmeta_save(struct wal_slotfile *sf, const struct wal_snapmeta *m, struct wal_stats *st);

/* ---- The WAL -------------------------------------------------------------- */

struct wal_loc {
	struct wal_segment *seg;
	uint64_t off;
};

struct wal {
	int dir_fd;
	int lock_fd;
	uint64_t segment_bytes;
	int failed; /* sticky KV_E* after an I/O error; 0 while healthy */

	struct wal_segment *segs[WAL_SEGMENTS_MAX]; /* in index order; the last is written */
	uint32_t n_segs;

	/* Where each entry lives: locs[i] holds index first_index + i. */
	struct wal_loc *locs;
	uint32_t n_locs;
	uint32_t cap_locs;
	uint64_t first_index;
	uint64_t last_index; /* snap.index when n_locs == 0 */

	struct wal_snapmeta snap;
	struct wal_slotfile hs_file;
	struct wal_slotfile snap_file;
	struct raft_entry *rec_entries; /* wal_recovery.entries; freed by the next change */
	struct wal_stats stats;
};

/* Index (wal_index.c). reserve makes room for extra more pushes, which then cannot fail. */
int wal_index_reserve(struct wal *w, uint32_t extra);
int wal_index_push(struct wal *w, struct wal_segment *seg, uint64_t off);
void wal_index_drop_after(struct wal *w, uint64_t index);
void wal_index_drop_upto(struct wal *w, uint64_t index);
void wal_index_clear(struct wal *w, uint64_t last_index);
const struct wal_loc *wal_index_find(const struct wal *w, uint64_t index);

/* Recovery (wal_recover.c): maps and scans every segment into w. */
int wal_recover_segments(struct wal *w, uint64_t *torn_bytes);

/* Closes every segment from segs[from] on; with unlink, deletes them and syncs the dir. */
int wal_drop_segments_from(struct wal *w, uint32_t from, int unlink);

/* Frees the recovery entry array (the pointers handed out become invalid). */
void wal_forget_recovery(struct wal *w);

#endif

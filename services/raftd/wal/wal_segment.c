/*
 * wal_segment.c - one segment file: create (preallocated), open, map,
 * write records, cut a tail, sync, close. Each segment is mapped read-only
 * and shared, so entries are read in place (zero copy) and see our writes.
 * Called from raftd's event loop thread.
 */
#include "wal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

#define SEG_DIGITS          20
#define SEG_SUFFIX          ".seg"
#define WRITE_BATCH_RECORDS 256 /* 3 iovecs each: stays under IOV_MAX (1024) */

static const uint8_t pad_zeros[WAL_RECORD_ALIGN];

int wal_segment_parse_name(const char *name, uint64_t *first_index)
{
	if (strlen(name) != SEG_DIGITS + strlen(SEG_SUFFIX) ||
	    strcmp(name + SEG_DIGITS, SEG_SUFFIX) != 0)
		return KV_EINVAL;
	uint64_t v = 0;
	for (int i = 0; i < SEG_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return KV_EINVAL;
		uint64_t d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return KV_EINVAL;
		v = v * 10 + d;
	}
	if (v == 0)
		return KV_EINVAL;
	*first_index = v;
	return 0;
}

static struct wal_segment *segment_alloc(uint64_t first_index)
{
	struct wal_segment *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->fd = -1;
	s->first_index = first_index;
	s->last_index = first_index - 1;
	snprintf(s->name, sizeof(s->name), "%020" PRIu64 SEG_SUFFIX, first_index);
	return s;
}

static int segment_map(struct wal_segment *s)
{
	if (s->size == 0)
		return 0;
	void *p = mmap(NULL, (size_t)s->size, PROT_READ, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED) {
		KV_LOG_ERROR(WAL_SVC, "wal mmap failed", "file=%s errno=\"%s\"", s->name,
		             strerror(errno));
		return kv_err_from_errno(errno);
	}
	s->map = p;
	return 0;
}

int wal_segment_create(int dir_fd, uint64_t first_index, uint64_t size, struct wal_stats *st,
                       struct wal_segment **out)
{
	KV_ASSERT(size > 0 && size <= WAL_SEGMENT_BYTES_MAX + 2ull * WAL_ENTRY_BYTES_MAX);
	struct wal_segment *s = segment_alloc(first_index);
	if (s == NULL)
		return KV_ENOMEM;
	int rc;
	s->fd = openat(dir_fd, s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (s->fd < 0) {
		KV_LOG_ERROR(WAL_SVC, "wal segment create failed", "file=%s errno=\"%s\"", s->name,
		             strerror(errno));
		rc = kv_err_from_errno(errno);
		goto out_free;
	}
	s->size = size;
	rc = wal_io_fallocate(s->fd, size, s->name);
	if (rc == 0)
		rc = wal_io_fdatasync(s->fd, st, s->name);
	if (rc == 0)
		rc = wal_io_fdatasync(dir_fd, st, "wal directory");
	if (rc == 0)
		rc = segment_map(s);
	if (rc != 0)
		goto out_unlink;
	*out = s;
	return 0;

out_unlink:
	close(s->fd);
	unlinkat(dir_fd, s->name, 0);
out_free:
	free(s);
	return rc;
}

int wal_segment_open(int dir_fd, const char *name, struct wal_segment **out)
{
	uint64_t first;
	if (wal_segment_parse_name(name, &first) != 0)
		return KV_EINVAL;
	struct wal_segment *s = segment_alloc(first);
	if (s == NULL)
		return KV_ENOMEM;
	int rc;
	struct stat sb;
	s->fd = openat(dir_fd, name, O_RDWR | O_CLOEXEC);
	if (s->fd < 0 || fstat(s->fd, &sb) != 0) {
		KV_LOG_ERROR(WAL_SVC, "wal segment open failed", "file=%s errno=\"%s\"", name,
		             strerror(errno));
		rc = kv_err_from_errno(errno);
		goto out_close;
	}
	if ((uint64_t)sb.st_size > WAL_SEGMENT_BYTES_MAX + 2ull * WAL_ENTRY_BYTES_MAX) {
		KV_LOG_ERROR(WAL_SVC, "wal segment larger than any the WAL writes",
		             "file=%s size=%lld", name, (long long)sb.st_size);
		rc = KV_ECORRUPT;
		goto out_close;
	}
	s->size = (uint64_t)sb.st_size;
	rc = segment_map(s);
	if (rc != 0)
		goto out_close;
	*out = s;
	return 0;

out_close:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return rc;
}

int wal_segment_write(struct wal_segment *s, const struct raft_entry *e, uint32_t n)
{
	uint8_t hdrs[WRITE_BATCH_RECORDS][WAL_RECORD_HEADER_BYTES];
	struct iovec iov[3 * WRITE_BATCH_RECORDS];
	uint32_t done = 0;
	while (done < n) {
		uint32_t batch = n - done < WRITE_BATCH_RECORDS ? n - done : WRITE_BATCH_RECORDS;
		int iovcnt = 0;
		uint64_t bytes = 0;
		for (uint32_t i = 0; i < batch; i++) {
			const struct raft_entry *x = &e[done + i];
			uint64_t rec = wal_record_bytes(x->len);
			wal_record_encode(x, hdrs[i]);
			iov[iovcnt++] = (struct iovec){hdrs[i], WAL_RECORD_HEADER_BYTES};
			if (x->len > 0)
				iov[iovcnt++] = (struct iovec){(void *)x->data, x->len};
			if (rec > WAL_RECORD_HEADER_BYTES + x->len)
				iov[iovcnt++] = (struct iovec){
				    (void *)pad_zeros, rec - WAL_RECORD_HEADER_BYTES - x->len};
			bytes += rec;
		}
		KV_ASSERT(s->write_off + bytes <= s->size);
		s->dirty = 1;
		int rc = wal_io_pwritev(s->fd, iov, iovcnt, s->write_off, s->name);
		if (rc != 0)
			return rc;
		s->write_off += bytes;
		s->last_index = e[done + batch - 1].index;
		done += batch;
	}
	return 0;
}

int wal_segment_cut(struct wal_segment *s, uint64_t off, struct wal_stats *st)
{
	KV_ASSERT(off <= s->write_off);
	int rc = wal_io_zero(s->fd, off, s->write_off - off, s->name);
	if (rc != 0)
		return rc;
	s->write_off = off;
	s->dirty = 0;
	return wal_io_fdatasync(s->fd, st, s->name);
}

int wal_segment_sync(struct wal_segment *s, struct wal_stats *st)
{
	if (!s->dirty)
		return 0;
	int rc = wal_io_fdatasync(s->fd, st, s->name);
	if (rc == 0)
		s->dirty = 0;
	return rc;
}

int wal_segment_seal(struct wal_segment *s, struct wal_stats *st)
{
	int rc = wal_segment_sync(s, st);
	if (rc != 0 || s->fd < 0)
		return rc;
	/* The mapping outlives the descriptor: reads go on, and fds stay few. */
	close(s->fd);
	s->fd = -1;
	return 0;
}

int wal_segment_unseal(struct wal_segment *s, int dir_fd)
{
	if (s->fd >= 0)
		return 0;
	s->fd = openat(dir_fd, s->name, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		KV_LOG_ERROR(WAL_SVC, "wal segment reopen failed", "file=%s errno=\"%s\"", s->name,
		             strerror(errno));
		return kv_err_from_errno(errno);
	}
	return 0;
}

void wal_segment_close(struct wal_segment **sp)
{
	struct wal_segment *s = *sp;
	if (s == NULL)
		return;
	if (s->map != NULL)
		munmap(s->map, (size_t)s->size);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	*sp = NULL;
}

int wal_segment_remove(struct wal_segment **sp, int dir_fd)
{
	char name[WAL_SEGMENT_NAME_BYTES];
	memcpy(name, (*sp)->name, sizeof(name));
	wal_segment_close(sp);
	if (unlinkat(dir_fd, name, 0) != 0) {
		KV_LOG_ERROR(WAL_SVC, "wal segment unlink failed", "file=%s errno=\"%s\"", name,
		             strerror(errno));
		return KV_EIO;
	}
	return 0;
}

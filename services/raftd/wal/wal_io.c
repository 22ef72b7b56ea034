/*
 * wal_io.c - the WAL's write-side syscalls: errno becomes a KV_E* code here,
 * each failure is logged with the file it hit, and each call has a libfiu
 * fault point (compiled in only with -DFIU_ENABLE, for the tests):
 *   wal/write      pwrite/pwritev fail; failnum is the errno (e.g. ENOSPC)
 *   wal/fdatasync  fdatasync/fsync fail; failnum is the errno (e.g. EIO)
 *   wal/fallocate  preallocation fails; failnum is the errno (e.g. ENOSPC)
 * Called from raftd's event loop thread.
 */
#include "wal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <fiu-local.h>

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_log.h"

#define ZERO_CHUNK_BYTES (64u << 10)

static int io_fail(const char *call, const char *what, int errnum)
{
	const char *msg = errnum == ENOSPC || errnum == EDQUOT
	                      ? "wal disk full: cannot write the log; free space, then restart"
	                      : "wal i/o failed";
	KV_LOG_ERROR(WAL_SVC, msg, "call=%s file=%s errno=\"%s\"", call, what, strerror(errnum));
	return kv_err_from_errno(errnum);
}

/* Advances iov past done bytes; returns the first iovec with bytes left. */
static int iov_advance(struct iovec *iov, int iovcnt, int *first, size_t done)
{
	int i = *first;
	while (i < iovcnt && done >= iov[i].iov_len) {
		done -= iov[i].iov_len;
		i++;
	}
	if (i < iovcnt) {
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + done;
		iov[i].iov_len -= done;
	}
	*first = i;
	return i < iovcnt;
}

int wal_io_pwritev(int fd, struct iovec *iov, int iovcnt, uint64_t off, const char *what)
{
	int first = 0;
	while (first < iovcnt) {
		ssize_t n;
		int injected = fiu_fail("wal/write");
		if (injected) {
			errno = injected;
			n = -1;
		} else {
			n = pwritev(fd, iov + first, iovcnt - first, (off_t)off);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_fail("pwritev", what, errno);
		if (n == 0)
			return io_fail("pwritev", what, EIO);
		off += (uint64_t)n;
		iov_advance(iov, iovcnt, &first, (size_t)n);
	}
	return 0;
}

int wal_io_pwrite(int fd, const void *buf, size_t len, uint64_t off, const char *what)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	return wal_io_pwritev(fd, &iov, 1, off, what);
}

int wal_io_fdatasync(int fd, struct wal_stats *st, const char *what)
{
	uint64_t t0 = kv_clock_mono_us();
	int injected = fiu_fail("wal/fdatasync");
	int rc;
	if (injected) {
		errno = injected;
		rc = -1;
	} else {
		rc = fdatasync(fd);
	}
	if (rc != 0) {
		/* After a failed fdatasync the page cache state is unknown: the
		 * only safe answer is KV_EIO and an exit, whatever errno says. */
		io_fail("fdatasync", what, errno);
		return KV_EIO;
	}
	uint64_t us = kv_clock_mono_us() - t0;
	st->fsyncs++;
	st->fsync_us_total += us;
	if (us > st->fsync_us_max)
		st->fsync_us_max = us;
	return 0;
}

int wal_io_fallocate(int fd, uint64_t len, const char *what)
{
	int injected = fiu_fail("wal/fallocate");
	int rc;
	if (injected) {
		errno = injected;
		rc = -1;
	} else {
		do
			rc = fallocate(fd, 0, 0, (off_t)len);
		while (rc != 0 && errno == EINTR);
	}
	if (rc != 0)
		return io_fail("fallocate", what, errno);
	return 0;
}

/* Writes zeros when the filesystem cannot zero a range in place. */
static int zero_by_writing(int fd, uint64_t off, uint64_t len, const char *what)
{
	static const uint8_t zeros[ZERO_CHUNK_BYTES];
	while (len > 0) {
		size_t n = len < ZERO_CHUNK_BYTES ? (size_t)len : ZERO_CHUNK_BYTES;
		int rc = wal_io_pwrite(fd, zeros, n, off, what);
		if (rc != 0)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

int wal_io_zero(int fd, uint64_t off, uint64_t len, const char *what)
{
	if (len == 0)
		return 0;
	int injected = fiu_fail("wal/write");
	if (injected)
		return io_fail("fallocate(ZERO_RANGE)", what, injected);
	/* KEEP_SIZE: the segment stays preallocated; the blocks stay reserved. */
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return io_fail("fallocate(ZERO_RANGE)", what, errno);
	return zero_by_writing(fd, off, len, what);
}

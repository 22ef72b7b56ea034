/*
 * test_wal_util.h - helpers shared by the WAL tests (test_wal*.c): a
 * temporary directory per test, entries with recognisable payloads, byte
 * surgery on the WAL's files and capture of the log lines on stderr.
 * Single-threaded test code; every helper fails the test on a setup error.
 */
#ifndef RAFTKV_TEST_WAL_UTIL_H
#define RAFTKV_TEST_WAL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv_err.h"
#include "wal.h"
#include "wal_internal.h"

#define TW_PAYLOAD_MAX 4096u

struct tw_dir {
	char path[128];
	char sub[160]; /* path/wal: wal_open creates it */
};

/* Every directory made and not yet removed: a failed test leaves its own here. */
#define TW_DIRS_MAX 64
static char tw_made[TW_DIRS_MAX][128];

static inline void tw_dir_make(struct tw_dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/test_wal.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->sub, sizeof(d->sub), "%s/wal", d->path);
	for (int i = 0; i < TW_DIRS_MAX; i++) {
		if (tw_made[i][0] == '\0') {
			memcpy(tw_made[i], d->path, sizeof(d->path));
			return;
		}
	}
	fail_msg("more than %d test directories at once", TW_DIRS_MAX);
}

static inline int tw_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static inline int tw_rm_tree(const char *path)
{
	int rc = nftw(path, tw_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < TW_DIRS_MAX; i++) {
		if (strcmp(tw_made[i], path) == 0)
			tw_made[i][0] = '\0';
	}
	return rc;
}

static inline void tw_dir_remove(struct tw_dir *d)
{
	assert_int_equal(tw_rm_tree(d->path), 0);
}

/* Group teardown: removes what failed tests left behind. */
static inline int tw_remove_leftovers(void **state)
{
	(void)state;
	for (int i = 0; i < TW_DIRS_MAX; i++) {
		if (tw_made[i][0] != '\0') {
			char path[128];
			memcpy(path, tw_made[i], sizeof(path));
			tw_rm_tree(path);
		}
	}
	return 0;
}

/* Payload byte i of entry (index, term): never zero, so torn tails are measurable. */
static inline uint8_t tw_byte(uint64_t index, uint64_t term, uint32_t i)
{
	return (uint8_t)(1 + (index * 31 + term * 7 + i) % 251);
}

/* Fills e (with payload storage buf) for index/term with len bytes. */
static inline void tw_entry(struct raft_entry *e, uint8_t *buf, uint64_t index, uint64_t term,
                            uint32_t len)
{
	assert_true(len <= TW_PAYLOAD_MAX);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = tw_byte(index, term, i);
	*e = (struct raft_entry){.index = index,
	                         .term = term,
	                         .type = (uint8_t)(index % 3 + 1),
	                         .len = len,
	                         .data = buf};
}

/* Appends [from, to] with term and len bytes each, one entry per call. */
static inline void tw_append_range(struct wal *w, uint64_t from, uint64_t to, uint64_t term,
                                   uint32_t len)
{
	static uint8_t buf[TW_PAYLOAD_MAX];
	for (uint64_t i = from; i <= to; i++) {
		struct raft_entry e;
		tw_entry(&e, buf, i, term, len);
		assert_int_equal(wal_append(w, &e, 1), 0);
	}
}

/* Checks that e is the entry tw_entry made for (index, term, len). */
static inline void tw_check_entry(const struct raft_entry *e, uint64_t index, uint64_t term,
                                  uint32_t len)
{
	assert_int_equal(e->index, index);
	assert_int_equal(e->term, term);
	assert_int_equal(e->type, index % 3 + 1);
	assert_int_equal(e->len, len);
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(e->data[i], tw_byte(index, term, i));
}

static inline int tw_open(const char *dir, uint64_t seg_bytes, struct wal **w,
                          struct wal_recovery *rec)
{
	struct wal_options o = {.dir = dir, .segment_bytes = seg_bytes};
	return wal_open(&o, w, rec);
}

static inline void tw_path(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static inline void tw_seg_path(char *out, size_t n, const char *dir, uint64_t first)
{
	snprintf(out, n, "%s/%020llu.seg", dir, (unsigned long long)first);
}

/* Writes len bytes at off of file path (the test's "disk fault"). */
static inline void tw_poke(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static inline uint8_t tw_peek(const char *path, uint64_t off)
{
	uint8_t b = 0;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	close(fd);
	return b;
}

static inline void tw_flip_bit(const char *path, uint64_t off, int bit)
{
	uint8_t b = (uint8_t)(tw_peek(path, off) ^ (1u << bit));
	tw_poke(path, off, &b, 1);
}

static inline int tw_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Counts *.seg files in dir. */
static inline int tw_count_segments(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '\\.seg$'", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	int n = -1;
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* Open descriptors of this process. */
static inline int tw_count_fds(void)
{
	/*
	 * Counted in-process: a `ls /proc/$PPID/fd` through popen() raced with
	 * popen() closing its pipe's write end, so one count in many was off by
	 * one either way (the test saw 4 and 6 open files instead of 5).
	 */
	DIR *dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	int n = 0;
	for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1; /* the directory's own fd */
}

/* Stderr capture: the WAL logs corruption there; tests check the message. */
struct tw_capture {
	int saved_fd;
	char path[160];
};

static inline void tw_capture_begin(struct tw_capture *c, const char *dir)
{
	snprintf(c->path, sizeof(c->path), "%s/stderr.txt", dir);
	fflush(stderr);
	c->saved_fd = dup(2);
	int fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && c->saved_fd >= 0);
	dup2(fd, 2);
	close(fd);
}

/* Restores stderr and returns what was written (static buffer), echoing it. */
static inline const char *tw_capture_end(struct tw_capture *c)
{
	static char text[8192];
	fflush(stderr);
	dup2(c->saved_fd, 2);
	close(c->saved_fd);
	FILE *f = fopen(c->path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	fprintf(stderr, "%s", text);
	return text;
}

#endif

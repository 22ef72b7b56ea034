/*
 * ctl_snapshot.c - raftkvctl snapshot save: streams GET /v1/snapshot (a
 * consistent copy of one node's LMDB database, made while writes go on)
 * into FILE.part with its CRC32C computed on the way, fsyncs it, renames it
 * to FILE and writes FILE.crc32c with the checksum, the size and the Raft
 * index and term the copy holds (X-Raft-Index, X-Raft-Term). Progress goes
 * to stderr about once a second. Plain HTTP like the rest of raftkvctl.
 */
#include "ctl_snapshot.h"

#include "kv_crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTL_SNAPSHOT_BUF_BYTES (1u << 20)

struct ctl_head {
	int status;
	uint64_t content_length;
	uint64_t index, term;
	size_t head_len; /* bytes of the head, "\r\n\r\n" included */
};

static int snap_connect(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	int fd = -1;
	for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = CTL_SNAPSHOT_WAIT_MS / 1000};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

static uint64_t head_u64(const char *head, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':')
			return strtoull(p + 3 + n, NULL, 10);
	return 0;
}

/* Reads until the end of the head into buf (cap bytes); *got: bytes read in all. */
static int snap_read_head(int fd, char *buf, size_t cap, size_t *got, struct ctl_head *h)
{
	*got = 0;
	for (;;) {
		ssize_t r = recv(fd, buf + *got, cap - 1 - *got, 0);
		if (r <= 0)
			return -1;
		*got += (size_t)r;
		buf[*got] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end != NULL) {
			*end = '\0';
			h->head_len = (size_t)(end - buf) + 4;
			break;
		}
		if (*got + 1 >= cap)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &h->status) != 1)
		return -1;
	h->content_length = head_u64(buf, "content-length");
	h->index = head_u64(buf, "x-raft-index");
	h->term = head_u64(buf, "x-raft-term");
	return 0;
}

static int snap_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static double snap_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Copies the body (first `have` bytes already in buf) into out; CRC and progress. */
static int snap_copy_body(int sock, int out, char *buf, size_t have, const struct ctl_head *h,
                          struct ctl_snapshot_meta *m)
{
	double t0 = snap_now_s(), last = t0;
	for (;;) {
		if (m->bytes + have > h->content_length)
			return -1; /* more than announced */
		if (have > 0 && snap_write_all(out, buf, have) != 0)
			return -1;
		m->crc32c = kv_crc32c(m->crc32c, buf, have);
		m->bytes += have;
		double now = snap_now_s();
		if (now - last >= 1.0 || m->bytes == h->content_length) {
			fprintf(stderr,
			        "raftkvctl: %" PRIu64 " / %" PRIu64 " bytes (%.0f%%), %.1f MB/s\n",
			        m->bytes, h->content_length,
			        h->content_length
			            ? 100.0 * (double)m->bytes / (double)h->content_length
			            : 100.0,
			        (double)m->bytes / 1e6 / (now - t0 > 0 ? now - t0 : 1e-9));
			last = now;
		}
		if (m->bytes == h->content_length)
			return 0;
		ssize_t r = recv(sock, buf, CTL_SNAPSHOT_BUF_BYTES, 0);
		if (r <= 0)
			return -1; /* cut short */
		have = (size_t)r;
	}
}

static int snap_fsync_dir_of(const char *file)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", file);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int ctl_snapshot_meta_write(const char *file, const struct ctl_snapshot_meta *m)
{
	char path[4096 + 16], text[CTL_SNAPSHOT_META_MAX];
	snprintf(path, sizeof(path), "%s.crc32c", file);
	int n =
	    snprintf(text, sizeof(text),
	             "crc32c=%08" PRIx32 " bytes=%" PRIu64 " index=%" PRIu64 " term=%" PRIu64 "\n",
	             m->crc32c, m->bytes, m->index, m->term);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = snap_write_all(fd, text, (size_t)n) == 0 && fsync(fd) == 0 ? 0 : -1;
	close(fd);
	return rc;
}

int ctl_snapshot_meta_read(const char *file, struct ctl_snapshot_meta *m)
{
	char path[4096 + 16];
	snprintf(path, sizeof(path), "%s.crc32c", file);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	int n = fscanf(f, "crc32c=%" SCNx32 " bytes=%" SCNu64 " index=%" SCNu64 " term=%" SCNu64,
	               &m->crc32c, &m->bytes, &m->index, &m->term);
	fclose(f);
	return n == 4 ? 0 : -1;
}

/* Sends the request; reads the head into buf. 0, 1 (answered, not 200) or 3. */
static int snap_request(int sock, const char *host, const char *port, char *buf, size_t *got,
                        struct ctl_head *h)
{
	char req[1024];
	const char *token = getenv("RAFTKV_TOKEN");
	int n = snprintf(
	    req, sizeof(req),
	    "GET /v1/snapshot HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n%s%s%s\r\n", host,
	    port, token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
	if (n <= 0 || (size_t)n >= sizeof(req) || snap_write_all(sock, req, (size_t)n) != 0 ||
	    snap_read_head(sock, buf, CTL_SNAPSHOT_HEAD_MAX, got, h) != 0) {
		fprintf(stderr, "raftkvctl: no valid HTTP answer from %s:%s\n", host, port);
		return 3;
	}
	if (h->status != 200 || h->content_length == 0 || h->index == 0) {
		fprintf(stderr, "raftkvctl: snapshot refused (HTTP %d): %.*s\n", h->status,
		        (int)(*got - h->head_len), buf + h->head_len);
		return 1;
	}
	return 0;
}

int ctl_snapshot_save(const char *host, const char *port, const char *file)
{
	char part[4096 + 16];
	struct ctl_head h = {0};
	struct ctl_snapshot_meta m = {0};
	size_t got = 0;
	if (snprintf(part, sizeof(part), "%s.part", file) >= (int)sizeof(part))
		return 2;
	int sock = snap_connect(host, port);
	if (sock < 0) {
		fprintf(stderr, "raftkvctl: cannot reach %s:%s\n", host, port);
		return 3;
	}
	char *buf = malloc(CTL_SNAPSHOT_BUF_BYTES);
	int rc = buf == NULL ? 1 : snap_request(sock, host, port, buf, &got, &h);
	if (rc != 0)
		goto out_close_sock;
	int out = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = 1;
	if (out < 0) {
		fprintf(stderr, "raftkvctl: cannot create %s: %s\n", part, strerror(errno));
		goto out_close_sock;
	}
	m.index = h.index;
	m.term = h.term;
	memmove(buf, buf + h.head_len, got - h.head_len);
	if (snap_copy_body(sock, out, buf, got - h.head_len, &h, &m) != 0 || fsync(out) != 0) {
		fprintf(stderr,
		        "raftkvctl: transfer failed after %" PRIu64 " of %" PRIu64 " bytes\n",
		        m.bytes, h.content_length);
		close(out);
		unlink(part);
		goto out_close_sock;
	}
	close(out);
	if (rename(part, file) != 0 || ctl_snapshot_meta_write(file, &m) != 0 ||
	    snap_fsync_dir_of(file) != 0) {
		fprintf(stderr, "raftkvctl: cannot save %s: %s\n", file, strerror(errno));
		goto out_close_sock;
	}
	printf("saved %s: %" PRIu64 " bytes, raft index %" PRIu64 ", term %" PRIu64
	       ", crc32c %08" PRIx32 " (in %s.crc32c)\n",
	       file, m.bytes, m.index, m.term, m.crc32c, file);
	rc = 0;
out_close_sock:
	free(buf);
	close(sock);
	return rc;
}

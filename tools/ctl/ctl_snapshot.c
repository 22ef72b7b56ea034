/*
 * ctl_snapshot.c - raftkvctl snapshot save: streams GET /v1/snapshot (a
 * consistent copy of one node's LMDB database, made while writes go on)
 * into FILE.part with its CRC32C computed on the way, fsyncs it, renames it
 * to FILE and writes FILE.crc32c with the checksum, the size and the Raft
 * index and term the copy holds (X-Raft-Index, X-Raft-Term). Progress goes
 * to stderr about once a second. Over the first endpoint, plain or TLS
 * (common/kv_http_conn.h), with the token if one is set.
 */
#include "ctl_snapshot.h"

#include "ctl_http.h"

#include "kv_crc32c.h"
#include "kv_fs.h"
#include "kv_http_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CTL_SNAPSHOT_BUF_BYTES (1u << 20)

struct ctl_head {
	int status;
	uint64_t content_length;
	uint64_t index, term;
	size_t head_len; /* bytes of the head, "\r\n\r\n" included */
};

static uint64_t head_u64(const char *head, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':')
			return strtoull(p + 3 + n, NULL, 10);
	return 0;
}

/* Reads until the end of the head into buf (cap bytes); *got: bytes read in all. */
static int snap_read_head(struct kv_http_conn *conn, char *buf, size_t cap, size_t *got,
                          struct ctl_head *h)
{
	*got = 0;
	for (;;) {
		ssize_t r = kv_http_conn_read(conn, buf + *got, cap - 1 - *got);
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
static int snap_copy_body(struct kv_http_conn *conn, int out, char *buf, size_t have,
                          const struct ctl_head *h, struct ctl_snapshot_meta *m)
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
		ssize_t r = kv_http_conn_read(conn, buf, CTL_SNAPSHOT_BUF_BYTES);
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
	return kv_fs_fsync_dir(dir);
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

/* Sends the request; reads the head into buf. 0, or an enum ctl_exit. */
static int snap_request(const struct ctl_ctx *ctx, struct kv_http_conn *conn, char *buf,
                        size_t *got, struct ctl_head *h)
{
	char req[1024];
	const struct kv_url *ep = &ctx->endpoints[0];
	int n =
	    snprintf(req, sizeof(req),
	             "GET /v1/snapshot HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n%s%s%s\r\n",
	             ep->host, ep->port, ctx->token[0] ? "Authorization: Bearer " : "", ctx->token,
	             ctx->token[0] ? "\r\n" : "");
	if (n <= 0 || (size_t)n >= sizeof(req) ||
	    kv_http_conn_write_all(conn, req, (size_t)n) != 0 ||
	    snap_read_head(conn, buf, CTL_SNAPSHOT_HEAD_MAX, got, h) != 0) {
		fprintf(stderr, "raftkvctl: no valid HTTP answer from %s:%s\n", ep->host, ep->port);
		return CTL_EXIT_UNREACHABLE;
	}
	if (h->status != 200 || h->content_length == 0 || h->index == 0) {
		fprintf(stderr, "raftkvctl: snapshot refused (HTTP %d): %.*s\n", h->status,
		        (int)(*got - h->head_len), buf + h->head_len);
		return h->status == 503 ? CTL_EXIT_UNREACHABLE : CTL_EXIT_REFUSED;
	}
	return 0;
}

int ctl_snapshot_save(const struct ctl_ctx *ctx, const char *file)
{
	char part[4096 + 16];
	struct ctl_head h = {0};
	struct ctl_snapshot_meta m = {0};
	struct kv_http_conn conn = {.fd = -1};
	size_t got = 0;
	if (snprintf(part, sizeof(part), "%s.part", file) >= (int)sizeof(part))
		return CTL_EXIT_USAGE;
	/* the server copies the database before its first byte: wait that long */
	struct kv_http_opts o = ctl_http_opts(ctx);
	if (kv_http_conn_open(&ctx->endpoints[0], &o.tls, CTL_SNAPSHOT_WAIT_MS, 0, &conn) != 0) {
		fprintf(stderr, "raftkvctl: %s:%s: %s\n", ctx->endpoints[0].host,
		        ctx->endpoints[0].port, conn.why);
		return CTL_EXIT_UNREACHABLE;
	}
	char *buf = malloc(CTL_SNAPSHOT_BUF_BYTES);
	int rc = buf == NULL ? CTL_EXIT_REFUSED : snap_request(ctx, &conn, buf, &got, &h);
	if (rc != 0)
		goto out_close_conn;
	int out = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = CTL_EXIT_REFUSED;
	if (out < 0) {
		fprintf(stderr, "raftkvctl: cannot create %s: %s\n", part, strerror(errno));
		goto out_close_conn;
	}
	m.index = h.index;
	m.term = h.term;
	memmove(buf, buf + h.head_len, got - h.head_len);
	if (snap_copy_body(&conn, out, buf, got - h.head_len, &h, &m) != 0 || fsync(out) != 0) {
		fprintf(stderr,
		        "raftkvctl: transfer failed after %" PRIu64 " of %" PRIu64 " bytes\n",
		        m.bytes, h.content_length);
		close(out);
		unlink(part);
		goto out_close_conn;
	}
	close(out);
	if (rename(part, file) != 0 || ctl_snapshot_meta_write(file, &m) != 0 ||
	    snap_fsync_dir_of(file) != 0) {
		fprintf(stderr, "raftkvctl: cannot save %s: %s\n", file, strerror(errno));
		goto out_close_conn;
	}
	printf("saved %s: %" PRIu64 " bytes, raft index %" PRIu64 ", term %" PRIu64
	       ", crc32c %08" PRIx32 " (in %s.crc32c)\n",
	       file, m.bytes, m.index, m.term, m.crc32c, file);
	rc = CTL_EXIT_OK;
out_close_conn:
	free(buf);
	kv_http_conn_close(&conn);
	return rc;
}

int ctl_snapshot_run(const struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[0], "save") == 0)
		return ctl_snapshot_save(ctx, argv[1]);
	if (argc >= 1 && strcmp(argv[0], "restore") == 0) {
		int rc = ctl_snapshot_restore(argc - 1, argv + 1);
		return rc == CTL_EXIT_USAGE ? -1 : rc;
	}
	return -1;
}

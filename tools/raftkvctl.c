/*
 * raftkvctl.c - a small command-line client for raftkv's HTTP API.
 *
 *   raftkvctl [--url http://HOST:PORT] [--timeout-ms N] COMMAND [ARGS]
 *     get KEY | put KEY VALUE | delete KEY | list [PREFIX] | status | ready | live
 *   raftkvctl keygen [--out DIR]    (a raftd Curve key pair: ctl_keygen.c)
 *   raftkvctl [--url URL] snapshot save FILE | snapshot restore FILE --data-dir DIR ...
 *                                   (backups: ctl_snapshot.c, ctl_restore.c)
 *
 * No dependencies beyond libc and libzmq (for keygen; raftd's image has it),
 * so it also serves as the health probe inside the container image (which
 * has no shell and no curl). Prints the response
 * body to stdout; exits 0 for a 2xx answer, 1 for any other answer, 2 for
 * bad usage, 3 when the server could not be reached. RAFTKV_URL sets --url.
 */
#include "ctl_keygen.h"
#include "ctl_snapshot.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CTL_RESPONSE_BYTES_MAX (64u << 20)
#define CTL_PATH_BYTES_MAX     4096u

struct ctl_url {
	char host[256];
	char port[8];
};

static int ctl_parse_url(const char *url, struct ctl_url *out)
{
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	const char *h = url + 7;
	const char *colon = strchr(h, ':');
	const char *slash = strchr(h, '/');
	size_t hlen = colon ? (size_t)(colon - h) : (slash ? (size_t)(slash - h) : strlen(h));
	if (hlen == 0 || hlen >= sizeof(out->host))
		return -1;
	memcpy(out->host, h, hlen);
	out->host[hlen] = '\0';
	if (colon == NULL) {
		strcpy(out->port, "80");
		return 0;
	}
	size_t plen = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
	if (plen == 0 || plen >= sizeof(out->port))
		return -1;
	memcpy(out->port, colon + 1, plen);
	out->port[plen] = '\0';
	return 0;
}

/* Percent-encodes a key for the path; '/' is kept (keys may contain it). */
static int ctl_escape_key(const char *key, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		            (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL;
		if (n + 4 >= cap)
			return -1;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

static int ctl_connect(const struct ctl_url *u, int timeout_ms)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
		return -1;
	int fd = -1;
	for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = timeout_ms / 1000,
		                     .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
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

static int ctl_send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads the whole response (the request asks for Connection: close). */
static char *ctl_read_all(int fd, size_t *len_out)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	while (buf != NULL) {
		if (len == cap) {
			if (cap >= CTL_RESPONSE_BYTES_MAX)
				break;
			char *bigger = realloc(buf, cap * 2 + 1);
			if (bigger == NULL)
				break;
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = recv(fd, buf + len, cap - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (buf != NULL)
		buf[len] = '\0';
	*len_out = len;
	return buf;
}

static int ctl_request(const struct ctl_url *u, const char *method, const char *path,
                       const char *body, int timeout_ms)
{
	int fd = ctl_connect(u, timeout_ms);
	if (fd < 0) {
		fprintf(stderr, "raftkvctl: cannot reach %s:%s\n", u->host, u->port);
		return 3;
	}
	size_t body_len = body ? strlen(body) : 0;
	char head[CTL_PATH_BYTES_MAX + 512];
	int n = snprintf(head, sizeof(head),
	                 "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
	                 "Content-Length: %zu\r\n\r\n",
	                 method, path, u->host, u->port, body_len);
	int rc = 3;
	if (n > 0 && (size_t)n < sizeof(head) && ctl_send_all(fd, head, (size_t)n) == 0 &&
	    (body_len == 0 || ctl_send_all(fd, body, body_len) == 0)) {
		size_t len = 0;
		char *resp = ctl_read_all(fd, &len);
		int status = 0;
		char *sep = resp ? strstr(resp, "\r\n\r\n") : NULL;
		if (resp != NULL && sscanf(resp, "HTTP/1.%*d %d", &status) == 1 && sep != NULL) {
			fwrite(sep + 4, 1, len - (size_t)(sep + 4 - resp), stdout);
			if (len > 0 && resp[len - 1] != '\n')
				putchar('\n');
			rc = (status >= 200 && status < 300) ? 0 : 1;
		} else {
			fprintf(stderr, "raftkvctl: no valid HTTP answer\n");
		}
		free(resp);
	}
	close(fd);
	return rc;
}

static int ctl_usage(void)
{
	fprintf(stderr,
	        "usage: raftkvctl [--url http://HOST:PORT] [--timeout-ms N] COMMAND\n"
	        "  get KEY | put KEY VALUE | delete KEY | list [PREFIX] | status | ready | live\n"
	        "       raftkvctl keygen [--out DIR]   (writes DIR/curve.key and DIR/curve.pub)\n"
	        "       raftkvctl [--url URL] snapshot save FILE   (FILE and FILE.crc32c)\n"
	        "       raftkvctl snapshot restore FILE --data-dir DIR --node-id N --peers SPEC\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *url = getenv("RAFTKV_URL") ? getenv("RAFTKV_URL") : "http://127.0.0.1:4001";
	int timeout_ms = 5000, a = 1;
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		return ctl_keygen(argc - 2, argv + 2);
	if (argc >= 3 && strcmp(argv[1], "snapshot") == 0 && strcmp(argv[2], "restore") == 0)
		return ctl_snapshot_restore(argc - 3, argv + 3);
	for (; a + 1 < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
		if (strcmp(argv[a], "--url") == 0)
			url = argv[a + 1];
		else if (strcmp(argv[a], "--timeout-ms") == 0)
			timeout_ms = atoi(argv[a + 1]);
		else
			return ctl_usage();
	}
	struct ctl_url u;
	if (a >= argc || timeout_ms <= 0 || timeout_ms > 600000 || ctl_parse_url(url, &u) != 0)
		return ctl_usage();
	const char *cmd = argv[a];
	int nargs = argc - a - 1;
	char key[CTL_PATH_BYTES_MAX], path[CTL_PATH_BYTES_MAX + 16];
	if (nargs >= 1 && ctl_escape_key(argv[a + 1], key, sizeof(key)) != 0) {
		fprintf(stderr, "raftkvctl: key too long\n");
		return 2;
	}
	if (nargs >= 1)
		snprintf(path, sizeof(path), "/v1/kv/%s", key);
	if (strcmp(cmd, "get") == 0 && nargs == 1)
		return ctl_request(&u, "GET", path, NULL, timeout_ms);
	if (strcmp(cmd, "put") == 0 && nargs == 2)
		return ctl_request(&u, "PUT", path, argv[a + 2], timeout_ms);
	if (strcmp(cmd, "delete") == 0 && nargs == 1)
		return ctl_request(&u, "DELETE", path, NULL, timeout_ms);
	if (strcmp(cmd, "list") == 0 && nargs <= 1) {
		snprintf(path, sizeof(path), "/v1/kv?prefix=%s", nargs ? key : "");
		return ctl_request(&u, "GET", path, NULL, timeout_ms);
	}
	if (strcmp(cmd, "snapshot") == 0 && nargs == 2 && strcmp(argv[a + 1], "save") == 0)
		return ctl_snapshot_save(u.host, u.port, argv[a + 2]);
	if (strcmp(cmd, "status") == 0 && nargs == 0)
		return ctl_request(&u, "GET", "/v1/status", NULL, timeout_ms);
	if (strcmp(cmd, "ready") == 0 && nargs == 0)
		return ctl_request(&u, "GET", "/readyz", NULL, timeout_ms);
	if (strcmp(cmd, "live") == 0 && nargs == 0)
		return ctl_request(&u, "GET", "/livez", NULL, timeout_ms);
	return ctl_usage();
}

/*
 * kv_http_conn.h - one client connection to one node's HTTP API, plain TCP
 * or TLS through OpenSSL (kv_http_conn.c). Blocking; used by the thread that
 * opened it (raftkvctl's only thread, raftd's main thread before its loop).
 */
#ifndef RAFTKV_KV_HTTP_CONN_H
#define RAFTKV_KV_HTTP_CONN_H

#include "kv_url.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KV_HTTP_WHY_BYTES 256u

/* TLS files, each a borrowed path (PEM) or NULL. */
struct kv_http_tls {
	const char *cacert; /* CAs for the server's certificate; NULL: the system's */
	const char *cert;   /* client certificate chain to present, or NULL */
	const char *key;    /* its private key, or NULL */
};

struct kv_http_conn {
	int fd;
	SSL_CTX *ssl_ctx; /* NULL for http:// */
	SSL *ssl;
	int step_ms;                 /* bound on each connect, handshake, read and write */
	uint64_t deadline_ms;        /* kv_clock_mono_ms() bound on everything; 0: none */
	char why[KV_HTTP_WHY_BYTES]; /* why the last call failed, for the caller to print */
};

/*
 * Connects to u (borrowed) and, for https://, makes the TLS handshake: TLS
 * 1.2+, the server's certificate checked against tls->cacert (or the
 * system's CAs) and u->host; tls->cert/key presented when given. step_ms
 * bounds each step; deadline_ms (kv_clock_mono_ms() based, 0: none) bounds
 * the connection's whole life, including later reads and writes.
 * Returns 0, KV_EINVAL when the TLS files do not load (no other server will
 * do better), KV_ETIMEDOUT, or KV_EUNAVAIL (this server cannot be reached, or
 * not securely). On error nothing is left open and c->why says why; close
 * with kv_http_conn_close either way.
 */
int kv_http_conn_open(const struct kv_url *u, const struct kv_http_tls *tls, int step_ms,
                      uint64_t deadline_ms, struct kv_http_conn *c);

/* Writes all of p[0..len). Returns 0, KV_ETIMEDOUT or KV_EIO (c->why says why). */
int kv_http_conn_write_all(struct kv_http_conn *c, const char *p, size_t len);

/*
 * Reads up to cap bytes into buf. Returns the count, 0 at the end of the
 * stream, or KV_ETIMEDOUT / KV_EIO (c->why says why).
 */
ssize_t kv_http_conn_read(struct kv_http_conn *c, char *buf, size_t cap);

/* Closes what kv_http_conn_open opened; safe twice. */
void kv_http_conn_close(struct kv_http_conn *c);

#endif

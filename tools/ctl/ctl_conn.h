/*
 * ctl_conn.h - one connection to one endpoint, plain TCP or TLS (ctl_conn.c).
 */
#ifndef RAFTKV_CTL_CONN_H
#define RAFTKV_CTL_CONN_H

#include "ctl.h"

#include <openssl/ssl.h>
#include <sys/types.h>

struct ctl_conn {
	int fd;
	SSL_CTX *ssl_ctx; /* NULL for http:// */
	SSL *ssl;
};

enum ctl_conn_result {
	CTL_CONN_OK = 0,
	CTL_CONN_FAILED = -1, /* this endpoint cannot be reached (or not securely): try another */
	CTL_CONN_BAD_CONFIG = -2 /* --cacert, --cert or --key do not load: no endpoint will do */
};

/*
 * Connects to ep (borrowed) with ctx's timeout and, for https://, makes the TLS
 * handshake: TLS 1.2+, the server's certificate checked against --cacert (or
 * the system's CAs) and ep->host; --cert/--key presented when given. On
 * failure prints why to stderr and leaves nothing open. Returns an enum
 * ctl_conn_result. Close with ctl_conn_close.
 */
int ctl_conn_open(const struct ctl_ctx *ctx, const struct ctl_endpoint *ep, struct ctl_conn *c);

/* Writes all of p[0..len). Returns 0 or -1. */
int ctl_conn_write_all(struct ctl_conn *c, const char *p, size_t len);

/* Reads up to cap bytes into buf. Returns the count, 0 at the end, -1 on error or timeout. */
ssize_t ctl_conn_read(struct ctl_conn *c, char *buf, size_t cap);

/* Closes what ctl_conn_open opened; safe twice. */
void ctl_conn_close(struct ctl_conn *c);

#endif

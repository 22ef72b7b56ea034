/*
 * kv_http_conn.c - the HTTP client's transport: a TCP connection with a
 * bound on every step and on the whole exchange, wrapped in OpenSSL for
 * https://. One connection per request (Connection: close); the clients
 * (raftkvctl, raftd --join) make few. Runs on the caller's thread, blocking.
 */
#include "kv_http_conn.h"

#include "kv_clock.h"
#include "kv_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The bound for the next step: step_ms, cut to what is left before the deadline (>= 1). */
static int conn_step_ms(const struct kv_http_conn *c)
{
	int ms = c->step_ms;
	if (c->deadline_ms != 0) {
		uint64_t now = kv_clock_mono_ms();
		uint64_t left = c->deadline_ms > now ? c->deadline_ms - now : 0;
		if (left < (uint64_t)ms)
			ms = (int)left;
	}
	return ms < 1 ? 1 : ms;
}

static int conn_expired(const struct kv_http_conn *c)
{
	return c->deadline_ms != 0 && kv_clock_mono_ms() >= c->deadline_ms;
}

/* SO_SNDTIMEO also bounds connect() on Linux. */
static void conn_set_timeouts(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int conn_tcp(struct kv_http_conn *c, const struct kv_url *u)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(u->host, u->port, &hints, &res);
	if (gai != 0) {
		snprintf(c->why, sizeof(c->why), "cannot resolve the host: %s", gai_strerror(gai));
		return KV_EUNAVAIL;
	}
	int err = 0;
	for (struct addrinfo *a = res; a != NULL && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (c->fd < 0)
			continue;
		conn_set_timeouts(c->fd, conn_step_ms(c));
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) != 0) {
			err = errno;
			close(c->fd);
			c->fd = -1;
		}
	}
	freeaddrinfo(res);
	if (c->fd >= 0)
		return 0;
	snprintf(c->why, sizeof(c->why), "cannot connect: %s", err ? strerror(err) : "no address");
	return err == EINPROGRESS || err == EAGAIN ? KV_ETIMEDOUT : KV_EUNAVAIL;
}

static void conn_ssl_why(struct kv_http_conn *c, const char *what, const char *file)
{
	char buf[160];
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	snprintf(c->why, sizeof(c->why), "%s%s%s: %s", what, file ? " " : "", file ? file : "",
	         buf);
}

/* The client's TLS settings into c->ssl_ctx: 0, or KV_EINVAL (c->why says why). */
static int conn_ssl_ctx(struct kv_http_conn *c, const struct kv_http_tls *tls)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
	if (sc == NULL) {
		conn_ssl_why(c, "TLS setup", NULL);
		return KV_EINVAL;
	}
	SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION);
	SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
	if (tls->cacert != NULL ? SSL_CTX_load_verify_locations(sc, tls->cacert, NULL) != 1
	                        : SSL_CTX_set_default_verify_paths(sc) != 1) {
		conn_ssl_why(c, "cannot load the CA certificates", tls->cacert);
		goto out_free;
	}
	if (tls->cert != NULL && SSL_CTX_use_certificate_chain_file(sc, tls->cert) != 1) {
		conn_ssl_why(c, "cannot load the client certificate", tls->cert);
		goto out_free;
	}
	if (tls->key != NULL && (SSL_CTX_use_PrivateKey_file(sc, tls->key, SSL_FILETYPE_PEM) != 1 ||
	                         SSL_CTX_check_private_key(sc) != 1)) {
		conn_ssl_why(c, "cannot load the client key", tls->key);
		goto out_free;
	}
	c->ssl_ctx = sc;
	return 0;
out_free:
	SSL_CTX_free(sc);
	return KV_EINVAL;
}

/* Names the host the certificate must match: an IP SAN for an address, else DNS (and SNI). */
static int conn_ssl_expect_host(SSL *ssl, const char *host)
{
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
	if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1)
		return -1;
	return 0;
}

static int conn_handshake(struct kv_http_conn *c, const struct kv_url *u)
{
	c->ssl = SSL_new(c->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    conn_ssl_expect_host(c->ssl, u->host) != 0) {
		conn_ssl_why(c, "TLS setup", NULL);
		return KV_EUNAVAIL;
	}
	if (SSL_connect(c->ssl) == 1)
		return 0;
	long verify = SSL_get_verify_result(c->ssl);
	if (verify != X509_V_OK)
		snprintf(c->why, sizeof(c->why), "certificate not trusted: %s",
		         X509_verify_cert_error_string(verify));
	else
		conn_ssl_why(c, "TLS handshake failed", NULL);
	return conn_expired(c) ? KV_ETIMEDOUT : KV_EUNAVAIL;
}

int kv_http_conn_open(const struct kv_url *u, const struct kv_http_tls *tls, int step_ms,
                      uint64_t deadline_ms, struct kv_http_conn *c)
{
	*c = (struct kv_http_conn){.fd = -1, .step_ms = step_ms, .deadline_ms = deadline_ms};
	int rc = u->tls ? conn_ssl_ctx(c, tls) : 0;
	if (rc == 0)
		rc = conn_tcp(c, u);
	if (rc == 0 && u->tls)
		rc = conn_handshake(c, u);
	if (rc != 0) {
		char why[sizeof(c->why)];
		memcpy(why, c->why, sizeof(why));
		kv_http_conn_close(c);
		memcpy(c->why, why, sizeof(why));
	}
	return rc;
}

/* The error for a failed read or write: the deadline, a step's timeout, or I/O. */
static int conn_io_error(struct kv_http_conn *c, const char *what, int err)
{
	int timed_out = conn_expired(c) || err == EAGAIN || err == EWOULDBLOCK;
	snprintf(c->why, sizeof(c->why), "%s %s", what,
	         timed_out ? "timed out" : (err ? strerror(err) : "failed"));
	return timed_out ? KV_ETIMEDOUT : KV_EIO;
}

int kv_http_conn_write_all(struct kv_http_conn *c, const char *p, size_t len)
{
	while (len > 0) {
		if (conn_expired(c))
			return conn_io_error(c, "sending", 0);
		conn_set_timeouts(c->fd, conn_step_ms(c));
		errno = 0;
		ssize_t w;
		if (c->ssl != NULL) {
			int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
			w = SSL_write(c->ssl, p, chunk);
		} else {
			w = send(c->fd, p, len, MSG_NOSIGNAL);
		}
		if (w <= 0)
			return conn_io_error(c, "sending", errno);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t kv_http_conn_read(struct kv_http_conn *c, char *buf, size_t cap)
{
	if (conn_expired(c))
		return conn_io_error(c, "reading", 0);
	conn_set_timeouts(c->fd, conn_step_ms(c));
	errno = 0;
	if (c->ssl == NULL) {
		ssize_t r = recv(c->fd, buf, cap, 0);
		return r >= 0 ? r : conn_io_error(c, "reading", errno);
	}
	int chunk = cap > (1u << 30) ? (1 << 30) : (int)cap;
	int r = SSL_read(c->ssl, buf, chunk);
	if (r > 0)
		return r;
	/* a server that closes without close_notify still ends the answer */
	int err = SSL_get_error(c->ssl, r);
	if (err == SSL_ERROR_ZERO_RETURN ||
	    (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0))
		return 0;
	return conn_io_error(c, "reading", errno);
}

void kv_http_conn_close(struct kv_http_conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->ssl_ctx != NULL) {
		SSL_CTX_free(c->ssl_ctx);
		c->ssl_ctx = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/*
 * ctl_conn.c - raftkvctl's transport: a TCP connection with a timeout on every
 * step, wrapped in OpenSSL for https:// endpoints. One connection per request
 * (Connection: close); raftkvctl makes few.
 */
#include "ctl_conn.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int conn_tcp(const struct ctl_endpoint *ep, int timeout_ms)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(ep->host, ep->port, &hints, &res);
	if (gai != 0) {
		fprintf(stderr, "raftkvctl: %s: %s\n", ep->host, gai_strerror(gai));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		/* SO_SNDTIMEO also bounds connect() on Linux */
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
	if (fd < 0)
		fprintf(stderr, "raftkvctl: cannot reach %s:%s\n", ep->host, ep->port);
	return fd;
}

static void conn_ssl_error(const char *what, const char *file)
{
	char buf[256];
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	fprintf(stderr, "raftkvctl: %s%s%s: %s\n", what, file ? " " : "", file ? file : "", buf);
}

/* The client's TLS settings: a new SSL_CTX, or NULL (message printed). */
static SSL_CTX *conn_ssl_ctx(const struct ctl_ctx *ctx)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
	if (sc == NULL) {
		conn_ssl_error("TLS setup", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION);
	SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
	if (ctx->cacert != NULL ? SSL_CTX_load_verify_locations(sc, ctx->cacert, NULL) != 1
	                        : SSL_CTX_set_default_verify_paths(sc) != 1) {
		conn_ssl_error("cannot load the CA certificates", ctx->cacert);
		goto out_free;
	}
	if (ctx->cert != NULL && SSL_CTX_use_certificate_chain_file(sc, ctx->cert) != 1) {
		conn_ssl_error("cannot load the client certificate", ctx->cert);
		goto out_free;
	}
	if (ctx->key != NULL && (SSL_CTX_use_PrivateKey_file(sc, ctx->key, SSL_FILETYPE_PEM) != 1 ||
	                         SSL_CTX_check_private_key(sc) != 1)) {
		conn_ssl_error("cannot load the client key", ctx->key);
		goto out_free;
	}
	return sc;
out_free:
	SSL_CTX_free(sc);
	return NULL;
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

static int conn_handshake(struct ctl_conn *c, const struct ctl_endpoint *ep)
{
	c->ssl = SSL_new(c->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    conn_ssl_expect_host(c->ssl, ep->host) != 0) {
		conn_ssl_error("TLS setup", NULL);
		return -1;
	}
	if (SSL_connect(c->ssl) == 1)
		return 0;
	long verify = SSL_get_verify_result(c->ssl);
	if (verify != X509_V_OK)
		fprintf(stderr, "raftkvctl: %s:%s: certificate not trusted: %s\n", ep->host,
		        ep->port, X509_verify_cert_error_string(verify));
	else
		conn_ssl_error("TLS handshake failed with", ep->host);
	return -1;
}

int ctl_conn_open(const struct ctl_ctx *ctx, const struct ctl_endpoint *ep, struct ctl_conn *c)
{
	*c = (struct ctl_conn){.fd = -1};
	if (ep->tls) {
		c->ssl_ctx = conn_ssl_ctx(ctx);
		if (c->ssl_ctx == NULL)
			return CTL_CONN_BAD_CONFIG;
	}
	c->fd = conn_tcp(ep, ctx->timeout_ms);
	if (c->fd < 0 || (ep->tls && conn_handshake(c, ep) != 0)) {
		ctl_conn_close(c);
		return CTL_CONN_FAILED;
	}
	return CTL_CONN_OK;
}

int ctl_conn_write_all(struct ctl_conn *c, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w;
		if (c->ssl != NULL) {
			int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
			w = SSL_write(c->ssl, p, chunk);
		} else {
			w = send(c->fd, p, len, MSG_NOSIGNAL);
		}
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t ctl_conn_read(struct ctl_conn *c, char *buf, size_t cap)
{
	if (c->ssl == NULL)
		return recv(c->fd, buf, cap, 0);
	int chunk = cap > (1u << 30) ? (1 << 30) : (int)cap;
	int r = SSL_read(c->ssl, buf, chunk);
	if (r > 0)
		return r;
	/* a server that closes without close_notify still ends the answer */
	int err = SSL_get_error(c->ssl, r);
	return err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
	           ? 0
	           : -1;
}

void ctl_conn_close(struct ctl_conn *c)
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

/*
 * gw_tls.c - gatewayd's OpenSSL contexts: the server's (--tls-cert,
 * --tls-key, --tls-client-ca), rebuilt on SIGHUP, and one client context per
 * https:// peer gateway (--peer-ca, verifying that peer's host name or IP).
 * Loop thread only.
 *
 * Reload without dropping connections: a new SSL_CTX is built from the files
 * and replaces gw->tls_server for connections accepted afterwards. OpenSSL
 * counts references: each connection's SSL holds its context, and the
 * screen holds one from accept until the SSL exists (gw_screen.c), so the
 * old context lives until its last connection closes. A reload that fails
 * (a missing file, a key that does not match) keeps the old context.
 *
 * Defaults: TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE key exchange with
 * AES-GCM or ChaCha20-Poly1305 (TLS 1.3's suites are all AEAD); no
 * compression, no renegotiation.
 */
#include "gw.h"

#include "kv_err.h"
#include "kv_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GW_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* The newest OpenSSL error, for a log line (why[0..cap)); clears the queue. */
static int tls_fail(const char *what, const char *file, char *why, size_t cap)
{
	char ossl[256] = "";
	unsigned long e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, ossl, sizeof(ossl));
	ERR_clear_error();
	snprintf(why, cap, "%s %s: %s", what, file, ossl[0] != '\0' ? ossl : "failed");
	return KV_EINVAL;
}

/* tls_fail for a file that did not load: says so when it cannot be read at all. */
static int tls_fail_file(const char *what, const char *file, char *why, size_t cap)
{
	if (access(file, R_OK) != 0) { /* OpenSSL would only say "system lib" */
		ERR_clear_error();
		snprintf(why, cap, "%s %s: %s", what, file, strerror(errno));
		return KV_EINVAL;
	}
	return tls_fail(what, file, why, cap);
}

static SSL_CTX *tls_ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_set_cipher_list(ctx, GW_TLS12_CIPHERS) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Requires client certificates signed by a CA in ca_file. */
static int tls_require_clients(SSL_CTX *ctx, const char *ca_file, char *why, size_t cap)
{
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
		return tls_fail_file("cannot load --tls-client-ca", ca_file, why, cap);
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
	if (names == NULL)
		return tls_fail("no CA names in --tls-client-ca", ca_file, why, cap);
	SSL_CTX_set_client_CA_list(ctx, names); /* takes names */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* sessions resumed across contexts must not skip the check */
	static const unsigned char sid[] = "raftkv-gatewayd";
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	return 0;
}

int gw_tls_server_new(const struct gw_config *cfg, SSL_CTX **out, char *why, size_t cap)
{
	*out = NULL;
	SSL_CTX *ctx = tls_ctx_new(TLS_server_method());
	if (ctx == NULL)
		return tls_fail("cannot create a TLS context for", cfg->tls_cert, why, cap);
	int err = 0;
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1)
		err = tls_fail_file("cannot load --tls-cert", cfg->tls_cert, why, cap);
	else if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1)
		err = tls_fail_file("cannot load --tls-key", cfg->tls_key, why, cap);
	else if (SSL_CTX_check_private_key(ctx) != 1)
		err = tls_fail("--tls-key does not match", cfg->tls_cert, why, cap);
	else if (cfg->tls_client_ca[0] != '\0')
		err = tls_require_clients(ctx, cfg->tls_client_ca, why, cap);
	if (err != 0) {
		SSL_CTX_free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

int gw_tls_client_new(const char *peer_ca, const char *host, SSL_CTX **out, char *why, size_t cap)
{
	*out = NULL;
	SSL_CTX *ctx = tls_ctx_new(TLS_client_method());
	if (ctx == NULL)
		return tls_fail("cannot create a TLS context for", host, why, cap);
	if (SSL_CTX_load_verify_locations(ctx, peer_ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		return tls_fail_file("cannot load --peer-ca", peer_ca, why, cap);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* OpenSSL checks the name (or the IP SAN) during the handshake */
	X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
	struct in6_addr ip;
	int is_ip = inet_pton(AF_INET, host, &ip) == 1 || inet_pton(AF_INET6, host, &ip) == 1;
	if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
	           : X509_VERIFY_PARAM_set1_host(param, host, 0)) != 1) {
		SSL_CTX_free(ctx);
		return tls_fail("cannot check the peer gateway's name", host, why, cap);
	}
	*out = ctx;
	return 0;
}

int gw_tls_init(struct gw *gw)
{
	char why[512];
	if (gw->cfg.tls_cert[0] == '\0')
		return 0;
	int err = gw_tls_server_new(&gw->cfg, &gw->tls_server, why, sizeof(why));
	if (err != 0)
		KV_LOG_ERROR(GW_SVC, "cannot set up TLS", "err=\"%s\"", why);
	return err;
}

void gw_tls_reload(struct gw *gw)
{
	char why[512];
	SSL_CTX *ctx = NULL;
	if (gw->tls_server == NULL)
		return;
	if (gw_tls_server_new(&gw->cfg, &ctx, why, sizeof(why)) != 0) {
		KV_LOG_ERROR(GW_SVC, "TLS reload failed; keeping the old certificate", "err=\"%s\"",
		             why);
		return;
	}
	SSL_CTX_free(gw->tls_server); /* connections that use it hold their own references */
	gw->tls_server = ctx;
	KV_LOG_INFO(GW_SVC, "TLS certificate reloaded", "cert=%s", gw->cfg.tls_cert);
}

void gw_tls_dispose(struct gw *gw)
{
	SSL_CTX_free(gw->tls_server);
	gw->tls_server = NULL;
}

/*
 * gw_auth.c - the --auth-file parser and the permission check (gw_auth.h).
 */
#include "gw_auth.h"

#include "kv_err.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_AUTH_FIELDS_MAX 3

struct auth_line {
	const char *field[GW_AUTH_FIELDS_MAX];
	size_t len[GW_AUTH_FIELDS_MAX];
	size_t n;
};

static int auth_fail(int err, char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (cap > 0)
		vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return err;
}

/* Splits a line at spaces and tabs; -1 past GW_AUTH_FIELDS_MAX fields. */
static int auth_split(const char *s, size_t len, struct auth_line *l)
{
	size_t i = 0;
	l->n = 0;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == len)
			break;
		if (l->n == GW_AUTH_FIELDS_MAX)
			return -1;
		l->field[l->n] = s + i;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			i++;
		l->len[l->n] = (size_t)(s + i - l->field[l->n]);
		l->n++;
	}
	return 0;
}

static int auth_role(const char *s, size_t len)
{
	if (len == 4 && memcmp(s, "read", 4) == 0)
		return GW_PERM_READ;
	if (len == 5 && memcmp(s, "write", 5) == 0)
		return GW_PERM_WRITE;
	if (len == 5 && memcmp(s, "admin", 5) == 0)
		return GW_PERM_ADMIN;
	return -1;
}

static int auth_token_ok(const char *s, size_t len)
{
	if (len < GW_AUTH_TOKEN_BYTES_MIN || len > GW_AUTH_TOKEN_BYTES_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * OpenSSL 3's SHA256() looks the algorithm up by name on every call (about
 * 1.4 us here, against 0.6 us with it fetched once): every request with a token
 * pays it, twice when a gateway forwards it.
 */
static EVP_MD *auth_sha256;
static pthread_once_t auth_sha256_once = PTHREAD_ONCE_INIT;

static void auth_sha256_fetch(void)
{
	auth_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); /* kept for the process's life */
}

static void auth_hash(const char *s, size_t len, uint8_t out[GW_AUTH_HASH_BYTES])
{
	pthread_once(&auth_sha256_once, auth_sha256_fetch);
	if (auth_sha256 == NULL || EVP_Digest(s, len, out, NULL, auth_sha256, NULL) != 1)
		SHA256((const unsigned char *)s, len, out);
}

/* One line with a token (lineno for the message) into a->tokens[a->n]. */
static int auth_add(struct gw_auth *a, const struct auth_line *l, unsigned lineno, char *why,
                    size_t cap)
{
	if (l->n < 2)
		return auth_fail(KV_EINVAL, why, cap, "line %u: expected TOKEN ROLE [PREFIX]",
		                 lineno);
	if (!auth_token_ok(l->field[0], l->len[0]))
		return auth_fail(KV_EINVAL, why, cap,
		                 "line %u: a token is %u to %u printable characters without spaces",
		                 lineno, GW_AUTH_TOKEN_BYTES_MIN, GW_AUTH_TOKEN_BYTES_MAX);
	int role = auth_role(l->field[1], l->len[1]);
	if (role < 0)
		return auth_fail(KV_EINVAL, why, cap,
		                 "line %u: role '%.*s' is not read, write or admin", lineno,
		                 (int)(l->len[1] > 16 ? 16 : l->len[1]), l->field[1]);
	if (l->n == 3 && l->len[2] > KV_KEY_BYTES_MAX)
		return auth_fail(KV_EINVAL, why, cap, "line %u: the prefix is over %u bytes",
		                 lineno, KV_KEY_BYTES_MAX);
	if (a->n == GW_AUTH_TOKENS_MAX)
		return auth_fail(KV_ETOOLARGE, why, cap, "over %u tokens", GW_AUTH_TOKENS_MAX);
	struct gw_auth_token *t = &a->tokens[a->n];
	memset(t, 0, sizeof(*t));
	auth_hash(l->field[0], l->len[0], t->hash);
	for (uint32_t i = 0; i < a->n; i++)
		if (CRYPTO_memcmp(a->tokens[i].hash, t->hash, GW_AUTH_HASH_BYTES) == 0)
			return auth_fail(KV_EINVAL, why, cap,
			                 "line %u: the same token as an earlier line", lineno);
	t->role = (uint8_t)role;
	if (l->n == 3) {
		t->prefix_len = (uint16_t)l->len[2];
		memcpy(t->prefix, l->field[2], l->len[2]);
	}
	a->n++;
	return 0;
}

static int auth_parse_lines(const char *text, size_t len, struct gw_auth *a, char *why, size_t cap)
{
	unsigned lineno = 0;
	size_t at = 0;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		struct auth_line l;
		lineno++;
		size_t first = at;
		while (first < end && (text[first] == ' ' || text[first] == '\t'))
			first++;
		int comment = first < end && text[first] == '#';
		if (!comment && auth_split(text + at, end - at, &l) != 0)
			return auth_fail(KV_EINVAL, why, cap,
			                 "line %u: more than TOKEN ROLE PREFIX", lineno);
		if (!comment && l.n > 0) {
			int err = auth_add(a, &l, lineno, why, cap);
			if (err != 0)
				return err;
		}
		at = end + 1;
	}
	if (a->n == 0)
		return auth_fail(KV_EINVAL, why, cap, "no tokens (the file is empty)");
	return 0;
}

int gw_auth_parse(const char *text, size_t len, struct gw_auth *out, char *why, size_t cap)
{
	memset(out, 0, sizeof(*out));
	if (len > GW_AUTH_FILE_BYTES_MAX)
		return auth_fail(KV_ETOOLARGE, why, cap, "the file is over %u bytes",
		                 GW_AUTH_FILE_BYTES_MAX);
	if (memchr(text, '\0', len) != NULL)
		return auth_fail(KV_EINVAL, why, cap, "the file holds a NUL byte");
	out->tokens = calloc(GW_AUTH_TOKENS_MAX, sizeof(*out->tokens));
	if (out->tokens == NULL)
		return auth_fail(KV_ENOMEM, why, cap, "out of memory");
	int err = auth_parse_lines(text, len, out, why, cap);
	if (err != 0)
		gw_auth_free(out);
	return err;
}

int gw_auth_load(const char *path, struct gw_auth *out, char *why, size_t cap)
{
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return auth_fail(KV_EIO, why, cap, "cannot open: %s", strerror(errno));
	char *buf = malloc(GW_AUTH_FILE_BYTES_MAX + 1);
	int err = KV_ENOMEM;
	if (buf == NULL)
		goto out_close;
	size_t n = fread(buf, 1, GW_AUTH_FILE_BYTES_MAX + 1, f);
	if (ferror(f))
		err = auth_fail(KV_EIO, why, cap, "cannot read: %s", strerror(errno));
	else
		err = gw_auth_parse(buf, n, out, why, cap);
	free(buf);
out_close:
	fclose(f);
	return err;
}

void gw_auth_free(struct gw_auth *a)
{
	free(a->tokens);
	a->tokens = NULL;
	a->n = 0;
}

const struct gw_auth_token *gw_auth_who(const struct gw_auth *a, const char *value, size_t len)
{
	static const char scheme[] = "Bearer ";
	size_t sl = sizeof(scheme) - 1;
	if (value == NULL || len <= sl || strncasecmp(value, scheme, sl) != 0)
		return NULL;
	const char *tok = value + sl;
	size_t tok_len = len - sl;
	if (!auth_token_ok(tok, tok_len))
		return NULL;
	uint8_t h[GW_AUTH_HASH_BYTES];
	auth_hash(tok, tok_len, h);
	const struct gw_auth_token *found = NULL;
	for (uint32_t i = 0; i < a->n; i++) /* every entry: no early exit */
		if (CRYPTO_memcmp(a->tokens[i].hash, h, GW_AUTH_HASH_BYTES) == 0)
			found = &a->tokens[i];
	return found;
}

int gw_auth_allow(const struct gw_auth_token *t, enum gw_perm perm, int has_keys,
                  const uint8_t *key, size_t key_len)
{
	if (perm == GW_PERM_OPEN)
		return 0;
	if (t == NULL || t->role < (uint8_t)perm)
		return KV_EFORBIDDEN;
	if (!has_keys || t->prefix_len == 0)
		return 0;
	if (key_len < t->prefix_len || memcmp(key, t->prefix, t->prefix_len) != 0)
		return KV_EFORBIDDEN;
	return 0;
}

/*
 * gw_auth.h - bearer tokens with roles (--auth-file): the file's parser and
 * the permission check the router runs on every request.
 *
 * The file holds one "TOKEN ROLE [PREFIX]" a line (blank lines and lines
 * starting with '#' are skipped). ROLE is read, write or admin (read < write
 * < admin); PREFIX, when given, limits the keys the token may touch. Only a
 * SHA-256 of each token is kept, and a presented token is hashed and compared
 * with every entry by CRYPTO_memcmp, so the time taken does not depend on
 * where a guess differs. Tokens are never logged: errors name line numbers.
 *
 * Pure except gw_auth_load (which reads the file); any thread.
 */
#ifndef RAFTKV_GW_AUTH_H
#define RAFTKV_GW_AUTH_H

#include "gw_route.h"
#include "kv_limits.h"

#include <stddef.h>
#include <stdint.h>

#define GW_AUTH_FILE_BYTES_MAX  (1u << 20) /* the file's size */
#define GW_AUTH_TOKENS_MAX      1024u      /* its lines with a token */
#define GW_AUTH_TOKEN_BYTES_MIN 16u        /* shorter tokens are guessable: refused */
#define GW_AUTH_TOKEN_BYTES_MAX 256u
#define GW_AUTH_HASH_BYTES      32u

struct gw_auth_token {
	uint8_t hash[GW_AUTH_HASH_BYTES]; /* SHA-256 of the token */
	uint8_t role;                     /* GW_PERM_READ, _WRITE or _ADMIN */
	uint16_t prefix_len;              /* 0: every key */
	uint8_t prefix[KV_KEY_BYTES_MAX];
};

/* A parsed file. tokens is malloc'd, owned by the struct (gw_auth_free). */
struct gw_auth {
	struct gw_auth_token *tokens;
	uint32_t n;
};

/*
 * Parses text[0..len) into *out (overwritten; free it with gw_auth_free).
 * 0, or KV_EINVAL (bad line: unknown role, short or long token, a bad
 * prefix, a duplicate token, no token at all) or KV_ETOOLARGE (over
 * GW_AUTH_FILE_BYTES_MAX or GW_AUTH_TOKENS_MAX), with a sentence naming the
 * line (never the token) in why[0..cap).
 */
int gw_auth_parse(const char *text, size_t len, struct gw_auth *out, char *why, size_t cap);

/* Reads and parses the file at path, as gw_auth_parse; KV_EIO when it cannot be read. */
int gw_auth_load(const char *path, struct gw_auth *out, char *why, size_t cap);

/* Frees a's tokens; safe on a zeroed or already freed struct. */
void gw_auth_free(struct gw_auth *a);

/*
 * The token of an Authorization header value (borrowed; NULL or "Bearer X"):
 * a pointer into a->tokens (valid until a is freed or replaced), or NULL
 * when the header is missing, malformed or names no token (401).
 */
const struct gw_auth_token *gw_auth_who(const struct gw_auth *a, const char *value, size_t len);

/*
 * May t do what a route with permission perm asks? A route that touches keys
 * (has_keys) names them by key[0..key_len): one key, or the prefix of a list
 * (every key it can return starts with it). 0, or KV_EFORBIDDEN when t's
 * role is below perm or the keys are not all under t's prefix.
 */
int gw_auth_allow(const struct gw_auth_token *t, enum gw_perm perm, int has_keys,
                  const uint8_t *key, size_t key_len);

#endif

/*
 * gw_json.h - a small JSON writer for gatewayd's answers, and the byte
 * checks it needs (UTF-8 validation, base64).
 *
 * Pure code: no h2o, no sockets; any thread. The writer appends to a buffer
 * it owns that grows up to a fixed cap; past the cap it stops writing and
 * remembers the overflow, so a caller checks once at the end.
 */
#ifndef RAFTKV_GW_JSON_H
#define RAFTKV_GW_JSON_H

#include <stddef.h>
#include <stdint.h>

struct gw_json {
	char *buf; /* owned; freed by gw_json_free() */
	size_t len;
	size_t cap;     /* bytes allocated */
	size_t cap_max; /* the writer never grows past this */
	int overflow;   /* 1: something did not fit; the text is incomplete */
	int need_comma; /* 1: the next member or element needs a leading ',' */
};

/* An empty writer that may grow up to cap_max bytes. */
void gw_json_init(struct gw_json *j, size_t cap_max);

/* Frees the buffer; safe twice. */
void gw_json_free(struct gw_json *j);

/* Appends text as is (structure only: the caller knows it is valid JSON). */
void gw_json_raw(struct gw_json *j, const char *text, size_t len);

/* '{' / '}' and '[' / ']', handling the commas between members and elements. */
void gw_json_open(struct gw_json *j, char bracket);
void gw_json_close(struct gw_json *j, char bracket);

/* "name": - the start of an object member; name must be plain ASCII. */
void gw_json_key(struct gw_json *j, const char *name);

/* A JSON string of bytes that are valid UTF-8 (see gw_json_utf8_valid), escaped. */
void gw_json_str(struct gw_json *j, const uint8_t *s, size_t len);

/* The common members: "name":"text", "name":123, "name":true. */
void gw_json_kv_str(struct gw_json *j, const char *name, const char *text);
void gw_json_kv_u64(struct gw_json *j, const char *name, uint64_t v);
void gw_json_kv_bool(struct gw_json *j, const char *name, int v);
void gw_json_kv_null(struct gw_json *j, const char *name);

/*
 * A cluster member's common fields, inside an object the caller opened:
 * "id", "role" ("voter" or "learner"), "peer_address" (its Raft address) and
 * "url" (its gateway; null when url is NULL or empty). GET /v1/status, GET
 * /v1/members and the membership changes all write a member this way.
 */
void gw_json_member(struct gw_json *j, uint64_t id, int learner, const char *peer_address,
                    const char *url);

/* A string of base64 (RFC 4648, with padding) of s. */
void gw_json_base64(struct gw_json *j, const uint8_t *s, size_t len);

/* 1 when s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int gw_json_utf8_valid(const uint8_t *s, size_t len);

/* Bytes that gw_json_base64 writes for len input bytes, quotes excluded. */
size_t gw_json_base64_len(size_t len);

#endif

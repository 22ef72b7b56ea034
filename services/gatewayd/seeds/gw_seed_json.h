/*
 * gw_seed_json.h - the JSON the seed projects' routes read and write: the
 * members of a flat request object ({"key":...,"value":...}), their strings
 * decoded, and strings escaped the way Go's encoding/json escapes them
 * (<, > and & as \u003c..., invalid UTF-8 as \ufffd), so answers match the
 * seeds' byte for byte.
 *
 * Pure code: no h2o, no sockets; any thread. Nothing here allocates.
 */
#ifndef RAFTKV_GW_SEED_JSON_H
#define RAFTKV_GW_SEED_JSON_H

#include "gw_json.h"

#include <stddef.h>
#include <stdint.h>

#define GW_SEED_JSON_DEPTH_MAX 32u /* nesting of a value the seeds ignore or store */

/* One member a handler wants; filled by gw_seed_json_object. */
struct gw_seed_member {
	const char *name; /* in: the member's name (plain ASCII) */
	int found;        /* out: 1 when the object has it (the last one wins, as in Go) */
	int is_string;    /* out: its value is a JSON string */
	int is_null;      /* out: its value is null */
	size_t at, len;   /* out: the value's raw text in the body, quotes included */
};

/*
 * Parses s[0..len) as one JSON object (whitespace around it allowed) and
 * records the raw text of the wanted members; other members are checked and
 * skipped. 0, or KV_EINVAL when s is not one well-formed object.
 */
int gw_seed_json_object(const char *s, size_t len, struct gw_seed_member *want, size_t n);

/*
 * Decodes the JSON string raw[0..len) (quotes included, as recorded above)
 * into out[0..cap) as UTF-8; *out_len its length. 0, KV_EINVAL (not a
 * string, bad escape) or KV_ETOOLARGE (more than cap bytes).
 */
int gw_seed_json_string(const char *raw, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* 1 when s[0..len) is one well-formed JSON value (whitespace around it allowed). */
int gw_seed_json_is_value(const char *s, size_t len);

/* Appends the bytes s as a JSON string escaped as Go's encoding/json does. */
void gw_seed_json_go_str(struct gw_json *j, const uint8_t *s, size_t len);

#endif

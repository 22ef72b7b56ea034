/*
 * gw_json.c - the JSON writer: escaping, base64, UTF-8 validation.
 * Pure; runs on the gateway's loop thread (and in unit tests).
 */
#include "gw_json.h"

#include "kv_assert.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_JSON_CAP_START 256u

void gw_json_init(struct gw_json *j, size_t cap_max)
{
	memset(j, 0, sizeof(*j));
	j->cap_max = cap_max;
}

void gw_json_free(struct gw_json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = 0;
	j->cap = 0;
}

/* Makes room for n more bytes; 0, or -1 (overflow set) past cap_max or out of memory. */
static int json_reserve(struct gw_json *j, size_t n)
{
	if (j->overflow)
		return -1;
	if (n > j->cap_max - j->len || j->len > j->cap_max) {
		j->overflow = 1;
		return -1;
	}
	if (j->len + n <= j->cap)
		return 0;
	size_t cap = j->cap ? j->cap : GW_JSON_CAP_START;
	while (cap < j->len + n)
		cap *= 2;
	if (cap > j->cap_max)
		cap = j->cap_max;
	char *p = realloc(j->buf, cap);
	if (p == NULL) {
		j->overflow = 1;
		return -1;
	}
	j->buf = p;
	j->cap = cap;
	return 0;
}

void gw_json_raw(struct gw_json *j, const char *text, size_t len)
{
	if (json_reserve(j, len) != 0)
		return;
	memcpy(j->buf + j->len, text, len);
	j->len += len;
}

static void json_comma(struct gw_json *j)
{
	if (j->need_comma)
		gw_json_raw(j, ",", 1);
	j->need_comma = 0;
}

void gw_json_open(struct gw_json *j, char bracket)
{
	KV_ASSERT(bracket == '{' || bracket == '[');
	json_comma(j);
	gw_json_raw(j, &bracket, 1);
}

void gw_json_close(struct gw_json *j, char bracket)
{
	KV_ASSERT(bracket == '}' || bracket == ']');
	gw_json_raw(j, &bracket, 1);
	j->need_comma = 1;
}

void gw_json_key(struct gw_json *j, const char *name)
{
	json_comma(j);
	gw_json_raw(j, "\"", 1);
	gw_json_raw(j, name, strlen(name));
	gw_json_raw(j, "\":", 2);
}

/* Appends one escaped byte sequence; the string's text is already UTF-8. */
static void json_escape_byte(struct gw_json *j, uint8_t c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
	switch (c) {
	case '"':
		gw_json_raw(j, "\\\"", 2);
		return;
	case '\\':
		gw_json_raw(j, "\\\\", 2);
		return;
	case '\n':
		gw_json_raw(j, "\\n", 2);
		return;
	case '\r':
		gw_json_raw(j, "\\r", 2);
		return;
	case '\t':
		gw_json_raw(j, "\\t", 2);
		return;
	case '\b':
		gw_json_raw(j, "\\b", 2);
		return;
	case '\f':
		gw_json_raw(j, "\\f", 2);
		return;
	default:
		/* the other C0 controls and DEL: \u00XX keeps the text printable */
		gw_json_raw(j, esc, sizeof(esc));
	}
}

void gw_json_str(struct gw_json *j, const uint8_t *s, size_t len)
{
	json_comma(j);
	gw_json_raw(j, "\"", 1);
	size_t run = 0; /* bytes copied in one block since the last escape */
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		gw_json_raw(j, (const char *)s + run, i - run);
		json_escape_byte(j, c);
		run = i + 1;
	}
	gw_json_raw(j, (const char *)s + run, len - run);
	gw_json_raw(j, "\"", 1);
	j->need_comma = 1;
}

void gw_json_kv_str(struct gw_json *j, const char *name, const char *text)
{
	gw_json_key(j, name);
	gw_json_str(j, (const uint8_t *)text, strlen(text));
}

void gw_json_kv_u64(struct gw_json *j, const char *name, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);
	gw_json_key(j, name);
	gw_json_raw(j, num, (size_t)n);
	j->need_comma = 1;
}

void gw_json_kv_bool(struct gw_json *j, const char *name, int v)
{
	gw_json_key(j, name);
	gw_json_raw(j, v ? "true" : "false", v ? 4 : 5);
	j->need_comma = 1;
}

void gw_json_kv_null(struct gw_json *j, const char *name)
{
	gw_json_key(j, name);
	gw_json_raw(j, "null", 4);
	j->need_comma = 1;
}

void gw_json_member(struct gw_json *j, uint64_t id, int learner, const char *peer_address,
                    const char *url)
{
	gw_json_kv_u64(j, "id", id);
	gw_json_kv_str(j, "role", learner ? "learner" : "voter");
	gw_json_kv_str(j, "peer_address", peer_address);
	if (url != NULL && url[0] != '\0')
		gw_json_kv_str(j, "url", url);
	else
		gw_json_kv_null(j, "url");
}

size_t gw_json_base64_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

void gw_json_base64(struct gw_json *j, const uint8_t *s, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	json_comma(j);
	gw_json_raw(j, "\"", 1);
	if (json_reserve(j, gw_json_base64_len(len)) != 0)
		return;
	char *out = j->buf + j->len;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*out++ = tbl[v >> 18];
		*out++ = tbl[(v >> 12) & 63];
		*out++ = tbl[(v >> 6) & 63];
		*out++ = tbl[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
		*out++ = tbl[v >> 18];
		*out++ = tbl[(v >> 12) & 63];
		*out++ = (i + 1 < len) ? tbl[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	j->len = (size_t)(out - j->buf);
	gw_json_raw(j, "\"", 1);
	j->need_comma = 1;
}

/* Length of the UTF-8 sequence at s[0..left), or 0 when it is not well formed. */
static size_t json_utf8_seq(const uint8_t *s, size_t left)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return 1;
	size_t n = (c >= 0xc2 && c <= 0xdf)   ? 2
	           : (c >= 0xe0 && c <= 0xef) ? 3
	           : (c >= 0xf0 && c <= 0xf4) ? 4
	                                      : 0;
	if (n == 0 || n > left)
		return 0;
	for (size_t k = 1; k < n; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	/* the second byte's range rules out overlongs, surrogates and > U+10FFFF */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

int gw_json_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t n = json_utf8_seq(s + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

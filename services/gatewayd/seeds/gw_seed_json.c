/*
 * gw_seed_json.c - reading the seed routes' request objects and writing
 * strings as Go does (gw_seed_json.h). Pure; any thread.
 */
#include "gw_seed_json.h"

#include "kv_err.h"

#include <string.h>

struct cursor {
	const char *s;
	size_t len, i;
};

static void skip_ws(struct cursor *c)
{
	while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' ||
	                         c->s[c->i] == '\r'))
		c->i++;
}

static int is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static unsigned hex_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return (unsigned)(ch - '0');
	return (unsigned)((ch | 0x20) - 'a' + 10);
}

/* The length of the well-formed UTF-8 sequence at p[0..n), or 0 (and its code point). */
static size_t utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0];
	size_t need;
	uint32_t min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		need = 2, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		need = 3, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		need = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t k = 1; k < need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return need;
}

/* A string at c->i (the opening quote); only checks it. */
static int skip_string(struct cursor *c)
{
	c->i++;
	while (c->i < c->len) {
		unsigned char ch = (unsigned char)c->s[c->i];
		if (ch == '"') {
			c->i++;
			return 0;
		}
		if (ch < 0x20)
			return KV_EINVAL;
		if (ch != '\\') {
			c->i++;
			continue;
		}
		if (c->i + 1 >= c->len)
			return KV_EINVAL;
		char e = c->s[c->i + 1];
		if (e == 'u') {
			if (c->i + 6 > c->len || !is_hex(c->s[c->i + 2]) ||
			    !is_hex(c->s[c->i + 3]) || !is_hex(c->s[c->i + 4]) ||
			    !is_hex(c->s[c->i + 5]))
				return KV_EINVAL;
			c->i += 6;
		} else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
			c->i += 2;
		} else {
			return KV_EINVAL;
		}
	}
	return KV_EINVAL;
}

static int skip_number(struct cursor *c)
{
	size_t start = c->i;
	if (c->i < c->len && c->s[c->i] == '-')
		c->i++;
	size_t digits = c->i;
	while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9')
		c->i++;
	if (c->i == digits)
		return KV_EINVAL;
	if (c->s[digits] == '0' && c->i - digits > 1)
		return KV_EINVAL; /* no leading zeros */
	if (c->i < c->len && c->s[c->i] == '.') {
		size_t frac = ++c->i;
		while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
		if (c->i == frac)
			return KV_EINVAL;
	}
	if (c->i < c->len && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
		c->i++;
		if (c->i < c->len && (c->s[c->i] == '+' || c->s[c->i] == '-'))
			c->i++;
		size_t exp = c->i;
		while (c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
		if (c->i == exp)
			return KV_EINVAL;
	}
	return c->i > start ? 0 : KV_EINVAL;
}

static int skip_literal(struct cursor *c, const char *word)
{
	size_t n = strlen(word);
	if (c->len - c->i < n || memcmp(c->s + c->i, word, n) != 0)
		return KV_EINVAL;
	c->i += n;
	return 0;
}

static int skip_value(struct cursor *c, unsigned depth);

/* An object or array at c->i, its members or elements checked. */
static int skip_container(struct cursor *c, unsigned depth)
{
	char close = c->s[c->i] == '{' ? '}' : ']';
	int object = close == '}';
	c->i++;
	skip_ws(c);
	if (c->i < c->len && c->s[c->i] == close) {
		c->i++;
		return 0;
	}
	for (;;) {
		skip_ws(c);
		if (object) {
			if (c->i >= c->len || c->s[c->i] != '"' || skip_string(c) != 0)
				return KV_EINVAL;
			skip_ws(c);
			if (c->i >= c->len || c->s[c->i++] != ':')
				return KV_EINVAL;
		}
		if (skip_value(c, depth + 1) != 0)
			return KV_EINVAL;
		skip_ws(c);
		if (c->i >= c->len)
			return KV_EINVAL;
		char ch = c->s[c->i++];
		if (ch == close)
			return 0;
		if (ch != ',')
			return KV_EINVAL;
	}
}

static int skip_value(struct cursor *c, unsigned depth)
{
	if (depth > GW_SEED_JSON_DEPTH_MAX)
		return KV_EINVAL;
	skip_ws(c);
	if (c->i >= c->len)
		return KV_EINVAL;
	switch (c->s[c->i]) {
	case '{':
	case '[':
		return skip_container(c, depth);
	case '"':
		return skip_string(c);
	case 't':
		return skip_literal(c, "true");
	case 'f':
		return skip_literal(c, "false");
	case 'n':
		return skip_literal(c, "null");
	default:
		return skip_number(c);
	}
}

/* Records the member whose name is raw[0..len) (quotes included) if it is wanted. */
static struct gw_seed_member *member_find(const char *raw, size_t len, struct gw_seed_member *want,
                                          size_t n)
{
	for (size_t k = 0; k < n; k++) {
		size_t nl = strlen(want[k].name);
		if (len == nl + 2 && memcmp(raw + 1, want[k].name, nl) == 0)
			return &want[k];
	}
	return NULL;
}

static int object_members(struct cursor *c, struct gw_seed_member *want, size_t n)
{
	for (;;) {
		skip_ws(c);
		size_t name_at = c->i;
		if (c->i >= c->len || c->s[c->i] != '"' || skip_string(c) != 0)
			return KV_EINVAL;
		struct gw_seed_member *m = member_find(c->s + name_at, c->i - name_at, want, n);
		skip_ws(c);
		if (c->i >= c->len || c->s[c->i++] != ':')
			return KV_EINVAL;
		skip_ws(c);
		size_t at = c->i;
		if (skip_value(c, 1) != 0)
			return KV_EINVAL;
		if (m != NULL) {
			m->found = 1;
			m->at = at;
			m->len = c->i - at;
			m->is_string = c->s[at] == '"';
			m->is_null = c->s[at] == 'n';
		}
		skip_ws(c);
		if (c->i >= c->len)
			return KV_EINVAL;
		char ch = c->s[c->i++];
		if (ch == '}')
			return 0;
		if (ch != ',')
			return KV_EINVAL;
	}
}

int gw_seed_json_object(const char *s, size_t len, struct gw_seed_member *want, size_t n)
{
	struct cursor c = {s, len, 0};
	for (size_t k = 0; k < n; k++) {
		want[k].found = want[k].is_string = want[k].is_null = 0;
		want[k].at = want[k].len = 0;
	}
	skip_ws(&c);
	if (c.i >= c.len || c.s[c.i++] != '{')
		return KV_EINVAL;
	skip_ws(&c);
	int err = 0;
	if (c.i < c.len && c.s[c.i] == '}')
		c.i++;
	else
		err = object_members(&c, want, n);
	if (err != 0)
		return err;
	skip_ws(&c);
	return c.i == c.len ? 0 : KV_EINVAL;
}

/* Appends code point cp as UTF-8 to out; KV_ETOOLARGE when it does not fit. */
static int put_utf8(uint32_t cp, uint8_t *out, size_t cap, size_t *n)
{
	uint8_t b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp, k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), k = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12), b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f)), k = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18), b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (cap - *n < k)
		return KV_ETOOLARGE;
	memcpy(out + *n, b, k);
	*n += k;
	return 0;
}

static uint32_t hex4(const char *p)
{
	return hex_val(p[0]) << 12 | hex_val(p[1]) << 8 | hex_val(p[2]) << 4 | hex_val(p[3]);
}

/* A \uXXXX escape at raw[*i] (the backslash), with a following low surrogate if paired. */
static uint32_t decode_u(const char *raw, size_t len, size_t *i)
{
	uint32_t cp = hex4(raw + *i + 2);
	*i += 6;
	if (cp >= 0xd800 && cp < 0xdc00 && *i + 6 <= len && raw[*i] == '\\' && raw[*i + 1] == 'u') {
		uint32_t lo = hex4(raw + *i + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			*i += 6;
			return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
	}
	return cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp; /* a lone surrogate, as Go does */
}

static uint32_t decode_simple(char e)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	return (uint32_t)(unsigned char)to[strchr(from, e) - from];
}

int gw_seed_json_string(const char *raw, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	struct cursor c = {raw, len, 0};
	*out_len = 0;
	if (len < 2 || raw[0] != '"' || skip_string(&c) != 0 || c.i != len)
		return KV_EINVAL;
	size_t n = 0;
	for (size_t i = 1; i < len - 1;) {
		uint32_t cp;
		if (raw[i] == '\\' && raw[i + 1] == 'u') {
			cp = decode_u(raw, len, &i);
		} else if (raw[i] == '\\') {
			cp = decode_simple(raw[i + 1]);
			i += 2;
		} else {
			size_t k = utf8_seq((const uint8_t *)raw + i, len - 1 - i, &cp);
			if (k == 0) {
				cp = 0xfffd; /* invalid UTF-8 becomes U+FFFD, as Go decodes it */
				k = 1;
			}
			i += k;
		}
		if (put_utf8(cp, out, cap, &n) != 0)
			return KV_ETOOLARGE;
	}
	*out_len = n;
	return 0;
}

/* The escape of an ASCII byte, or NULL when it goes as is. */
static const char *go_escape(uint8_t ch, char buf[8])
{
	static const char hex[] = "0123456789abcdef";
	switch (ch) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	default:
		break;
	}
	if (ch >= 0x20 && ch != '<' && ch != '>' && ch != '&')
		return NULL;
	memcpy(buf, "\\u00", 4);
	buf[4] = hex[ch >> 4];
	buf[5] = hex[ch & 15];
	buf[6] = '\0';
	return buf;
}

void gw_seed_json_go_str(struct gw_json *j, const uint8_t *s, size_t len)
{
	char buf[8];
	gw_json_raw(j, "\"", 1);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t k = utf8_seq(s + i, len - i, &cp);
		if (k == 0) {
			gw_json_raw(j, "\\ufffd", 6);
			i++;
		} else if (k == 1) {
			const char *e = go_escape(s[i], buf);
			if (e != NULL)
				gw_json_raw(j, e, strlen(e));
			else
				gw_json_raw(j, (const char *)s + i, 1);
			i++;
		} else {
			if (cp == 0x2028 || cp == 0x2029)
				gw_json_raw(j, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			else
				gw_json_raw(j, (const char *)s + i, k);
			i += k;
		}
	}
	gw_json_raw(j, "\"", 1);
}

int gw_seed_json_is_value(const char *s, size_t len)
{
	struct cursor c = {s, len, 0};
	if (skip_value(&c, 1) != 0)
		return 0;
	skip_ws(&c);
	return c.i == c.len;
}

/*
 * ctl_json.c - a small JSON scanner and string writer for raftkvctl (see
 * ctl_json.h). It checks structure as far as it needs to find a member or an
 * element; the gateway's answers are well formed, and anything that is not
 * is reported as malformed, never read past its end.
 */
#include "ctl_json.h"

#include <stdlib.h>
#include <string.h>

static const char *json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the string starting at p (on its opening quote), or NULL. */
static const char *json_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* The end of the value at p (no leading blanks), or NULL. */
static const char *json_skip(const char *p, const char *end, int depth)
{
	if (p >= end || depth > CTL_JSON_DEPTH_MAX)
		return NULL;
	if (*p == '"')
		return json_skip_string(p, end);
	if (*p != '{' && *p != '[') {
		const char *q = p;
		while (q < end && strchr(",]} \t\r\n", *q) == NULL)
			q++;
		return q > p ? q : NULL;
	}
	char close = *p == '{' ? '}' : ']';
	p = json_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	while (p < end) {
		if (close == '}') {
			if (*p != '"' || (p = json_skip_string(p, end)) == NULL)
				return NULL;
			p = json_ws(p, end);
			if (p >= end || *p != ':')
				return NULL;
			p = json_ws(p + 1, end);
		}
		if ((p = json_skip(p, end, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p, end);
		if (p < end && *p == close)
			return p + 1;
		if (p >= end || *p != ',')
			return NULL;
		p = json_ws(p + 1, end);
	}
	return NULL;
}

int ctl_json_value(const char *text, size_t len, struct ctl_json_span *out)
{
	const char *end = text + len;
	const char *p = json_ws(text, end);
	const char *q = json_skip(p, end, 0);
	if (q == NULL)
		return -1;
	*out = (struct ctl_json_span){.p = p, .len = (size_t)(q - p)};
	return 0;
}

/* Steps over one element (or "key": value member) at *p; fills key and value spans. */
static int json_entry(const char **p, const char *end, int member, struct ctl_json_span *key,
                      struct ctl_json_span *val)
{
	const char *q = json_ws(*p, end);
	if (member) {
		const char *k = q;
		if (q >= end || *q != '"' || (q = json_skip_string(q, end)) == NULL)
			return -1;
		*key = (struct ctl_json_span){.p = k, .len = (size_t)(q - k)};
		q = json_ws(q, end);
		if (q >= end || *q != ':')
			return -1;
		q = json_ws(q + 1, end);
	}
	const char *v = q;
	if ((q = json_skip(q, end, 1)) == NULL)
		return -1;
	*val = (struct ctl_json_span){.p = v, .len = (size_t)(q - v)};
	q = json_ws(q, end);
	if (q < end && *q == ',')
		q++;
	*p = q;
	return 0;
}

/* Shared by member and next: the inside of a container, after its opening bracket. */
static int json_iter(struct ctl_json_span c, char open, const char **cursor,
                     struct ctl_json_span *key, struct ctl_json_span *val)
{
	const char *end = c.p + c.len;
	if (c.len < 2 || c.p[0] != open)
		return -1;
	if (*cursor == NULL)
		*cursor = c.p + 1;
	const char *p = json_ws(*cursor, end - 1);
	if (p >= end - 1)
		return 0;
	if (json_entry(&p, end - 1, open == '{', key, val) != 0)
		return -1;
	*cursor = p;
	return 1;
}

int ctl_json_member(struct ctl_json_span obj, const char *name, struct ctl_json_span *out)
{
	const char *cursor = NULL;
	struct ctl_json_span key, val;
	size_t nlen = strlen(name);
	int r;
	while ((r = json_iter(obj, '{', &cursor, &key, &val)) == 1) {
		/* the names looked up have no escapes, so the raw bytes compare */
		if (key.len == nlen + 2 && memcmp(key.p + 1, name, nlen) == 0) {
			*out = val;
			return 0;
		}
	}
	return -1;
}

int ctl_json_next(struct ctl_json_span arr, const char **cursor, struct ctl_json_span *out)
{
	struct ctl_json_span unused;
	return json_iter(arr, '[', cursor, &unused, out);
}

/* Appends code point cp as UTF-8; -1 if out of room. */
static int json_put_utf8(unsigned long cp, char *out, size_t cap, size_t *n)
{
	unsigned char b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp, k = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 63)),
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
		b[2] = (unsigned char)(0x80 | (cp & 63)), k = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 63));
		b[3] = (unsigned char)(0x80 | (cp & 63)), k = 4;
	}
	if (*n + k >= cap)
		return -1;
	memcpy(out + *n, b, k);
	*n += k;
	return 0;
}

/* Reads \uXXXX at p (on the backslash), and a following low surrogate. */
static const char *json_unicode(const char *p, const char *end, unsigned long *cp)
{
	char hex[5] = {0};
	if (end - p < 6 || p[1] != 'u')
		return NULL;
	memcpy(hex, p + 2, 4);
	char *stop;
	*cp = strtoul(hex, &stop, 16);
	if (stop != hex + 4)
		return NULL;
	p += 6;
	if (*cp >= 0xD800 && *cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
		unsigned long lo;
		const char *q = json_unicode(p, end, &lo);
		if (q != NULL && lo >= 0xDC00 && lo < 0xE000) {
			*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
			return q;
		}
	}
	return p;
}

long ctl_json_string(struct ctl_json_span s, char *out, size_t cap)
{
	if (s.len < 2 || s.p[0] != '"' || cap == 0)
		return -1;
	const char *p = s.p + 1, *end = s.p + s.len - 1;
	size_t n = 0;
	while (p < end) {
		unsigned long cp = (unsigned char)*p;
		if (*p == '\\' && p + 1 < end && p[1] == 'u') {
			if ((p = json_unicode(p, end, &cp)) == NULL)
				return -1;
		} else if (*p == '\\' && p + 1 < end) {
			const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
			const char *at = strchr(from, p[1]);
			if (at == NULL || p[1] == '\0')
				return -1;
			cp = (unsigned char)to[at - from];
			p += 2;
		} else {
			p++;
			if (n + 1 >= cap)
				return -1;
			out[n++] = (char)cp; /* raw bytes, UTF-8 included, copied as they are */
			continue;
		}
		if (json_put_utf8(cp, out, cap, &n) != 0)
			return -1;
	}
	out[n] = '\0';
	return (long)n;
}

int ctl_json_int(struct ctl_json_span s, long long *out)
{
	char buf[24];
	if (s.len == 0 || s.len >= sizeof(buf))
		return -1;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	char *stop;
	*out = strtoll(buf, &stop, 10);
	return *stop == '\0' ? 0 : -1;
}

int ctl_json_is(struct ctl_json_span s, const char *literal)
{
	return s.len == strlen(literal) && memcmp(s.p, literal, s.len) == 0;
}

void ctl_json_write_string(FILE *f, const char *bytes, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)bytes[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/*
 * ctl_encoding.c - percent-encoding, UTF-8 check and base64 for raftkvctl.
 */
#include "ctl_encoding.h"

#include <string.h>

static const char ctl_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ctl_percent_encode(const char *bytes, size_t len, int keep_slash, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)bytes[i];
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || (c != '\0' && strchr("-._~", c) != NULL) ||
		            (keep_slash && c == '/');
		if (n + 4 > cap)
			return -1;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n >= cap)
		return -1;
	out[n] = '\0';
	return 0;
}

int ctl_utf8_valid(const char *bytes, size_t len)
{
	const unsigned char *p = (const unsigned char *)bytes, *end = p + len;
	while (p < end) {
		unsigned char c = *p;
		size_t k = c < 0x80         ? 1
		           : (c >> 5) == 6  ? 2
		           : (c >> 4) == 14 ? 3
		           : (c >> 3) == 30 ? 4
		                            : 0;
		if (c == 0 || k == 0 || (size_t)(end - p) < k)
			return 0;
		unsigned long cp = k == 1 ? c : (unsigned long)(c & (0x7F >> k));
		for (size_t i = 1; i < k; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 63);
		}
		static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
			return 0;
		p += k;
	}
	return 1;
}

void ctl_base64_write(FILE *f, const char *bytes, size_t len)
{
	const unsigned char *p = (const unsigned char *)bytes;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		fputc(ctl_b64_alphabet[v >> 18], f);
		fputc(ctl_b64_alphabet[(v >> 12) & 63], f);
		fputc(i + 1 < len ? ctl_b64_alphabet[(v >> 6) & 63] : '=', f);
		fputc(i + 2 < len ? ctl_b64_alphabet[v & 63] : '=', f);
	}
}

long ctl_base64_decode(const char *text, size_t len, char *out, size_t cap)
{
	unsigned long acc = 0;
	int bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < len && text[i] != '='; i++) {
		const char *at = text[i] ? strchr(ctl_b64_alphabet, text[i]) : NULL;
		if (at == NULL)
			return -1;
		acc = (acc << 6 | (unsigned long)(at - ctl_b64_alphabet)) & 0xFFFFFF;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xFF);
		}
	}
	return (long)n;
}

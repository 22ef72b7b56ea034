/*
 * kv_url.c - parsing the base URL of a node's HTTP API (raftkvctl's
 * --endpoints, raftd's --join and --url). Pure; any thread.
 */
#include "kv_url.h"

#include "kv_err.h"

#include <stdlib.h>
#include <string.h>

/* Copies [p, p+len) into out (cap bytes) as a string; -1 if empty or too long. */
static int url_copy(const char *p, size_t len, char *out, size_t cap)
{
	if (len == 0 || len >= cap)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

static int url_parse_port(const char *p, size_t len, char *out, size_t cap)
{
	if (url_copy(p, len, out, cap) != 0 || strspn(out, "0123456789") != len)
		return -1;
	long port = strtol(out, NULL, 10);
	return port >= 1 && port <= 65535 ? 0 : -1;
}

/* Host and port of h[0..len): 0 or -1. */
static int url_parse_authority(const char *h, size_t len, struct kv_url *out)
{
	const char *end = h + len, *port = NULL;
	if (h[0] == '[') { /* [IPv6]:port */
		const char *close = memchr(h, ']', len);
		if (close == NULL ||
		    url_copy(h + 1, (size_t)(close - h - 1), out->host, sizeof(out->host)) != 0)
			return -1;
		if (close + 1 < end && close[1] != ':')
			return -1;
		port = close + 1 < end ? close + 2 : NULL;
	} else {
		const char *colon = memchr(h, ':', len);
		size_t hlen = colon ? (size_t)(colon - h) : len;
		if (url_copy(h, hlen, out->host, sizeof(out->host)) != 0)
			return -1;
		port = colon ? colon + 1 : NULL;
	}
	if (port == NULL) {
		strcpy(out->port, out->tls ? "443" : "80");
		return 0;
	}
	return url_parse_port(port, (size_t)(end - port), out->port, sizeof(out->port));
}

int kv_url_parse(const char *url, struct kv_url *out)
{
	const char *h;
	if (strncmp(url, "http://", 7) == 0) {
		out->tls = 0;
		h = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		out->tls = 1;
		h = url + 8;
	} else {
		return KV_EINVAL;
	}
	size_t len = strlen(h);
	if (len > 0 && h[len - 1] == '/')
		len--; /* a trailing slash is the root path: allowed */
	if (len == 0 || memchr(h, '/', len) != NULL || memchr(h, '@', len) != NULL ||
	    memchr(h, '?', len) != NULL || memchr(h, '#', len) != NULL)
		return KV_EINVAL;
	return url_parse_authority(h, len, out) == 0 ? 0 : KV_EINVAL;
}

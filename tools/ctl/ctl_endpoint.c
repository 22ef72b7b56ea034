/*
 * ctl_endpoint.c - the URLs raftkvctl talks to: --endpoints URL,URL,...
 * (RAFTKV_ENDPOINTS), or the older single --url (RAFTKV_URL).
 */
#include "ctl_endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies [p, p+len) into out (cap bytes) as a string; -1 if empty or too long. */
static int endpoint_copy(const char *p, size_t len, char *out, size_t cap)
{
	if (len == 0 || len >= cap)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

static int endpoint_parse_port(const char *p, size_t len, char *out, size_t cap)
{
	if (endpoint_copy(p, len, out, cap) != 0 || strspn(out, "0123456789") != len)
		return -1;
	long port = strtol(out, NULL, 10);
	return port >= 1 && port <= 65535 ? 0 : -1;
}

int ctl_endpoint_parse(const char *url, struct ctl_endpoint *out)
{
	const char *h;
	if (strncmp(url, "http://", 7) == 0) {
		out->tls = 0;
		h = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		out->tls = 1;
		h = url + 8;
	} else {
		return -1;
	}
	size_t len = strlen(h);
	if (len > 0 && h[len - 1] == '/')
		len--; /* a trailing slash is the root path: allowed */
	if (memchr(h, '/', len) != NULL || memchr(h, '@', len) != NULL ||
	    memchr(h, '?', len) != NULL)
		return -1;
	const char *host_end = h + len, *port = NULL;
	if (h[0] == '[') { /* [IPv6]:port */
		const char *close = memchr(h, ']', len);
		if (close == NULL)
			return -1;
		if (endpoint_copy(h + 1, (size_t)(close - h - 1), out->host, sizeof(out->host)))
			return -1;
		if (close + 1 < host_end && close[1] != ':')
			return -1;
		port = close + 1 < host_end ? close + 2 : NULL;
	} else {
		const char *colon = memchr(h, ':', len);
		size_t hlen = colon ? (size_t)(colon - h) : len;
		if (endpoint_copy(h, hlen, out->host, sizeof(out->host)) != 0)
			return -1;
		port = colon ? colon + 1 : NULL;
	}
	if (port == NULL) {
		strcpy(out->port, out->tls ? "443" : "80");
		return 0;
	}
	return endpoint_parse_port(port, (size_t)(host_end - port), out->port, sizeof(out->port));
}

int ctl_endpoint_parse_list(const char *list, struct ctl_ctx *ctx)
{
	ctx->endpoint_count = 0;
	const char *p = list;
	for (;;) {
		size_t len = strcspn(p, ",");
		char url[CTL_URL_BYTES_MAX];
		if (ctx->endpoint_count == CTL_ENDPOINTS_MAX) {
			fprintf(stderr, "raftkvctl: more than %d endpoints\n", CTL_ENDPOINTS_MAX);
			return -1;
		}
		if (endpoint_copy(p, len, url, sizeof(url)) != 0 ||
		    ctl_endpoint_parse(url, &ctx->endpoints[ctx->endpoint_count]) != 0) {
			fprintf(stderr,
			        "raftkvctl: bad endpoint '%.*s' (want http://HOST:PORT or "
			        "https://HOST:PORT)\n",
			        (int)(len > 200 ? 200 : len), p);
			return -1;
		}
		ctx->endpoint_count++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

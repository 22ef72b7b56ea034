/*
 * ctl_endpoint.c - the URLs raftkvctl talks to: --endpoints URL,URL,...
 * (RAFTKV_ENDPOINTS), or the older single --url (RAFTKV_URL).
 */
#include "ctl_endpoint.h"

#include "kv_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_endpoint_parse(const char *url, struct kv_url *out)
{
	return kv_url_parse(url, out) == 0 ? 0 : -1;
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
		int fits = len > 0 && len < sizeof(url);
		if (fits)
			snprintf(url, sizeof(url), "%.*s", (int)len, p);
		if (!fits || ctl_endpoint_parse(url, &ctx->endpoints[ctx->endpoint_count]) != 0) {
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

/*
 * ctl_endpoint.h - parsing --endpoints (ctl_endpoint.c).
 */
#ifndef RAFTKV_CTL_ENDPOINT_H
#define RAFTKV_CTL_ENDPOINT_H

#include "ctl.h"

/*
 * Parses one URL into *out with kv_url_parse (common/kv_url.h). Returns 0, or
 * -1 for anything that is not http(s)://HOST[:PORT][/].
 */
int ctl_endpoint_parse(const char *url, struct kv_url *out);

/*
 * Parses a comma-separated list of URLs (borrowed) into ctx->endpoints,
 * replacing what was there. Returns 0, or -1 (message on stderr) for an empty
 * list, a bad URL or more than CTL_ENDPOINTS_MAX.
 */
int ctl_endpoint_parse_list(const char *list, struct ctl_ctx *ctx);

#endif

/*
 * ctl_endpoint.h - parsing --endpoints (ctl_endpoint.c).
 */
#ifndef RAFTKV_CTL_ENDPOINT_H
#define RAFTKV_CTL_ENDPOINT_H

#include "ctl.h"

/*
 * Parses one URL, http://HOST[:PORT][/] or https://HOST[:PORT][/] (HOST may be
 * [IPv6]), into *out. Returns 0, or -1 for anything else (a path, a user, an
 * empty or over-long host, a port outside 1..65535).
 */
int ctl_endpoint_parse(const char *url, struct ctl_endpoint *out);

/*
 * Parses a comma-separated list of URLs (borrowed) into ctx->endpoints,
 * replacing what was there. Returns 0, or -1 (message on stderr) for an empty
 * list, a bad URL or more than CTL_ENDPOINTS_MAX.
 */
int ctl_endpoint_parse_list(const char *list, struct ctl_ctx *ctx);

#endif

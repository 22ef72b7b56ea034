/*
 * gw_consul_missing.c - the Consul endpoints raftkv does not serve
 * (transactions, sessions, ACLs, the catalog, agents, health): 501 naming
 * what is missing, so a client learns it at once instead of reading a 404
 * as "no such key". Loop thread only.
 */
#include "gw_consul.h"

#include <string.h>

static const struct {
	const char *path;
	const char *missing;
} consul_missing_paths[] = {
    {"/v1/txn", "Consul transactions (/v1/txn) are not supported; raftkv's conditions "
                "(?cas=) cover single keys"},
    {"/v1/session/", "sessions (/v1/session) are not supported, so neither are locks"},
    {"/v1/acl/", "Consul ACLs are not supported; use raftkv's tokens (X-Consul-Token)"},
    {"/v1/catalog/", "the service catalog is not supported: raftkv serves Consul's KV API only"},
    {"/v1/agent/", "agent endpoints are not supported: raftkv serves Consul's KV API only"},
    {"/v1/health/", "health checks are not supported: raftkv serves Consul's KV API only"},
};

void gw_consul_missing(struct gw_req *r)
{
	const h2o_iovec_t *p = &r->http.req->path;
	const char *missing = "this Consul endpoint is not supported";
	for (size_t i = 0; i < sizeof(consul_missing_paths) / sizeof(consul_missing_paths[0]);
	     i++) {
		size_t n = strlen(consul_missing_paths[i].path);
		if (p->len >= n && memcmp(p->base, consul_missing_paths[i].path, n) == 0) {
			missing = consul_missing_paths[i].missing;
			break;
		}
	}
	gw_consul_reply_missing(r->gw, &r->http, missing);
}

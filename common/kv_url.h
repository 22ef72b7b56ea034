/*
 * kv_url.h - a base URL of a node's HTTP API, http://HOST[:PORT][/] or
 * https://HOST[:PORT][/], parsed (kv_url.c). Pure; any thread.
 */
#ifndef RAFTKV_KV_URL_H
#define RAFTKV_KV_URL_H

#define KV_URL_BYTES_MAX      512u
#define KV_URL_HOST_BYTES_MAX 256u
#define KV_URL_PORT_BYTES_MAX 8u

struct kv_url {
	int tls;                          /* https:// */
	char host[KV_URL_HOST_BYTES_MAX]; /* without the brackets of an [IPv6] */
	char port[KV_URL_PORT_BYTES_MAX]; /* "80" or "443" when the URL names none */
};

/*
 * Parses url (borrowed) into *out. HOST may be [IPv6]. Returns 0, or KV_EINVAL
 * for anything else: another scheme, a path, a user, a query, an empty or
 * over-long host, a port outside 1..65535. *out is undefined on error.
 */
int kv_url_parse(const char *url, struct kv_url *out);

#endif

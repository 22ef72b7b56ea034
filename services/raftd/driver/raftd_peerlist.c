/*
 * raftd_peerlist.c - strict parser for --peers ("1=host:port,2=host:port").
 * Pure; called once at start on the main thread.
 */
#include "raftd_peerlist.h"

#include "kv_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int peerlist_fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int peerlist_fail(char *err, size_t err_len, const char *fmt, ...)
{
	if (err_len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return KV_EINVAL;
}

/* Parses decimal digits in [s, end) into *out if they fit 1..max; -1 otherwise. */
static int peerlist_number(const char *s, const char *end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (s == end || end - s > 10)
		return -1;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v == 0 || v > max || (s[0] == '0'))
		return -1;
	*out = v;
	return 0;
}

/* A DNS name or IPv4 address: letters, digits, '-', '.', not starting with '-' or '.'. */
static int peerlist_host_ok(const char *s, size_t len)
{
	if (len == 0 || len > RAFTD_HOST_BYTES_MAX)
		return 0;
	if (s[0] == '[') {
		/* bracketed IPv6: hex digits, ':' and '.' (an embedded IPv4) */
		if (len < 4 || s[len - 1] != ']')
			return 0;
		for (size_t i = 1; i + 1 < len; i++)
			if (!strchr("0123456789abcdefABCDEF:.", s[i]))
				return 0;
		return 1;
	}
	if (s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || c == '-' || c == '.';
		if (!ok)
			return 0;
	}
	return 1;
}

/* Splits [host, end) at its last ':' into a->host and a->port; 0, or 1 (no port), 2 (host), 3. */
static int peerlist_host_port(const char *host, const char *end, struct raftd_peer_addr *a)
{
	const char *colon = NULL;
	for (const char *p = host; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon == NULL)
		return 1;
	size_t host_len = (size_t)(colon - host);
	if (!peerlist_host_ok(host, host_len))
		return 2;
	uint64_t port = 0;
	if (peerlist_number(colon + 1, end, 65535, &port) != 0)
		return 3;
	memcpy(a->host, host, host_len);
	a->host[host_len] = '\0';
	a->port = (uint16_t)port;
	return 0;
}

int raftd_peerlist_parse_addr(const char *text, size_t len, struct raftd_peer_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > RAFTD_HOST_BYTES_MAX + 6 || memchr(text, '\0', len) != NULL)
		return KV_EINVAL;
	return peerlist_host_port(text, text + len, out) == 0 ? 0 : KV_EINVAL;
}

/* Parses one "id=host:port" item in [s, end) into a. */
static int peerlist_item(const char *s, const char *end, struct raftd_peer_addr *a, char *err,
                         size_t err_len)
{
	/* echo at most 64 bytes of the item so the message stays readable */
	int len = end - s > 64 ? 64 : (int)(end - s);
	const char *eq = memchr(s, '=', (size_t)(end - s));
	if (eq == NULL)
		return peerlist_fail(err, err_len, "--peers item \"%.*s\" is not id=host:port", len,
		                     s);
	if (peerlist_number(s, eq, RAFTD_NODE_ID_MAX, &a->id) != 0)
		return peerlist_fail(err, err_len,
		                     "--peers item \"%.*s\": the id must be a number in 1..%u", len,
		                     s, RAFTD_NODE_ID_MAX);
	switch (peerlist_host_port(eq + 1, end, a)) {
	case 0:
		return 0;
	case 1:
		return peerlist_fail(err, err_len, "--peers item \"%.*s\" has no :port", len, s);
	case 2:
		return peerlist_fail(err, err_len, "--peers item \"%.*s\": bad host", len, s);
	default:
		return peerlist_fail(err, err_len,
		                     "--peers item \"%.*s\": the port must be a number in 1..65535",
		                     len, s);
	}
}

int raftd_peerlist_parse(const char *text, struct raftd_peer_list *out, char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	if (err_len > 0)
		err[0] = '\0';
	size_t text_len = strnlen(text, RAFTD_PEERS_TEXT_MAX + 1);
	if (text_len == 0)
		return peerlist_fail(err, err_len, "--peers is empty");
	if (text_len > RAFTD_PEERS_TEXT_MAX)
		return peerlist_fail(err, err_len, "--peers is longer than %u bytes",
		                     RAFTD_PEERS_TEXT_MAX);
	const char *s = text;
	const char *text_end = text + text_len;
	while (s <= text_end) {
		const char *end = memchr(s, ',', (size_t)(text_end - s));
		if (end == NULL)
			end = text_end;
		if (end == s)
			return peerlist_fail(err, err_len, "--peers has an empty item");
		if (out->n == RAFT_NODES_MAX)
			return peerlist_fail(err, err_len, "--peers names more than %u nodes",
			                     RAFT_NODES_MAX);
		struct raftd_peer_addr *a = &out->peers[out->n];
		int rc = peerlist_item(s, end, a, err, err_len);
		if (rc != 0)
			return rc;
		if (raftd_peerlist_find(out, a->id) != NULL)
			return peerlist_fail(err, err_len, "--peers names id %llu twice",
			                     (unsigned long long)a->id);
		out->n++;
		s = end + 1;
	}
	return 0;
}

const struct raftd_peer_addr *raftd_peerlist_find(const struct raftd_peer_list *l, uint64_t id)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (l->peers[i].id == id)
			return &l->peers[i];
	return NULL;
}

int raftd_peerlist_format(const struct raftd_peer_addr *a, char *out, size_t out_len)
{
	int n = snprintf(out, out_len, "%s:%u", a->host, (unsigned)a->port);
	return (n < 0 || (size_t)n >= out_len) ? KV_ETOOLARGE : 0;
}

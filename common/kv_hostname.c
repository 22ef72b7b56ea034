/*
 * kv_hostname.c - the node id from a StatefulSet pod's host name.
 * Runs once at start, on the main thread.
 */
#include "kv_hostname.h"

#include "kv_err.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HOSTNAME_ORDINAL_DIGITS_MAX 4u

static int hostname_fail(char *err, size_t err_len, const char *hostname, const char *why)
{
	if (err_len > 0)
		snprintf(err, err_len, "host name \"%.64s\" %s", hostname, why);
	return KV_EINVAL;
}

int kv_hostname_node_id(const char *hostname, uint64_t *node_id, char *err, size_t err_len)
{
	if (err_len > 0)
		err[0] = '\0';
	size_t len = strnlen(hostname, KV_HOSTNAME_BYTES_MAX + 1);
	if (len == 0)
		return hostname_fail(err, err_len, hostname, "is empty");
	if (len > KV_HOSTNAME_BYTES_MAX)
		return hostname_fail(err, err_len, hostname, "is longer than 253 bytes");
	const char *dot = memchr(hostname, '.', len);
	size_t label = dot ? (size_t)(dot - hostname) : len;
	size_t start = label;
	while (start > 0 && hostname[start - 1] >= '0' && hostname[start - 1] <= '9')
		start--;
	size_t digits = label - start;
	if (digits == 0)
		return hostname_fail(err, err_len, hostname,
		                     "does not end in a number (expected like raftkv-0)");
	if (start == 0)
		return hostname_fail(err, err_len, hostname,
		                     "is only a number (expected like raftkv-0)");
	if (digits > HOSTNAME_ORDINAL_DIGITS_MAX)
		return hostname_fail(err, err_len, hostname, "ends in a number over 9999");
	if (digits > 1 && hostname[start] == '0')
		return hostname_fail(err, err_len, hostname,
		                     "ends in a number with a leading zero");
	uint64_t ordinal = 0;
	for (size_t i = start; i < label; i++)
		ordinal = ordinal * 10 + (uint64_t)(hostname[i] - '0');
	*node_id = ordinal + 1;
	return 0;
}

int kv_hostname_resolve_node_id(int from_hostname, uint64_t *node_id, char *err, size_t err_len)
{
	char host[KV_HOSTNAME_BYTES_MAX + 2];
	uint64_t id = 0;
	if (err_len > 0)
		err[0] = '\0';
	if (!from_hostname) {
		if (*node_id != 0)
			return 0;
		if (err_len > 0)
			snprintf(err, err_len,
			         "--node-id (or RAFTKV_NODE_ID) is required unless "
			         "--node-id-from-hostname is set");
		return KV_EINVAL;
	}
	if (gethostname(host, sizeof(host)) != 0) {
		if (err_len > 0)
			snprintf(err, err_len, "gethostname failed: %s", strerror(errno));
		return KV_EINVAL;
	}
	host[sizeof(host) - 1] = '\0';
	int rc = kv_hostname_node_id(host, &id, err, err_len);
	if (rc != 0)
		return rc;
	if (*node_id != 0 && *node_id != id) {
		if (err_len > 0)
			snprintf(err, err_len,
			         "--node-id %" PRIu64
			         " disagrees with host name \"%.64s\" (node %" PRIu64
			         "); give one of them",
			         *node_id, host, id);
		return KV_EINVAL;
	}
	*node_id = id;
	return 0;
}

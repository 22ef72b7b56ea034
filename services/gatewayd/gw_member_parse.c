/*
 * gw_member_parse.c - the bodies of POST /v1/members and POST /raft/join
 * into a struct gw_member_add. Every member is checked (type, range,
 * syntax) and an unknown one is an error, so a typo ("peer_adress") is
 * caught rather than ignored; jansson refuses repeated members. Addresses
 * follow raftd's --peers rules (raftd_peerlist.c): a DNS name, IPv4 or a
 * bracketed IPv6, and a port 1..65535 without leading zeros. Pure code.
 */
#include "gw_member_parse.h"

#include "gw_body_check.h"

#include "kv_err.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char member_z85[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 ".-:+=^!/*?&<>()[]{}@%$#";

/* A DNS name or IPv4 address, or a bracketed IPv6 one. */
static int member_host_ok(const char *s, size_t len)
{
	if (len == 0 || len > KV_MEMBER_HOST_BYTES_MAX)
		return 0;
	if (s[0] == '[') {
		if (len < 4 || s[len - 1] != ']')
			return 0;
		for (size_t i = 1; i + 1 < len; i++)
			if (strchr("0123456789abcdefABCDEF:.", s[i]) == NULL || s[i] == '\0')
				return 0;
		return 1;
	}
	if (s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* Decimal 1..65535, no sign, no leading zero. */
static int member_port_ok(const char *s, size_t len)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535;
}

int gw_member_hostport_ok(const char *s, size_t len)
{
	const char *colon = NULL;

	for (size_t i = 0; i < len; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon == NULL)
		return 0;
	size_t host_len = (size_t)(colon - s);
	return member_host_ok(s, host_len) && member_port_ok(colon + 1, len - host_len - 1);
}

int gw_member_url_ok(const char *s, size_t len)
{
	size_t skip;

	if (len > KV_MEMBER_URL_BYTES_MAX)
		return 0;
	if (len > 7 && memcmp(s, "http://", 7) == 0)
		skip = 7;
	else if (len > 8 && memcmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	if (s[len - 1] == '/')
		len--;
	return len > skip && gw_member_hostport_ok(s + skip, len - skip);
}

/* A string member: a copy into out (cap bytes with its NUL), 1..max bytes (no NUL: jansson
 * refuses \u0000 without JSON_ALLOW_NUL). */
static int member_string(json_t *v, const char *param, size_t max, char *out, size_t cap,
                         struct gw_txn_err *err)
{
	if (!json_is_string(v))
		return gw_body_fail(err, KV_EINVAL, 0, param, "must be a string");
	size_t len = json_string_length(v);
	if (len == 0)
		return gw_body_fail(err, KV_EINVAL, 0, param, "must not be empty");
	if (len > max || len >= cap)
		return gw_body_fail(err, KV_EINVAL, max, param, "is over %zu bytes", max);
	memcpy(out, json_string_value(v), len);
	out[len] = '\0';
	return 0;
}

static int member_peer_address(json_t *v, const char *param, struct gw_member_add *out,
                               struct gw_txn_err *err)
{
	if (member_string(v, param, KV_MEMBER_HOST_BYTES_MAX + 6, out->peer_address,
	                  sizeof(out->peer_address), err) != 0)
		return -1;
	if (!gw_member_hostport_ok(out->peer_address, strlen(out->peer_address)))
		return gw_body_fail(
		    err, KV_EINVAL, 0, param,
		    "must be host:port (a DNS name, IPv4 or [IPv6]; port 1..65535)");
	return 0;
}

/* Every member of o is one of names (NULL-terminated). */
static json_t *member_load(const char *body, size_t len, struct gw_txn_err *err)
{
	json_error_t je;
	json_t *root;

	memset(err, 0, sizeof(*err));
	if (len > KV_MEMBER_BODY_BYTES_MAX) {
		gw_body_fail(err, KV_ETOOLARGE, KV_MEMBER_BODY_BYTES_MAX, "body",
		             "is over %u bytes", KV_MEMBER_BODY_BYTES_MAX);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		gw_body_fail(err, KV_EINVAL, 0, "body", "is not valid JSON: %.80s (at %d:%d)",
		             je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		gw_body_fail(err, KV_EINVAL, 0, "body", "must be a JSON object");
		return NULL;
	}
	return root;
}

static int member_id(json_t *v, struct gw_txn_err *err, uint64_t *id)
{
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > (json_int_t)KV_MEMBER_ID_MAX)
		return gw_body_fail(err, KV_EINVAL, KV_MEMBER_ID_MAX, "id",
		                    "must be an integer from 1 to %u", KV_MEMBER_ID_MAX);
	*id = (uint64_t)json_integer_value(v);
	return 0;
}

static int member_curve_key(json_t *v, struct gw_member_add *out, struct gw_txn_err *err)
{
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) != KV_MEMBER_CURVE_KEY_LEN ||
	    strspn(json_string_value(v), member_z85) != KV_MEMBER_CURVE_KEY_LEN)
		return gw_body_fail(err, KV_EINVAL, 0, "curve_key",
		                    "must be a Z85 CurveZMQ public key of %u characters",
		                    KV_MEMBER_CURVE_KEY_LEN);
	memcpy(out->curve_key, json_string_value(v), KV_MEMBER_CURVE_KEY_LEN + 1);
	return 0;
}

static int member_add_fields(json_t *root, struct gw_member_add *out, struct gw_txn_err *err)
{
	static const char *const names[] = {"id",        "peer_address", "url",
	                                    "curve_key", "promote",      NULL};
	json_t *v;

	if (gw_body_known_members(root, "body", names, err) != 0 ||
	    member_id(json_object_get(root, "id"), err, &out->id) != 0)
		return -1;
	if (member_peer_address(json_object_get(root, "peer_address"), "peer_address", out, err) !=
	    0)
		return -1;
	if (member_string(json_object_get(root, "url"), "url", KV_MEMBER_URL_BYTES_MAX, out->url,
	                  sizeof(out->url), err) != 0)
		return -1;
	if (!gw_member_url_ok(out->url, strlen(out->url)))
		return gw_body_fail(err, KV_EINVAL, 0, "url",
		                    "must be http://host:port or https://host:port");
	if (member_curve_key(json_object_get(root, "curve_key"), out, err) != 0)
		return -1;
	v = json_object_get(root, "promote");
	if (v != NULL && !json_is_boolean(v))
		return gw_body_fail(err, KV_EINVAL, 0, "promote", "must be true or false");
	out->promote = v != NULL && json_is_true(v);
	return 0;
}

int gw_member_parse_add(const char *body, size_t len, struct gw_member_add *out,
                        struct gw_txn_err *err)
{
	json_t *root = member_load(body, len, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	rc = member_add_fields(root, out, err);
	json_decref(root);
	return rc;
}

/* The trailing decimal number of a seed's node name ("node_2": 2), 1..KV_MEMBER_ID_MAX. */
static int member_join_id(json_t *v, struct gw_member_add *out, struct gw_txn_err *err)
{
	char *name = out->node_name;
	size_t len, at;
	uint64_t n = 0;

	if (member_string(v, "node_id", sizeof(out->node_name) - 1, name, sizeof(out->node_name),
	                  err) != 0)
		return -1;
	len = strlen(name);
	for (at = len; at > 0 && name[at - 1] >= '0' && name[at - 1] <= '9'; at--)
		;
	for (size_t i = at; i < len && len - at <= 5; i++)
		n = n * 10 + (uint64_t)(name[i] - '0');
	if (at == len || len - at > 5 || name[at] == '0' || n > KV_MEMBER_ID_MAX)
		return gw_body_fail(err, KV_EINVAL, KV_MEMBER_ID_MAX, "node_id",
		                    "must end in the node's number, 1 to %u (\"node_2\")",
		                    KV_MEMBER_ID_MAX);
	out->id = n;
	return 0;
}

int gw_member_parse_join(const char *body, size_t len, struct gw_member_add *out,
                         struct gw_txn_err *err)
{
	static const char *const names[] = {"node_id", "raft_address", NULL};
	json_t *root = member_load(body, len, err);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	if (gw_body_known_members(root, "body", names, err) == 0 &&
	    member_join_id(json_object_get(root, "node_id"), out, err) == 0 &&
	    member_peer_address(json_object_get(root, "raft_address"), "raft_address", out, err) ==
	        0) {
		out->promote = 1;
		rc = 0;
	}
	json_decref(root);
	return rc;
}

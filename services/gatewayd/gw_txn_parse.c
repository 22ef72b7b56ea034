/*
 * gw_txn_parse.c - POST /v1/txn's JSON into a struct proto_txn, and POST
 * /v1/leases' {"ttl_ms"}. Every member is checked: its type, the key and
 * value sizes, the counts of compares and ops, the op names; an unknown
 * member is an error rather than silently ignored, so a typo ("vaule") is
 * caught. jansson parses (with duplicate keys refused); strings are taken
 * with their length, so a value may hold any UTF-8, NUL included. Pure code.
 */
#include "gw_txn_parse.h"

#include "gw_body_check.h"

#include "kv_err.h"
#include "kv_limits.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* A string member: its bytes, within [min, max] (KV_ETOOLARGE past max). */
static int txn_string(json_t *v, const char *param, size_t min, size_t max, struct proto_bytes *out,
                      struct gw_txn_err *err)
{
	if (!json_is_string(v))
		return gw_body_fail(err, KV_EINVAL, 0, param, "must be a string");
	size_t len = json_string_length(v);
	if (len > max)
		return gw_body_fail(err, KV_ETOOLARGE, max, param, "is over %zu bytes", max);
	if (len < min)
		return gw_body_fail(err, KV_EINVAL, 0, param, "must not be empty");
	out->ptr = (const uint8_t *)json_string_value(v);
	out->len = (uint32_t)len;
	return 0;
}

/* A non-negative integer member, or a decimal string of one (ids beyond 2^53). */
static int txn_u64(json_t *v, const char *param, uint64_t *out, struct gw_txn_err *err)
{
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;
		unsigned long long n = strtoull(s, &end, 10);
		if (*s >= '0' && *s <= '9' && end != NULL && *end == '\0' &&
		    (size_t)(end - s) == json_string_length(v) && (size_t)(end - s) <= 20) {
			*out = (uint64_t)n;
			return 0;
		}
	}
	return gw_body_fail(err, KV_EINVAL, 0, param, "must be a non-negative integer");
}

/* Every member of o is one of names (NULL-terminated). */
static int txn_compare(json_t *o, const char *param, struct proto_txn_cmp *c,
                       struct gw_txn_err *err)
{
	static const char *const names[] = {"key", "mod_index", "exists", "value", NULL};
	char p[48];
	if (!json_is_object(o))
		return gw_body_fail(err, KV_EINVAL, 0, param, "must be an object");
	if (gw_body_known_members(o, param, names, err) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s.key", param);
	if (txn_string(json_object_get(o, "key"), p, 1, KV_KEY_BYTES_MAX, &c->key, err) != 0)
		return -1;
	json_t *mi = json_object_get(o, "mod_index"), *ex = json_object_get(o, "exists"),
	       *va = json_object_get(o, "value");
	if ((mi != NULL) + (ex != NULL) + (va != NULL) != 1)
		return gw_body_fail(err, KV_EINVAL, 0, param,
		                    "needs exactly one of mod_index, exists, value");
	if (mi != NULL) {
		c->target = PROTO_TXN_CMP_MOD_INDEX;
		snprintf(p, sizeof(p), "%s.mod_index", param);
		return txn_u64(mi, p, &c->mod_index, err);
	}
	if (ex != NULL) {
		if (!json_is_boolean(ex))
			return gw_body_fail(err, KV_EINVAL, 0, param,
			                    "exists must be true or false");
		c->target = PROTO_TXN_CMP_EXISTS;
		c->exists = (uint8_t)json_is_true(ex);
		return 0;
	}
	c->target = PROTO_TXN_CMP_VALUE;
	snprintf(p, sizeof(p), "%s.value", param);
	return txn_string(va, p, 0, KV_VALUE_BYTES_MAX_LIMIT, &c->value, err);
}

static const char *const txn_op_names[] = {"", "put", "delete", "get", "delete_prefix"};

static int txn_op_kind(json_t *v, const char *param, uint8_t *kind, struct gw_txn_err *err)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	for (uint8_t k = PROTO_TXN_PUT; s != NULL && k <= PROTO_TXN_DELETE_PREFIX; k++)
		if (strcmp(s, txn_op_names[k]) == 0) {
			*kind = k;
			return 0;
		}
	return gw_body_fail(err, KV_EINVAL, 0, param,
	                    "op must be one of put, delete, get, delete_prefix");
}

static int txn_op(json_t *o, const char *param, uint64_t value_max, struct proto_txn_op *op,
                  struct gw_txn_err *err)
{
	static const char *const put_names[] = {"op", "key", "value", "lease", NULL};
	static const char *const key_names[] = {"op", "key", NULL};
	static const char *const prefix_names[] = {"op", "prefix", NULL};
	char p[48];
	if (!json_is_object(o))
		return gw_body_fail(err, KV_EINVAL, 0, param, "must be an object");
	if (txn_op_kind(json_object_get(o, "op"), param, &op->kind, err) != 0)
		return -1;
	const char *const *names = op->kind == PROTO_TXN_PUT             ? put_names
	                           : op->kind == PROTO_TXN_DELETE_PREFIX ? prefix_names
	                                                                 : key_names;
	if (gw_body_known_members(o, param, names, err) != 0)
		return -1;
	if (op->kind == PROTO_TXN_DELETE_PREFIX) {
		snprintf(p, sizeof(p), "%s.prefix", param);
		return txn_string(json_object_get(o, "prefix"), p, 0, KV_KEY_BYTES_MAX, &op->key,
		                  err);
	}
	snprintf(p, sizeof(p), "%s.key", param);
	if (txn_string(json_object_get(o, "key"), p, 1, KV_KEY_BYTES_MAX, &op->key, err) != 0)
		return -1;
	if (op->kind != PROTO_TXN_PUT)
		return 0;
	snprintf(p, sizeof(p), "%s.value", param);
	if (txn_string(json_object_get(o, "value"), p, 0, value_max, &op->value, err) != 0)
		return -1;
	json_t *lease = json_object_get(o, "lease");
	snprintf(p, sizeof(p), "%s.lease", param);
	if (lease == NULL)
		return 0;
	if (txn_u64(lease, p, &op->lease, err) != 0)
		return -1;
	return op->lease != 0 ? 0
	                      : gw_body_fail(err, KV_EINVAL, 0, p, "must be a lease id (1 and up)");
}

/* An optional array member of at most max objects, each parsed by one(). */
static int txn_array(json_t *root, const char *name, uint32_t max, uint32_t *n,
                     int (*one)(json_t *, const char *, void *, uint32_t, void *), void *items,
                     void *ctx, struct gw_txn_err *err)
{
	json_t *a = json_object_get(root, name);
	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return gw_body_fail(err, KV_EINVAL, 0, name, "must be an array");
	if (json_array_size(a) > max)
		return gw_body_fail(err, KV_EINVAL, max, name, "has more than %u entries", max);
	for (size_t i = 0; i < json_array_size(a); i++) {
		char p[48];
		snprintf(p, sizeof(p), "%s[%zu]", name, i);
		if (one(json_array_get(a, i), p, items, (uint32_t)i, ctx) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}

struct txn_ctx {
	uint64_t value_max;
	struct gw_txn_err *err;
};

static int txn_one_cmp(json_t *v, const char *p, void *items, uint32_t i, void *ctx)
{
	struct txn_ctx *x = ctx;
	return txn_compare(v, p, &((struct proto_txn_cmp *)items)[i], x->err);
}

static int txn_one_op(json_t *v, const char *p, void *items, uint32_t i, void *ctx)
{
	struct txn_ctx *x = ctx;
	return txn_op(v, p, x->value_max, &((struct proto_txn_op *)items)[i], x->err);
}

static json_t *txn_load(const char *body, size_t len, struct gw_txn_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
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

int gw_txn_parse(const char *body, size_t len, uint64_t value_max, struct proto_txn *t,
                 struct proto_buf *out, struct gw_txn_err *err)
{
	static const char *const names[] = {"compare", "success", "failure", NULL};
	memset(err, 0, sizeof(*err));
	memset(t, 0, sizeof(*t));
	if (len > KV_TXN_BYTES_MAX)
		return gw_body_fail(err, KV_ETOOLARGE, KV_TXN_BYTES_MAX, "body", "is over %u bytes",
		                    KV_TXN_BYTES_MAX);
	json_t *root = txn_load(body, len, err);
	if (root == NULL)
		return -1;
	struct txn_ctx ctx = {value_max, err};
	int rc = gw_body_known_members(root, "body", names, err);
	if (rc == 0)
		rc = txn_array(root, "compare", KV_TXN_COMPARES_MAX, &t->n_cmp, txn_one_cmp, t->cmp,
		               &ctx, err);
	if (rc == 0)
		rc = txn_array(root, "success", KV_TXN_OPS_MAX, &t->n_success, txn_one_op,
		               t->success, &ctx, err);
	if (rc == 0)
		rc = txn_array(root, "failure", KV_TXN_OPS_MAX, &t->n_failure, txn_one_op,
		               t->failure, &ctx, err);
	if (rc == 0) {
		int e = proto_txn_encode(t, out);
		if (e != 0)
			rc = gw_body_fail(err, e, KV_TXN_BYTES_MAX, "body", "cannot be encoded: %s",
			                  kv_strerror(e));
	}
	json_decref(root);
	return rc;
}

int gw_txn_parse_lease(const char *body, size_t len, uint64_t *ttl_ms, struct gw_txn_err *err)
{
	static const char *const names[] = {"ttl_ms", NULL};
	memset(err, 0, sizeof(*err));
	if (len > 4096)
		return gw_body_fail(err, KV_ETOOLARGE, 4096, "body", "is over 4096 bytes");
	json_t *root = txn_load(body, len, err);
	if (root == NULL)
		return -1;
	int rc = gw_body_known_members(root, "body", names, err);
	json_t *v = json_object_get(root, "ttl_ms");
	if (rc == 0 && v == NULL)
		rc = gw_body_fail(err, KV_EINVAL, 0, "ttl_ms", "is required");
	if (rc == 0)
		rc = txn_u64(v, "ttl_ms", ttl_ms, err);
	if (rc == 0 && (*ttl_ms < KV_LEASE_TTL_MS_MIN || *ttl_ms > KV_LEASE_TTL_MS_MAX))
		rc = gw_body_fail(
		    err, KV_ERANGE,
		    *ttl_ms < KV_LEASE_TTL_MS_MIN ? KV_LEASE_TTL_MS_MIN : KV_LEASE_TTL_MS_MAX,
		    "ttl_ms", "must be within %u..%u", KV_LEASE_TTL_MS_MIN, KV_LEASE_TTL_MS_MAX);
	json_decref(root);
	return rc;
}

/*
 * sm_read.c - GET and LIST against the state machine, each in one read
 * transaction. LMDB's pointers live only until the transaction ends, so
 * values are copied into the caller's buffer before it does. Runs on
 * storaged's loop thread (or any thread owning its own struct sm).
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"

#include <stdlib.h>
#include <string.h>

/* Whole-message bound: a reply never needs more than one ZeroMQ message. */
#define SM_BUF_BYTES_MAX ((size_t)KV_MSG_BYTES_MAX)

void sm_buf_free(struct sm_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Appends n bytes; KV_ETOOLARGE past SM_BUF_BYTES_MAX. */
int sm_buf_append(struct sm_buf *b, const void *p, size_t n)
{
	if (n > SM_BUF_BYTES_MAX - b->len)
		return KV_ETOOLARGE;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->ptr, cap);
		if (q == NULL)
			return KV_ENOMEM;
		b->ptr = q;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	return 0;
}

int sm_read_get(struct sm *sm, const uint8_t *key, uint32_t key_len, struct sm_buf *value,
                uint64_t *create_index, uint64_t *mod_index, uint64_t *flags)
{
	KV_ASSERT(sm != NULL && value != NULL);
	*create_index = 0;
	*mod_index = 0;
	value->len = 0;
	if (key_len == 0 || key_len > KV_KEY_BYTES_MAX)
		return KV_EINVAL;
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	MDB_val k = {key_len, (void *)key};
	MDB_val d;
	int err = sm_err_from_mdb(mdb_get(txn, sm->dbi_kv, &k, &d));
	if (err == 0 && d.mv_size < SM_KV_HEADER_BYTES)
		err = KV_ECORRUPT;
	if (err == 0) {
		*create_index = sm_u64_get(d.mv_data);
		*mod_index = sm_u64_get((const uint8_t *)d.mv_data + 8);
		err = sm_buf_append(value, (const uint8_t *)d.mv_data + SM_KV_HEADER_BYTES,
		                    d.mv_size - SM_KV_HEADER_BYTES);
	}
	uint64_t f = 0;
	if (err == 0)
		err = sm_flags_get(sm, txn, key, key_len, &f);
	if (flags != NULL)
		*flags = f;
	mdb_txn_abort(txn);
	return err;
}

void sm_list_free(struct sm_list *l)
{
	sm_buf_free(&l->buf);
	free(l->items);
	l->items = NULL;
	l->n_items = 0;
}

static int sm_read_has_prefix(const MDB_val *k, const uint8_t *prefix, uint32_t prefix_len)
{
	return prefix_len == 0 ||
	       (k->mv_size >= prefix_len && memcmp(k->mv_data, prefix, prefix_len) == 0);
}

/* Positions cur on the first key > after and >= prefix. */
static int sm_read_seek(MDB_cursor *cur, const uint8_t *prefix, uint32_t prefix_len,
                        const uint8_t *after, uint32_t after_len, MDB_val *k, MDB_val *d)
{
	size_t common = after_len < prefix_len ? after_len : prefix_len;
	int c = common ? memcmp(after, prefix, common) : 0;
	int after_first = after_len > 0 && (c > 0 || (c == 0 && after_len >= prefix_len));
	if (!after_first) {
		k->mv_size = prefix_len;
		k->mv_data = (void *)prefix;
		if (prefix_len == 0)
			return mdb_cursor_get(cur, k, d, MDB_FIRST);
		return mdb_cursor_get(cur, k, d, MDB_SET_RANGE);
	}
	k->mv_size = after_len;
	k->mv_data = (void *)after;
	int rc = mdb_cursor_get(cur, k, d, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == after_len && memcmp(k->mv_data, after, after_len) == 0)
		rc = mdb_cursor_get(cur, k, d, MDB_NEXT);
	return rc;
}

/* Copies one cursor item into out; 1 when the page is complete before it. */
static int sm_read_take(struct sm *sm, MDB_txn *txn, struct sm_list *out, uint32_t limit,
                        size_t *value_bytes, const MDB_val *k, const MDB_val *d, int *err)
{
	size_t vlen = d->mv_size - SM_KV_HEADER_BYTES;
	if (out->n_items == limit ||
	    (out->n_items > 0 && *value_bytes + vlen > KV_LIST_BYTES_MAX)) {
		out->more = 1;
		return 1;
	}
	struct sm_item *it = &out->items[out->n_items];
	it->key_off = out->buf.len;
	it->key_len = (uint32_t)k->mv_size;
	if ((*err = sm_buf_append(&out->buf, k->mv_data, k->mv_size)) != 0)
		return 1;
	it->value_off = out->buf.len;
	it->value_len = (uint32_t)vlen;
	*err = sm_buf_append(&out->buf, (const uint8_t *)d->mv_data + SM_KV_HEADER_BYTES, vlen);
	if (*err != 0)
		return 1;
	it->create_index = sm_u64_get(d->mv_data);
	it->mod_index = sm_u64_get((const uint8_t *)d->mv_data + 8);
	if ((*err = sm_flags_get(sm, txn, k->mv_data, (uint32_t)k->mv_size, &it->flags)) != 0)
		return 1;
	*value_bytes += vlen;
	out->n_items++;
	return 0;
}

int sm_read_list(struct sm *sm, const uint8_t *prefix, uint32_t prefix_len, const uint8_t *after,
                 uint32_t after_len, uint32_t limit, struct sm_list *out)
{
	KV_ASSERT(sm != NULL && out != NULL);
	out->buf.len = 0;
	out->n_items = 0;
	out->more = 0;
	if (limit == 0 || limit > KV_LIST_LIMIT_MAX || prefix_len > KV_KEY_BYTES_MAX ||
	    after_len > KV_KEY_BYTES_MAX)
		return KV_EINVAL;
	if (out->items == NULL &&
	    (out->items = calloc(KV_LIST_LIMIT_MAX, sizeof(*out->items))) == NULL)
		return KV_ENOMEM;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	if ((rc = mdb_cursor_open(txn, sm->dbi_kv, &cur)) != 0)
		goto out_abort_txn;
	out->applied_index = sm->applied_index;
	size_t value_bytes = 0;
	int err = 0;
	MDB_val k, d;
	for (rc = sm_read_seek(cur, prefix, prefix_len, after, after_len, &k, &d);
	     rc == 0 && sm_read_has_prefix(&k, prefix, prefix_len);
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (d.mv_size < SM_KV_HEADER_BYTES) {
			err = KV_ECORRUPT;
			break;
		}
		if (sm_read_take(sm, txn, out, limit, &value_bytes, &k, &d, &err))
			break;
	}
	if (err == 0 && rc != 0 && rc != MDB_NOTFOUND)
		err = sm_err_from_mdb(rc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return err;

out_abort_txn:
	mdb_txn_abort(txn);
	return sm_err_from_mdb(rc);
}

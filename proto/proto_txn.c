/*
 * proto_txn.c - codecs of struct proto_txn (a PROTO_KV_TXN command's value,
 * stored in the WAL) and struct proto_txn_result (a RESULT's body).
 *
 * Layout (msgpack): a transaction is [[cmp...], [op...], [op...]] with
 * cmp = [target, key, mod_index, exists, value] and
 * op = [kind, key, value, lease]; a result is [succeeded, [res...]] with
 * res = [kind, status, create_index, mod_index, count, value]. Counts,
 * kinds and key lengths are checked both ways, so a transaction that reached
 * the log decodes the same on every node. Stateless; any thread.
 */
#include "proto_txn.h"

#include "kv_err.h"
#include "proto_reader.h"
#include "proto_writer.h"

#include <string.h>

static int txn_op_valid(const struct proto_txn_op *o)
{
	if (o->kind < PROTO_TXN_PUT || o->kind > PROTO_TXN_DELETE_PREFIX)
		return 0;
	if (o->key.len > KV_KEY_BYTES_MAX ||
	    (o->kind != PROTO_TXN_DELETE_PREFIX && o->key.len == 0))
		return 0;
	return o->kind == PROTO_TXN_PUT || (o->value.len == 0 && o->lease == 0);
}

static int txn_cmp_valid(const struct proto_txn_cmp *c)
{
	return c->target >= PROTO_TXN_CMP_MOD_INDEX && c->target <= PROTO_TXN_CMP_VALUE &&
	       c->key.len > 0 && c->key.len <= KV_KEY_BYTES_MAX && c->exists <= 1;
}

static void txn_write_ops(struct proto_writer *w, const struct proto_txn_op *ops, uint32_t n)
{
	proto_writer_array(w, n);
	for (uint32_t i = 0; i < n; i++) {
		if (!txn_op_valid(&ops[i]))
			proto_writer_fail(w, KV_EINVAL);
		proto_writer_array(w, 4);
		proto_writer_uint(w, ops[i].kind);
		proto_writer_bin(w, ops[i].key.ptr, ops[i].key.len);
		proto_writer_bin(w, ops[i].value.ptr, ops[i].value.len);
		proto_writer_uint(w, ops[i].lease);
	}
}

int proto_txn_encode(const struct proto_txn *t, struct proto_buf *out)
{
	struct proto_writer w;
	proto_writer_init(&w, out);
	if (t->n_cmp > KV_TXN_COMPARES_MAX || t->n_success > KV_TXN_OPS_MAX ||
	    t->n_failure > KV_TXN_OPS_MAX)
		proto_writer_fail(&w, KV_EINVAL);
	proto_writer_array(&w, 3);
	proto_writer_array(&w, t->n_cmp <= KV_TXN_COMPARES_MAX ? t->n_cmp : 0);
	for (uint32_t i = 0; i < t->n_cmp && i < KV_TXN_COMPARES_MAX; i++) {
		const struct proto_txn_cmp *c = &t->cmp[i];
		if (!txn_cmp_valid(c))
			proto_writer_fail(&w, KV_EINVAL);
		proto_writer_array(&w, 5);
		proto_writer_uint(&w, c->target);
		proto_writer_bin(&w, c->key.ptr, c->key.len);
		proto_writer_uint(&w, c->mod_index);
		proto_writer_uint(&w, c->exists);
		proto_writer_bin(&w, c->value.ptr, c->value.len);
	}
	txn_write_ops(&w, t->success, t->n_success <= KV_TXN_OPS_MAX ? t->n_success : 0);
	txn_write_ops(&w, t->failure, t->n_failure <= KV_TXN_OPS_MAX ? t->n_failure : 0);
	return proto_writer_finish(&w);
}

/* Reads a uint no larger than max. */
static int txn_read_small(struct proto_reader *r, uint64_t max, uint64_t *v)
{
	if (proto_reader_uint(r, v) != 0 || *v > max)
		return KV_EPROTO;
	return 0;
}

/* Enters an array of exactly n elements. */
static int txn_enter_n(struct proto_reader *r, uint32_t n)
{
	uint32_t got = 0;
	if (proto_reader_enter(r, &got) != 0 || got != n)
		return KV_EPROTO;
	return 0;
}

static int txn_read_cmp(struct proto_reader *r, struct proto_txn_cmp *c)
{
	uint64_t target = 0, exists = 0;
	if (txn_enter_n(r, 5) != 0 || txn_read_small(r, UINT8_MAX, &target) != 0 ||
	    proto_reader_bin(r, &c->key) != 0 || proto_reader_uint(r, &c->mod_index) != 0 ||
	    txn_read_small(r, 1, &exists) != 0 || proto_reader_bin(r, &c->value) != 0)
		return KV_EPROTO;
	proto_reader_leave(r);
	c->target = (uint8_t)target;
	c->exists = (uint8_t)exists;
	return txn_cmp_valid(c) ? 0 : KV_EPROTO;
}

static int txn_read_ops(struct proto_reader *r, struct proto_txn_op *ops, uint32_t *n)
{
	if (proto_reader_enter(r, n) != 0 || *n > KV_TXN_OPS_MAX)
		return KV_EPROTO;
	for (uint32_t i = 0; i < *n; i++) {
		struct proto_txn_op *o = &ops[i];
		uint64_t kind = 0;
		if (txn_enter_n(r, 4) != 0 || txn_read_small(r, UINT8_MAX, &kind) != 0 ||
		    proto_reader_bin(r, &o->key) != 0 || proto_reader_bin(r, &o->value) != 0 ||
		    proto_reader_uint(r, &o->lease) != 0)
			return KV_EPROTO;
		proto_reader_leave(r);
		o->kind = (uint8_t)kind;
		if (!txn_op_valid(o))
			return KV_EPROTO;
	}
	proto_reader_leave(r);
	return 0;
}

int proto_txn_decode(const uint8_t *buf, size_t len, struct proto_txn *out)
{
	struct proto_reader r;
	proto_reader_init(&r, buf, len);
	memset(out, 0, sizeof(*out));
	if (txn_enter_n(&r, 3) != 0 || proto_reader_enter(&r, &out->n_cmp) != 0 ||
	    out->n_cmp > KV_TXN_COMPARES_MAX)
		return KV_EPROTO;
	for (uint32_t i = 0; i < out->n_cmp; i++)
		if (txn_read_cmp(&r, &out->cmp[i]) != 0)
			return KV_EPROTO;
	proto_reader_leave(&r);
	if (txn_read_ops(&r, out->success, &out->n_success) != 0 ||
	    txn_read_ops(&r, out->failure, &out->n_failure) != 0)
		return KV_EPROTO;
	proto_reader_leave(&r);
	return proto_reader_end(&r) == 0 ? 0 : KV_EPROTO;
}

int proto_txn_result_encode(const struct proto_txn_result *t, struct proto_buf *out)
{
	struct proto_writer w;
	proto_writer_init(&w, out);
	uint32_t n = t->n_results <= KV_TXN_OPS_MAX ? t->n_results : 0;
	if (n != t->n_results)
		proto_writer_fail(&w, KV_EINVAL);
	proto_writer_array(&w, 2);
	proto_writer_uint(&w, t->succeeded);
	proto_writer_array(&w, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct proto_txn_op_result *o = &t->results[i];
		proto_writer_array(&w, 6);
		proto_writer_uint(&w, o->kind);
		proto_writer_int(&w, o->status);
		proto_writer_uint(&w, o->create_index);
		proto_writer_uint(&w, o->mod_index);
		proto_writer_uint(&w, o->count);
		proto_writer_bin(&w, o->value.ptr, o->value.len);
	}
	return proto_writer_finish(&w);
}

static int txn_read_result(struct proto_reader *r, struct proto_txn_op_result *o)
{
	uint64_t kind = 0;
	int64_t status = 0;
	if (txn_enter_n(r, 6) != 0 || txn_read_small(r, PROTO_TXN_DELETE_PREFIX, &kind) != 0 ||
	    proto_reader_int(r, &status) != 0 || status > 0 || status < INT32_MIN ||
	    proto_reader_uint(r, &o->create_index) != 0 ||
	    proto_reader_uint(r, &o->mod_index) != 0 || proto_reader_uint(r, &o->count) != 0 ||
	    proto_reader_bin(r, &o->value) != 0)
		return KV_EPROTO;
	proto_reader_leave(r);
	o->kind = (uint8_t)kind;
	o->status = (int32_t)status;
	return 0;
}

int proto_txn_result_decode(const uint8_t *buf, size_t len, struct proto_txn_result *out)
{
	struct proto_reader r;
	proto_reader_init(&r, buf, len);
	memset(out, 0, sizeof(*out));
	uint64_t succeeded = 0;
	if (txn_enter_n(&r, 2) != 0 || txn_read_small(&r, 1, &succeeded) != 0 ||
	    proto_reader_enter(&r, &out->n_results) != 0 || out->n_results > KV_TXN_OPS_MAX)
		return KV_EPROTO;
	out->succeeded = (uint8_t)succeeded;
	for (uint32_t i = 0; i < out->n_results; i++)
		if (txn_read_result(&r, &out->results[i]) != 0)
			return KV_EPROTO;
	proto_reader_leave(&r);
	proto_reader_leave(&r);
	return proto_reader_end(&r) == 0 ? 0 : KV_EPROTO;
}

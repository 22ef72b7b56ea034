/*
 * sm_event_read.c - reads the watch history (sm_event.c) for one key or a
 * prefix, from an index on, in one read transaction, copying what it takes
 * out of the map before the transaction ends. Loop thread.
 */
#include "sm.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <stdlib.h>
#include <string.h>

void sm_events_free(struct sm_events *e)
{
	if (e == NULL)
		return;
	sm_buf_free(&e->buf);
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

/* One stored event, decoded in place (pointers into the map). */
struct sm_event_view {
	uint64_t index;
	uint8_t type;
	uint64_t create_index;
	const uint8_t *key;
	uint32_t key_len;
	const uint8_t *value;
	uint32_t value_len;
};

static int sm_event_view(const MDB_val *k, const MDB_val *d, struct sm_event_view *v)
{
	if (k->mv_size != SM_EVENT_KEY_BYTES || d->mv_size < SM_EVENT_HEADER_BYTES)
		return KV_ECORRUPT;
	const uint8_t *p = d->mv_data;
	v->index = sm_u64_get(k->mv_data);
	v->type = p[0];
	v->create_index = sm_u64_get(p + 1);
	v->key_len = (uint32_t)p[9] << 8 | p[10];
	if (SM_EVENT_HEADER_BYTES + (size_t)v->key_len > d->mv_size)
		return KV_ECORRUPT;
	v->key = p + SM_EVENT_HEADER_BYTES;
	v->value = v->key + v->key_len;
	v->value_len = (uint32_t)(d->mv_size - SM_EVENT_HEADER_BYTES - v->key_len);
	return 0;
}

static int sm_event_matches(const struct sm_event_view *v, const uint8_t *match, uint32_t match_len,
                            int prefix)
{
	if (prefix)
		return v->key_len >= match_len && memcmp(v->key, match, match_len) == 0;
	return v->key_len == match_len && memcmp(v->key, match, match_len) == 0;
}

/* Copies v into out; KV_ENOMEM, or KV_ETOOLARGE past one entry's group. */
static int sm_event_take(struct sm_events *out, const struct sm_event_view *v)
{
	if (out->n == out->cap) {
		uint32_t cap = out->cap ? out->cap * 2 : 64;
		if (cap > SM_EVENTS_READ_MAX + SM_EVENT_GROUP_MAX)
			cap = SM_EVENTS_READ_MAX + SM_EVENT_GROUP_MAX;
		if (cap == out->cap)
			return KV_ETOOLARGE;
		struct sm_event *ev = realloc(out->ev, cap * sizeof(*ev));
		if (ev == NULL)
			return KV_ENOMEM;
		out->ev = ev;
		out->cap = cap;
	}
	struct sm_event *e = &out->ev[out->n];
	e->key_off = out->buf.len;
	e->key_len = v->key_len;
	int err = sm_buf_append(&out->buf, v->key, v->key_len);
	e->value_off = out->buf.len;
	e->value_len = v->value_len;
	if (err == 0 && v->value_len > 0)
		err = sm_buf_append(&out->buf, v->value, v->value_len);
	if (err != 0)
		return err;
	e->type = v->type;
	e->create_index = v->create_index;
	e->mod_index = v->index;
	out->n++;
	return 0;
}

struct sm_event_scan {
	const uint8_t *match;
	uint32_t match_len;
	int prefix;
	uint32_t max_events;
	int stop;            /* a bound was reached: finish this index's group, then stop */
	uint64_t last_index; /* of the group being walked */
	uint64_t scanned;
	size_t bytes;
};

/*
 * Walks the events from the cursor's position, stopping only between two
 * entries' groups. Sets out->next_index when a bound stops it; leaves it 0
 * when the history ran out.
 */
static int sm_event_walk(MDB_cursor *cur, MDB_val *k, MDB_val *d, int rc, struct sm_event_scan *s,
                         struct sm_events *out)
{
	for (; rc == 0; rc = mdb_cursor_get(cur, k, d, MDB_NEXT)) {
		struct sm_event_view v;
		int err = sm_event_view(k, d, &v);
		if (err != 0)
			return err;
		if (v.index != s->last_index) {
			if (s->stop || s->scanned >= SM_EVENTS_SCAN_MAX) {
				out->next_index = v.index;
				return 0;
			}
			s->last_index = v.index;
		}
		s->scanned++;
		if (!sm_event_matches(&v, s->match, s->match_len, s->prefix))
			continue;
		if ((err = sm_event_take(out, &v)) != 0)
			return err;
		s->bytes += v.key_len + v.value_len;
		if (out->n >= s->max_events || s->bytes >= SM_EVENTS_BYTES_MAX)
			s->stop = 1;
	}
	return rc == MDB_NOTFOUND ? 0 : sm_err_from_mdb(rc);
}

int sm_event_read(struct sm *sm, const uint8_t *match, uint32_t match_len, int prefix,
                  uint64_t from_index, uint32_t max_events, struct sm_events *out)
{
	KV_ASSERT(sm != NULL && out != NULL && (match != NULL || match_len == 0));
	out->n = 0;
	out->buf.len = 0;
	out->next_index = 0;
	if (max_events == 0 || max_events > SM_EVENTS_READ_MAX || (!prefix && match_len == 0))
		return KV_EINVAL;
	if (from_index == 0)
		from_index = 1;
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(sm->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return sm_err_from_mdb(rc);
	uint64_t term = 0, trimmed = 0;
	int err = sm_meta_read_applied(sm, txn, &out->applied_index, &term);
	if (err == 0)
		err = sm_meta_get_u64(sm, txn, "events_trimmed", &trimmed);
	out->oldest_index = trimmed + 1;
	if (err == 0 && from_index <= trimmed)
		err = KV_ECOMPACTED;
	MDB_cursor *cur = NULL;
	if (err == 0 && (rc = mdb_cursor_open(txn, sm->dbi_events, &cur)) != 0)
		err = sm_err_from_mdb(rc);
	if (err == 0) {
		uint8_t kb[SM_EVENT_KEY_BYTES] = {0};
		sm_u64_put(kb, from_index);
		MDB_val k = {sizeof(kb), kb};
		MDB_val d;
		struct sm_event_scan s = {.match = match,
		                          .match_len = match_len,
		                          .prefix = prefix,
		                          .max_events = max_events};
		err =
		    sm_event_walk(cur, &k, &d, mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE), &s, out);
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	if (err == 0 && out->next_index == 0)
		out->next_index =
		    out->applied_index + 1 > from_index ? out->applied_index + 1 : from_index;
	return err;
}

/*
 * gw_watch.c - GET /v1/watch?key=K|prefix=P[&from_index=N][&wait=D]: the
 * changes of a key or a prefix, from the node's watch history, as an HTTP/1.1
 * chunked NDJSON stream (one change per line, a progress line every
 * GW_WATCH_PROGRESS_MS when idle), or with wait= as one long-poll answer (a
 * JSON array, as soon as there is a change, [] when wait runs out).
 *
 * A watcher is a struct gw_watcher in its request's pool and one pending
 * call (gw_pending.h) that runs gw_watch_query again and again. Lines wait
 * in a buffer while h2o sends the previous ones; a client that lets it grow
 * past GW_WATCH_BUFFER_BYTES gets a last line {"type":"error","code":
 * "slow_watcher","index":N} (N: the from_index to resume with) and the end
 * of the stream. A watcher's memory is at most two buffers of the bound
 * plus one batch's JSON (storaged sends about 4 MiB of keys and values at a
 * time, or one larger change). At most --max-watchers are open at once
 * (429 past it).
 * Loop thread only.
 */
#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "gw_watch.h"

#include "kv_clock.h"
#include "kv_err.h"

#include <string.h>

/* Watchers open on this gateway: one gatewayd per process, on one thread. */
static uint64_t gw_watchers_open;

struct gw_watcher {
	struct gw_watch_run run; /* first: the call's ctx points here */
	struct gw *gw;
	struct gw_call *call; /* NULL once ended */
	h2o_req_t *req;       /* NULL once the client is gone */
	h2o_generator_t gen;
	struct gw_json pend; /* lines not handed to h2o yet */
	struct gw_json out;  /* lines h2o is sending; kept until proceed */
	uint8_t stream;      /* 0: long poll (wait=) */
	uint8_t base64;
	uint8_t head_sent;
	uint8_t sending;
	uint8_t final;        /* no line follows what pend holds */
	uint8_t final_sent;   /* h2o has the last part */
	uint64_t deadline_ms; /* long poll: answer [] then */
};

uint64_t gw_watch_open(void)
{
	return gw_watchers_open;
}

static void watcher_dispose(void *p)
{
	struct gw_watcher *w = p;
	gw_json_free(&w->pend);
	gw_json_free(&w->out);
	gw_watchers_open--;
}

static void watcher_end_call(struct gw_watcher *w)
{
	if (w->call != NULL)
		gw_pending_end(w->gw, w->call);
	w->call = NULL;
}

/* Hands pend to h2o when nothing is in flight. */
static void watcher_flush(struct gw_watcher *w)
{
	if (w->req == NULL || w->sending || w->final_sent || (w->pend.len == 0 && !w->final))
		return;
	struct gw_json t = w->out;
	w->out = w->pend;
	w->pend = t;
	w->pend.len = 0;
	w->pend.need_comma = 0;
	w->sending = 1;
	w->final_sent = w->final;
	h2o_iovec_t iov = h2o_iovec_init(w->out.buf, w->out.len);
	h2o_send(w->req, &iov, w->out.len > 0 ? 1 : 0,
	         w->final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void watcher_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
	struct gw_watcher *w = H2O_STRUCT_FROM_MEMBER(struct gw_watcher, gen, gen);
	w->sending = 0;
	w->out.len = 0;
	watcher_flush(w);
}

static void watcher_stop(h2o_generator_t *gen, h2o_req_t *req)
{
	struct gw_watcher *w = H2O_STRUCT_FROM_MEMBER(struct gw_watcher, gen, gen);
	w->req = NULL; /* the client went: the call ends at its next answer */
}

/* An error before any line: the usual JSON error answer. */
static void watcher_fail(struct gw *gw, struct gw_call *c, const struct gw_watch_batch *b)
{
	struct gw_error_extra ex = {0};
	const char *msg = NULL;
	if (b->status == KV_ECOMPACTED) {
		ex.oldest_index = b->oldest_index;
		msg = "from_index is older than the watch history: resume from oldest_index, "
		      "after reading the current state";
	} else if (b->status == KV_ETIMEDOUT) {
		msg = "storaged did not answer in time";
	}
	if (b->status == KV_ENOLEADER)
		gw_reply_no_leader(gw, &c->http, KV_ENOLEADER);
	else
		gw_reply_kv_error(gw, &c->http, b->status, msg, &ex);
}

/* Long poll: the changes as a JSON array; X-Raft-Index: the last index they cover. */
static void watcher_answer_poll(struct gw_watcher *w, struct gw_call *c,
                                const struct gw_watch_batch *b)
{
	struct gw_json j;
	gw_json_init(&j, GW_WATCH_JSON_MAX);
	gw_json_open(&j, '[');
	for (uint32_t i = 0; i < b->n_items; i++)
		gw_watch_format_event(&j, &b->items[i], w->base64);
	gw_json_close(&j, ']');
	gw_json_raw(&j, "\n", 1);
	if (j.overflow)
		gw_reply_kv_error(w->gw, &c->http, KV_ETOOLARGE,
		                  "the changes are too large to encode", NULL);
	else
		gw_reply_send(w->gw, &c->http, 200, "application/json", j.buf, j.len,
		              b->next_index > 1 ? b->next_index - 1 : 0);
	gw_json_free(&j);
}

static void watcher_on_poll(struct gw_watcher *w, struct gw_call *c, const struct gw_watch_batch *b)
{
	uint64_t now = kv_clock_mono_ms();
	if (b->status != 0) {
		watcher_fail(w->gw, c, b);
	} else if (b->n_items > 0 || now >= w->deadline_ms) {
		watcher_answer_poll(w, c, b);
	} else {
		w->run.from_index = b->next_index;
		w->run.wait_ms = w->deadline_ms - now;
		gw_watch_query(w->gw, c, &w->run);
		return;
	}
	watcher_end_call(w);
}

/* The first answer of a stream: its head, and a progress line if it has no change. */
static int watcher_start_stream(struct gw_watcher *w, struct gw_call *c,
                                const struct gw_watch_batch *b)
{
	if (b->status != 0) {
		watcher_fail(w->gw, c, b);
		watcher_end_call(w);
		return -1;
	}
	gw_reply_stream_head(w->gw, &c->http, 200, "application/x-ndjson", b->applied_index);
	w->gen.proceed = watcher_proceed;
	w->gen.stop = watcher_stop;
	h2o_start_response(w->req, &w->gen);
	w->head_sent = 1;
	return 0;
}

/* Adds b's lines to pend, or the line that ends the stream. */
static void watcher_take(struct gw_watcher *w, const struct gw_watch_batch *b)
{
	if (b->status != 0) {
		gw_watch_format_error(&w->pend, kv_err_code(b->status),
		                      b->status == KV_ECOMPACTED ? b->oldest_index
		                                                 : w->run.from_index);
		w->final = 1;
		return;
	}
	struct gw_json j;
	gw_json_init(&j, GW_WATCH_JSON_MAX);
	for (uint32_t i = 0; i < b->n_items; i++) {
		gw_watch_format_event(&j, &b->items[i], w->base64);
		gw_watch_format_eol(&j);
	}
	if (b->n_items == 0)
		gw_watch_format_progress(&j, b->next_index - 1);
	if (j.overflow || (w->sending && w->pend.len + j.len > GW_WATCH_BUFFER_BYTES)) {
		/* the client does not keep up: say where to resume, and end */
		gw_watch_format_error(&w->pend, "slow_watcher", w->run.from_index);
		w->final = 1;
	} else {
		gw_json_raw(&w->pend, j.buf, j.len);
		w->run.from_index = b->next_index;
	}
	gw_json_free(&j);
}

static void watcher_on_stream(struct gw_watcher *w, struct gw_call *c,
                              const struct gw_watch_batch *b)
{
	if (!w->head_sent && watcher_start_stream(w, c, b) != 0)
		return;
	watcher_take(w, b);
	watcher_flush(w);
	if (w->final) {
		watcher_end_call(w);
		return;
	}
	w->run.wait_ms = GW_WATCH_PROGRESS_MS;
	w->run.at_once = 0;
	gw_watch_query(w->gw, c, &w->run);
}

static void watcher_on_batch(struct gw *gw, struct gw_call *c, struct gw_watch_run *run,
                             const struct gw_watch_batch *b)
{
	struct gw_watcher *w = (struct gw_watcher *)run;
	if (w->req == NULL) {
		watcher_end_call(w); /* the client went away */
		return;
	}
	if (w->stream)
		watcher_on_stream(w, c, b);
	else
		watcher_on_poll(w, c, b);
}

/* 400 for a bad parameter: which, why and the bound. */
static void watch_bad(struct gw_req *r, int err, const char *what, const char *why, uint64_t limit)
{
	struct gw_error_extra ex = {0};
	ex.param = what;
	ex.limit = limit;
	ex.has_limit = limit != 0;
	gw_reply_error(r->gw, &r->http, 400, kv_err_code(err), why, &ex);
}

void gw_watch_handle(struct gw_req *r)
{
	h2o_req_t *req = r->http.req;
	size_t qa = req->query_at;
	struct gw_watch_args a;
	const char *what, *why;
	uint64_t limit;
	int err =
	    gw_watch_parse(qa == SIZE_MAX ? "" : req->path.base + qa + 1,
	                   qa == SIZE_MAX ? 0 : req->path.len - qa - 1, &a, &what, &why, &limit);
	if (err != 0) {
		watch_bad(r, err, what, why, limit);
		return;
	}
	if (r->http.method == GW_M_HEAD) {
		/* a HEAD stream would send nothing, so its client's leaving would go unseen */
		gw_reply_send(r->gw, &r->http, 200,
		              a.has_wait ? "application/json" : "application/x-ndjson", "", 0, 0);
		return;
	}
	if (gw_watchers_open >= r->cfg->max_watchers) {
		struct gw_error_extra ex = {.limit = r->cfg->max_watchers, .has_limit = 1};
		gw_reply_error(r->gw, &r->http, 429, "too_many_watchers",
		               "this gateway has as many watchers as --max-watchers allows", &ex);
		return;
	}
	struct gw_call *c = gw_pending_start(r, &gw_watch_query_ops, r->query.timeout_ms);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	struct gw_watcher *w = h2o_mem_alloc_shared(&req->pool, sizeof(*w), watcher_dispose);
	memset(w, 0, sizeof(*w));
	gw_watchers_open++;
	w->gw = r->gw;
	w->call = c;
	w->req = req;
	w->stream = !a.has_wait;
	w->base64 = a.base64;
	w->deadline_ms = kv_clock_mono_ms() + a.wait_ms;
	/* pend holds up to the bound, then one more batch (at least one change must fit) */
	gw_json_init(&w->pend, GW_WATCH_BUFFER_BYTES + GW_WATCH_JSON_MAX);
	gw_json_init(&w->out, GW_WATCH_JSON_MAX);
	w->run = (struct gw_watch_run){.match = a.match,
	                               .prefix = a.prefix,
	                               .from_index = a.from_index,
	                               .limit = GW_WATCH_BATCH_EVENTS,
	                               .wait_ms = w->stream ? GW_WATCH_START_MS : a.wait_ms,
	                               .at_once = w->stream,
	                               .done = watcher_on_batch};
	gw_watch_query(r->gw, c, &w->run);
}

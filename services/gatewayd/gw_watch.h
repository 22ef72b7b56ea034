/*
 * gw_watch.h - watches in gatewayd: the reusable query of a node's watch
 * history (gw_watch_query.c), the parameters of GET /v1/watch
 * (gw_watch_parse.c) and the JSON of changes (gw_watch_format.c). The HTTP
 * handler is gw_watch.c; a blocking query of another API can be built on
 * gw_watch_query the same way. Loop thread, except parse and format (pure).
 */
#ifndef RAFTKV_GW_WATCH_H
#define RAFTKV_GW_WATCH_H

#include "gw_json.h"
#include "gw_parse.h"
#include "gw_pending.h"
#include "proto.h"

#include <stdint.h>

#define GW_WATCH_PROGRESS_MS  5000u   /* an idle stream gets a progress line this often */
#define GW_WATCH_WAIT_MS_MAX  600000u /* ?wait= at most (10 min) */
#define GW_WATCH_POLL_MS_MAX  60000u  /* one WATCH to storaged waits at most this long */
#define GW_WATCH_SLACK_MS     2000u   /* storaged answers a WATCH this long after its wait */
#define GW_WATCH_START_MS     5000u   /* a stream's first answer: the read index applied by then */
#define GW_WATCH_BUFFER_BYTES (8u << 20) /* a stream's unsent lines past this: slow_watcher */
#define GW_WATCH_BATCH_EVENTS PROTO_WATCH_LIMIT_MAX
#define GW_WATCH_JSON_MAX     ((size_t)6 * ((4u << 20) + (size_t)KV_VALUE_BYTES_MAX_LIMIT) + (8u << 20))

/* ---- gw_watch.c: the HTTP handler ---- */

/* Watches open on this gateway now (the raftkv_watchers gauge). */
uint64_t gw_watch_open(void);

/* ---- gw_watch_parse.c ---- */

/* The parameters of GET /v1/watch. */
struct gw_watch_args {
	struct gw_key match; /* key=, or prefix= (may be empty: every key) */
	uint8_t prefix;      /* 1: match is a prefix */
	uint64_t from_index; /* 0: the next change after the read index */
	uint8_t has_wait;    /* wait= given: one long-poll answer, not a stream */
	uint64_t wait_ms;    /* 1..GW_WATCH_WAIT_MS_MAX */
	uint8_t base64;      /* encoding=base64 */
};

/*
 * Parses the query string qs (after '?'). Exactly one of key (non-empty) and
 * prefix; from_index a decimal (0 reads as 1); wait in ms, or with an "ms",
 * "s" or "m" suffix; encoding base64|utf8. Other parameters (timeout, ...)
 * are left to the router. Returns 0, KV_EINVAL or KV_ERANGE with the
 * parameter in *what, why in *why (static strings) and the bound in *limit
 * (0: none).
 */
int gw_watch_parse(const char *qs, size_t len, struct gw_watch_args *out, const char **what,
                   const char **why, uint64_t *limit);

/* ---- gw_watch_format.c ---- */

/*
 * One change as a JSON object: {"type":"put","key","value","create_index",
 * "mod_index"} or {"type":"delete","key","mod_index"} (an item whose
 * create_index is 0 is a delete, see WATCH_RESP). Key and value are base64
 * with "encoding":"base64" when either is not UTF-8, or force_b64.
 */
void gw_watch_format_event(struct gw_json *j, const struct proto_item *it, int force_b64);
/* NDJSON lines: {"type":"progress","index":N}, {"type":"error","code":C,"index":N}. */
void gw_watch_format_progress(struct gw_json *j, uint64_t index);
void gw_watch_format_error(struct gw_json *j, const char *code, uint64_t index);
/* Ends an NDJSON line: the next object starts without a comma. */
void gw_watch_format_eol(struct gw_json *j);

/* ---- gw_watch_query.c: one read of the watch history, through storaged ---- */

/* What one query found; items point into the reply and live only during the callback. */
struct gw_watch_batch {
	int status; /* 0, KV_ECOMPACTED (oldest_index), KV_ETIMEDOUT, KV_ENOLEADER, ... */
	const struct proto_item *items; /* in index order; create_index 0: a delete */
	uint32_t n_items;
	uint64_t next_index;    /* every change below it has been answered: the next from_index */
	uint64_t oldest_index;  /* the oldest from_index the history holds */
	uint64_t applied_index; /* this node's */
};

struct gw_watch_run;
typedef void (*gw_watch_done_fn)(struct gw *gw, struct gw_call *c, struct gw_watch_run *run,
                                 const struct gw_watch_batch *b);

/* One watcher's query state; the caller's, borrowed by the call until done is called. */
struct gw_watch_run {
	struct gw_key match;
	uint8_t prefix;      /* 1: match is a prefix */
	uint64_t from_index; /* 0 on the first query: the read index + 1 */
	uint32_t limit;      /* 1..PROTO_WATCH_LIMIT_MAX changes (plus the rest of one entry's) */
	uint64_t wait_ms;    /* how long storaged waits for a change (0: answer at once) */
	uint8_t at_once;     /* answer once the read index is applied, change or not */
	gw_watch_done_fn done;
	uint8_t anchored; /* the first query's read index is behind from_index */
};

/* The ops of a call that runs watch queries: gw_pending_start(r, &gw_watch_query_ops, ...). */
extern const struct gw_call_ops gw_watch_query_ops;

/*
 * Runs one query on c (started with gw_watch_query_ops): the changes of
 * run->match from run->from_index on, answered as soon as there is one or
 * when run->wait_ms runs out with none; calls run->done once, from the loop.
 * The first query of a run (anchored 0) first waits for a read index, as a
 * linearizable read does (on a follower too), and starts after it when
 * from_index is 0; so a watcher never misses a change that a read after its
 * start would see. Before done, c is idle: the caller ends it
 * (gw_pending_end) or runs the next query, from b->next_index.
 */
void gw_watch_query(struct gw *gw, struct gw_call *c, struct gw_watch_run *run);

#endif

/*
 * gw_read.h - the read path shared by GET and LIST (gw_read.c): a
 * linearizable read asks raftd for a read index, then storaged for the
 * answer at that index; a stale one asks storaged at once. The handler owns
 * the query (c->send_query) and its answer (its on_msg). Loop thread only.
 */
#ifndef RAFTKV_GW_READ_H
#define RAFTKV_GW_READ_H

#include "gw_pending.h"

/* Sets up the batching of READ_INDEX (gw_read_batch.h); once, before the loop runs. */
void gw_read_batch_setup(struct gw *gw);
/* Hands a batch's READ_INDEX_RESP to its reads: 1 when m was one, else 0. */
int gw_read_on_batch_resp(struct gw *gw, const struct proto_local *m);
/* Starts c (c->send_query set): READ_INDEX then the query (linearizable), or the query (stale). */
void gw_read_start(struct gw *gw, struct gw_call *c);
/* Handles READ_INDEX_RESP for c; 1 when m was one, 0 when the caller should look at m. */
int gw_read_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *m);
/* Answers a failed query reply (status != 0 other than not-found) and ends c. */
void gw_read_fail(struct gw *gw, struct gw_call *c, int err);
/* The on_retry and on_deadline of every read. */
void gw_read_on_retry(struct gw *gw, struct gw_call *c);
void gw_read_on_deadline(struct gw *gw, struct gw_call *c);
/* Sends a query (GET, LIST) to storaged: 0, or KV_EUNAVAIL when it is not connected. */
int gw_read_send(struct gw *gw, const struct proto_local *m);

#endif

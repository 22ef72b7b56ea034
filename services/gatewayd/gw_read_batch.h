/*
 * gw_read_batch.h - one READ_INDEX for the linearizable reads that arrive in
 * one turn of the event loop (gw_read_batch.c).
 *
 * A read joins the open batch; at the end of the loop's turn the batch is
 * sent as one READ_INDEX and a new one opens. raftd fixes the index when it
 * receives the request, after every read of the batch arrived, so that one
 * index serves them all (Raft thesis 6.4: the index must be taken after the
 * read arrived). A read never joins a batch already sent, and nothing waits
 * for an answer before sending the next batch: several may be in flight.
 * Pure (no I/O): gw_read.c sends and dispatches. Loop thread only.
 */
#ifndef RAFTKV_GW_READ_BATCH_H
#define RAFTKV_GW_READ_BATCH_H

#include <stdint.h>

#define GW_READ_BATCH_READS    64u /* reads per READ_INDEX at most; past it, another batch */
#define GW_READ_BATCH_INFLIGHT 64u /* batches sent and remembered; the oldest is forgotten */
#define GW_READ_BATCH_ID_BIT   (1ull << 63) /* a batch's req_id; a call's never has it */

struct gw_read_batch_slot {
	uint64_t id;                         /* its READ_INDEX's req_id; 0: free */
	uint32_t n;                          /* reads */
	uint64_t reads[GW_READ_BATCH_READS]; /* their calls' req_ids when they joined */
};

struct gw_read_batches {
	struct gw_read_batch_slot slots[GW_READ_BATCH_INFLIGHT]; /* by id % INFLIGHT */
	uint64_t next;   /* the sequence number of the open batch */
	uint32_t open;   /* reads in the open batch (slots[next % INFLIGHT]) */
	uint64_t sent;   /* batches sent */
	uint64_t joined; /* reads that joined one */
};

void gw_read_batch_init(struct gw_read_batches *b);

/* Adds the read whose call has req_id to the open batch. 0, or KV_EBUSY when it is
 * full (send it with gw_read_batch_close first). */
int gw_read_batch_join(struct gw_read_batches *b, uint64_t req_id);

/* Closes the open batch: its READ_INDEX req_id (0 when empty: nothing to send). The
 * slot it takes may forget the oldest batch, whose reads wait out their deadline. */
uint64_t gw_read_batch_close(struct gw_read_batches *b);

/* The reads of the batch answered by a READ_INDEX_RESP with req_id id, or NULL
 * (not a batch's, or forgotten); *n their count. The batch is forgotten. */
const uint64_t *gw_read_batch_take(struct gw_read_batches *b, uint64_t id, uint32_t *n);

#endif

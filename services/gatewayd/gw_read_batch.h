/*
 * gw_read_batch.h - one READ_INDEX for the linearizable reads that arrive in
 * one turn of the event loop (gw_read_batch.c).
 *
 * A read joins the open batch; at the end of the loop's turn the batch is
 * sent as one READ_INDEX and a new one opens. raftd fixes the index when it
 * receives the request, after every read of the batch arrived, so that one
 * index serves them all (Raft thesis 6.4: the index must be taken after the
 * read arrived). A read never joins a batch already sent, and nothing waits
 * for an answer before sending the next batch: several may be in flight. A
 * batch in flight is never forgotten while one of its reads may still wait
 * (their deadline is at most KV_HTTP_TIMEOUT_MS_MAX): when every slot holds
 * one, a read asks raftd on its own instead. Pure (no I/O, the time is the
 * caller's): gw_read.c sends and dispatches. Loop thread only.
 */
#ifndef RAFTKV_GW_READ_BATCH_H
#define RAFTKV_GW_READ_BATCH_H

#include <stdint.h>

#define GW_READ_BATCH_READS    64u  /* reads per READ_INDEX at most; past it, another batch */
#define GW_READ_BATCH_INFLIGHT 256u /* batches sent and not answered yet, at most */
#define GW_READ_BATCH_ID_BIT   (1ull << 63) /* a batch's req_id; a call's never has it */

struct gw_read_batch_slot {
	uint64_t id;                         /* its READ_INDEX's req_id; 0: free or open */
	uint64_t sent_ms;                    /* when it was sent */
	uint32_t n;                          /* reads */
	uint64_t reads[GW_READ_BATCH_READS]; /* their calls' req_ids when they joined */
};

struct gw_read_batches {
	struct gw_read_batch_slot slots[GW_READ_BATCH_INFLIGHT]; /* by sequence % INFLIGHT */
	uint64_t next;   /* the sequence number of the open batch */
	uint32_t open;   /* reads in the open batch (slots[next % INFLIGHT]) */
	uint64_t sent;   /* batches sent */
	uint64_t joined; /* reads that joined one */
	uint64_t alone;  /* reads that found every slot in flight and asked on their own */
};

void gw_read_batch_init(struct gw_read_batches *b);

/*
 * Adds the read whose call has req_id to the open batch. 0; KV_EBUSY when the
 * open batch is full (send it with gw_read_batch_close first); KV_EUNAVAIL when its
 * slot still holds a batch in flight whose reads may wait (the read asks alone).
 */
int gw_read_batch_join(struct gw_read_batches *b, uint64_t req_id, uint64_t now_ms);

/* Closes the open batch: its READ_INDEX req_id (0 when empty: nothing to send). */
uint64_t gw_read_batch_close(struct gw_read_batches *b, uint64_t now_ms);

/* The reads of the batch answered by a READ_INDEX_RESP with req_id id, or NULL
 * (not a batch's, or answered already); *n their count. The slot is free again. */
const uint64_t *gw_read_batch_take(struct gw_read_batches *b, uint64_t id, uint32_t *n);

#endif

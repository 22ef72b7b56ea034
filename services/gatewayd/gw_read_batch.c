/*
 * gw_read_batch.c - one READ_INDEX per turn of the loop for the reads that
 * arrived in it (gw_read_batch.h). Loop thread only.
 */
#include "gw_read_batch.h"

#include "kv_err.h"
#include "kv_limits.h"

#include <string.h>

static struct gw_read_batch_slot *batch_slot(struct gw_read_batches *b, uint64_t seq)
{
	return &b->slots[seq % GW_READ_BATCH_INFLIGHT];
}

static uint64_t batch_id(uint64_t seq)
{
	return GW_READ_BATCH_ID_BIT | (seq + 1); /* never 0, never a call's */
}

void gw_read_batch_init(struct gw_read_batches *b)
{
	memset(b, 0, sizeof(*b));
}

/* A slot holds a batch in flight until it is answered, or until every read in it
 * has passed its deadline (no answer then matters). */
static int batch_slot_busy(const struct gw_read_batch_slot *s, uint64_t now_ms)
{
	return s->id != 0 && now_ms - s->sent_ms <= KV_HTTP_TIMEOUT_MS_MAX + 1000u;
}

int gw_read_batch_join(struct gw_read_batches *b, uint64_t req_id, uint64_t now_ms)
{
	struct gw_read_batch_slot *s = batch_slot(b, b->next);
	if (b->open == 0) {
		if (batch_slot_busy(s, now_ms)) {
			b->alone++;
			return KV_EUNAVAIL;
		}
		s->id = 0; /* open now; a late answer to what it held matches nothing */
		s->n = 0;
	}
	if (s->n == GW_READ_BATCH_READS)
		return KV_EBUSY;
	s->reads[s->n++] = req_id;
	b->open = s->n;
	b->joined++;
	return 0;
}

uint64_t gw_read_batch_close(struct gw_read_batches *b, uint64_t now_ms)
{
	if (b->open == 0)
		return 0;
	struct gw_read_batch_slot *s = batch_slot(b, b->next);
	s->sent_ms = now_ms;
#ifdef GW_BUG_READ_BATCH_STAYS_OPEN
	/* the planted bug of make gw-bugs-rbatch: the sent batch takes later reads too */
	s->id = batch_id(b->next);
	b->sent++;
	return s->id;
#endif
	s->id = batch_id(b->next);
	b->next++;
	b->open = 0;
	b->sent++;
	return s->id;
}

const uint64_t *gw_read_batch_take(struct gw_read_batches *b, uint64_t id, uint32_t *n)
{
	*n = 0;
	if (!(id & GW_READ_BATCH_ID_BIT) || (id & ~GW_READ_BATCH_ID_BIT) == 0)
		return NULL;
	struct gw_read_batch_slot *s = batch_slot(b, (id & ~GW_READ_BATCH_ID_BIT) - 1);
	if (s->id != id)
		return NULL;
	s->id = 0;
	*n = s->n;
	return s->reads;
}

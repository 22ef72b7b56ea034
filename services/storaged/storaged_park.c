/*
 * storaged_park.c - GET and LIST requests waiting until the applied index
 * reaches their min_index (a linearizable read whose read index is ahead of
 * this node), each until its own deadline. At most STORAGED_PARK_MAX wait;
 * past that a query gets KV_EBUSY. Loop thread.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_limits.h"
#include "kv_log.h"

#include <stdlib.h>
#include <string.h>

int storaged_park_add(struct storaged *sd, const struct storaged_envelope *env,
                      const struct proto_local *m, const uint8_t *body, size_t body_len,
                      uint64_t now_ms)
{
	if (sd->n_parked >= STORAGED_PARK_MAX)
		return KV_EBUSY;
	struct storaged_parked *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return KV_ENOMEM;
	p->body = malloc(body_len);
	if (p->body == NULL) {
		free(p);
		return KV_ENOMEM;
	}
	memcpy(p->body, body, body_len);
	p->body_len = body_len;
	p->env = *env;
	uint64_t wait_ms;
	storaged_query_wait(m, &p->min_index, &wait_ms);
	if (wait_ms > KV_HTTP_TIMEOUT_MS_MAX)
		wait_ms = KV_HTTP_TIMEOUT_MS_MAX;
	p->deadline_ms = now_ms + wait_ms;
	p->req_id = m->req_id;
	p->type = m->type;
	sd->parked[sd->n_parked++] = p;
	return 0;
}

/* Answers p with status (0: read now) and frees it. */
static void storaged_park_answer(struct storaged *sd, struct storaged_parked **pp, int status)
{
	struct storaged_parked *p = *pp;
	struct proto_local m;
	proto_arena_init(&sd->arena, sd->arena_mem, STORAGED_ARENA_BYTES);
	/* It decoded once when it arrived; the copy decodes the same way. */
	int err = proto_local_decode(p->body, p->body_len, &m, &sd->arena);
	KV_ASSERT(err == 0);
	storaged_query_answer(sd, &p->env, &m, status);
	free(p->body);
	free(p);
	*pp = NULL;
}

void storaged_park_run(struct storaged *sd, uint64_t now_ms)
{
	uint32_t i = 0;
	while (i < sd->n_parked) {
		struct storaged_parked *p = sd->parked[i];
		int status;
		if (p->type == PROTO_WATCH) {
			/* a WATCH waits for a change, not only for its min_index */
			if (!storaged_watch_step(sd, p, now_ms)) {
				i++;
				continue;
			}
			free(p->body);
			free(p);
			sd->parked[i] = sd->parked[--sd->n_parked];
			sd->parked[sd->n_parked] = NULL;
			continue;
		}
		if (sd->sm->applied_index >= p->min_index)
			status = 0;
		else if (now_ms >= p->deadline_ms)
			status = KV_ETIMEDOUT;
		else {
			i++;
			continue;
		}
		storaged_park_answer(sd, &sd->parked[i], status);
		sd->parked[i] = sd->parked[--sd->n_parked];
		sd->parked[sd->n_parked] = NULL;
	}
}

int storaged_park_timeout_ms(const struct storaged *sd, uint64_t now_ms, int max_ms)
{
	uint64_t t = (uint64_t)max_ms;
	for (uint32_t i = 0; i < sd->n_parked; i++) {
		uint64_t d = sd->parked[i]->deadline_ms;
		uint64_t left = d > now_ms ? d - now_ms : 0;
		if (left < t)
			t = left;
	}
	return (int)t;
}

void storaged_park_flush(struct storaged *sd, int status)
{
	for (uint32_t i = 0; i < sd->n_parked; i++)
		storaged_park_answer(sd, &sd->parked[i], status);
	sd->n_parked = 0;
}

/*
 * sim_chunk.c - snapshot bytes as they travel in chunks.
 *
 * A snapshot is the serialized state machine (at most SIM_SNAP_BYTES_MAX
 * bytes, kept in struct sim_snap) followed, in some seeds, by padding that
 * makes it span several RAFT_SNAPSHOT_CHUNK_BYTES chunks. Padding bytes are
 * a fixed function of their offset, held once in an immutable buffer, so a
 * chunk that is all padding points into it (nothing can reuse it) and a
 * receiver checks every padding byte it is given. Only a chunk that mixes
 * state and padding needs one of the network's big chunk buffers.
 * Simulator thread; allocates only in sim_chunk_init().
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "kv_err.h"

static uint8_t *pad; /* SIM_SNAP_SIZE_MAX bytes, never written after init */

int sim_chunk_init(void)
{
	if (pad)
		return 0;
	pad = malloc(SIM_SNAP_SIZE_MAX);
	if (!pad)
		return KV_ENOMEM;
	for (uint64_t o = 0; o < SIM_SNAP_SIZE_MAX; o++)
		pad[o] = (uint8_t)(((o * 2654435761u) >> 13) ^ (o >> 8));
	return 0;
}

int sim_chunk_attach(struct sim_net *n, struct sim_msg_slot *ms, const struct sim_snap *s)
{
	uint64_t off = ms->m.u.snapshot.offset, len = ms->m.u.snapshot.chunk_len;

	if (off + len <= SIM_SNAP_BYTES_MAX) {
		memcpy(ms->chunk, s->bytes + off, len);
		ms->m.u.snapshot.chunk = ms->chunk;
	} else if (off >= SIM_SNAP_BYTES_MAX) {
		ms->m.u.snapshot.chunk = pad + off;
	} else {
		uint8_t *b = sim_net_big_alloc(n, ms);

		if (!b)
			return KV_EBUSY;
		memcpy(b, s->bytes + off, SIM_SNAP_BYTES_MAX - off);
		memcpy(b + (SIM_SNAP_BYTES_MAX - off), pad + SIM_SNAP_BYTES_MAX,
		       off + len - SIM_SNAP_BYTES_MAX);
		ms->m.u.snapshot.chunk = b;
	}
	return 0;
}

int sim_chunk_write(struct sim_snap *in, uint64_t off, const uint8_t *p, uint32_t len)
{
	uint64_t state_end;

	if (off + len > SIM_SNAP_SIZE_MAX || off > in->size)
		return KV_ERANGE;
	state_end = off + len < SIM_SNAP_BYTES_MAX ? off + len : SIM_SNAP_BYTES_MAX;
	if (off < state_end)
		memcpy(in->bytes + off, p, state_end - off);
	if (off + len > SIM_SNAP_BYTES_MAX) {
		uint64_t from = off > SIM_SNAP_BYTES_MAX ? off : SIM_SNAP_BYTES_MAX;

		if (memcmp(p + (from - off), pad + from, off + len - from) != 0)
			return KV_ECORRUPT;
	}
	in->size = (uint32_t)(off + len);
	return 0;
}

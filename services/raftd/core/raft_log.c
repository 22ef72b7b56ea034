/*
 * raft_log.c - the core's window of entry metadata after the last snapshot.
 *
 * Entries snap_index+1 .. last_index live in a ring of RAFT_LOG_WINDOW slots
 * (slot = index % RAFT_LOG_WINDOW), so appending, truncating and compacting
 * move counters and never copy. Payloads are the driver's. Runs on the
 * thread that owns the struct raft.
 */
#include "raft_internal.h"

#include "kv_assert.h"
#include "kv_err.h"

#include <stdlib.h>
#include <string.h>

static struct raft_meta *log_slot(const struct raft_log *log, uint64_t index)
{
	return &log->ring[index & (RAFT_LOG_WINDOW - 1)];
}

int raft_log_parse_config(const uint8_t *data, uint32_t len, struct raft_config_change *out)
{
	return raft_config_change_decode(data, len, out);
}

/* Boot entries come from our own disk: a bad one is KV_EINVAL, not a crash. */
static int log_check_boot(const struct raft_boot *boot)
{
	uint64_t prev_term = boot->snap_term;

	if (boot->n_entries > RAFT_LOG_WINDOW || (boot->n_entries > 0 && boot->entries == NULL))
		return KV_EINVAL;
	if (!raft_config_valid(&boot->snap_config))
		return KV_EINVAL;
	for (uint32_t i = 0; i < boot->n_entries; i++) {
		const struct raft_entry *e = &boot->entries[i];
		struct raft_config_change ch;

		if (e->index != boot->snap_index + 1 + i || e->term < prev_term || e->term == 0)
			return KV_EINVAL;
		if (e->type < RAFT_ENTRY_NOOP || e->type > RAFT_ENTRY_CONFIG)
			return KV_EINVAL;
		if (e->type == RAFT_ENTRY_CONFIG && raft_log_parse_config(e->data, e->len, &ch))
			return KV_EINVAL;
		prev_term = e->term;
	}
	return 0;
}

int raft_log_init(struct raft_log *log, const struct raft_boot *boot)
{
	int rc = log_check_boot(boot);

	if (rc)
		return rc;
	memset(log, 0, sizeof(*log));
	log->ring = calloc(RAFT_LOG_WINDOW, sizeof(*log->ring));
	if (log->ring == NULL)
		return KV_ENOMEM;
	log->snap_index = boot->snap_index;
	log->snap_term = boot->snap_term;
	log->snap_size = boot->snap_size;
	log->snap_config = boot->snap_config;
	log->last_index = boot->snap_index;
	for (uint32_t i = 0; i < boot->n_entries; i++)
		raft_log_append(log, &boot->entries[i]);
	return 0;
}

void raft_log_free(struct raft_log *log)
{
	free(log->ring);
	log->ring = NULL;
}

uint64_t raft_log_term_at(const struct raft_log *log, uint64_t index)
{
	if (index == 0 || index < log->snap_index || index > log->last_index)
		return 0;
	if (index == log->snap_index)
		return log->snap_term;
	return log_slot(log, index)->term;
}

const struct raft_meta *raft_log_meta(const struct raft_log *log, uint64_t index)
{
	KV_ASSERT(index > log->snap_index && index <= log->last_index);
	return log_slot(log, index);
}

uint64_t raft_log_last_term(const struct raft_log *log)
{
	return raft_log_term_at(log, log->last_index);
}

uint64_t raft_log_room(const struct raft_log *log)
{
	return RAFT_LOG_WINDOW - (log->last_index - log->snap_index);
}

void raft_log_append(struct raft_log *log, const struct raft_entry *e)
{
	struct raft_meta *m;

	KV_ASSERT(raft_log_room(log) > 0);
	KV_ASSERT(e->index == log->last_index + 1);
	/* the planted TRUNCATE_COMMITTED appends without a match check */
	KV_ASSERT(raft_bug_truncate_committed() || e->term >= raft_log_last_term(log));
	m = log_slot(log, e->index);
	memset(m, 0, sizeof(*m));
	m->term = e->term;
	m->len = e->len;
	m->type = e->type;
	if (e->type == RAFT_ENTRY_CONFIG) {
		int rc = raft_log_parse_config(e->data, e->len, &m->cfg);

		KV_ASSERT(rc == 0); /* checked where the entry entered the core */
	}
	log->last_index = e->index;
}

void raft_log_truncate(struct raft_log *log, uint64_t index)
{
	KV_ASSERT(index >= log->snap_index && index <= log->last_index);
	log->last_index = index;
}

void raft_log_config_at(const struct raft_log *log, uint64_t index, struct raft_config *out,
                        uint64_t *cfg_index)
{
	KV_ASSERT(index >= log->snap_index && index <= log->last_index);
	*out = log->snap_config;
	*cfg_index = 0;
	for (uint64_t i = log->snap_index + 1; i <= index; i++) {
		const struct raft_meta *m = log_slot(log, i);

		if (m->type != RAFT_ENTRY_CONFIG)
			continue;
		raft_config_apply(out, &m->cfg);
		*cfg_index = i;
	}
}

void raft_log_compact(struct raft_log *log, uint64_t index, uint64_t size)
{
	uint64_t unused;

	KV_ASSERT(index > log->snap_index && index <= log->last_index);
	raft_log_config_at(log, index, &log->snap_config, &unused);
	log->snap_term = log_slot(log, index)->term;
	log->snap_index = index;
	log->snap_size = size;
}

void raft_log_reset(struct raft_log *log, const struct raft_snapshot_install *snap)
{
	log->snap_index = snap->index;
	log->snap_term = snap->term;
	log->snap_size = snap->size;
	log->snap_config = snap->config;
	log->last_index = snap->index;
}

/*
 * storaged_apply.c - raftd's requests on the apply socket: APPLY_HELLO,
 * APPLY (one LMDB transaction per message, then RESULTs to the local
 * gateway, storaged_results.c), SNAPSHOT_REQ (handed to the snapshot thread; the
 * gateway's backups come here too) and SNAPSHOT_INSTALL. Loop thread.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* APPLY_STATE: where the state machine stands, and whether writes can go on. */
static void storaged_apply_state(struct storaged *sd, const struct storaged_envelope *env,
                                 uint64_t req_id, int status)
{
	struct proto_local r = {.type = PROTO_APPLY_STATE, .req_id = req_id};
	struct proto_apply_state *a = &r.u.apply_state;
	a->status = status;
	if (sd->sm->env != NULL) {
		struct sm_stats st;
		a->full = (uint8_t)(sm_stats_get(sd->sm, &st) == 0 ? st.full : sd->sm->full);
	}
	a->applied_index = sd->sm->applied_index;
	a->term = sd->sm->applied_term;
	if (storaged_syncer_durable(sd, &a->durable_index) != 0)
		a->durable_index = 0; /* the loop exits on the next wake (F13) */
	storaged_sock_reply(sd, sd->apply_sock, env, &r);
}

/*
 * Grows the map (sm_map_grow: nothing else may use the environment, so never
 * while the snapshot thread reads - force waits for it - and with the sync
 * thread held off). Returns sm_map_grow's code.
 */
static int storaged_apply_grow(struct storaged *sd, int force)
{
	uint64_t before = sd->sm->map_bytes;
	if (!force && (sd->snap_busy || !sm_map_should_grow(sd->sm)))
		return 0; /* the common case: no lock taken */
	if (sd->snap_busy)
		storaged_snapper_collect(sd, 1);
	storaged_syncer_hold(sd);
	int err = sm_map_grow(sd->sm, force);
	storaged_syncer_release(sd);
	if (sd->sm->map_bytes != before)
		KV_LOG_INFO("storaged", "map grown",
		            "from=%" PRIu64 " to=%" PRIu64 " ceiling=%" PRIu64, before,
		            sd->sm->map_bytes, sd->sm->map_max_bytes);
	return err;
}

static int storaged_apply_batch(struct storaged *sd, const struct storaged_envelope *env,
                                uint64_t req_id, const struct proto_apply *m)
{
	uint32_t n_results = 0;
	int err = 0;
	if (m->n_entries > STORAGED_APPLY_ENTRIES_MAX) {
		err = KV_ETOOLARGE;
	} else {
		err = storaged_apply_grow(sd, 0);
		if (err == 0)
			err = sm_batch_apply(sd->sm, m->entries, m->n_entries, sd->results,
			                     &n_results);
		/* the map (not the quota) ran out: grow to the ceiling's next step, once */
		if (err == KV_EFULL && storaged_apply_grow(sd, 1) == 0)
			err = sm_batch_apply(sd->sm, m->entries, m->n_entries, sd->results,
			                     &n_results);
	}
	if (err == 0)
		storaged_syncer_note(sd, sd->sm->applied_index);
	if (err != 0 && err != KV_ERANGE)
		KV_LOG_WARN("storaged", "apply failed",
		            "entries=%u applied_index=%" PRIu64 " error=\"%s\"", m->n_entries,
		            sd->sm->applied_index, kv_strerror(err));
	storaged_apply_state(sd, env, req_id, err);
	if (err == 0)
		storaged_results_send(sd, n_results);
	/* F13: a failed write or sync is never retried and continued. */
	return err == KV_EIO || err == KV_ECORRUPT ? err : 0;
}

static int storaged_apply_install(struct storaged *sd, const struct storaged_envelope *env,
                                  uint64_t req_id, const struct proto_snapshot_install *m)
{
	char path[SM_PATH_BYTES_MAX];
	if (m->path.len == 0 || m->path.len >= sizeof(path) ||
	    memchr(m->path.ptr, '\0', m->path.len) != NULL) {
		storaged_apply_state(sd, env, req_id, KV_EINVAL);
		return 0;
	}
	memcpy(path, m->path.ptr, m->path.len);
	path[m->path.len] = '\0';
	/* The environment is closed and replaced: the snapshot thread must not be reading it. */
	if (sd->snap_busy)
		storaged_snapper_collect(sd, 1);
	storaged_syncer_lock_env(sd);
	int err = sm_snap_install(sd->sm, path, m->index, m->term);
	if (err == 0)
		storaged_syncer_unlock_env(sd, sd->sm->applied_index); /* reopened: synced */
	else
		storaged_syncer_release(sd); /* nothing replaced: the durable index stands */
	KV_LOG_INFO("storaged", "snapshot install",
	            "path=%s index=%" PRIu64 " applied_index=%" PRIu64 " error=\"%s\"", path,
	            m->index, sd->sm->applied_index, kv_strerror(err));
	if (sd->sm->env == NULL) {
		KV_LOG_ERROR("storaged", "state machine lost after install", "dir=%s", sd->sm->dir);
		return KV_EIO;
	}
	storaged_apply_state(sd, env, req_id, err);
	return 0;
}

void storaged_apply_snapshot_req(struct storaged *sd, void *sock,
                                 const struct storaged_envelope *env, uint64_t req_id, int backup)
{
	int err = storaged_snapper_request(sd, sock, env, req_id, backup);
	if (err == 0)
		return;
	struct proto_local r = {
	    .type = PROTO_SNAPSHOT_DONE, .req_id = req_id, .u.snapshot_done.status = err};
	storaged_sock_reply(sd, sock, env, &r);
}

int storaged_apply_handle(struct storaged *sd, const struct storaged_envelope *env,
                          const struct proto_local *m)
{
	switch (m->type) {
	case PROTO_APPLY_HELLO:
		storaged_apply_state(sd, env, m->req_id, 0);
		return 0;
	case PROTO_APPLY:
		return storaged_apply_batch(sd, env, m->req_id, &m->u.apply);
	case PROTO_SNAPSHOT_INSTALL:
		return storaged_apply_install(sd, env, m->req_id, &m->u.snapshot_install);
	case PROTO_SNAPSHOT_REQ:
		storaged_apply_snapshot_req(sd, sd->apply_sock, env, m->req_id, 0);
		return 0;
	default:
		KV_LOG_WARN("storaged", "unexpected message on the apply socket", "type=%u",
		            m->type);
		return 0;
	}
}

void storaged_apply_snapshot_done(struct storaged *sd, int status, const struct sm_snap_info *info)
{
	struct proto_local r = {.type = PROTO_SNAPSHOT_DONE, .req_id = sd->snap_req_id};
	struct proto_snapshot_done *done = &r.u.snapshot_done;
	done->status = status;
	if (status == 0) {
		done->index = info->index;
		done->term = info->term;
		done->size = info->size;
		done->path.ptr = (const uint8_t *)info->path;
		done->path.len = (uint32_t)strlen(info->path);
	}
	KV_LOG_INFO("storaged",
	            sd->snap_sock == sd->apply_sock ? "image written" : "backup written",
	            "index=%" PRIu64 " size=%" PRIu64 " path=%s error=\"%s\"", done->index,
	            done->size, status == 0 ? info->path : "", kv_strerror(status));
	storaged_sock_reply(sd, sd->snap_sock, &sd->snap_env, &r);
}

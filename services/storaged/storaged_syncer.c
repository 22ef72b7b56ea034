/*
 * storaged_syncer.c - the sync thread: makes LMDB durable in the background.
 *
 * storaged applies with MDB_NOSYNC (sm.h), so the one fsync on a write's path
 * is the WAL's. Every --sync-ms this thread takes the highest committed index
 * the loop noted, runs sm_sync() (fdatasync of data.mdb) and then publishes
 * that index as durable; the loop reports it to raftd in APPLY_STATE, and
 * raftd keeps its log above it (raftd_compact.h). The index is read before
 * the fsync starts, so every transaction it covers was committed before.
 *
 * Threads: the loop calls note/durable/lock_env/hold; the sync thread runs
 * storaged_syncer_main. mu guards the indexes; env_mu is held by the sync
 * thread while it syncs and by the loop while it replaces the environment
 * (snapshot install) or remaps it (map growth), never while applying.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <time.h>

/* One sync of what was committed when it started; 0 or a KV_E* code. */
static int storaged_syncer_once(struct storaged *sd, struct storaged_syncer *s)
{
	uint64_t target = s->committed;
	if (target <= s->durable)
		return 0;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&s->env_mu);
	int err = sm_sync(sd->sm);
	pthread_mutex_unlock(&s->env_mu);
	pthread_mutex_lock(&s->mu);
	if (err != 0)
		return err;
	if (target > s->durable)
		s->durable = target;
	s->syncs++;
	return 0;
}

static void *storaged_syncer_main(void *arg)
{
	struct storaged *sd = arg;
	struct storaged_syncer *s = &sd->syncer;
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	pthread_mutex_lock(&s->mu);
	while (!s->stop && s->failed == 0) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		uint64_t ns = (uint64_t)until.tv_nsec + sd->cfg.sync_ms * 1000000u;
		until.tv_sec += (time_t)(ns / 1000000000u);
		until.tv_nsec = (long)(ns % 1000000000u);
		while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
			;
		s->failed = storaged_syncer_once(sd, s);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int storaged_syncer_start(struct storaged *sd)
{
	struct storaged_syncer *s = &sd->syncer;
	pthread_condattr_t attr;
	KV_ASSERT(!s->started && sd->cfg.sync_ms > 0);
	s->committed = sd->sm->applied_index; /* sm_open synced it */
	s->durable = sd->sm->applied_index;
	if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_mutex_init(&s->env_mu, NULL) != 0 ||
	    pthread_condattr_init(&attr) != 0 ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&s->cv, &attr) != 0)
		return KV_ENOMEM;
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&s->thread, NULL, storaged_syncer_main, sd);
	if (rc != 0)
		return kv_err_from_errno(rc);
	s->started = 1;
	return 0;
}

void storaged_syncer_note(struct storaged *sd, uint64_t committed)
{
	struct storaged_syncer *s = &sd->syncer;
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	if (committed > s->committed)
		s->committed = committed;
	pthread_mutex_unlock(&s->mu);
}

int storaged_syncer_durable(struct storaged *sd, uint64_t *durable)
{
	struct storaged_syncer *s = &sd->syncer;
	if (!s->started) {
		*durable = 0;
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	*durable = s->durable;
	int err = s->failed;
	pthread_mutex_unlock(&s->mu);
	return err;
}

void storaged_syncer_lock_env(struct storaged *sd)
{
	if (sd->syncer.started)
		pthread_mutex_lock(&sd->syncer.env_mu);
}

void storaged_syncer_hold(struct storaged *sd)
{
	if (sd->syncer.started)
		pthread_mutex_lock(&sd->syncer.env_mu);
}

void storaged_syncer_release(struct storaged *sd)
{
	if (sd->syncer.started)
		pthread_mutex_unlock(&sd->syncer.env_mu);
}

void storaged_syncer_unlock_env(struct storaged *sd, uint64_t durable)
{
	struct storaged_syncer *s = &sd->syncer;
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->committed = durable;
	s->durable = durable; /* the new environment was synced when it opened */
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->env_mu);
}

int storaged_syncer_stop(struct storaged *sd)
{
	struct storaged_syncer *s = &sd->syncer;
	if (!s->started)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = 0;
	int err = s->failed;
	/* a clean stop leaves everything durable */
	if (err == 0 && sd->sm != NULL && sd->sm->env != NULL)
		err = sm_sync(sd->sm);
	KV_LOG_INFO("storaged", "sync thread stopped",
	            "durable_index=%" PRIu64 " syncs=%" PRIu64 " error=\"%s\"", s->durable,
	            s->syncs, kv_strerror(err));
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->env_mu);
	pthread_mutex_destroy(&s->mu);
	return err;
}

/*
 * gw_local.c - the node's state machine, read only: GETs answered from
 * storaged's LMDB environment in this process (gw_local.h, docs/design.md
 * "Local reads").
 *
 * One read transaction object is kept and renewed per read; a read serves
 * only a state whose applied index (read in the same transaction as the
 * key) reaches the read's index and the floor (the highest applied index an
 * answer of this gateway showed), else the caller asks storaged, which
 * waits for the apply. storaged replaces the environment's files when it
 * installs a snapshot and a wiped node starts a new one: the files' device
 * and inode are compared with the open ones every GW_LOCAL_CHECK_MS, on
 * every fallback and before a read below the floor, and a replaced
 * environment is closed so the next read opens the new one. Loop thread.
 *
 * Planted bugs (docs/testing.md, make gw-bugs-local):
 * GW_BUG_LOCAL_READ_IGNORES_INDEX serves whatever state the file holds;
 * GW_BUG_LOCAL_READ_KEEPS_OLD_ENV never sees a replacement.
 */
#include "gw_local.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GW_LOCAL_SVC "gatewayd"

int gw_local_init(struct gw_local *l, const char *dir)
{
	memset(l, 0, sizeof(*l));
	if (dir == NULL || dir[0] == '\0')
		return 0;
	if (strlen(dir) >= sizeof(l->dir))
		return KV_EINVAL;
	if (getpid() == 1) {
		/* LMDB tells readers apart by pid: storaged is pid 1 in its own container too */
		KV_LOG_WARN(GW_LOCAL_SVC,
		            "local reads off: gatewayd is pid 1, so it does not share storaged's "
		            "pid namespace (docs/design.md)",
		            "dir=%s", dir);
		return 0;
	}
	strcpy(l->dir, dir);
	return 0;
}

static void local_shut(struct gw_local *l)
{
	if (l->txn != NULL) {
		mdb_txn_abort(l->txn);
		l->txn = NULL;
	}
	sm_close(&l->sm);
}

void gw_local_close(struct gw_local *l)
{
	local_shut(l);
	sm_buf_free(&l->value);
}

/* The device and inode of dir/name into *f. 0 or KV_E* (KV_ENOTFOUND: no such file). */
static int local_stat(const char *dir, const char *name, struct gw_local_file *f)
{
	char path[SM_PATH_BYTES_MAX + 16];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) != 0)
		return kv_err_from_errno(errno);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;
}

static int local_same(const struct gw_local_file *a, const struct gw_local_file *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* 1 when dir's data.mdb or lock.mdb is not the file that l has open. */
static int local_replaced(const struct gw_local *l)
{
#ifdef GW_BUG_LOCAL_READ_KEEPS_OLD_ENV
	(void)l;
	return 0;
#else
	struct gw_local_file data, lock;
	return local_stat(l->dir, "data.mdb", &data) != 0 ||
	       local_stat(l->dir, "lock.mdb", &lock) != 0 || !local_same(&data, &l->data) ||
	       !local_same(&lock, &l->lock);
#endif
}

/*
 * Opens the environment, and keeps it only when its files are the ones the
 * paths named before and after the open (a replacement under way is left to
 * the next attempt) and the data file is the one LMDB mapped.
 */
static int local_open(struct gw_local *l)
{
	struct gw_local_file data, lock, data2, lock2, mapped;
	int err = local_stat(l->dir, "data.mdb", &data);
	if (err == 0)
		err = local_stat(l->dir, "lock.mdb", &lock);
	if (err == 0)
		err = sm_reader_open(l->dir, &l->sm);
	if (err != 0)
		return err;
	struct stat st;
	int fd = -1;
	if (mdb_env_get_fd(l->sm->env, &fd) != 0 || fstat(fd, &st) != 0)
		err = KV_EIO;
	mapped = (struct gw_local_file){st.st_dev, st.st_ino};
	if (err == 0 &&
	    (local_stat(l->dir, "data.mdb", &data2) != 0 ||
	     local_stat(l->dir, "lock.mdb", &lock2) != 0 || !local_same(&data, &data2) ||
	     !local_same(&lock, &lock2) || !local_same(&data, &mapped)))
		err = KV_EBUSY;
	if (err != 0) {
		sm_close(&l->sm);
		return err;
	}
	l->data = data;
	l->lock = lock;
	return 0;
}

/* Opens the environment unless it is open or a failed attempt was too recent. */
static int local_ensure_open(struct gw_local *l, uint64_t now_ms)
{
	if (l->sm != NULL)
		return 0;
	if (now_ms < l->retry_at_ms)
		return KV_EUNAVAIL;
	int err = local_open(l);
	if (err != 0) {
		l->retry_at_ms = now_ms + GW_LOCAL_RETRY_MS;
		if (!l->warned && err != KV_ENOTFOUND)
			KV_LOG_WARN(GW_LOCAL_SVC, "local reads: cannot open the environment",
			            "dir=%s err=%s", l->dir, kv_strerror(err));
		l->warned = 1;
		return err;
	}
	if (l->warned)
		KV_LOG_INFO(GW_LOCAL_SVC, "local reads: environment open", "dir=%s", l->dir);
	l->warned = 0;
	l->checked_ms = now_ms;
	return 0;
}

int gw_local_check(struct gw_local *l, uint64_t now_ms)
{
	l->checked_ms = now_ms;
	if (l->sm == NULL || !local_replaced(l))
		return 0;
	local_shut(l);
	l->reopens++;
	l->retry_at_ms = 0;
	return 1;
}

void gw_local_saw(struct gw_local *l, uint64_t applied)
{
	if (applied > l->floor)
		l->floor = applied;
}

/* May a state at applied answer a read that needs `need`? */
static int local_fresh_enough(const struct gw_local *l, uint64_t applied, uint64_t need)
{
#ifdef GW_BUG_LOCAL_READ_IGNORES_INDEX
	(void)need;
	return applied >= l->floor;
#else
	return applied >= need && applied >= l->floor;
#endif
}

/* One read in the open environment: 0 (served), KV_ESTALE or another KV_E*. */
static int local_read(struct gw_local *l, const uint8_t *key, uint32_t key_len, uint64_t need,
                      struct gw_local_answer *out)
{
	struct sm_reader_value v;
	int err = sm_reader_begin(l->sm, &l->txn);
	if (err != 0)
		return err;
	err = sm_reader_get(l->sm, l->txn, key, key_len, &v);
	if (err == 0 && !local_fresh_enough(l, v.applied_index, need))
		err = KV_ESTALE;
	l->value.len = 0;
	if (err == 0 && v.exists)
		err = sm_buf_append(&l->value, v.value.ptr, v.value.len);
	sm_reader_end(l->txn);
	if (err != 0)
		return err;
	*out = (struct gw_local_answer){.applied_index = v.applied_index,
	                                .exists = v.exists,
	                                .create_index = v.create_index,
	                                .mod_index = v.mod_index,
	                                .flags = v.flags,
	                                .value = l->value.ptr,
	                                .value_len = l->value.len};
	gw_local_saw(l, v.applied_index);
	return 0;
}

int gw_local_get(struct gw_local *l, const uint8_t *key, uint32_t key_len, uint64_t need,
                 uint64_t now_ms, struct gw_local_answer *out)
{
	KV_ASSERT(l != NULL && out != NULL);
	if (l->dir[0] == '\0')
		return KV_EUNAVAIL;
	int err = local_ensure_open(l, now_ms);
	if (err == 0)
		err = local_read(l, key, key_len, need, out);
	/* too old, or failing: was the file replaced? then the new one may serve */
	if (err != 0 && l->sm != NULL && gw_local_check(l, now_ms) &&
	    local_ensure_open(l, now_ms) == 0)
		err = local_read(l, key, key_len, need, out);
	if (err == 0) {
		l->served++;
		return 0;
	}
	if (err != KV_ESTALE && err != KV_EUNAVAIL && err != KV_EINVAL && l->sm != NULL) {
		/* an LMDB failure: start again from a fresh open, later */
		KV_LOG_WARN(GW_LOCAL_SVC, "local reads: read failed, environment closed",
		            "dir=%s err=%s", l->dir, kv_strerror(err));
		local_shut(l);
		l->retry_at_ms = now_ms + GW_LOCAL_RETRY_MS;
	}
	l->fallbacks++;
	return err;
}

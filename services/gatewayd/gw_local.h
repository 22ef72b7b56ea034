/*
 * gw_local.h - the node's state machine, read only (gw_local.c): gatewayd
 * opens storaged's LMDB environment (<data-dir>/kv) itself and answers GETs
 * from it when the applied index there is high enough, so a stale GET needs
 * no message and a linearizable one only raftd's read index. Whatever it
 * cannot serve goes to storaged as before. Loop thread only.
 */
#ifndef RAFTKV_GW_LOCAL_H
#define RAFTKV_GW_LOCAL_H

#include "sm.h"

#include <stdint.h>
#include <sys/types.h>

#define GW_LOCAL_CHECK_MS 10u   /* the environment's files are checked for a replacement */
#define GW_LOCAL_RETRY_MS 1000u /* an environment that would not open is tried again */

/* A file of the environment as it was opened: replaced when the path names another. */
struct gw_local_file {
	dev_t dev;
	ino_t ino;
};

struct gw_local {
	char dir[SM_PATH_BYTES_MAX]; /* storaged's environment; "": local reads off */
	struct sm *sm;               /* NULL: not open (yet, or closed after a replacement) */
	MDB_txn *txn;                /* the one read transaction, reset between reads */
	struct gw_local_file data, lock;
	uint64_t floor;       /* the highest applied index an answer of this gateway showed */
	uint64_t retry_at_ms; /* no open attempt before (after a failed one) */
	uint64_t checked_ms;  /* the files' last replacement check */
	int warned;           /* the last open failure was logged */
	struct sm_buf value;  /* the last served value, copied out of the transaction */
	uint64_t served;      /* reads answered here */
	uint64_t fallbacks;   /* reads sent on to storaged */
	uint64_t reopens;     /* replacements seen */
};

/* What gw_local_get served: value (l's, valid until the next gw_local_* call). */
struct gw_local_answer {
	uint64_t applied_index; /* X-Raft-Index: the state the answer comes from */
	int exists;
	uint64_t create_index;
	uint64_t mod_index;
	uint64_t flags;
	const uint8_t *value;
	size_t value_len;
};

/* Sets l up, off when dir (borrowed) is NULL or empty; opens nothing yet. 0 or KV_EINVAL. */
int gw_local_init(struct gw_local *l, const char *dir);
/* Closes the environment and frees l's buffer; safe twice. */
void gw_local_close(struct gw_local *l);

/*
 * Reads key (borrowed) from a state whose applied index is at least
 * `need` (a read index; 0 for a stale read) and at least every index an
 * answer of this gateway has shown (gw_local_saw), opening the environment
 * first when needed. 0: served, *out filled; else the caller asks storaged:
 * KV_EUNAVAIL (off, not open), KV_ESTALE (this state is older than needed),
 * or another KV_E* code of the read.
 */
int gw_local_get(struct gw_local *l, const uint8_t *key, uint32_t key_len, uint64_t need,
                 uint64_t now_ms, struct gw_local_answer *out);

/* An answer from storaged (or its STATS) showed applied index `applied`. */
void gw_local_saw(struct gw_local *l, uint64_t applied);

/*
 * Closes the environment when its files were replaced (a snapshot installed,
 * the node wiped) so that the next read opens the new one; runs every
 * GW_LOCAL_CHECK_MS from the tick and on every fallback. 1 when it closed.
 */
int gw_local_check(struct gw_local *l, uint64_t now_ms);

#endif

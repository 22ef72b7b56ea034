/*
 * ctl_coord.h - raftkvctl's coordination commands: lease grant|keepalive|
 * revoke and txn (ctl_coord.c), lock (ctl_lock.c). Rows in ctl_table.c.
 */
#ifndef RAFTKV_CTL_COORD_H
#define RAFTKV_CTL_COORD_H

#include "ctl.h"
#include "ctl_http.h"

int ctl_coord_lease(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_coord_txn(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_lock(const struct ctl_ctx *ctx, int argc, char **argv);

/*
 * One write to the coordination routes with a fresh Idempotency-Key, so a
 * retry on the next endpoint applies at most once. Prints failures (unless
 * quiet); returns an exit code, resp filled when CTL_EXIT_OK (free it).
 */
int ctl_coord_call(const struct ctl_ctx *ctx, const char *method, const char *path,
                   const char *body, size_t body_len, int quiet, struct ctl_http_resp *resp);

/* Grants a lease of ttl_ms; its id (decimal) into id. Returns an exit code. */
int ctl_coord_grant(const struct ctl_ctx *ctx, long long ttl_ms, char *id, size_t cap);

#endif

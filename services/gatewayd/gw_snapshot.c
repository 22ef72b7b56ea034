/*
 * gw_snapshot.c - GET /v1/snapshot: a backup of this node's database,
 * streamed. storaged copies its LMDB environment from one read transaction
 * while writes go on (SNAPSHOT_REQ on the query socket, answered by
 * SNAPSHOT_DONE with the file, its applied index and term); the gateway
 * opens the file, unlinks it at once (the open descriptor keeps it until the
 * last byte is sent, and nothing is left behind if the client or the gateway
 * goes) and sends it with h2o's file sender. X-Raft-Index and X-Raft-Term
 * say which state the copy holds: everything acknowledged up to that index.
 * Loop thread only.
 */
#include "gw.h"

#include "gw_errors.h"
#include "gw_reply.h"
#include "gw_routes.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GW_SNAPSHOT_WAIT_MS 600000u /* 10 min: storaged copies a large database first */

static void snapshot_header_u64(h2o_req_t *req, const char *name, uint64_t v)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRIu64, v);
	gw_reply_header(req, name, text, (size_t)n);
}

/* storaged's backup files only: <dir>/snap/backup-<index>-<tag>.mdb, nothing else. */
static int snapshot_path_ok(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len = strlen(path);
	return base != NULL && strncmp(base, "/backup-", 8) == 0 && len > 4 &&
	       strcmp(path + len - 4, ".mdb") == 0 && strstr(path, "/../") == NULL &&
	       base - path >= 5 && strncmp(base - 5, "/snap", 5) == 0;
}

/* Streams the file at path (unlinked once h2o holds it open) as the answer of c. */
static void snapshot_stream(struct gw *gw, struct gw_call *c, const char *path,
                            const struct proto_snapshot_done *m)
{
	h2o_req_t *req = c->http.req;
	snapshot_header_u64(req, "x-raft-index", m->index);
	snapshot_header_u64(req, "x-raft-term", m->term);
	snapshot_header_u64(req, "x-served-by", gw->cfg.node_id);
	gw_reply_header(req, "content-disposition", "attachment; filename=\"raftkv.mdb\"",
	                strlen("attachment; filename=\"raftkv.mdb\""));
	int rc = h2o_file_send(req, 200, "OK", path,
	                       h2o_iovec_init(H2O_STRLIT("application/octet-stream")), 0);
	unlink(path);
	if (rc != 0) {
		KV_LOG_WARN(GW_SVC, "cannot send the backup file", "path=%s", path);
		gw_reply_kv_error(gw, &c->http, KV_EIO, "the backup copy could not be opened",
		                  NULL);
		return;
	}
	KV_LOG_INFO(GW_SVC, "backup streaming", "index=%" PRIu64 " bytes=%" PRIu64, m->index,
	            m->size);
	gw_reply_count(gw, &c->http, 200);
	c->http.req = NULL; /* answered by h2o's file sender */
}

static void snapshot_on_msg(struct gw *gw, struct gw_call *c, const struct proto_local *lm)
{
	const struct proto_snapshot_done *m = &lm->u.snapshot_done;
	char path[PROTO_PATH_BYTES_MAX + 1];

	if (lm->type != PROTO_SNAPSHOT_DONE)
		return;
	snprintf(path, sizeof(path), "%.*s", (int)m->path.len, (const char *)m->path.ptr);
	if (m->status != 0) {
		const char *msg = m->status == KV_EBUSY ? "a copy of the database is being made; "
		                                          "retry later"
		                                        : NULL;
		gw_reply_kv_error(gw, &c->http, m->status, msg, NULL);
	} else if (!snapshot_path_ok(path)) {
		KV_LOG_WARN(GW_SVC, "backup file outside the snapshot directory refused", "path=%s",
		            path);
		if (m->path.len > 0)
			unlink(path);
		gw_reply_kv_error(gw, &c->http, KV_EIO, "storaged named an unexpected file", NULL);
	} else {
		snapshot_stream(gw, c, path, m);
	}
	gw_pending_end(gw, c);
}

static void snapshot_on_deadline(struct gw *gw, struct gw_call *c)
{
	gw_reply_kv_error(gw, &c->http, KV_ETIMEDOUT, "storaged did not finish the copy in time",
	                  NULL);
	gw_pending_end(gw, c);
}

static const struct gw_call_ops snapshot_ops = {snapshot_on_msg, NULL, snapshot_on_deadline};

void gw_snapshot_handle(struct gw_req *r)
{
	struct gw_call *c = gw_pending_start(r, &snapshot_ops, GW_SNAPSHOT_WAIT_MS);
	if (c == NULL) {
		gw_reply_kv_error(r->gw, &r->http, KV_EBUSY, NULL, NULL);
		return;
	}
	c->state = GW_CALL_QUERY;
	struct proto_local m = {.type = PROTO_SNAPSHOT_REQ, .req_id = gw_pending_next_id(r->gw, c)};
	if (gw_zmq_send(r->gw, 0, &m) != 0) {
		gw_reply_kv_error(r->gw, &c->http, KV_EUNAVAIL, "storaged is not reachable", NULL);
		gw_pending_end(r->gw, c);
	}
}

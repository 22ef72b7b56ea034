/*
 * gw_reply.h - every HTTP answer of gatewayd goes out through here, so each
 * carries X-Raft-Leader, X-Served-By, X-Raft-Term and X-Raft-Index and is
 * counted in the metrics. Loop thread only.
 *
 * gw_reply_send and the error calls answer h->req (which must not be NULL
 * yet) and set it to NULL: nothing may touch the request afterwards. Names,
 * values and bodies are copied.
 */
#ifndef RAFTKV_GW_REPLY_H
#define RAFTKV_GW_REPLY_H

#include "gw_req.h"

#include <stddef.h>
#include <stdint.h>

struct gw_error_extra;

/* Sends status with body and the common headers; raft_index 0: h->raft_index or the cache's. */
void gw_reply_send(struct gw *gw, struct gw_http *h, int status, const char *content_type,
                   const void *body, size_t len, uint64_t raft_index);
/* An error answer with a JSON body (gw_errors.h): status, snake_case code, message. */
void gw_reply_error(struct gw *gw, struct gw_http *h, int status, const char *code,
                    const char *message, const struct gw_error_extra *extra);
/* The error answer of a KV_E* code; message NULL: kv_strerror(err). */
void gw_reply_kv_error(struct gw *gw, struct gw_http *h, int err, const char *message,
                       const struct gw_error_extra *extra);
/* 503 no_leader (with Retry-After) or not_leader with the leader hint. */
void gw_reply_no_leader(struct gw *gw, struct gw_http *h, int err);
/* Adds a header to req's answer (before it is sent); the value is copied into req->pool. */
void gw_reply_header(h2o_req_t *req, const char *name, const char *value, size_t len);
/*
 * Sets up a streamed answer (status, content type, the common headers) and
 * counts it; the caller then starts it with h2o_start_response and h2o_send.
 * h->req stays set: the caller owns the stream until it sends the last part.
 */
void gw_reply_stream_head(struct gw *gw, struct gw_http *h, int status, const char *content_type,
                          uint64_t raft_index);
/* Counts an answer that did not go through gw_reply_send (relayed ones). */
void gw_reply_count(struct gw *gw, struct gw_http *h, int status);

#endif

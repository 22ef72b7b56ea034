/*
 * gw_screen.c - the first request of every connection is looked at before
 * h2o parses it: heads past our URL and header limits get 414 or 431 (h2o
 * 2.2.5 would answer a bare 400 or accept up to ~400 KiB), and a request
 * with both Content-Length and Transfer-Encoding gets 400 (h2o would take
 * it as chunked: a request-smuggling shape). A head that is fine goes to h2o
 * with the bytes already read. Later requests on a keep-alive connection
 * are h2o's alone: the router still checks URL and header sizes, h2o
 * answers 400 past its own limits.
 *
 * With --tls-cert the TLS handshake comes first, within the same 10 s as
 * the head, and the screen reads the decrypted bytes; a client that does not
 * speak TLS (plain HTTP to an HTTPS port) or whose certificate fails
 * --tls-client-ca is closed when its handshake fails.
 *
 * Loop thread only. A rejected connection gets its answer, then what the
 * client still sends is read and dropped for a moment (closing with unread
 * data would reset the connection and lose the answer).
 */
#include "gw.h"

#include "gw_errors.h"
#include "kv_clock.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_SCREEN_LINGER_BYTES (4u << 20) /* dropped after an answer before closing */

struct gw_screen {
	struct gw *gw;
	h2o_socket_t *sock;
	h2o_timeout_entry_t timeout; /* slowloris, then the linger */
	size_t dropped;
	int answered;
	SSL_CTX *tls; /* a reference held until the handshake is over (gw_tls.c); else NULL */
	h2o_accept_ctx_t *actx; /* the listener's: which API the connection speaks */
	char resp[512];
};

static void screen_drop_tls(struct gw_screen *s)
{
	SSL_CTX_free(s->tls); /* NULL-safe */
	s->tls = NULL;
}

static void screen_close(struct gw_screen **sp)
{
	struct gw_screen *s = *sp;
	h2o_timeout_unlink(&s->timeout);
	h2o_socket_close(s->sock);
	screen_drop_tls(s);
	free(s);
	*sp = NULL;
}

static void screen_on_timeout(h2o_timeout_entry_t *entry)
{
	struct gw_screen *s = H2O_STRUCT_FROM_MEMBER(struct gw_screen, timeout, entry);
	screen_close(&s);
}

static void screen_on_written(h2o_socket_t *sock, const char *err)
{
	struct gw_screen *s = sock->data;
	if (err != NULL)
		screen_close(&s);
}

/* The error code and sentence of a status the screen answers. */
static void screen_reason(int status, const char **code, const char **msg)
{
	switch (status) {
	case 413:
		*code = "too_large";
		*msg = "the body is over the size limit";
		return;
	case 414:
		*code = "uri_too_long";
		*msg = "the URL is too long";
		return;
	case 431:
		*code = "headers_too_large";
		*msg = "the headers are too many or too large";
		return;
	default:
		*code = "bad_request";
		*msg = "malformed framing (Content-Length with Transfer-Encoding, or a bad chunk "
		       "size)";
	}
}

static void screen_answer(struct gw_screen *s, int status)
{
	const char *code, *msg;
	screen_reason(status, &code, &msg);
	struct gw_json j;
	gw_json_init(&j, 256);
	struct gw_error_extra ex = {0};
	ex.has_limit = status != 400;
	ex.limit = status == 413   ? s->gw->cfg.max_value_bytes
	           : status == 414 ? KV_HTTP_URL_BYTES_MAX
	                           : KV_HTTP_HEADER_BYTES_MAX;
	gw_errors_format(&j, code, msg, &ex);
	int n = snprintf(
	    s->resp, sizeof(s->resp),
	    "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nX-Served-By: %" PRIu64 "\r\nX-Raft-Leader: %" PRIu64
	    "\r\nX-Raft-Term: %" PRIu64 "\r\nX-Raft-Index: %" PRIu64 "\r\n\r\n%.*s",
	    status, gw_errors_reason(status), j.len, s->gw->cfg.node_id, gw_status_leader(s->gw),
	    s->gw->status.msg.term, s->gw->status.msg.applied_index, (int)j.len, j.buf);
	gw_json_free(&j);
	struct gw_http h = {.slot = 0, .method = GW_M_OTHER}; /* before routing: route "none" */
	h.start_us = kv_clock_mono_us();
	gw_metrics_record(s->gw, &h, status);
	s->answered = 1;
	h2o_buffer_consume(&s->sock->input, s->sock->input->size);
	h2o_iovec_t buf =
	    h2o_iovec_init(s->resp, n > 0 && (size_t)n < sizeof(s->resp) ? (size_t)n : 0);
	h2o_socket_write(s->sock, &buf, 1, screen_on_written);
}

static void screen_on_read(h2o_socket_t *sock, const char *err)
{
	struct gw_screen *s = sock->data;
	if (err != NULL) {
		screen_close(&s);
		return;
	}
	if (s->answered) { /* lingering: drop what the client still sends, for a while */
		s->dropped += sock->input->size;
		h2o_buffer_consume(&sock->input, sock->input->size);
		if (s->dropped > GW_SCREEN_LINGER_BYTES)
			screen_close(&s);
		return;
	}
	int verdict =
	    gw_parse_screen_head(sock->input->bytes, sock->input->size, s->gw->cfg.max_value_bytes);
	if (verdict == 0)
		return;
	if (verdict == 1) {
		h2o_accept_ctx_t *actx = s->actx;
		h2o_timeout_unlink(&s->timeout);
		screen_drop_tls(s);
		free(s);
		h2o_accept(actx, sock); /* h2o parses what is already buffered */
		return;
	}
	screen_answer(s, verdict);
}

static void screen_on_handshake(h2o_socket_t *sock, const char *err)
{
	struct gw_screen *s = sock->data;
	screen_drop_tls(s); /* the connection's SSL holds its context from here */
	if (err != NULL) {
		KV_LOG_DEBUG(GW_SVC, "TLS handshake failed", "err=\"%s\"", err);
		screen_close(&s);
		return;
	}
	h2o_socket_read_start(sock, screen_on_read);
	if (sock->input->size > 0) /* decrypted with the handshake's last bytes */
		screen_on_read(sock, NULL);
}

void gw_screen_start(struct gw *gw, h2o_socket_t *sock, h2o_accept_ctx_t *actx)
{
	struct gw_screen *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		h2o_socket_close(sock);
		return;
	}
	s->gw = gw;
	s->sock = sock;
	s->actx = actx;
	s->timeout.cb = screen_on_timeout;
	sock->data = s;
	h2o_timeout_link(gw->ctx.loop, &gw->screen_timeout, &s->timeout);
	if (gw->tls_server != NULL) {
		SSL_CTX_up_ref(gw->tls_server);
		s->tls = gw->tls_server;
		h2o_socket_ssl_handshake(sock, s->tls, NULL, screen_on_handshake);
		return;
	}
	h2o_socket_read_start(sock, screen_on_read);
}

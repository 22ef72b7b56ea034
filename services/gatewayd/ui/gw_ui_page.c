/*
 * gw_ui_page.c - GET /ui/: the web dashboard, one HTML page with its styles
 * and script inline (dashboard.html, compiled into the binary by
 * embed_html.sh). The page holds no data, so it is open to all; everything
 * it shows it fetches from this gateway's API with the token the user types
 * in. A Content-Security-Policy keeps it to this origin. Loop thread only.
 */
#include "gw_reply.h"
#include "gw_routes.h"

#include <stddef.h>

/* The generated array (build/gen/gw_ui_html.c). */
extern const unsigned char gw_ui_html[];
extern const size_t gw_ui_html_len;

static const char ui_csp[] = "default-src 'none'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; connect-src 'self'; "
                             "frame-ancestors 'none'";

void gw_ui_page_handle(struct gw_req *r)
{
	h2o_req_t *req = r->http.req;
	gw_reply_header(req, "content-security-policy", ui_csp, sizeof(ui_csp) - 1);
	gw_reply_header(req, "x-content-type-options", H2O_STRLIT("nosniff"));
	gw_reply_header(req, "cache-control", H2O_STRLIT("no-cache"));
	gw_reply_send(r->gw, &r->http, 200, "text/html; charset=utf-8", gw_ui_html, gw_ui_html_len,
	              0);
}

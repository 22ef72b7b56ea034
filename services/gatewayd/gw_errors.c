/*
 * gw_errors.c - error bodies and status reason phrases. Pure; any thread.
 */
#include "gw_errors.h"

#include <inttypes.h>
#include <stdio.h>

void gw_errors_format(struct gw_json *j, const char *code, const char *message,
                      const struct gw_error_extra *extra)
{
	gw_json_open(j, '{');
	gw_json_key(j, "error");
	gw_json_open(j, '{');
	gw_json_kv_str(j, "code", code);
	gw_json_kv_str(j, "message", message);
	if (extra != NULL) {
		if (extra->leader != 0)
			gw_json_kv_u64(j, "leader", extra->leader);
		if (extra->leader_url != NULL)
			gw_json_kv_str(j, "leader_url", extra->leader_url);
		if (extra->has_limit)
			gw_json_kv_u64(j, "limit", extra->limit);
		if (extra->param != NULL)
			gw_json_kv_str(j, "param", extra->param);
		if (extra->oldest_index != 0)
			gw_json_kv_u64(j, "oldest_index", extra->oldest_index);
		if (extra->request_id != 0) {
			/* a string: JSON numbers lose precision past 2^53 in many clients */
			char id[24];
			snprintf(id, sizeof(id), "%016" PRIx64, extra->request_id);
			gw_json_kv_str(j, "request_id", id);
		}
	}
	gw_json_close(j, '}');
	gw_json_close(j, '}');
	gw_json_raw(j, "\n", 1);
}

const char *gw_errors_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 507:
		return "Insufficient Storage";
	default:
		return "Error";
	}
}

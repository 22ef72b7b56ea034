/*
 * gw_watch_format.c - the JSON of watch changes, progress and error lines
 * (gw_watch.h). Values follow the list endpoint's rule: text when key and
 * value are UTF-8, else base64 with "encoding":"base64". Pure; any thread.
 */
#include "gw_watch.h"

static void wfmt_bytes(struct gw_json *j, const char *name, struct proto_bytes b, int b64)
{
	gw_json_key(j, name);
	if (b64)
		gw_json_base64(j, b.ptr, b.len);
	else
		gw_json_str(j, b.ptr, b.len);
}

void gw_watch_format_event(struct gw_json *j, const struct proto_item *it, int force_b64)
{
	int del = it->create_index == 0;
	int b64 = force_b64 || !gw_json_utf8_valid(it->key.ptr, it->key.len) ||
	          (!del && !gw_json_utf8_valid(it->value.ptr, it->value.len));
	gw_json_open(j, '{');
	gw_json_kv_str(j, "type", del ? "delete" : "put");
	wfmt_bytes(j, "key", it->key, b64);
	if (!del) {
		wfmt_bytes(j, "value", it->value, b64);
		gw_json_kv_u64(j, "create_index", it->create_index);
	}
	gw_json_kv_u64(j, "mod_index", it->mod_index);
	if (b64)
		gw_json_kv_str(j, "encoding", "base64");
	gw_json_close(j, '}');
}

void gw_watch_format_eol(struct gw_json *j)
{
	gw_json_raw(j, "\n", 1);
	j->need_comma = 0;
}

void gw_watch_format_progress(struct gw_json *j, uint64_t index)
{
	gw_json_open(j, '{');
	gw_json_kv_str(j, "type", "progress");
	gw_json_kv_u64(j, "index", index);
	gw_json_close(j, '}');
	gw_watch_format_eol(j);
}

void gw_watch_format_error(struct gw_json *j, const char *code, uint64_t index)
{
	gw_json_open(j, '{');
	gw_json_kv_str(j, "type", "error");
	gw_json_kv_str(j, "code", code);
	gw_json_kv_u64(j, "index", index);
	gw_json_close(j, '}');
	gw_watch_format_eol(j);
}

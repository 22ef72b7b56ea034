/*
 * gw_consul_entry.c - one key as Consul's KV entry in JSON (gw_consul_entry.h).
 */
#include "gw_consul_entry.h"

#include "gw_reply.h"
#include "kv_err.h"

int gw_consul_entry_write(struct gw_json *j, const struct proto_item *it)
{
	if (!gw_json_utf8_valid(it->key.ptr, it->key.len))
		return KV_EINVAL;
	gw_json_open(j, '{');
	gw_json_kv_u64(j, "LockIndex", 0);
	gw_json_key(j, "Key");
	gw_json_str(j, it->key.ptr, it->key.len);
	gw_json_kv_u64(j, "Flags", it->flags);
	if (it->value.len == 0) {
		gw_json_kv_null(j, "Value"); /* Consul's empty value */
	} else {
		gw_json_key(j, "Value");
		gw_json_base64(j, it->value.ptr, it->value.len);
	}
	gw_json_kv_u64(j, "CreateIndex", it->create_index);
	gw_json_kv_u64(j, "ModifyIndex", it->mod_index);
	gw_json_kv_str(j, "Session", "");
	gw_json_close(j, '}');
	return 0;
}

void gw_consul_entry_fail(struct gw *gw, struct gw_http *h, int err)
{
	if (err == KV_EINVAL)
		gw_reply_error(
		    gw, h, 422, "key_not_utf8",
		    "a key is not valid UTF-8 and Consul's API carries keys as JSON text; "
		    "read it with raftkv's API (?encoding=base64)",
		    NULL);
	else
		gw_reply_kv_error(gw, h, err, NULL, NULL);
}

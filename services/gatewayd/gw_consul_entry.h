/*
 * gw_consul_entry.h - one key as Consul's KV entry in JSON:
 * {"LockIndex":0,"Key":"k","Flags":0,"Value":"<base64>"|null,
 *  "CreateIndex":n,"ModifyIndex":n,"Session":""}, and the ?keys listing's
 * names. Consul carries keys as JSON text, so a key that is not valid UTF-8
 * cannot be written in its shape: that is an error, never a mangled key.
 * Loop thread only (the answers); the writers are pure.
 */
#ifndef RAFTKV_GW_CONSUL_ENTRY_H
#define RAFTKV_GW_CONSUL_ENTRY_H

#include "gw_json.h"
#include "gw_req.h"
#include "proto.h"

/* Appends it as an entry to j (inside an array). 0, or KV_EINVAL: the key is not UTF-8. */
int gw_consul_entry_write(struct gw_json *j, const struct proto_item *it);

/* The answer to an entry that could not be written (err from gw_consul_entry_write). */
void gw_consul_entry_fail(struct gw *gw, struct gw_http *h, int err);

/* ?recurse and ?keys: the LIST of r's prefix, answered as Consul's array (gw_consul_kv_list.c). */
void gw_consul_kv_list(struct gw_req *r);

#endif

/*
 * gw_body_check.h - what the JSON body parsers (gw_txn_parse.c,
 * gw_member_parse.c) share: the error they fill in and the check that an
 * object holds only the members it may. Pure code (jansson only).
 */
#ifndef RAFTKV_GW_BODY_CHECK_H
#define RAFTKV_GW_BODY_CHECK_H

#include "gw_txn_parse.h"

#include <jansson.h>
#include <stdint.h>

/*
 * Fills *err: status 413 for KV_ETOOLARGE, else 400; code kv_err_code(kv_err);
 * message "param " followed by fmt; the bound crossed (0: none). Returns -1.
 */
int gw_body_fail(struct gw_txn_err *err, int kv_err, uint64_t limit, const char *param,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * 0 when every member of the object o is one of names (NULL-terminated);
 * else -1 with *err: param "has an unknown member", naming the first.
 */
int gw_body_known_members(json_t *o, const char *param, const char *const *names,
                          struct gw_txn_err *err);

#endif

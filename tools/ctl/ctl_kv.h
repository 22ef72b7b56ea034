/*
 * ctl_kv.h - raftkvctl's key-value commands: get, put, delete (ctl_kv.c) and
 * list (ctl_list.c). Each follows struct ctl_cmd's run contract (ctl.h).
 */
#ifndef RAFTKV_CTL_KV_H
#define RAFTKV_CTL_KV_H

#include "ctl.h"

int ctl_kv_get(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_kv_put(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_kv_delete(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_kv_list(const struct ctl_ctx *ctx, int argc, char **argv);

#endif

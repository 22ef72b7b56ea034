/*
 * ctl_watch.h - `raftkvctl watch` (ctl_watch.c): follows a key's or a
 * prefix's changes. Follows struct ctl_cmd's run contract (ctl.h).
 */
#ifndef RAFTKV_CTL_WATCH_H
#define RAFTKV_CTL_WATCH_H

#include "ctl.h"

int ctl_watch(const struct ctl_ctx *ctx, int argc, char **argv);

#endif

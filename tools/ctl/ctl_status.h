/*
 * ctl_status.h - raftkvctl's health and status commands (ctl_status.c).
 * Each follows struct ctl_cmd's run contract (ctl.h).
 */
#ifndef RAFTKV_CTL_STATUS_H
#define RAFTKV_CTL_STATUS_H

#include "ctl.h"

int ctl_status_status(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_status_ready(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_status_live(const struct ctl_ctx *ctx, int argc, char **argv);
int ctl_status_metrics(const struct ctl_ctx *ctx, int argc, char **argv);

#endif

/*
 * ctl_member.h - raftkvctl's membership command (ctl_member.c). Follows
 * struct ctl_cmd's run contract (ctl.h).
 */
#ifndef RAFTKV_CTL_MEMBER_H
#define RAFTKV_CTL_MEMBER_H

#include "ctl.h"

int ctl_member(const struct ctl_ctx *ctx, int argc, char **argv);

#endif

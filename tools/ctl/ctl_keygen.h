/*
 * ctl_keygen.h - raftkvctl's keygen command (ctl_keygen.c).
 */
#ifndef RAFTKV_CTL_KEYGEN_H
#define RAFTKV_CTL_KEYGEN_H

#include "ctl.h"

/*
 * Runs `raftkvctl keygen [--out DIR]` with argv[0..argc) the words after
 * "keygen" (borrowed). Returns an exit code (0, 1 failed) or -1 for bad usage.
 */
int ctl_keygen(const struct ctl_ctx *ctx, int argc, char **argv);

#endif

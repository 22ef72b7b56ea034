/*
 * ctl_keygen.h - raftkvctl's keygen command (ctl_keygen.c).
 */
#ifndef RAFTKV_CTL_KEYGEN_H
#define RAFTKV_CTL_KEYGEN_H

/*
 * Runs `raftkvctl keygen [--out DIR]` with argv[0..argc) the words after
 * "keygen" (borrowed). Returns the exit status: 0, 1 (failed), 2 (usage).
 */
int ctl_keygen(int argc, char **argv);

#endif

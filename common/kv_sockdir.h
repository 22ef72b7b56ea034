/*
 * kv_sockdir.h - the ipc:// socket directory every daemon of a node shares.
 *
 * Anyone who can connect to a node's ipc:// sockets can write through raftd
 * or read storaged's replies, so the directory must be private to the uid the
 * three daemons run as. Each daemon calls kv_sockdir_prepare() once at start.
 */
#ifndef RAFTKV_KV_SOCKDIR_H
#define RAFTKV_KV_SOCKDIR_H

#include <stddef.h>

/*
 * Creates dir (mode 0700; missing parents 0755) if absent, then checks that
 * it is a directory owned by this process's effective uid with no group or
 * other permission bits. Returns 0, or a negative KV_E* code with a sentence
 * saying what is wrong and how to fix it in why[0..why_len) (borrowed).
 */
int kv_sockdir_check(const char *dir, char *why, size_t why_len);

/*
 * kv_sockdir_check() that logs the sentence as svc's error: one call in each
 * daemon's main. Returns 0 or the negative KV_E* code.
 */
int kv_sockdir_prepare(const char *dir, const char *svc);

#endif

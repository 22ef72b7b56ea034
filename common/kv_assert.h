/*
 * kv_assert.h - assertions that stay on in release builds.
 *
 * KV_ASSERT checks preconditions, postconditions and invariants of our own
 * code. Never use it on input from a client, a peer or the disk: bad input is
 * an error value (kv_err.h), not a crash.
 */
#ifndef RAFTKV_KV_ASSERT_H
#define RAFTKV_KV_ASSERT_H

/* Prints the failed expression with its place to stderr and aborts. */
void kv_assert_fail(const char *expr, const char *file, int line, const char *func)
    __attribute__((noreturn));

#define KV_ASSERT(expr) ((expr) ? (void)0 : kv_assert_fail(#expr, __FILE__, __LINE__, __func__))

#endif

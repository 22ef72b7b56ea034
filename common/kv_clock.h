/*
 * kv_clock.h - the one place the services read clocks.
 * The Raft core never calls these: time reaches it inside events.
 */
#ifndef RAFTKV_KV_CLOCK_H
#define RAFTKV_KV_CLOCK_H

#include <stdint.h>

/* Milliseconds from CLOCK_MONOTONIC: for timeouts and deadlines, never for dates. */
uint64_t kv_clock_mono_ms(void);

/* Microseconds from CLOCK_MONOTONIC: for latency measurement. */
uint64_t kv_clock_mono_us(void);

#endif

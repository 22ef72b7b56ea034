/*
 * kv_crc32c.h - CRC32C (Castagnoli), for WAL records, the hard-state file,
 * snapshot chunks and snapshot files.
 */
#ifndef RAFTKV_KV_CRC32C_H
#define RAFTKV_KV_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over len bytes of data; returns the new CRC. */
uint32_t kv_crc32c(uint32_t crc, const void *data, size_t len);

#endif

/*
 * ctl_encoding.h - how raftkvctl turns key and value bytes into text and back
 * (ctl_encoding.c): percent-encoding for paths and queries, a UTF-8 check,
 * base64 (the gateway's list answers carry non-UTF-8 keys and values in it).
 */
#ifndef RAFTKV_CTL_ENCODING_H
#define RAFTKV_CTL_ENCODING_H

#include <stddef.h>
#include <stdio.h>

/*
 * Percent-encodes bytes[0..len) into out (cap bytes, NUL added). keep_slash:
 * '/' stays as it is (key paths). Returns 0, or -1 if out is too small.
 */
int ctl_percent_encode(const char *bytes, size_t len, int keep_slash, char *out, size_t cap);

/* True when bytes[0..len) is valid UTF-8 with no NUL. */
int ctl_utf8_valid(const char *bytes, size_t len);

/* Writes bytes[0..len) as standard base64 (with padding) to f. */
void ctl_base64_write(FILE *f, const char *bytes, size_t len);

/* Decodes base64 text[0..len) into out (cap bytes). Returns the length or -1. */
long ctl_base64_decode(const char *text, size_t len, char *out, size_t cap);

#endif

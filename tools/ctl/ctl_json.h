/*
 * ctl_json.h - just enough JSON for raftkvctl to read the gateway's answers
 * and write its own (ctl_json.c): a scanner over a buffer that never copies
 * or allocates, and a string writer.
 *
 * A span points into the caller's buffer and lives as long as it does.
 */
#ifndef RAFTKV_CTL_JSON_H
#define RAFTKV_CTL_JSON_H

#include <stddef.h>
#include <stdio.h>

#define CTL_JSON_DEPTH_MAX 32

/* One JSON value in a buffer: [p, p + len). */
struct ctl_json_span {
	const char *p;
	size_t len;
};

/* The span of the whole value starting at text (leading blanks skipped); -1 if malformed. */
int ctl_json_value(const char *text, size_t len, struct ctl_json_span *out);

/* The value of member name in object obj; -1 if obj is not an object or lacks it. */
int ctl_json_member(struct ctl_json_span obj, const char *name, struct ctl_json_span *out);

/*
 * Iterates array arr: *cursor starts NULL; each call stores the next element
 * in *out and returns 1, then 0 at the end, -1 if arr is not a well-formed array.
 */
int ctl_json_next(struct ctl_json_span arr, const char **cursor, struct ctl_json_span *out);

/*
 * Decodes string value s into out (cap bytes, NUL added; escapes and \u
 * pairs to UTF-8). Returns the length, or -1 if s is not a string or too long.
 */
long ctl_json_string(struct ctl_json_span s, char *out, size_t cap);

/* s as an integer (a JSON number without fraction); -1 if it is not one. */
int ctl_json_int(struct ctl_json_span s, long long *out);

/* True when s is the literal (true, false, null). */
int ctl_json_is(struct ctl_json_span s, const char *literal);

/* Writes bytes as a JSON string (quotes, escapes); bytes must be valid UTF-8. */
void ctl_json_write_string(FILE *f, const char *bytes, size_t len);

#endif

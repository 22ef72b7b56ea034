/*
 * gw_errors.h - the JSON body of every error answer (docs/api.md "Errors"):
 *   {"error":{"code":"<snake_case>","message":"<sentence>", ...helpful fields}}
 *
 * Pure formatting; the loop thread sends it (gw_reply.h).
 */
#ifndef RAFTKV_GW_ERRORS_H
#define RAFTKV_GW_ERRORS_H

#include "gw_json.h"

#include <stdint.h>

/* Fields that help a client act on an error; zero / NULL ones are left out. */
struct gw_error_extra {
	uint64_t leader;        /* the leader's node id (not_leader, no_leader) */
	const char *leader_url; /* its gateway URL, when known */
	uint64_t limit;         /* the bound that was exceeded (with has_limit) */
	int has_limit;
	uint64_t request_id;   /* the write's request id (timeouts: outcome unknown) */
	const char *param;     /* the parameter or header at fault */
	uint64_t oldest_index; /* compacted: the oldest index the watch history holds */
};

/* Writes the error body of code (snake_case) and message to j. */
void gw_errors_format(struct gw_json *j, const char *code, const char *message,
                      const struct gw_error_extra *extra);

/* The reason phrase of an HTTP status ("Not Found"); "Error" for unknown ones. */
const char *gw_errors_reason(int status);

#endif

/*
 * kv_assert.c - the failure path of KV_ASSERT.
 */
#include "kv_assert.h"

#include <stdio.h>
#include <stdlib.h>

void kv_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "level=fatal msg=\"assertion failed\" expr=\"%s\" at=%s:%d func=%s\n", expr,
	        file, line, func);
	fflush(stderr);
	abort();
}

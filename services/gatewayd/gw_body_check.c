/*
 * gw_body_check.c - the error and the unknown-member check the JSON body
 * parsers share (gw_body_check.h). Pure code.
 */
#include "gw_body_check.h"

#include "kv_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gw_body_fail(struct gw_txn_err *err, int kv_err, uint64_t limit, const char *param,
                 const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err->message, sizeof(err->message), "%s ", param); /* "ttl_ms must ..." */

	va_start(ap, fmt);
	vsnprintf(err->message + n, sizeof(err->message) - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(err->param, sizeof(err->param), "%s", param);
	err->status = kv_err == KV_ETOOLARGE ? 413 : 400;
	err->code = kv_err_code(kv_err);
	err->limit = limit;
	return -1;
}

int gw_body_known_members(json_t *o, const char *param, const char *const *names,
                          struct gw_txn_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		int known = 0;
		for (const char *const *n = names; *n != NULL && !known; n++)
			known = strcmp(k, *n) == 0;
		if (!known)
			return gw_body_fail(err, KV_EINVAL, 0, param,
			                    "has an unknown member \"%.40s\"", k);
	}
	return 0;
}

/*
 * kv_err.c - names, codes and HTTP statuses of the KV_E* error table.
 * Pure functions; any thread.
 */
#include "kv_err.h"

#include <errno.h>

const char *kv_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define KV_ERR_MSG(name, value, http, code, msg)                                                   \
	case name:                                                                                 \
		return msg;
		KV_ERR_TABLE(KV_ERR_MSG)
#undef KV_ERR_MSG
	default:
		return "unknown error";
	}
}

const char *kv_err_code(int err)
{
	switch (err) {
#define KV_ERR_CODE(name, value, http, code, msg)                                                  \
	case name:                                                                                 \
		return code;
		KV_ERR_TABLE(KV_ERR_CODE)
#undef KV_ERR_CODE
	default:
		return "internal_error";
	}
}

int kv_err_http_status(int err)
{
	switch (err) {
#define KV_ERR_HTTP(name, value, http, code, msg)                                                  \
	case name:                                                                                 \
		return http;
		KV_ERR_TABLE(KV_ERR_HTTP)
#undef KV_ERR_HTTP
	default:
		return 500;
	}
}

int kv_err_from_errno(int errnum)
{
	switch (errnum) {
	case 0:
		return 0;
	case ENOMEM:
		return KV_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		return KV_ENOSPC;
	case EINVAL:
		return KV_EINVAL;
	case EAGAIN:
		return KV_EBUSY;
	case ETIMEDOUT:
		return KV_ETIMEDOUT;
	case EMSGSIZE:
	case EFBIG:
		return KV_ETOOLARGE;
	case ENOENT:
		return KV_ENOTFOUND;
	default:
		return KV_EIO;
	}
}

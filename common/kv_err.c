/*
 * kv_err.c - names, codes and HTTP statuses of the KV_E* error table.
 * Pure functions; any thread.
 */
#include "kv_err.h"

#include <errno.h>
#include <stddef.h>

struct kv_err_info {
	int err;
	int http_status;
	const char *code;
	const char *message;
};

static const struct kv_err_info kv_err_infos[] = {
#define KV_ERR_INFO(name, value, http, code, msg) {name, http, code, msg},
    KV_ERR_TABLE(KV_ERR_INFO)
#undef KV_ERR_INFO
};

/* The table row of err, or NULL for 0 and unknown codes. */
static const struct kv_err_info *kv_err_find(int err)
{
	for (size_t i = 0; i < sizeof(kv_err_infos) / sizeof(kv_err_infos[0]); i++)
		if (kv_err_infos[i].err == err)
			return &kv_err_infos[i];
	return NULL;
}

const char *kv_strerror(int err)
{
	if (err == 0)
		return "success";
	const struct kv_err_info *e = kv_err_find(err);
	return e ? e->message : "unknown error";
}

const char *kv_err_code(int err)
{
	const struct kv_err_info *e = kv_err_find(err);
	return e ? e->code : "internal_error";
}

int kv_err_http_status(int err)
{
	const struct kv_err_info *e = kv_err_find(err);
	return e ? e->http_status : 500;
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

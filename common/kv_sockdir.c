/*
 * kv_sockdir.c - creates and checks the private ipc:// socket directory
 * (kv_sockdir.h). Main thread, at startup.
 */
#include "kv_sockdir.h"

#include "kv_err.h"
#include "kv_fs.h"
#include "kv_log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates dir's parents (0755) and dir itself (0700); an existing dir is left as it is. */
static int sockdir_create(const char *dir)
{
	char parent[PATH_MAX];
	size_t len = strlen(dir);
	if (len == 0)
		return KV_EINVAL;
	if (len >= sizeof(parent))
		return KV_ETOOLARGE;
	memcpy(parent, dir, len + 1);
	while (len > 1 && parent[len - 1] == '/')
		parent[--len] = '\0';
	char *slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		int rc = kv_fs_mkdir_p(parent);
		if (rc != 0)
			return rc;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return kv_err_from_errno(errno);
	return 0;
}

int kv_sockdir_check(const char *dir, char *why, size_t why_len)
{
	struct stat st;
	int rc = sockdir_create(dir);
	if (rc != 0) {
		snprintf(why, why_len, "cannot create socket directory %s: %s", dir,
		         kv_strerror(rc));
		return rc;
	}
	if (lstat(dir, &st) != 0) {
		rc = kv_err_from_errno(errno);
		snprintf(why, why_len, "cannot stat socket directory %s: %s", dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "socket directory %s is not a directory (or is a symlink)",
		         dir);
		return KV_EINVAL;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, why_len,
		         "socket directory %s is owned by uid %u, not by this process's uid %u: "
		         "another user could reach the node's local sockets",
		         dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return KV_EINVAL;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, why_len,
		         "socket directory %s has mode %04o: group and others must have no access "
		         "(anyone who can connect to its sockets can write to the store); "
		         "run chmod 700 %s",
		         dir, (unsigned)(st.st_mode & 07777), dir);
		return KV_EINVAL;
	}
	return 0;
}

int kv_sockdir_prepare(const char *dir, const char *svc)
{
	char why[PATH_MAX + 256];
	int rc = kv_sockdir_check(dir, why, sizeof(why));
	if (rc != 0)
		KV_LOG_ERROR(svc, "unsafe socket directory", "err=\"%s\"", why);
	return rc;
}

/*
 * kv_fs.c - file-system helpers. Any thread.
 */
#include "kv_fs.h"

#include "kv_err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kv_fs_mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	if (len == 0)
		return KV_EINVAL;
	if (len >= sizeof(path))
		return KV_ETOOLARGE;
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return kv_err_from_errno(errno);
		path[i] = c;
	}
	return 0;
}

int kv_fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kv_err_from_errno(errno);
	int rc = fsync(fd) == 0 ? 0 : kv_err_from_errno(errno);
	close(fd);
	return rc;
}

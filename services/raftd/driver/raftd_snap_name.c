/*
 * raftd_snap_name.c - is a path storaged named an image in our snapshot
 * directory (raftd_snap_name.h)? Any thread.
 */
#include "raftd_snap_name.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SNAP_NAME_PREFIX "snapshot-"
#define SNAP_NAME_SUFFIX ".mdb"

/* name is snapshot-<something>.mdb with no '/' (the caller split at the last one). */
static int snap_name_shape_ok(const char *name)
{
	size_t n = strlen(name), pre = strlen(SNAP_NAME_PREFIX), suf = strlen(SNAP_NAME_SUFFIX);
	return n > pre + suf && strncmp(name, SNAP_NAME_PREFIX, pre) == 0 &&
	       strcmp(name + n - suf, SNAP_NAME_SUFFIX) == 0;
}

static int snap_same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISDIR(sa.st_mode) &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int raftd_snap_name_ok(const char *snap_dir, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path || !snap_name_shape_ok(slash + 1))
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return snap_same_dir(dir, snap_dir);
}

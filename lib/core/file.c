/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"

int zg_file_begin(const char *path, mode_t mode, char *tmp, size_t tmplen, FILE **out)
{
	*out = NULL;
	int n = snprintf(tmp, tmplen, "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= tmplen) {
		return -ENAMETOOLONG;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		return -errno;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, mode) != 0) {
		int ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		int ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	*out = f;
	return 0;
}

/* Syncs the directory that holds path, so that a rename in it is durable. */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
	} else if (slash == path) {
		snprintf(dir, sizeof(dir), "/");
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

int zg_file_commit(FILE *f, const char *tmp, const char *path)
{
	int ret = 0;
	errno = 0;
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		ret = errno != 0 ? -errno : -EIO;
	}
	if (fclose(f) != 0 && ret == 0) {
		ret = errno != 0 ? -errno : -EIO;
	}
	if (ret == 0 && rename(tmp, path) != 0) {
		ret = -errno;
	}
	if (ret != 0) {
		unlink(tmp);
		return ret;
	}
	sync_dir(path);
	return 0;
}

void zg_file_abort(FILE *f, const char *tmp)
{
	if (f != NULL) {
		fclose(f);
	}
	unlink(tmp);
}

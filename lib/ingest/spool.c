/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest/spool.h"

struct zg_spool {
	int dirfd;
	int incoming;
	int done;
	int failed;
	int notify;	/* inotify on incoming/, -1 without. */
};

static int open_sub(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0755) != 0 && errno != EEXIST) {
		return -errno;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int zg_spool_open(const char *dir, zg_spool_t **out)
{
	zg_spool_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->dirfd = s->incoming = s->done = s->failed = s->notify = -1;
	int ret;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		ret = -errno;
		goto fail;
	}
	if ((ret = s->incoming = open_sub(s->dirfd, "incoming")) < 0 ||
	    (ret = s->done = open_sub(s->dirfd, "done")) < 0 ||
	    (ret = s->failed = open_sub(s->dirfd, "failed")) < 0) {
		goto fail;
	}
	/* A new message wakes zg_spool_wait() up; without inotify it sleeps. */
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/incoming", dir) < (int)sizeof(path)) {
		s->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (s->notify >= 0 &&
		    inotify_add_watch(s->notify, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
			close(s->notify);
			s->notify = -1;
		}
	}
	*out = s;
	return 0;
fail:
	zg_spool_free(s);
	return ret;
}

void zg_spool_free(zg_spool_t *spool)
{
	if (spool == NULL) {
		return;
	}
	int fds[] = { spool->dirfd, spool->incoming, spool->done, spool->failed, spool->notify };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	free(spool);
}

static bool is_message(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && n <= ZG_SPOOL_NAME_MAX &&
	       strcmp(name + n - 5, ".json") == 0;
}

/* Walks incoming/: the first name in byte order, the count and the oldest mtime. */
static int scan(zg_spool_t *spool, char *first, time_t *first_mtime, size_t *count,
                time_t *oldest)
{
	int fd = dup(spool->incoming);
	if (fd < 0) {
		return -errno;
	}
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	bool found = false;
	size_t n = 0;
	time_t old = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_message(e->d_name)) {
			continue;
		}
		struct stat st;
		if (fstatat(spool->incoming, e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) {
			continue;
		}
		n++;
		if (n == 1 || st.st_mtime < old) {
			old = st.st_mtime;
		}
		if (first != NULL && (!found || strcmp(e->d_name, first) < 0)) {
			strcpy(first, e->d_name);
			if (first_mtime != NULL) {
				*first_mtime = st.st_mtime;
			}
			found = true;
		}
	}
	closedir(d);
	if (count != NULL) {
		*count = n;
	}
	if (oldest != NULL) {
		*oldest = old;
	}
	return (first == NULL || found) ? 0 : -ENOENT;
}

int zg_spool_next(zg_spool_t *spool, char *name, time_t *enqueued)
{
	return scan(spool, name, enqueued, NULL, NULL);
}

int zg_spool_list(zg_spool_t *spool, char (*names)[ZG_SPOOL_NAME_MAX + 1], size_t max,
                  size_t *count)
{
	*count = 0;
	if (max == 0) {
		return 0;
	}
	int fd = dup(spool->incoming);
	if (fd < 0) {
		return -errno;
	}
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	/* Keep the max smallest names (sorted insertion; max is small). */
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_message(e->d_name)) {
			continue;
		}
		if (n == max && strcmp(e->d_name, names[n - 1]) >= 0) {
			continue;
		}
		size_t pos = n < max ? n : max - 1;
		while (pos > 0 && strcmp(e->d_name, names[pos - 1]) < 0) {
			memcpy(names[pos], names[pos - 1], sizeof(names[0]));
			pos--;
		}
		strcpy(names[pos], e->d_name);
		if (n < max) {
			n++;
		}
	}
	closedir(d);
	*count = n;
	return 0;
}

int zg_spool_wait(zg_spool_t *spool, int timeout_ms)
{
	if (timeout_ms < 0) {
		timeout_ms = 0;
	}
	if (spool->notify < 0) {
		struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return 0;
	}
	struct pollfd pfd = { .fd = spool->notify, .events = POLLIN };
	int r = poll(&pfd, 1, timeout_ms);
	if (r <= 0) {
		return 0;
	}
	/* Drain: the next listing sees whatever arrived. */
	_Alignas(struct inotify_event) char buf[4096];
	for (int i = 0; i < 64 && read(spool->notify, buf, sizeof(buf)) > 0; i++) {
	}
	return 1;
}

int zg_spool_pending(zg_spool_t *spool, size_t *count, time_t *oldest)
{
	return scan(spool, NULL, NULL, count, oldest);
}

int zg_spool_read(zg_spool_t *spool, const char *name, size_t max,
                  char **data, size_t *len)
{
	int fd = openat(spool->incoming, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int ret = -errno;
		close(fd);
		return ret;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		*len = (size_t)st.st_size;
		return -EFBIG;
	}
	size_t size = (size_t)st.st_size;
	char *buf = malloc(size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			int ret = r < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return ret;
		}
		got += (size_t)r;
	}
	close(fd);
	buf[size] = '\0';
	*data = buf;
	*len = size;
	return 0;
}

static int move(zg_spool_t *spool, int to, const char *name)
{
	if (renameat(spool->incoming, name, to, name) != 0) {
		return -errno;
	}
	if (fsync(to) != 0 || fsync(spool->incoming) != 0) {
		return -errno;
	}
	return 0;
}

int zg_spool_done(zg_spool_t *spool, const char *name)
{
	return move(spool, spool->done, name);
}

int zg_spool_fail(zg_spool_t *spool, const char *name, const char *reason)
{
	char err[ZG_SPOOL_NAME_MAX + 16], tmp[ZG_SPOOL_NAME_MAX + 32];
	snprintf(err, sizeof(err), "%s.error", name);
	snprintf(tmp, sizeof(tmp), ".%s.error.tmp", name);
	int fd = openat(spool->failed, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -errno;
	}
	/* One line: newlines in the reason become spaces. */
	size_t n = strlen(reason);
	char *line = malloc(n + 2);
	if (line == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		line[i] = (reason[i] == '\n' || reason[i] == '\r') ? ' ' : reason[i];
	}
	line[n] = '\n';
	ssize_t w = write(fd, line, n + 1);
	free(line);
	int ret = 0;
	if (w != (ssize_t)(n + 1) || fsync(fd) != 0) {
		ret = w < 0 ? -errno : -EIO;
	}
	close(fd);
	if (ret == 0 && renameat(spool->failed, tmp, spool->failed, err) != 0) {
		ret = -errno;
	}
	if (ret != 0) {
		unlinkat(spool->failed, tmp, 0);
		return ret;
	}
	return move(spool, spool->failed, name);
}

int zg_spool_put(zg_spool_t *spool, const char *name, const char *data, size_t len)
{
	if (spool == NULL || name == NULL || data == NULL || !is_message(name) ||
	    strchr(name, '/') != NULL) {
		return -EINVAL;
	}
	char tmp[ZG_SPOOL_NAME_MAX + 16];
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	int fd = openat(spool->incoming, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -errno;
	}
	int ret = 0;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (ret == 0 && fsync(fd) != 0) {
		ret = -errno;
	}
	close(fd);
	/* Never replaces a message already there. */
	if (ret == 0 && renameat2(spool->incoming, tmp, spool->incoming, name, RENAME_NOREPLACE) != 0) {
		ret = -errno;
	}
	if (ret != 0) {
		unlinkat(spool->incoming, tmp, 0);
		return ret;
	}
	(void)fsync(spool->incoming);
	return 0;
}

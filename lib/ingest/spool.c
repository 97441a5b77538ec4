/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/error.h"
#include "core/hash.h"
#include "ingest/msg.h"
#include "ingest/spool.h"

struct zg_spool {
	int dirfd;
	int incoming;
	int done;
	int failed;
	int notify;	/* inotify on incoming/, -1 without. */
	int lock;	/* The consumer lock (zg_spool_lock()), -1 without. */
	/* The ids applied (read from done/ on the first zg_spool_applied()):
	 * an open-addressing set of "zone\nid" keys, each with its file name. */
	struct applied {
		char *key;
		char *name;
	} *applied;
	size_t applied_size;	/* Slots (a power of two), 0 until loaded. */
	size_t applied_count;
};

static int open_sub(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0755) != 0 && errno != EEXIST) {
		return -errno;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int zg_spool_open(const char *dir, zg_spool_t **out)
{
	zg_spool_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->dirfd = s->incoming = s->done = s->failed = s->notify = s->lock = -1;
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

/* Drops the record of applied ids (loaded again on the next look-up). */
static void applied_clear(zg_spool_t *spool)
{
	for (size_t i = 0; i < spool->applied_size; i++) {
		free(spool->applied[i].key);
		free(spool->applied[i].name);
	}
	free(spool->applied);
	spool->applied = NULL;
	spool->applied_size = spool->applied_count = 0;
}

void zg_spool_free(zg_spool_t *spool)
{
	if (spool == NULL) {
		return;
	}
	int fds[] = { spool->dirfd, spool->incoming, spool->done, spool->failed, spool->notify,
	              spool->lock };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	applied_clear(spool);
	free(spool);
}

/* A listing of the directory fd from its start (fd stays open), or NULL
 * with errno set. */
static DIR *open_dir(int fd)
{
	int dfd = dup(fd);
	if (dfd < 0) {
		return NULL;
	}
	DIR *d = fdopendir(dfd);
	if (d == NULL) {
		int e = errno;
		close(dfd);
		errno = e;
		return NULL;
	}
	rewinddir(d);
	return d;
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
	DIR *d = open_dir(spool->incoming);
	if (d == NULL) {
		return -errno;
	}
	bool found = false;
	size_t n = 0;
	time_t old = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_message(e->d_name)) {
			continue;
		}
		struct stat st;
		if (fstatat(spool->incoming, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode)) {
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
	DIR *d = open_dir(spool->incoming);
	if (d == NULL) {
		return -errno;
	}
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

int zg_spool_outcomes(zg_spool_t *spool, size_t *refused, char *last, time_t *last_enqueued,
                      time_t *last_applied)
{
	DIR *d = open_dir(spool->failed);
	if (d == NULL) {
		return -errno;
	}
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		n += is_message(e->d_name);
	}
	closedir(d);
	*refused = n;
	last[0] = '\0';
	*last_enqueued = *last_applied = 0;
	if ((d = open_dir(spool->done)) == NULL) {
		return -errno;
	}
	struct timespec newest = { 0, 0 };
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (!is_message(e->d_name) ||
		    fstatat(spool->done, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode)) {
			continue;
		}
		/* Newest move first; the file name breaks ties (applied in name order). */
		bool newer = st.st_ctim.tv_sec > newest.tv_sec ||
		             (st.st_ctim.tv_sec == newest.tv_sec &&
		              (st.st_ctim.tv_nsec > newest.tv_nsec ||
		               (st.st_ctim.tv_nsec == newest.tv_nsec &&
		                strcmp(e->d_name, last) > 0)));
		if (last[0] == '\0' || newer) {
			newest = st.st_ctim;
			strcpy(last, e->d_name);
			*last_enqueued = st.st_mtime;
			*last_applied = st.st_ctime;
		}
	}
	closedir(d);
	return 0;
}

static const char *kind_of(mode_t mode)
{
	return S_ISLNK(mode) ? "a symbolic link" : S_ISDIR(mode) ? "a directory" :
	       S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket" :
	       S_ISCHR(mode) || S_ISBLK(mode) ? "a device" : "not a regular file";
}

/* zg_spool_read() of the entry NAME of the directory dirfd. */
static int read_entry(int dirfd, const char *name, size_t max,
                      char **data, size_t *len, char *why, size_t why_len)
{
	why[0] = '\0';
	/* Only a regular file is opened: never follow a link, never block on a
	 * FIFO or a device (O_NONBLOCK), and check again what was opened. */
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s, not a message", kind_of(st.st_mode));
		return ZG_EINPUT;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	                                       O_CLOEXEC);
	if (fd < 0) {
		int ret = -errno;
		if (ret == -EACCES || ret == -EPERM || ret == -ELOOP) {
			snprintf(why, why_len, "%s", ret == -ELOOP ? "a symbolic link, not a message" :
			         "not readable (permission denied)");
			return ZG_EINPUT;
		}
		return ret;
	}
	if (fstat(fd, &st) != 0) {
		int ret = -errno;
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, why_len, "%s, not a message", kind_of(st.st_mode));
		return ZG_EINPUT;
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
			if (ret == -EIO && r == 0) {
				snprintf(why, why_len, "shorter than its size (being written?)");
			}
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

int zg_spool_read(zg_spool_t *spool, const char *name, size_t max,
                  char **data, size_t *len, char *why, size_t why_len)
{
	return read_entry(spool->incoming, name, max, data, len, why, why_len);
}

/* The set's key of a zone and an id: the zone in lower case with one final
 * dot, a newline (in neither), the id. NULL when out of memory. */
static char *applied_key(const char *zone, const char *id)
{
	size_t zl = strlen(zone);
	while (zl > 0 && zone[zl - 1] == '.') {
		zl--;
	}
	char *key = malloc(zl + strlen(id) + 3);
	if (key == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < zl; i++) {
		key[i] = (zone[i] >= 'A' && zone[i] <= 'Z') ? (char)(zone[i] - 'A' + 'a') : zone[i];
	}
	sprintf(key + zl, ".\n%s", id);
	return key;
}

static size_t applied_slot(const struct applied *set, size_t size, const char *key)
{
	uint64_t h = zg_fnv1a_str(ZG_FNV1A_INIT, key);
	size_t i = (size_t)h & (size - 1);
	while (set[i].key != NULL && strcmp(set[i].key, key) != 0) {
		i = (i + 1) & (size - 1);
	}
	return i;
}

/* Adds key (taken) with a copy of name; the first name of a key stays. */
static int applied_add(zg_spool_t *spool, char *key, const char *name)
{
	if (2 * (spool->applied_count + 1) > spool->applied_size) {
		size_t size = spool->applied_size > 0 ? 2 * spool->applied_size : 256;
		struct applied *set = calloc(size, sizeof(*set));
		if (set == NULL) {
			free(key);
			return -ENOMEM;
		}
		for (size_t i = 0; i < spool->applied_size; i++) {
			if (spool->applied[i].key != NULL) {
				set[applied_slot(set, size, spool->applied[i].key)] = spool->applied[i];
			}
		}
		free(spool->applied);
		spool->applied = set;
		spool->applied_size = size;
	}
	struct applied *e = &spool->applied[applied_slot(spool->applied, spool->applied_size, key)];
	if (e->key != NULL) {
		free(key);
		return 0;
	}
	e->name = strdup(name);
	if (e->name == NULL) {
		free(key);
		return -ENOMEM;
	}
	e->key = key;
	spool->applied_count++;
	return 0;
}

/* Reads the zone and id of done/NAME into the set (skipped if it has none). */
static int applied_read(zg_spool_t *spool, const char *name)
{
	char *data = NULL, why[128];
	size_t len = 0;
	int ret = read_entry(spool->done, name, SIZE_MAX - 1, &data, &len, why, sizeof(why));
	if (ret != 0) {
		/* Gone or no regular file: nothing applied under that name. */
		return ret == -ENOENT || ret == ZG_EINPUT || ret == -EFBIG ? 0 : ret;
	}
	json_t *root = json_loadb(data, len, 0, NULL);
	free(data);
	const char *zone = json_string_value(json_object_get(root, "zone"));
	const char *id = json_string_value(json_object_get(root, "id"));
	ret = 0;
	if (zone != NULL && id != NULL) {
		char *key = applied_key(zone, id);
		ret = key != NULL ? applied_add(spool, key, name) : -ENOMEM;
	}
	json_decref(root);
	return ret;
}

/* Reads done/ into the set (once). */
static int applied_load(zg_spool_t *spool)
{
	if (spool->applied_size > 0) {
		return 0;
	}
	DIR *d = open_dir(spool->done);
	if (d == NULL) {
		return -errno;
	}
	/* An empty set is loaded too (size > 0 from the first add). */
	char *none = strdup("");
	int ret = none != NULL ? applied_add(spool, none, "") : -ENOMEM;
	struct dirent *e;
	while (ret == 0 && (e = readdir(d)) != NULL) {
		if (is_message(e->d_name)) {
			ret = applied_read(spool, e->d_name);
		}
	}
	closedir(d);
	if (ret != 0) {
		applied_clear(spool);
	}
	return ret;
}

int zg_spool_applied(zg_spool_t *spool, const char *zone, const char *id, char *name)
{
	int ret = applied_load(spool);
	if (ret != 0) {
		return ret;
	}
	char *key = applied_key(zone, id);
	if (key == NULL) {
		return -ENOMEM;
	}
	const struct applied *e = &spool->applied[applied_slot(spool->applied,
	                                                        spool->applied_size, key)];
	free(key);
	if (e->key == NULL) {
		return 0;
	}
	snprintf(name, ZG_SPOOL_NAME_MAX + 1, "%s", e->name);
	return 1;
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

int zg_spool_lock(zg_spool_t *spool, char *holder, size_t holder_len)
{
	holder[0] = '\0';
	if (spool->lock >= 0) {
		return 0;
	}
	int fd = openat(spool->dirfd, ZG_SPOOL_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	                0640);
	if (fd < 0) {
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int ret = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		ssize_t r = pread(fd, holder, holder_len - 1, 0);
		holder[r > 0 ? (size_t)r : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		for (char *p = holder; *p != '\0'; p++) {
			*p = (*p < 0x20 || *p > 0x7e) ? '?' : *p;
		}
		close(fd);
		return ret;
	}
	/* Who holds it, for the message a second consumer prints. */
	char me[300] = "localhost";
	gethostname(me, 256);
	me[255] = '\0';
	size_t n = strlen(me);
	snprintf(me + n, sizeof(me) - n, " pid %ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0) {
		(void)!pwrite(fd, me, strlen(me), 0);
	}
	spool->lock = fd;
	return 0;
}

int zg_spool_done(zg_spool_t *spool, const char *name, const char *zone, const char *id)
{
	int ret = move(spool, spool->done, name);
	if (ret != 0 || spool->applied_size == 0 || zone == NULL || id == NULL) {
		return ret;
	}
	/* Moved: the record in memory follows done/ (out of memory, it would
	 * miss this id until the next load, so drop it and load again). */
	char *key = applied_key(zone, id);
	if (key == NULL || applied_add(spool, key, name) != 0) {
		applied_clear(spool);
	}
	return 0;
}

int zg_spool_fail(zg_spool_t *spool, const char *name, const char *reason)
{
	char err[ZG_SPOOL_NAME_MAX + 16], tmp[ZG_SPOOL_NAME_MAX + 32];
	snprintf(err, sizeof(err), "%s.error", name);
	snprintf(tmp, sizeof(tmp), ".%s.error.tmp", name);
	(void)unlinkat(spool->failed, tmp, 0);
	int fd = openat(spool->failed, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	                0640);
	if (fd < 0) {
		return -errno;
	}
	/* One line: control characters and bytes outside ASCII escaped. */
	size_t n = strlen(reason);
	char *line = malloc(4 * n + 2);
	if (line == NULL) {
		close(fd);
		return -ENOMEM;
	}
	zg_msg_escape(reason, line, 4 * n + 1);
	n = strlen(line);
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

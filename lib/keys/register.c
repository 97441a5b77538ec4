/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/file.h"
#include "keys/register.h"

#define REG_FIELDS	6
#define LOCK_WAIT_MS	10000
#define REG_MAX_SIZE	(64 * 1024 * 1024)

void zg_reg_init(zg_reg_t *reg)
{
	memset(reg, 0, sizeof(*reg));
}

void zg_reg_deinit(zg_reg_t *reg)
{
	free(reg->e);
	memset(reg, 0, sizeof(*reg));
}

static int reg_push(zg_reg_t *reg, const zg_reg_entry_t *e)
{
	if (reg->count == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 16;
		zg_reg_entry_t *n = realloc(reg->e, cap * sizeof(*n));
		if (n == NULL) {
			return -ENOMEM;
		}
		reg->e = n;
		reg->cap = cap;
	}
	reg->e[reg->count++] = *e;
	return 0;
}

char *zg_keys_time_str(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, len, "@%lld", (long long)t);
	}
	return buf;
}

int zg_keys_time_parse(const char *s, int64_t *t)
{
	struct tm tm = { 0 };
	char z = 0, extra = 0;
	if (strlen(s) != 20 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &extra) != 7 || z != 'Z') {
		return ZG_ESYNTAX;
	}
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
		return ZG_ESYNTAX;
	}
	int mday = tm.tm_mday;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t v = timegm(&tm);
	if (v == (time_t)-1 || tm.tm_mday != mday) { /* 2026-02-30 normalised: refused. */
		return ZG_ESYNTAX;
	}
	*t = (int64_t)v;
	return 0;
}

int zg_keys_duration_parse(const char *s, int64_t *secs)
{
	if (s == NULL || !isdigit((unsigned char)s[0])) {
		return ZG_ESYNTAX;
	}
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0) {
		return ZG_ESYNTAX;
	}
	long long mul = 1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return ZG_ESYNTAX;
		}
		if (end[1] != '\0') {
			return ZG_ESYNTAX;
		}
	}
	if (v > INT64_MAX / mul) {
		return ZG_ESYNTAX;
	}
	*secs = v * mul;
	return 0;
}

char *zg_keys_duration_str(int64_t secs, char *buf, size_t len)
{
	static const struct { int64_t s; char u; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	const char *sign = "";
	if (secs < 0) {
		sign = "-";
		secs = -secs;
	}
	if (secs == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	size_t pos = (size_t)snprintf(buf, len, "%s", sign);
	int parts = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && parts < 2 && pos < len; i++) {
		if (secs >= units[i].s) {
			pos += (size_t)snprintf(buf + pos, len - pos, "%lld%c",
			                        (long long)(secs / units[i].s), units[i].u);
			secs %= units[i].s;
			parts++;
		} else if (parts > 0) {
			break; /* "1d5m" would mislead: show the two largest adjacent units. */
		}
	}
	return buf;
}

static bool valid_zone(const char *z)
{
	size_t len = strlen(z);
	if (len == 0 || len >= ZG_REG_ZONE_MAX || z[len - 1] != '.') {
		return false;
	}
	if (len == 1) {
		return true; /* The root. */
	}
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)z[i];
		if (c == '.') {
			if (label == 0 || label > 63) {
				return false;
			}
			label = 0;
		} else if (isupper(c) || isspace(c) || !isprint(c)) {
			return false;
		} else {
			label++;
		}
	}
	return true;
}

static bool valid_hex(const char *s)
{
	size_t len = strlen(s);
	if (len < 2 || len >= ZG_REG_ID_MAX || len % 2 != 0) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
			return false;
		}
	}
	return true;
}

static bool valid_text(const char *s, bool allow_space)
{
	if (s[0] == '\0') {
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || (!allow_space && *p == ' ')) {
			return false;
		}
	}
	return true;
}

int zg_reg_entry_check(const zg_reg_entry_t *e, char *why, size_t whylen)
{
	if (!valid_zone(e->zone)) {
		snprintf(why, whylen, "zone '%s' is not a lowercase domain name with the final dot",
		         e->zone);
	} else if (!valid_hex(e->id)) {
		snprintf(why, whylen, "key id '%s' is not lowercase hexadecimal", e->id);
	} else if (!valid_text(e->keystore, false)) {
		snprintf(why, whylen, "keystore '%s' is empty or has blanks or control characters",
		         e->keystore);
	} else if (e->time <= 0) {
		snprintf(why, whylen, "no backup time");
	} else if (!valid_text(e->location, true)) {
		snprintf(why, whylen, "location is empty or has tabs or control characters");
	} else {
		return 0;
	}
	return ZG_EINPUT;
}

/* Copies field f (NUL-terminated) into dst of size n; false if too long. */
static bool field_copy(char *dst, size_t n, const char *f)
{
	size_t len = strlen(f);
	if (len >= n) {
		return false;
	}
	memcpy(dst, f, len + 1);
	return true;
}

static int parse_line(char *line, zg_reg_entry_t *e, char *why, size_t whylen)
{
	char *f[REG_FIELDS + 1];
	size_t nf = 0;
	char *p = line;
	while (nf <= REG_FIELDS) {
		f[nf++] = p;
		char *tab = strchr(p, '\t');
		if (tab == NULL) {
			break;
		}
		*tab = '\0';
		p = tab + 1;
	}
	if (nf != REG_FIELDS) {
		snprintf(why, whylen, "%s%zu tab-separated fields, %d expected",
		         nf > REG_FIELDS ? "more than " : "", nf > REG_FIELDS ? (size_t)REG_FIELDS : nf,
		         REG_FIELDS);
		return ZG_ESYNTAX;
	}
	memset(e, 0, sizeof(*e));
	char *end;
	errno = 0;
	unsigned long tag = strtoul(f[2], &end, 10);
	if (!field_copy(e->zone, sizeof(e->zone), f[0]) ||
	    !field_copy(e->id, sizeof(e->id), f[1]) ||
	    !field_copy(e->keystore, sizeof(e->keystore), f[3]) ||
	    !field_copy(e->location, sizeof(e->location), f[5])) {
		snprintf(why, whylen, "a field is too long");
		return ZG_ESYNTAX;
	}
	if (f[2][0] == '\0' || *end != '\0' || errno != 0 || tag > 65535 || !isdigit((unsigned char)f[2][0])) {
		snprintf(why, whylen, "key tag '%s' is not a number 0-65535", f[2]);
		return ZG_ESYNTAX;
	}
	e->tag = (uint16_t)tag;
	if (zg_keys_time_parse(f[4], &e->time) != 0) {
		snprintf(why, whylen, "backup time '%s' is not YYYY-MM-DDTHH:MM:SSZ", f[4]);
		return ZG_ESYNTAX;
	}
	return zg_reg_entry_check(e, why, whylen) == 0 ? 0 : ZG_ESYNTAX;
}

int zg_reg_parse(zg_reg_t *reg, const char *text, size_t len, char *err, size_t errlen)
{
	zg_reg_deinit(reg);
	err[0] = '\0';
	char *buf = malloc(len + 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "not a text file (NUL byte)");
		free(buf);
		return ZG_ESYNTAX;
	}
	int ret = 0;
	size_t lineno = 0;
	bool magic = false;
	char *save = NULL;
	for (char *p = buf; p != NULL && ret == 0; p = save) {
		char *nl = strchr(p, '\n');
		save = nl != NULL ? nl + 1 : NULL;
		if (nl != NULL) {
			*nl = '\0';
		} else if (*p == '\0') {
			break;
		}
		lineno++;
		size_t l = strlen(p);
		if (l > 0 && p[l - 1] == '\r') {
			p[--l] = '\0';
		}
		if (!magic) {
			if (strcmp(p, ZG_REG_MAGIC) != 0) {
				snprintf(err, errlen, "line %zu: not a zonegate key register (first line "
				         "must be '%s')", lineno, ZG_REG_MAGIC);
				ret = ZG_ESYNTAX;
			}
			magic = true;
			continue;
		}
		if (l == 0 || p[0] == '#') {
			continue;
		}
		zg_reg_entry_t e;
		char why[256];
		if (parse_line(p, &e, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "line %zu: %s", lineno, why);
			ret = ZG_ESYNTAX;
		} else {
			ret = reg_push(reg, &e);
		}
	}
	if (ret == 0 && !magic) {
		snprintf(err, errlen, "empty file, not a zonegate key register");
		ret = ZG_ESYNTAX;
	}
	free(buf);
	if (ret != 0) {
		zg_reg_deinit(reg);
	}
	return ret;
}

/* Reads a whole regular file (at most REG_MAX_SIZE) into a malloc'd buffer. */
static int read_file(const char *path, char **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return r;
	}
	if (st.st_size > REG_MAX_SIZE) {
		close(fd);
		return -EFBIG;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	size_t have = 0;
	for (;;) {
		ssize_t r = read(fd, buf + have, (size_t)st.st_size + 1 - have);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0 || have + (size_t)r > (size_t)st.st_size) {
			have += (size_t)(r > 0 ? r : 0);
			break;
		}
		have += (size_t)r;
	}
	close(fd);
	if (have > (size_t)st.st_size) {
		free(buf);
		return -EAGAIN; /* Grew while read: not a file the register writes. */
	}
	buf[have] = '\0';
	*out = buf;
	*outlen = have;
	return 0;
}

int zg_reg_load(zg_reg_t *reg, const char *path, char *err, size_t errlen)
{
	zg_reg_deinit(reg);
	err[0] = '\0';
	char *text = NULL;
	size_t len = 0;
	int ret = read_file(path, &text, &len);
	if (ret == -ENOENT) {
		snprintf(err, errlen, "register %s does not exist", path);
		return ret;
	}
	if (ret != 0) {
		snprintf(err, errlen, "cannot read register %s (%s)", path, zg_strerror(ret));
		return ret;
	}
	char why[384];
	ret = zg_reg_parse(reg, text, len, why, sizeof(why));
	free(text);
	if (ret != 0) {
		snprintf(err, errlen, "register %s is corrupt, %s", path, why);
	}
	return ret;
}

int zg_reg_format(const zg_reg_t *reg, char **text, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL) {
		return -ENOMEM;
	}
	fprintf(f, "%s\n# zone\tkey-id\tkey-tag\tkeystore\tbacked-up\tlocation\n", ZG_REG_MAGIC);
	for (size_t i = 0; i < reg->count; i++) {
		const zg_reg_entry_t *e = &reg->e[i];
		char t[32];
		fprintf(f, "%s\t%s\t%u\t%s\t%s\t%s\n", e->zone, e->id, (unsigned)e->tag, e->keystore,
		        zg_keys_time_str(e->time, t, sizeof(t)), e->location);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	*len = size;
	return 0;
}

const zg_reg_entry_t *zg_reg_latest(const zg_reg_t *reg, const char *zone, const char *id)
{
	const zg_reg_entry_t *best = NULL;
	for (size_t i = 0; i < reg->count; i++) {
		const zg_reg_entry_t *e = &reg->e[i];
		if (strcasecmp(e->zone, zone) == 0 && strcasecmp(e->id, id) == 0 &&
		    (best == NULL || e->time >= best->time)) {
			best = e;
		}
	}
	return best;
}

static int lock_wait(int fd)
{
	for (int waited = 0; ; waited += 50) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			return 0;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			return -errno;
		}
		if (waited >= LOCK_WAIT_MS) {
			return ZG_ETIMEOUT;
		}
		usleep(50000);
	}
}

/* Writes len bytes of text to path atomically (core/file.h). */
static int write_atomic(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	char tmp[4200];
	FILE *f = NULL;
	int ret = zg_file_begin(path, 0644, tmp, sizeof(tmp), &f);
	if (ret == 0) {
		errno = 0;
		if (len > 0 && fwrite(text, 1, len, f) != len) {
			ret = errno != 0 ? -errno : -EIO;
			zg_file_abort(f, tmp);
		} else {
			ret = zg_file_commit(f, tmp, path);
		}
	}
	if (ret != 0) {
		snprintf(err, errlen, "cannot write register %s (%s)", path, zg_strerror(ret));
	}
	return ret;
}

int zg_reg_append(const char *path, const zg_reg_entry_t *entries, size_t n, size_t *added,
                  char *err, size_t errlen)
{
	err[0] = '\0';
	if (added != NULL) {
		*added = 0;
	}
	for (size_t i = 0; i < n; i++) {
		char why[256];
		if (zg_reg_entry_check(&entries[i], why, sizeof(why)) != 0) {
			snprintf(err, errlen, "register entry for key %.64s of %.255s refused, %s",
			         entries[i].id, entries[i].zone, why);
			return ZG_EINPUT;
		}
	}
	char lockpath[4200];
	if (snprintf(lockpath, sizeof(lockpath), "%s.lock", path) >= (int)sizeof(lockpath)) {
		snprintf(err, errlen, "register path too long");
		return -ENAMETOOLONG;
	}
	int lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0) {
		int r = -errno;
		snprintf(err, errlen, "cannot open lock file %s (%s)", lockpath, zg_strerror(r));
		return r;
	}
	int ret = lock_wait(lfd);
	if (ret != 0) {
		snprintf(err, errlen, "cannot lock %s (%s)", lockpath, zg_strerror(ret));
		close(lfd);
		return ret;
	}
	zg_reg_t reg;
	zg_reg_init(&reg);
	ret = zg_reg_load(&reg, path, err, errlen);
	if (ret == -ENOENT) {
		ret = 0;
		err[0] = '\0';
	}
	size_t count = 0;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		const zg_reg_entry_t *e = &entries[i];
		bool dup = false;
		for (size_t j = 0; j < reg.count && !dup; j++) {
			dup = strcmp(reg.e[j].zone, e->zone) == 0 && strcmp(reg.e[j].id, e->id) == 0 &&
			      strcmp(reg.e[j].location, e->location) == 0;
		}
		if (!dup) {
			ret = reg_push(&reg, e);
			count++;
		}
	}
	char *text = NULL;
	size_t len = 0;
	if (ret == 0 && count > 0) {
		ret = zg_reg_format(&reg, &text, &len);
		if (ret == 0) {
			ret = write_atomic(path, text, len, err, errlen);
		}
	}
	if (ret == -ENOMEM && err[0] == '\0') {
		snprintf(err, errlen, "out of memory");
	}
	free(text);
	zg_reg_deinit(&reg);
	flock(lfd, LOCK_UN);
	close(lfd);
	if (ret == 0 && added != NULL) {
		*added = count;
	}
	return ret;
}

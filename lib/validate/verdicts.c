/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libknot/consts.h>

#include "core/file.h"
#include "validate/verdicts.h"

#define MAGIC "zonegate-mod-validate"

void zg_verdicts_record(zg_verdicts_t *s, uint32_t serial, bool valid, int64_t time,
                        int64_t expiry, const zg_digest_t *digest)
{
	unsigned n = s->count;
	for (unsigned i = 0; i < n; i++) {
		if (s->v[i].serial == serial) {
			memmove(&s->v[i], &s->v[i + 1], (n - i - 1) * sizeof(s->v[0]));
			n--;
			break;
		}
	}
	if (n == ZG_VERDICTS_MAX) {
		memmove(&s->v[0], &s->v[1], (n - 1) * sizeof(s->v[0]));
		n--;
	}
	s->v[n] = (zg_verdict_t){
		.serial = serial,
		.valid = valid,
		.time = time,
		.expiry = valid ? expiry : INT64_MAX,
		.has_digest = digest != NULL,
	};
	if (digest != NULL) {
		s->v[n].digest = *digest;
	}
	s->count = n + 1;
	if (valid) {
		s->last_valid = serial;
		s->have_last_valid = true;
	}
}

bool zg_verdicts_digest(const zg_verdicts_t *s, uint32_t serial, bool valid_only,
                        zg_digest_t *out)
{
	bool found = false;
	for (unsigned i = 0; i < s->count; i++) {
		const zg_verdict_t *e = &s->v[i];
		if (e->serial == serial && e->has_digest && (e->valid || !valid_only)) {
			*out = e->digest;
			found = true;
		}
	}
	return found;
}

int zg_verdicts_write(const zg_verdicts_t *s, const char *zone, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int ret = zg_file_begin(path, 0640, tmp, sizeof(tmp), &f);
	if (ret != 0) {
		return ret;
	}
	fprintf(f, MAGIC " 2\nzone %s\nkey ", zone);
	for (int i = 0; i < ZG_DIGEST_KEY_LEN; i++) {
		fprintf(f, "%02x", s->key[i]);
	}
	fprintf(f, "\n");
	if (s->have_last_valid) {
		fprintf(f, "last-validated %u\n", s->last_valid);
	}
	if (s->lease_token > 0) {
		fprintf(f, "lease-token %lld\n", (long long)s->lease_token);
	}
	for (unsigned i = 0; i < s->count; i++) {
		const zg_verdict_t *e = &s->v[i];
		fprintf(f, "verdict %u %s %lld ", e->serial, e->valid ? "valid" : "failed",
		        (long long)e->time);
		if (e->valid && e->expiry != INT64_MAX) {
			fprintf(f, "%lld ", (long long)e->expiry);
		} else {
			fprintf(f, "- ");
		}
		char d[ZG_DIGEST_STR_LEN + 1] = "-";
		if (e->has_digest) {
			zg_digest_str(&e->digest, d, sizeof(d));
		}
		fprintf(f, "%s\n", d);
	}
	fprintf(f, "end %u\n", s->count);
	return zg_file_commit(f, tmp, path);
}

/* Parses an unsigned decimal number not above max. */
static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || *s < '0' || *s > '9') {
		return false;
	}
	errno = 0;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* Parses hex digits into out (exactly len bytes). */
static bool parse_hex(const char *s, uint8_t *out, size_t len)
{
	if (strlen(s) != 2 * len) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1) {
			return false;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}

/* One line (tokens tok[0..ntok-1]) of the file into st. */
static int parse_line(zg_verdicts_t *st, const char *zone, unsigned line, char **tok,
                      unsigned ntok, bool *ended, const char **why)
{
	uint64_t a, b, c;
	unsigned n = st->count;
	if (line == 1) {
		if (ntok == 2 && strcmp(tok[0], MAGIC) == 0) {
			if (strcmp(tok[1], "1") != 0 && strcmp(tok[1], "2") != 0) {
				*why = "unsupported version";
				return -EINVAL;
			}
			st->version = (unsigned)(tok[1][0] - '0');
			return 0;
		}
		*why = "not a mod-validate state file";
		return -EINVAL;
	} else if (line == 2) {
		if (ntok != 2 || strcmp(tok[0], "zone") != 0) {
			*why = "zone line expected";
			return -EINVAL;
		}
		if (strcasecmp(tok[1], zone) != 0) {
			*why = "state of another zone";
			return -EINVAL;
		}
	} else if (st->version >= 2 && line == 3) {
		if (ntok != 2 || strcmp(tok[0], "key") != 0 ||
		    !parse_hex(tok[1], st->key, sizeof(st->key))) {
			*why = "key line expected";
			return -EINVAL;
		}
		st->have_key = true;
	} else if (ntok == 2 && strcmp(tok[0], "last-validated") == 0 && n == 0 &&
	           !st->have_last_valid) {
		if (!parse_num(tok[1], UINT32_MAX, &a)) {
			*why = "bad serial";
			return -EINVAL;
		}
		st->last_valid = (uint32_t)a;
		st->have_last_valid = true;
	} else if (ntok == 2 && strcmp(tok[0], "lease-token") == 0 && n == 0 &&
	           st->lease_token == 0) {
		if (!parse_num(tok[1], INT64_MAX, &a) || a == 0) {
			*why = "bad lease token";
			return -EINVAL;
		}
		st->lease_token = (int64_t)a;
	} else if (ntok == 4 + st->version && strcmp(tok[0], "verdict") == 0) {
		bool valid = strcmp(tok[2], "valid") == 0;
		if (!valid && strcmp(tok[2], "failed") != 0) {
			*why = "verdict must be valid or failed";
			return -EINVAL;
		}
		if (!parse_num(tok[1], UINT32_MAX, &a) || !parse_num(tok[3], INT64_MAX, &b)) {
			*why = "bad serial or time";
			return -EINVAL;
		}
		c = INT64_MAX;
		if (strcmp(tok[4], "-") != 0 && (!valid || !parse_num(tok[4], INT64_MAX, &c))) {
			*why = "bad expiry";
			return -EINVAL;
		}
		if (n == ZG_VERDICTS_MAX) {
			*why = "too many verdicts";
			return -EINVAL;
		}
		zg_verdict_t *e = &st->v[n];
		*e = (zg_verdict_t){
			.serial = (uint32_t)a, .valid = valid, .restored = true,
			.time = (int64_t)b, .expiry = (int64_t)c,
		};
		if (st->version >= 2 && strcmp(tok[5], "-") != 0) {
			if (zg_digest_parse(tok[5], &e->digest) != 0) {
				*why = "bad content digest";
				return -EINVAL;
			}
			e->has_digest = true;
		}
		st->count = n + 1;
	} else if (ntok == 2 && strcmp(tok[0], "end") == 0) {
		if (!parse_num(tok[1], ZG_VERDICTS_MAX, &a) || a != n) {
			*why = "verdict count does not match";
			return -EINVAL;
		}
		*ended = true;
	} else {
		*why = "unknown line";
		return -EINVAL;
	}
	return 0;
}

int zg_verdicts_parse(FILE *f, const char *zone, zg_verdicts_t *out, unsigned *line,
                      const char **why)
{
	zg_verdicts_t *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return -ENOMEM;
	}
	char buf[256];
	bool ended = false;
	int ret = 0;
	*line = 0;
	*why = NULL;
	while (ret == 0 && fgets(buf, sizeof(buf), f) != NULL) {
		(*line)++;
		size_t len = strlen(buf);
		if (len == 0 || buf[len - 1] != '\n') {
			*why = "line too long or not terminated";
			ret = -EINVAL;
			break;
		}
		buf[len - 1] = '\0';
		if (ended) {
			*why = "data after the end line";
			ret = -EINVAL;
			break;
		}
		char *save = NULL;
		char *tok[7] = { NULL };
		unsigned ntok = 0;
		for (char *t = strtok_r(buf, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
			if (ntok == 7) {
				*why = "too many fields";
				ret = -EINVAL;
				break;
			}
			tok[ntok++] = t;
		}
		if (ret == 0) {
			ret = parse_line(st, zone, *line, tok, ntok, &ended, why);
		}
	}
	if (ret == 0 && ferror(f)) {
		ret = errno != 0 ? -errno : -EIO;
	}
	if (ret == 0 && !ended) {
		(*line)++;
		*why = "end line missing (file truncated)";
		ret = -EINVAL;
	}
	if (ret == 0) {
		*out = *st;
	}
	free(st);
	return ret;
}

int zg_verdicts_path(const char *dir, const char *zone, char *out, size_t len)
{
	char name[4 * (KNOT_DNAME_TXT_MAXLEN + 1)] = "";
	size_t n = 0;
	if (strcmp(zone, ".") == 0) {
		snprintf(name, sizeof(name), "root");
	} else {
		for (const char *p = zone; *p != '\0' && n + 5 < sizeof(name); p++) {
			if (*p == '.' && p[1] == '\0') {
				break;
			}
			if (*p == '/') {
				memcpy(name + n, "\\047", 4);
				n += 4;
			} else {
				name[n++] = *p;
			}
		}
		name[n] = '\0';
	}
	int r = snprintf(out, len, "%s/%s.mod-validate", dir, name);
	if (r < 0 || (size_t)r >= len) {
		if (len > 0) {
			out[0] = '\0';
		}
		return -ENAMETOOLONG;
	}
	return 0;
}

int zg_verdicts_path_at(const char *cwd, const char *dir, const char *zone,
                        char *out, size_t len)
{
	if (len > 0) {
		out[0] = '\0';
	}
	if (dir == NULL || dir[0] == '\0') {
		return -ENOENT;
	}
	bool join = dir[0] != '/' && cwd != NULL && cwd[0] != '\0';
	char full[PATH_MAX];
	int n = snprintf(full, sizeof(full), "%s%s%s", join ? cwd : "", join ? "/" : "", dir);
	if (n < 0 || (size_t)n >= sizeof(full)) {
		return -ENAMETOOLONG;
	}
	return zg_verdicts_path(full, zone, out, len);
}

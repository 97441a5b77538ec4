/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE /* memrchr */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libzscanner/scanner.h>

#include "core/error.h"
#include "validate/zone.h"

typedef struct {
	zg_zone_t *zone;
	zg_load_error_t *err;
	int ret;
} load_ctx_t;

static void set_err(zg_load_error_t *err, const char *file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_err(zg_load_error_t *err, const char *file, uint64_t line, const char *fmt, ...)
{
	if (err == NULL) {
		return;
	}
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
}

static void on_error(zs_scanner_t *s)
{
	load_ctx_t *ctx = s->process.data;
	if (ctx->ret == 0) {
		ctx->ret = ZG_ESYNTAX;
		set_err(ctx->err, s->file.name, s->line_counter, "%s", zs_strerror(s->error.code));
	}
	s->state = ZS_STATE_STOP;
}

static void on_record(zs_scanner_t *s)
{
	load_ctx_t *ctx = s->process.data;
	if (s->r_class != KNOT_CLASS_IN) {
		ctx->ret = ZG_EINPUT;
		set_err(ctx->err, s->file.name, s->line_counter, "class %u is not IN", s->r_class);
		s->state = ZS_STATE_STOP;
		return;
	}
	int ret = zg_zone_add(ctx->zone, s->r_owner, s->r_type, s->r_ttl, s->r_data,
	                      (uint16_t)s->r_data_length);
	if (ret != 0) {
		ctx->ret = ret;
		char owner[1024], type[32];
		zg_dname_str(s->r_owner, owner, sizeof(owner));
		knot_rrtype_to_string(s->r_type, type, sizeof(type));
		if (ret == ZG_EOUTOFZONE) {
			char origin[1024];
			zg_dname_str(zg_zone_origin(ctx->zone), origin, sizeof(origin));
			set_err(ctx->err, s->file.name, s->line_counter,
			        "%s %s is outside the zone %s", owner, type, origin);
		} else {
			set_err(ctx->err, s->file.name, s->line_counter, "%s %s: %s", owner, type,
			        zg_strerror(ret));
		}
		s->state = ZS_STATE_STOP;
	}
}

/* Finds the owner of the first SOA record; parses the file with origin ".". */
static int set_input(zs_scanner_t *s, const char *path, const char *text, size_t len);

static int find_origin(const char *path, const char *text, size_t text_len, uint8_t *origin,
                       zg_load_error_t *err)
{
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	int ret = ZG_EINPUT;
	if (zs_init(s, ".", KNOT_CLASS_IN, 3600) != 0 || set_input(s, path, text, text_len) != 0) {
		ret = (s->error.code == ZS_FILE_ACCESS || s->error.code == ZS_FILE_OPEN) ? -ENOENT : ZG_ESYNTAX;
		set_err(err, path, 0, "%s", zs_strerror(s->error.code));
		zs_deinit(s);
		free(s);
		return ret;
	}
	set_err(err, path, 0, "no SOA record found (use -o ORIGIN)");
	for (;;) {
		if (zs_parse_record(s) != 0) {
			ret = ZG_ESYNTAX;
			set_err(err, s->file.name ? s->file.name : path, s->line_counter, "%s",
			        zs_strerror(s->error.code));
			break;
		}
		if (s->state == ZS_STATE_DATA && s->r_type == KNOT_RRTYPE_SOA) {
			memcpy(origin, s->r_owner, s->r_owner_length);
			ret = 0;
			break;
		}
		if (s->state == ZS_STATE_ERROR) {
			ret = ZG_ESYNTAX;
			set_err(err, s->file.name ? s->file.name : path, s->line_counter, "%s",
			        zs_strerror(s->error.code));
			break;
		}
		if (s->state == ZS_STATE_EOF || s->state == ZS_STATE_STOP) {
			break;
		}
	}
	zs_deinit(s);
	free(s);
	return ret;
}

static int set_input(zs_scanner_t *s, const char *path, const char *text, size_t len)
{
	return text != NULL ? zs_set_input_string(s, text, len) : zs_set_input_file(s, path);
}

static int load(zg_zone_t **out, const char *path, const char *text, size_t text_len,
                const char *origin_str, zg_load_error_t *err)
{
	uint8_t origin[ZG_DNAME_MAXLEN];
	if (origin_str != NULL) {
		if (knot_dname_from_str(origin, origin_str, sizeof(origin)) == NULL) {
			set_err(err, path, 0, "bad origin '%s'", origin_str);
			return ZG_EINPUT;
		}
	} else {
		int ret = find_origin(path, text, text_len, origin, err);
		if (ret != 0) {
			return ret;
		}
	}
	char origin_txt[1024];
	zg_dname_str(origin, origin_txt, sizeof(origin_txt));

	zg_zone_t *zone = NULL;
	int ret = zg_zone_new(&zone, origin);
	if (ret != 0) {
		set_err(err, path, 0, "%s", zg_strerror(ret));
		return ret;
	}
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		zg_zone_free(zone);
		return -ENOMEM;
	}
	load_ctx_t ctx = { .zone = zone, .err = err, .ret = 0 };
	if (zs_init(s, origin_txt, KNOT_CLASS_IN, 3600) != 0 ||
	    set_input(s, path, text, text_len) != 0 ||
	    zs_set_processing(s, on_record, on_error, &ctx) != 0) {
		set_err(err, path, 0, "%s", zs_strerror(s->error.code));
		ret = ZG_ESYNTAX;
	} else if (zs_parse_all(s) != 0 && ctx.ret == 0) {
		set_err(err, s->file.name ? s->file.name : path, s->line_counter, "%s",
		        zs_strerror(s->error.code));
		ret = ZG_ESYNTAX;
	} else {
		ret = ctx.ret;
	}
	zs_deinit(s);
	free(s);
	if (ret == 0) {
		ret = zg_zone_finalize(zone);
		if (ret != 0) {
			set_err(err, path, 0, "%s", zg_strerror(ret));
		}
	}
	if (ret == 0) {
		bool found;
		zg_zone_serial(zone, &found);
		if (!found) {
			set_err(err, path, 0, "no SOA record at the zone apex %s", origin_txt);
			ret = ZG_EINPUT;
		}
	}
	if (ret != 0) {
		zg_zone_free(zone);
		return ret;
	}
	*out = zone;
	return 0;
}

/* ---- parallel load: cutting the text ---- */

/* A cut and the directives in force there (lines without their newline). */
typedef struct {
	size_t off;
	const char *origin;
	size_t origin_len;
	const char *ttl;
	size_t ttl_len;
} cut_t;

static bool owner_char(char c)
{
	return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ';' && c != '(' &&
	       c != ')' && c != '"' && c != '$';
}

static size_t token_len(const char *t, size_t len, size_t at)
{
	size_t i = at;
	while (i < len && t[i] != ' ' && t[i] != '\t' && t[i] != '\r' && t[i] != '\n' &&
	       t[i] != ';' && t[i] != '(' && t[i] != ')') {
		i += (t[i] == '\\' && i + 1 < len) ? 2 : 1;
	}
	return i - at;
}

static bool is_directive(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n + 1 && strncasecmp(line + 1, name, n) == 0 &&
	       (line[n + 1] == ' ' || line[n + 1] == '\t');
}

/* 16 bytes at a time (GCC vector extension; plain SSE2 on x86-64). */
typedef uint8_t bytes16_t __attribute__((vector_size(16)));
typedef signed char mask16_t __attribute__((vector_size(16)));

/*
 * Skips bytes that do not change the lexical state of split_text() (all but
 * newline, backslash, quote, parentheses and semicolon): most of a signed
 * zone is base64 and hexadecimal text without them.
 */
static size_t skip_plain(const char *t, size_t i, size_t len, const bool *special)
{
	const bytes16_t nl = (bytes16_t){ 0 } + '\n', bs = (bytes16_t){ 0 } + '\\',
	                qt = (bytes16_t){ 0 } + '"', op = (bytes16_t){ 0 } + '(',
	                cp = (bytes16_t){ 0 } + ')', sc = (bytes16_t){ 0 } + ';';
	while (i + sizeof(bytes16_t) <= len) {
		bytes16_t v;
		memcpy(&v, t + i, sizeof(v));
		mask16_t m = (v == nl) | (v == bs) | (v == qt) | (v == op) | (v == cp) | (v == sc);
		uint64_t w[2];
		memcpy(w, &m, sizeof(w));
		if ((w[0] | w[1]) != 0) {
			break;
		}
		i += sizeof(bytes16_t);
	}
	while (i < len && !special[(uint8_t)t[i]]) {
		i++;
	}
	return i;
}

/*
 * Follows the lexical structure libzscanner sees (comments, quoted strings,
 * escapes, parentheses) from the start of the text to the last cut. Only a
 * guide: the loader checks each part's outcome and falls back to one part.
 */
static unsigned split_text(const char *t, size_t len, unsigned parts, cut_t *cuts)
{
	if (parts < 2 || len == 0) {
		return 1;
	}
	/* Bytes that change the lexical state; everything else is skipped fast. */
	static const bool special[256] = {
		['\n'] = true, ['\\'] = true, ['"'] = true, ['('] = true, [')'] = true,
		[';'] = true,
	};
	unsigned n = 0;
	cut_t dir = { 0 };
	size_t owner_at = SIZE_MAX; /* line of the last record with an explicit owner */
	unsigned depth = 0;
	bool quote = false;
	size_t target = len / parts;
	size_t i = 0;
	while (i < len && n + 1 < parts) {
		/* At the start of a line. */
		if (!quote && depth == 0) {
			if (t[i] == '$') {
				const char *nl = memchr(t + i, '\n', len - i);
				size_t l = (nl != NULL ? (size_t)(nl - t) : len) - i;
				if (is_directive(t + i, l, "ORIGIN")) {
					dir.origin = t + i;
					dir.origin_len = l;
				} else if (is_directive(t + i, l, "TTL")) {
					dir.ttl = t + i;
					dir.ttl_len = l;
				}
			} else if (owner_char(t[i])) {
				if (i >= target) {
					size_t tl = token_len(t, len, i);
					bool same = owner_at != SIZE_MAX &&
					            token_len(t, len, owner_at) == tl &&
					            memcmp(t + owner_at, t + i, tl) == 0;
					if (!same) {
						cuts[n] = dir;
						cuts[n].off = i;
						n++;
						target = (size_t)((unsigned __int128)len * (n + 1) / parts);
					}
				}
				owner_at = i;
			}
		}
		/* The rest of the line. */
		while (i < len) {
			i = skip_plain(t, i, len, special);
			if (i == len) {
				break;
			}
			char c = t[i++];
			if (c == '\n') {
				break;
			} else if (c == '\\') {
				i += (i < len);
			} else if (quote) {
				quote = (c != '"');
			} else if (c == '"') {
				quote = true;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				depth -= (depth > 0);
			} else if (c == ';') {
				const char *nl = memchr(t + i, '\n', len - i);
				i = (nl != NULL) ? (size_t)(nl - t) : len;
			}
		}
	}
	return n + 1;
}

unsigned zg_zone_text_split(const char *text, size_t len, unsigned parts, size_t *cuts)
{
	cut_t c[ZG_LOAD_MAX_PARTS];
	if (parts > ZG_LOAD_MAX_PARTS) {
		parts = ZG_LOAD_MAX_PARTS;
	}
	unsigned n = split_text(text, len, parts, c);
	for (unsigned i = 0; i + 1 < n; i++) {
		cuts[i] = c[i].off;
	}
	return n;
}

/* ---- parallel load: parsing the parts ---- */

typedef struct {
	const char *path;
	const char *dir;          /* for relative $INCLUDE, as libzscanner sets it */
	const char *text;
	size_t len;
	char origin_txt[1024];    /* origin in force at the start of the part */
	uint32_t ttl;             /* $TTL in force at the start */
	load_ctx_t ctx;
	/* Scanner state at the end of the part, for the next part's check. */
	uint8_t end_origin[ZG_DNAME_MAXLEN + 64];
	uint32_t end_origin_len;
	uint32_t end_ttl;
	/* The same at the start (as parsed from origin_txt). */
	uint8_t start_origin[ZG_DNAME_MAXLEN + 64];
	uint32_t start_origin_len;
	int ret;
} part_t;

static void *part_parse(void *arg)
{
	part_t *p = arg;
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		p->ret = -ENOMEM;
		return NULL;
	}
	p->ret = ZG_ESYNTAX;
	if (zs_init(s, p->origin_txt, KNOT_CLASS_IN, p->ttl) == 0 &&
	    zs_set_input_string(s, p->text, p->len) == 0 &&
	    zs_set_processing(s, on_record, on_error, &p->ctx) == 0 &&
	    s->zone_origin_length <= sizeof(p->start_origin)) {
		/* What zs_set_input_file() would have set (zs_deinit() frees them). */
		free(s->path);
		s->path = strdup(p->dir);
		s->file.name = strdup(p->path);
		p->start_origin_len = s->zone_origin_length;
		memcpy(p->start_origin, s->zone_origin, s->zone_origin_length);
		if (s->path != NULL && s->file.name != NULL && zs_parse_all(s) == 0 &&
		    p->ctx.ret == 0 && s->error.counter == 0 &&
		    s->zone_origin_length <= sizeof(p->end_origin)) {
			p->end_origin_len = s->zone_origin_length;
			memcpy(p->end_origin, s->zone_origin, s->zone_origin_length);
			p->end_ttl = s->default_ttl;
			p->ret = 0;
		}
	}
	zs_deinit(s);
	free(s);
	return NULL;
}

/* Origin (text) and default TTL in force at a cut, from the directive lines. */
static int cut_state(const cut_t *c, const char *origin_txt, char *out, size_t outlen,
                     uint32_t *ttl)
{
	char buf[2 * 4096 + 4];
	size_t bl = 0;
	if (c->origin_len + c->ttl_len + 2 > sizeof(buf)) {
		return ZG_EINPUT;
	}
	if (c->origin != NULL) {
		memcpy(buf, c->origin, c->origin_len);
		bl = c->origin_len;
		buf[bl++] = '\n';
	}
	if (c->ttl != NULL) {
		memcpy(buf + bl, c->ttl, c->ttl_len);
		bl += c->ttl_len;
		buf[bl++] = '\n';
	}
	zs_scanner_t *s = malloc(sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	int ret = ZG_EINPUT;
	if (zs_init(s, origin_txt, KNOT_CLASS_IN, 3600) == 0 &&
	    (bl == 0 || (zs_set_input_string(s, buf, bl) == 0 && zs_parse_all(s) == 0)) &&
	    s->error.counter == 0 &&
	    knot_dname_to_str(out, s->zone_origin, outlen) != NULL) {
		*ttl = s->default_ttl;
		ret = 0;
	}
	zs_deinit(s);
	free(s);
	return ret;
}

/*
 * Parses the mapped file in parts. Returns 0 with *out set, or 1 when the
 * caller must load the file in one piece (not cut, or any part failed), or
 * -ENOMEM.
 */
static int load_parts(zg_zone_t **out, const char *path, const char *dir, const char *text,
                      size_t len, const uint8_t *origin, const char *origin_txt,
                      unsigned parts, unsigned *used)
{
	cut_t cuts[ZG_LOAD_MAX_PARTS];
	unsigned n = split_text(text, len, parts, cuts);
	if (n < 2) {
		return 1;
	}
	part_t *p = calloc(n, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	int ret = 0;
	for (unsigned i = 0; i < n && ret == 0; i++) {
		size_t start = (i == 0) ? 0 : cuts[i - 1].off;
		size_t end = (i + 1 < n) ? cuts[i].off : len;
		p[i].path = path;
		p[i].dir = dir;
		p[i].text = text + start;
		p[i].len = end - start;
		p[i].ret = ZG_EINPUT;
		if (i == 0) {
			snprintf(p[i].origin_txt, sizeof(p[i].origin_txt), "%s", origin_txt);
			p[i].ttl = 3600;
		} else {
			ret = cut_state(&cuts[i - 1], origin_txt, p[i].origin_txt,
			                sizeof(p[i].origin_txt), &p[i].ttl);
		}
		if (ret == 0) {
			ret = zg_zone_new(&p[i].ctx.zone, origin);
		}
	}
	pthread_t tids[ZG_LOAD_MAX_PARTS];
	bool started[ZG_LOAD_MAX_PARTS] = { false };
	if (ret == 0) {
		for (unsigned i = 1; i < n; i++) {
			started[i] = pthread_create(&tids[i], NULL, part_parse, &p[i]) == 0;
		}
		part_parse(&p[0]);
		for (unsigned i = 1; i < n; i++) {
			if (started[i]) {
				pthread_join(tids[i], NULL);
			} else {
				part_parse(&p[i]);
			}
		}
	}
	/* Each part must have started in the state the previous one ended in. */
	for (unsigned i = 0; i < n && ret == 0; i++) {
		if (p[i].ret != 0) {
			ret = (p[i].ret == -ENOMEM) ? -ENOMEM : 1;
		} else if (i > 0 && (p[i].ttl != p[i - 1].end_ttl ||
		                     p[i].start_origin_len != p[i - 1].end_origin_len ||
		                     memcmp(p[i].start_origin, p[i - 1].end_origin,
		                            p[i].start_origin_len) != 0)) {
			ret = 1;
		}
	}
	if (ret != 0 && ret != -ENOMEM) {
		ret = 1;
	}
	for (unsigned i = 1; i < n && ret == 0; i++) {
		ret = zg_zone_absorb(p[0].ctx.zone, p[i].ctx.zone);
		if (ret == 0) {
			p[i].ctx.zone = NULL;
		}
	}
	/* A zone without SOA is reported by the one-piece load. */
	bool found = false;
	if (ret == 0) {
		ret = zg_zone_finalize(p[0].ctx.zone);
	}
	if (ret == 0) {
		zg_zone_serial(p[0].ctx.zone, &found);
		ret = found ? 0 : 1;
	}
	if (ret == 0) {
		*out = p[0].ctx.zone;
		p[0].ctx.zone = NULL;
		*used = n;
	}
	for (unsigned i = 0; i < n; i++) {
		zg_zone_free(p[i].ctx.zone);
	}
	free(p);
	return ret;
}

/* Origin of a parallel load: the given one or the owner of the first SOA. */
static int parts_origin(const char *path, const char *text, size_t len, const char *origin,
                        uint8_t *wire, char *txt, size_t txtlen)
{
	if (origin != NULL) {
		if (knot_dname_from_str(wire, origin, ZG_DNAME_MAXLEN) == NULL) {
			return 1;
		}
	} else if (find_origin(path, text, len, wire, NULL) != 0) {
		return 1;
	}
	zg_dname_str(wire, txt, txtlen);
	return 0;
}

static unsigned auto_parts(size_t size, unsigned threads)
{
	unsigned n = threads;
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
		size_t by_size = size / ZG_LOAD_MIN_PART;
		if (by_size < n) {
			n = (unsigned)by_size;
		}
	}
	if (n > ZG_LOAD_MAX_PARTS) {
		n = ZG_LOAD_MAX_PARTS;
	}
	return n < 1 ? 1 : n;
}

int zg_zone_load_file_opts(zg_zone_t **out, const char *path, const char *origin,
                           zg_load_opts_t *opts, zg_load_error_t *err)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
	}
	unsigned used = 1;
	if (opts != NULL) {
		opts->parts = 1;
	}
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		set_err(err, path, 0, "%s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, path, 0, "not a regular file");
		return -EINVAL;
	}
	unsigned parts = auto_parts((size_t)st.st_size, opts != NULL ? opts->threads : 0);
	int fd = (parts > 1 && st.st_size > 0) ? open(path, O_RDONLY) : -1;
	if (fd >= 0) {
		/* Parallel parts: the text in place, mapped once. */
		uint8_t wire[ZG_DNAME_MAXLEN];
		char origin_txt[1024];
		size_t size = (size_t)st.st_size;
		char *full = realpath(path, NULL);
		void *map = MAP_FAILED;
		if (full != NULL &&
		    parts_origin(path, NULL, 0, origin, wire, origin_txt, sizeof(origin_txt)) == 0) {
			map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		}
		close(fd);
		int ret = 1;
		if (map != MAP_FAILED) {
			ret = load_parts(out, path, dirname(full), map, size, wire, origin_txt, parts,
			                 &used);
			munmap(map, size);
		}
		free(full);
		if (ret == 0) {
			if (opts != NULL) {
				opts->parts = used;
			}
			return 0;
		}
		/* Otherwise the one-piece load decides, and reports any error. */
	}
	return load(out, path, NULL, 0, origin, err);
}

int zg_zone_load_file(zg_zone_t **out, const char *path, const char *origin,
                      zg_load_error_t *err)
{
	zg_load_opts_t opts = { .threads = 1 };
	return zg_zone_load_file_opts(out, path, origin, &opts, err);
}

int zg_zone_load_string(zg_zone_t **out, const char *text, size_t len, const char *origin,
                        zg_load_error_t *err)
{
	zg_load_opts_t opts = { .threads = 1 };
	return zg_zone_load_string_opts(out, text, len, origin, &opts, err);
}

int zg_zone_load_string_opts(zg_zone_t **out, const char *text, size_t len, const char *origin,
                             zg_load_opts_t *opts, zg_load_error_t *err)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
	}
	if (opts != NULL) {
		opts->parts = 1;
	}
	unsigned parts = auto_parts(len, opts != NULL ? opts->threads : 0);
	uint8_t wire[ZG_DNAME_MAXLEN];
	char origin_txt[1024];
	unsigned used = 1;
	if (parts > 1 && len > 0 &&
	    parts_origin("(string)", text, len, origin, wire, origin_txt, sizeof(origin_txt)) == 0 &&
	    load_parts(out, "(string)", ".", text, len, wire, origin_txt, parts, &used) == 0) {
		if (opts != NULL) {
			opts->parts = used;
		}
		return 0;
	}
	return load(out, "(string)", text, len, origin, err);
}

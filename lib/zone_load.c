/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libzscanner/scanner.h>

#include "zonegate/error.h"
#include "zonegate/zone.h"

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

int zg_zone_load_file(zg_zone_t **out, const char *path, const char *origin,
                      zg_load_error_t *err)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
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
	return load(out, path, NULL, 0, origin, err);
}

int zg_zone_load_string(zg_zone_t **out, const char *text, size_t len, const char *origin,
                        zg_load_error_t *err)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
	}
	return load(out, "(string)", text, len, origin, err);
}

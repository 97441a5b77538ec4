/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libknot/descriptor.h>

#include "validate/p256.h"
#include "validate/report.h"
#include "validate/zone.h"

void zg_report_init(zg_report_t *r)
{
	memset(r, 0, sizeof(*r));
	zg_arena_init(&r->arena, 64 << 10);
	r->stats.earliest_expiry = INT64_MAX;
}

void zg_report_deinit(zg_report_t *r)
{
	zg_arena_deinit(&r->arena);
	free(r->items);
	r->items = NULL;
	r->len = r->cap = 0;
}

static int push(zg_report_t *r, zg_severity_t sev, uint16_t type, const char *owner,
                const char *reason)
{
	if (r->len == r->cap) {
		size_t ncap = r->cap ? 2 * r->cap : 16;
		zg_report_item_t *n = realloc(r->items, ncap * sizeof(*n));
		if (n == NULL) {
			return -ENOMEM;
		}
		r->items = n;
		r->cap = ncap;
	}
	char *o = zg_arena_memdup(&r->arena, owner, strlen(owner) + 1);
	char *m = zg_arena_memdup(&r->arena, reason, strlen(reason) + 1);
	if (o == NULL || m == NULL) {
		return -ENOMEM;
	}
	r->items[r->len++] = (zg_report_item_t){
		.severity = sev, .type = type, .owner = o, .reason = m
	};
	if (sev == ZG_SEV_ERROR) {
		r->errors++;
	} else {
		r->warnings++;
	}
	return 0;
}

int zg_report_add(zg_report_t *r, zg_severity_t sev, const uint8_t *owner, uint16_t type,
                  const char *fmt, ...)
{
	char name[1024], reason[1024];
	zg_dname_str(owner, name, sizeof(name));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return push(r, sev, type, name, reason);
}

int zg_report_merge(zg_report_t *dst, const zg_report_t *src)
{
	for (size_t i = 0; i < src->len; i++) {
		const zg_report_item_t *it = &src->items[i];
		int ret = push(dst, it->severity, it->type, it->owner, it->reason);
		if (ret != 0) {
			return ret;
		}
	}
	dst->stats.signatures += src->stats.signatures;
	dst->stats.rrsets += src->stats.rrsets;
	dst->stats.names += src->stats.names;
	dst->stats.nsec3 += src->stats.nsec3;
	if (src->stats.earliest_expiry < dst->stats.earliest_expiry) {
		dst->stats.earliest_expiry = src->stats.earliest_expiry;
	}
	return 0;
}

void zg_report_item_str(const zg_report_item_t *it, char *buf, size_t len)
{
	char type[32];
	if (knot_rrtype_to_string(it->type, type, sizeof(type)) < 0) {
		snprintf(type, sizeof(type), "TYPE%u", it->type);
	}
	snprintf(buf, len, "%s %s: %s%s", it->owner, type,
	         it->severity == ZG_SEV_WARNING ? "warning: " : "", it->reason);
}

char *zg_time_str(int64_t t, char *buf, size_t len)
{
	if (t == INT64_MAX) {
		snprintf(buf, len, "none");
		return buf;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, len, "@%lld", (long long)t);
	}
	return buf;
}

static void print_items(FILE *out, const zg_report_t *r)
{
	char line[2300];
	for (int sev = ZG_SEV_ERROR; sev <= ZG_SEV_WARNING; sev++) {
		for (size_t i = 0; i < r->len; i++) {
			if ((int)r->items[i].severity == sev) {
				zg_report_item_str(&r->items[i], line, sizeof(line));
				fprintf(out, "%s\n", line);
			}
		}
	}
}

void zg_report_print_text(FILE *out, const zg_report_t *r, const zg_report_info_t *info)
{
	char exp[32];
	print_items(out, r);
	fprintf(out, "zone %s serial %u: %s, %zu error%s, %zu warning%s, %llu signatures verified, "
	        "earliest expiry %s\n", info->zone, info->serial,
	        r->errors ? "INVALID" : "VALID", r->errors, r->errors == 1 ? "" : "s",
	        r->warnings, r->warnings == 1 ? "" : "s",
	        (unsigned long long)r->stats.signatures,
	        zg_time_str(r->stats.earliest_expiry, exp, sizeof(exp)));
}

static json_t *items_json(const zg_report_t *r, zg_severity_t sev)
{
	json_t *arr = json_array();
	char line[2300], type[32];
	for (size_t i = 0; i < r->len; i++) {
		const zg_report_item_t *it = &r->items[i];
		if (it->severity != sev) {
			continue;
		}
		if (knot_rrtype_to_string(it->type, type, sizeof(type)) < 0) {
			snprintf(type, sizeof(type), "TYPE%u", it->type);
		}
		snprintf(line, sizeof(line), "%s %s: %s", it->owner, type, it->reason);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "owner", it->owner,
		                                     "type", type, "reason", it->reason,
		                                     "message", line));
	}
	return arr;
}

int zg_report_print_json(FILE *out, const zg_report_t *r, const zg_report_info_t *info)
{
	char exp[32];
	json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I}",
	                          "signatures", (json_int_t)r->stats.signatures,
	                          "rrsets", (json_int_t)r->stats.rrsets,
	                          "names", (json_int_t)r->stats.names,
	                          "nsec3", (json_int_t)r->stats.nsec3,
	                          "errors", (json_int_t)r->errors,
	                          "warnings", (json_int_t)r->warnings,
	                          "elapsed_s", info->elapsed,
	                          "threads", (json_int_t)info->threads);
	if (stats == NULL) {
		return -ENOMEM;
	}
	json_object_set_new(stats, "validation_time", json_string(zg_time_str(info->now, exp, sizeof(exp))));
	if (r->stats.earliest_expiry != INT64_MAX) {
		json_object_set_new(stats, "earliest_expiry",
		                    json_string(zg_time_str(r->stats.earliest_expiry, exp, sizeof(exp))));
		json_object_set_new(stats, "earliest_expiry_unix", json_integer(r->stats.earliest_expiry));
		json_object_set_new(stats, "expiry_s",
		                    json_integer(r->stats.earliest_expiry - info->now));
	} else {
		json_object_set_new(stats, "earliest_expiry", json_null());
	}
	if (info->p256 != NULL) {
		zg_p256_stats_t ps;
		zg_p256_cache_stats(&ps);
		json_object_set_new(stats, "p256",
		                    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
		                              "engine", info->p256,
		                              "table_cache_keys", (json_int_t)ps.capacity,
		                              "tables", (json_int_t)ps.tables,
		                              "table_bytes", (json_int_t)ps.bytes,
		                              "table_builds", (json_int_t)ps.builds,
		                              "table_evictions", (json_int_t)ps.evictions,
		                              "fallbacks", (json_int_t)ps.fallbacks));
	}
	json_t *root = json_pack("{s:s, s:I, s:b, s:o, s:o, s:o}", "zone", info->zone,
	                         "serial", (json_int_t)info->serial, "valid", r->errors == 0,
	                         "errors", items_json(r, ZG_SEV_ERROR),
	                         "warnings", items_json(r, ZG_SEV_WARNING), "stats", stats);
	if (root == NULL) {
		return -ENOMEM;
	}
	int ret = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return ret == 0 ? 0 : -EIO;
}

int zg_report_print_nagios(FILE *out, const zg_report_t *r, const zg_report_info_t *info)
{
	char exp[32];
	const char *state = r->errors ? "CRITICAL" : r->warnings ? "WARNING" : "OK";
	int code = r->errors ? 2 : r->warnings ? 1 : 0;
	fprintf(out, "ZONEGATE %s - zone %s serial %u, ", state, info->zone, info->serial);
	if (r->errors) {
		fprintf(out, "%zu error%s, ", r->errors, r->errors == 1 ? "" : "s");
	}
	if (r->warnings) {
		fprintf(out, "%zu warning%s, ", r->warnings, r->warnings == 1 ? "" : "s");
	}
	fprintf(out, "%llu signatures, earliest expiry %s | sigs=%llu errors=%zu warnings=%zu",
	        (unsigned long long)r->stats.signatures,
	        zg_time_str(r->stats.earliest_expiry, exp, sizeof(exp)),
	        (unsigned long long)r->stats.signatures, r->errors, r->warnings);
	if (r->stats.earliest_expiry != INT64_MAX) {
		fprintf(out, " expiry_s=%lld", (long long)(r->stats.earliest_expiry - info->now));
	}
	fprintf(out, "\n");
	print_items(out, r);
	return code;
}

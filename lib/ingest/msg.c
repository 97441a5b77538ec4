/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libknot/rrset-dump.h>
#include <libzscanner/scanner.h>

#include "core/error.h"
#include "ingest/msg.h"

#define OWNER_TEXT_MAX	1024	/* \DDD escapes: 255 bytes can take ~1000 characters. */
#define TYPE_TEXT_MAX	32
#define SHOW_MAX	80	/* Characters of hostile input quoted in a reason. */

struct zg_msg_parser {
	zg_msg_limits_t limits;
	zs_scanner_t *zs;
	char *line;		/* Reused "@ TTL IN TYPE RDATA\n" buffer. */
	size_t line_size;
};

/* State of one zg_msg_parse() call. */
typedef struct {
	zg_msg_parser_t *p;
	zg_msg_t *msg;
	char *reason;
	size_t reason_len;
	const char *id;		/* For the reason prefix. */
	char zone_txt[KNOT_DNAME_TXT_MAXLEN + 1];
	char owner_txt[KNOT_DNAME_TXT_MAXLEN + 1];
} parse_ctx_t;

void zg_msg_limits_default(zg_msg_limits_t *limits)
{
	limits->max_size = ZG_MSG_MAX_SIZE_DEFAULT;
	limits->max_changes = ZG_MSG_MAX_CHANGES_DEFAULT;
	limits->ttl_min = 0;
	limits->ttl_max = ZG_MSG_TTL_MAX_DEFAULT;
}

void zg_msg_init(zg_msg_t *msg)
{
	memset(msg, 0, sizeof(*msg));
	zg_arena_init(&msg->pool, 0);
}

void zg_msg_deinit(zg_msg_t *msg)
{
	zg_arena_deinit(&msg->pool);
	memset(msg, 0, sizeof(*msg));
}

static void msg_clear(zg_msg_t *msg)
{
	zg_arena_reset(&msg->pool);
	msg->id[0] = '\0';
	msg->zone = NULL;
	msg->changes = NULL;
	msg->change_count = 0;
	msg->rr_count = 0;
}

zg_msg_parser_t *zg_msg_parser_new(const zg_msg_limits_t *limits)
{
	zg_msg_parser_t *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	if (limits != NULL) {
		p->limits = *limits;
	} else {
		zg_msg_limits_default(&p->limits);
	}
	p->zs = malloc(sizeof(*p->zs));
	p->line_size = 1024;
	p->line = malloc(p->line_size);
	if (p->zs == NULL || p->line == NULL) {
		free(p->zs);
		free(p->line);
		free(p);
		return NULL;
	}
	return p;
}

void zg_msg_parser_free(zg_msg_parser_t *parser)
{
	if (parser == NULL) {
		return;
	}
	free(parser->zs);
	free(parser->line);
	free(parser);
}

/* One source byte as text (at most 4 bytes in esc): backslash (and quote
 * when quoting) escaped, control characters and bytes outside ASCII as \xNN. */
static size_t escape_byte(unsigned char c, bool quote, char *esc)
{
	static const char hex[] = "0123456789abcdef";
	if (c == '\\' || (quote && c == '"')) {
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c >= 0x7f) {
		esc[0] = '\\';
		esc[1] = 'x';
		esc[2] = hex[c >> 4];
		esc[3] = hex[c & 15];
		return 4;
	}
	esc[0] = (char)c;
	return 1;
}

char *zg_quote(char *dst, size_t dst_len, const char *src, size_t src_len,
               size_t max_show)
{
	size_t o = 0;
	if (dst_len < 8) {
		if (dst_len > 0) {
			dst[0] = '\0';
		}
		return dst;
	}
	/* Room for: closing quote, "...", NUL. */
	size_t room = dst_len - 6;
	dst[o++] = '"';
	size_t i;
	for (i = 0; i < src_len && i < max_show; i++) {
		char esc[4];
		size_t n = escape_byte((unsigned char)src[i], true, esc);
		if (o + n > room) {
			break;
		}
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o++] = '"';
	if (i < src_len) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

char *zg_msg_escape(const char *src, char *dst, size_t dst_len)
{
	if (dst_len == 0) {
		return dst;
	}
	size_t o = 0;
	for (size_t i = 0; src[i] != '\0'; i++) {
		char esc[4];
		size_t n = escape_byte((unsigned char)src[i], false, esc);
		if (o + n >= dst_len) {
			break;
		}
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

bool zg_msg_type_is_dnssec(uint16_t type)
{
	switch (type) {
	case KNOT_RRTYPE_DNSKEY:
	case KNOT_RRTYPE_RRSIG:
	case KNOT_RRTYPE_NSEC:
	case KNOT_RRTYPE_NSEC3:
	case KNOT_RRTYPE_NSEC3PARAM:
	case KNOT_RRTYPE_CDS:
	case KNOT_RRTYPE_CDNSKEY:
		return true;
	default:
		return false;
	}
}

__attribute__((format(printf, 3, 4)))
static int refuse(parse_ctx_t *ctx, int code, const char *fmt, ...)
{
	int n = snprintf(ctx->reason, ctx->reason_len, "message %s: ", ctx->id);
	if (n >= 0 && (size_t)n < ctx->reason_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ctx->reason + n, ctx->reason_len - n, fmt, ap);
		va_end(ap);
	}
	/* One line whatever the input quoted (jansson's "near '...'" may hold a
	 * line end of the message): control characters become '?'. */
	for (char *p = ctx->reason; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*p = '?';
		}
	}
	return code;
}

/* Nesting depth check before jansson builds anything (bounded work and stack). */
static int check_depth(parse_ctx_t *ctx, const char *data, size_t len)
{
	int depth = 0;
	bool in_str = false, esc = false;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		if (in_str) {
			if (esc) {
				esc = false;
			} else if (c == '\\') {
				esc = true;
			} else if (c == '"') {
				in_str = false;
			}
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > ZG_MSG_DEPTH_MAX) {
				return refuse(ctx, ZG_EINPUT, "JSON nested deeper than %d levels "
				              "(at byte %zu)", ZG_MSG_DEPTH_MAX, i);
			}
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 0;
}

/* Only the listed keys may appear in obj. */
static int check_keys(parse_ctx_t *ctx, json_t *obj, const char *where,
                      const char *const *allowed)
{
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val) {
		bool known = false;
		for (const char *const *a = allowed; *a != NULL; a++) {
			if (strcmp(key, *a) == 0) {
				known = true;
				break;
			}
		}
		if (!known) {
			char q[SHOW_MAX * 4 + 8];
			zg_quote(q, sizeof(q), key, strlen(key), SHOW_MAX);
			return refuse(ctx, ZG_EINPUT, "%sunknown field %s", where, q);
		}
	}
	return 0;
}

static bool id_valid(const char *id, size_t len)
{
	if (len == 0 || len > ZG_MSG_ID_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		      c == ':' || c == '+')) {
			return false;
		}
	}
	return true;
}

/* Parses an absolute domain name from a JSON string into the pool. */
static knot_dname_t *parse_name(parse_ctx_t *ctx, json_t *str, const char **err)
{
	const char *txt = json_string_value(str);
	size_t len = json_string_length(str);
	if (len == 0 || len > OWNER_TEXT_MAX || memchr(txt, '\0', len) != NULL) {
		*err = "not a domain name";
		return NULL;
	}
	if (txt[len - 1] != '.' || (len >= 2 && txt[len - 2] == '\\' &&
	    (len < 3 || txt[len - 3] != '\\'))) {
		*err = "not absolute (must end with a dot)";
		return NULL;
	}
	knot_dname_storage_t buf;
	if (knot_dname_from_str(buf, txt, sizeof(buf)) == NULL) {
		*err = "not a domain name";
		return NULL;
	}
	knot_dname_to_lower(buf);
	knot_dname_t *out = zg_arena_memdup(&ctx->msg->pool, buf, knot_dname_size(buf));
	if (out == NULL) {
		*err = "out of memory";
	}
	return out;
}

static int ensure_line(zg_msg_parser_t *p, size_t need)
{
	if (need <= p->line_size) {
		return 0;
	}
	char *n = realloc(p->line, need);
	if (n == NULL) {
		return -ENOMEM;
	}
	p->line = n;
	p->line_size = need;
	return 0;
}

/* Parses one rdata string of the given type with libzscanner into rrset. */
static int parse_rdata(parse_ctx_t *ctx, knot_rrset_t *rrset, const char *type_txt,
                       json_t *jrd)
{
	zg_msg_parser_t *p = ctx->p;
	char q[SHOW_MAX * 4 + 8];
	if (!json_is_string(jrd)) {
		return refuse(ctx, ZG_EINPUT, "owner %s rrset %s: rdata must be strings",
		              ctx->owner_txt, type_txt);
	}
	const char *txt = json_string_value(jrd);
	size_t len = json_string_length(jrd);
	if (len == 0) {
		return refuse(ctx, ZG_EINPUT, "owner %s rrset %s: empty rdata",
		              ctx->owner_txt, type_txt);
	}
	if (len > ZG_MSG_RDATA_TEXT_MAX) {
		return refuse(ctx, ZG_ETOOBIG, "owner %s rrset %s: rdata longer than %d "
		              "characters", ctx->owner_txt, type_txt, ZG_MSG_RDATA_TEXT_MAX);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)txt[i];
		if (c < 0x20 || c == 0x7f) {
			zg_quote(q, sizeof(q), txt, len, SHOW_MAX);
			return refuse(ctx, ZG_EINPUT, "owner %s rrset %s: bad rdata %s "
			              "(control character)", ctx->owner_txt, type_txt, q);
		}
	}

	int ret = ensure_line(p, len + 64);
	if (ret != 0) {
		return ret;
	}
	int n = snprintf(p->line, p->line_size, "@ %u IN %s %.*s\n", rrset->ttl,
	                 type_txt, (int)len, txt);
	if (n < 0 || (size_t)n >= p->line_size) {
		return -ENOMEM;
	}

	zs_scanner_t *s = p->zs;
	if (s->state == ZS_STATE_ERROR || s->state == ZS_STATE_STOP) {
		zs_deinit(s);
		if (zs_init(s, ctx->zone_txt, KNOT_CLASS_IN, rrset->ttl) != 0) {
			return -ENOMEM;
		}
	}
	if (zs_set_input_string(s, p->line, (size_t)n) != 0) {
		return -ENOMEM;
	}
	const char *bad = NULL;
	int parsed = 0;
	while (zs_parse_record(s) == 0 && s->state == ZS_STATE_DATA) {
		if (++parsed > 1) {
			break;
		}
		if (s->r_type != rrset->type) {
			bad = "type mismatch";
			break;
		}
		ret = knot_rrset_add_rdata(rrset, s->r_data, s->r_data_length,
		                           zg_arena_mm(&ctx->msg->pool));
		if (ret != KNOT_EOK) {
			return -ENOMEM;
		}
	}
	if (bad == NULL && s->state == ZS_STATE_ERROR) {
		bad = zs_strerror(s->error.code);
	} else if (bad == NULL && parsed != 1) {
		bad = parsed == 0 ? "no data" : "more than one record";
	}
	if (bad != NULL) {
		/* Start over with a fresh scanner next time. */
		s->state = ZS_STATE_ERROR;
		zg_quote(q, sizeof(q), txt, len, SHOW_MAX);
		return refuse(ctx, ZG_EINPUT, "owner %s rrset %s: bad rdata %s (%s)",
		              ctx->owner_txt, type_txt, q, bad);
	}
	return 0;
}

static const char *const rrset_keys[] = { "type", "ttl", "rdata", NULL };

static int parse_rrset(parse_ctx_t *ctx, zg_change_t *ch, json_t *jrs)
{
	const zg_msg_limits_t *lim = &ctx->p->limits;
	char where[KNOT_DNAME_TXT_MAXLEN + 64];
	snprintf(where, sizeof(where), "owner %s rrset: ", ctx->owner_txt);
	if (!json_is_object(jrs)) {
		return refuse(ctx, ZG_EINPUT, "owner %s: rrsets must be objects", ctx->owner_txt);
	}
	json_t *jtype = json_object_get(jrs, "type");
	if (!json_is_string(jtype)) {
		return refuse(ctx, ZG_EINPUT, "owner %s rrset: %s", ctx->owner_txt,
		              jtype == NULL ? "missing field \"type\"" : "\"type\" must be a string");
	}
	const char *tstr = json_string_value(jtype);
	size_t tlen = json_string_length(jtype);
	char q[SHOW_MAX * 4 + 8];
	uint16_t type = 0;
	if (tlen == 0 || tlen > TYPE_TEXT_MAX || memchr(tstr, '\0', tlen) != NULL ||
	    knot_rrtype_from_string(tstr, &type) != 0) {
		zg_quote(q, sizeof(q), tstr, tlen, SHOW_MAX);
		return refuse(ctx, ZG_EINPUT, "owner %s rrset %s: unknown type", ctx->owner_txt, q);
	}
	char type_txt[TYPE_TEXT_MAX + 16];
	if (knot_rrtype_to_string(type, type_txt, sizeof(type_txt)) < 0) {
		return refuse(ctx, ZG_EINPUT, "owner %s rrset %s: unknown type",
		              ctx->owner_txt, tstr);
	}
	snprintf(where, sizeof(where), "owner %s rrset %s: ", ctx->owner_txt, type_txt);
	int ret = check_keys(ctx, jrs, where, rrset_keys);
	if (ret != 0) {
		return ret;
	}
	if (type == KNOT_RRTYPE_SOA) {
		return refuse(ctx, ZG_EINPUT, "%sSOA is maintained by the signer", where);
	}
	if (zg_msg_type_is_dnssec(type)) {
		return refuse(ctx, ZG_EINPUT, "%sDNSSEC records are maintained by the signer", where);
	}
	if (knot_rrtype_is_metatype(type) || type == KNOT_RRTYPE_ANY ||
	    type == KNOT_RRTYPE_OPT || type == KNOT_RRTYPE_TSIG) {
		return refuse(ctx, ZG_EINPUT, "%smeta type not allowed", where);
	}
	if (type == KNOT_RRTYPE_NS && ch->apex) {
		return refuse(ctx, ZG_EINPUT, "%sapex NS is maintained by the operator, "
		              "not by ingest", where);
	}
	for (uint16_t i = 0; i < ch->rrset_count; i++) {
		if (ch->rrsets[i].type == type) {
			return refuse(ctx, ZG_EINPUT, "%slisted twice", where);
		}
	}

	json_t *jttl = json_object_get(jrs, "ttl");
	if (jttl == NULL) {
		return refuse(ctx, ZG_EINPUT, "%smissing field \"ttl\"", where);
	}
	if (!json_is_integer(jttl)) {
		return refuse(ctx, ZG_EINPUT, "%s\"ttl\" must be an integer", where);
	}
	json_int_t ttl = json_integer_value(jttl);
	if (ttl < (json_int_t)lim->ttl_min || ttl > (json_int_t)lim->ttl_max) {
		return refuse(ctx, ZG_EINPUT, "%sTTL %lld out of range %u..%u", where,
		              (long long)ttl, lim->ttl_min, lim->ttl_max);
	}

	json_t *jrd = json_object_get(jrs, "rdata");
	if (jrd == NULL) {
		return refuse(ctx, ZG_EINPUT, "%smissing field \"rdata\"", where);
	}
	if (!json_is_array(jrd)) {
		return refuse(ctx, ZG_EINPUT, "%s\"rdata\" must be an array", where);
	}
	if (json_array_size(jrd) == 0) {
		return refuse(ctx, ZG_EINPUT, "%s\"rdata\" is empty (leave the type out "
		              "to remove it)", where);
	}
	if (json_array_size(jrd) > 65535) {
		return refuse(ctx, ZG_ETOOBIG, "%smore than 65535 records", where);
	}

	knot_rrset_t *rr = &ch->rrsets[ch->rrset_count];
	knot_rrset_init(rr, ch->owner, type, KNOT_CLASS_IN, (uint32_t)ttl);
	size_t idx;
	json_t *jone;
	json_array_foreach(jrd, idx, jone) {
		ret = parse_rdata(ctx, rr, type_txt, jone);
		if (ret != 0) {
			return ret;
		}
	}
	if ((type == KNOT_RRTYPE_CNAME || type == KNOT_RRTYPE_DNAME) && rr->rrs.count > 1) {
		return refuse(ctx, ZG_EINPUT, "%sonly one record allowed", where);
	}
	ch->rrset_count++;
	ctx->msg->rr_count += rr->rrs.count;
	return 0;
}

static const char *const change_keys[] = { "owner", "rrsets", NULL };

static int parse_change(parse_ctx_t *ctx, zg_change_t *ch, json_t *jch, size_t idx)
{
	char q[SHOW_MAX * 4 + 8];
	if (!json_is_object(jch)) {
		return refuse(ctx, ZG_EINPUT, "changes[%zu] must be an object", idx);
	}
	json_t *jowner = json_object_get(jch, "owner");
	if (!json_is_string(jowner)) {
		return refuse(ctx, ZG_EINPUT, "changes[%zu]: %s", idx, jowner == NULL ?
		              "missing field \"owner\"" : "\"owner\" must be a string");
	}
	const char *err = NULL;
	ch->owner = parse_name(ctx, jowner, &err);
	if (ch->owner == NULL) {
		if (strcmp(err, "out of memory") == 0) {
			return -ENOMEM;
		}
		zg_quote(q, sizeof(q), json_string_value(jowner), json_string_length(jowner),
		         SHOW_MAX);
		return refuse(ctx, ZG_EINPUT, "owner %s: %s", q, err);
	}
	knot_dname_to_str(ctx->owner_txt, ch->owner, sizeof(ctx->owner_txt));
	if (knot_dname_in_bailiwick(ch->owner, ctx->msg->zone) < 0) {
		return refuse(ctx, ZG_EOUTOFZONE, "owner %s outside zone %s",
		              ctx->owner_txt, ctx->zone_txt);
	}
	ch->apex = knot_dname_is_equal(ch->owner, ctx->msg->zone);
	char where[KNOT_DNAME_TXT_MAXLEN + 16];
	snprintf(where, sizeof(where), "owner %s: ", ctx->owner_txt);
	int ret = check_keys(ctx, jch, where, change_keys);
	if (ret != 0) {
		return ret;
	}
	json_t *jrs = json_object_get(jch, "rrsets");
	if (jrs == NULL) {
		return refuse(ctx, ZG_EINPUT, "%smissing field \"rrsets\"", where);
	}
	if (!json_is_array(jrs)) {
		return refuse(ctx, ZG_EINPUT, "%s\"rrsets\" must be an array", where);
	}
	size_t n = json_array_size(jrs);
	if (n > 256) {
		return refuse(ctx, ZG_ETOOBIG, "%smore than 256 rrsets", where);
	}
	ch->rrset_count = 0;
	ch->rrsets = NULL;
	if (n > 0) {
		ch->rrsets = zg_arena_alloc(&ctx->msg->pool, n * sizeof(knot_rrset_t));
		if (ch->rrsets == NULL) {
			return -ENOMEM;
		}
	}
	size_t i;
	json_t *jone;
	bool cname = false;
	json_array_foreach(jrs, i, jone) {
		ret = parse_rrset(ctx, ch, jone);
		if (ret != 0) {
			return ret;
		}
		cname = cname || ch->rrsets[ch->rrset_count - 1].type == KNOT_RRTYPE_CNAME;
	}
	if (cname && ch->rrset_count > 1) {
		return refuse(ctx, ZG_EINPUT, "%sCNAME cannot coexist with other data", where);
	}
	if (cname && ch->apex) {
		return refuse(ctx, ZG_EINPUT, "%sCNAME not allowed at the apex", where);
	}
	return 0;
}

static int change_cmp(const void *a, const void *b)
{
	const zg_change_t *const *x = a, *const *y = b;
	return knot_dname_cmp((*x)->owner, (*y)->owner);
}

static int check_duplicates(parse_ctx_t *ctx)
{
	zg_msg_t *msg = ctx->msg;
	if (msg->change_count < 2) {
		return 0;
	}
	zg_change_t **v = zg_arena_alloc(&msg->pool, msg->change_count * sizeof(*v));
	if (v == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < msg->change_count; i++) {
		v[i] = &msg->changes[i];
	}
	qsort(v, msg->change_count, sizeof(*v), change_cmp);
	for (size_t i = 1; i < msg->change_count; i++) {
		if (knot_dname_is_equal(v[i - 1]->owner, v[i]->owner)) {
			knot_dname_to_str(ctx->owner_txt, v[i]->owner, sizeof(ctx->owner_txt));
			return refuse(ctx, ZG_EINPUT, "owner %s listed twice", ctx->owner_txt);
		}
	}
	return 0;
}

static const char *const msg_keys[] = { "version", "id", "zone", "changes", NULL };

static int parse_root(parse_ctx_t *ctx, json_t *root, const knot_dname_t *zone)
{
	zg_msg_t *msg = ctx->msg;
	char q[SHOW_MAX * 4 + 8];
	if (!json_is_object(root)) {
		return refuse(ctx, ZG_EINPUT, "not a JSON object");
	}
	/* The id first, so that every later reason names the message. */
	json_t *jid = json_object_get(root, "id");
	if (jid == NULL) {
		return refuse(ctx, ZG_EINPUT, "missing field \"id\"");
	}
	if (!json_is_string(jid) || !id_valid(json_string_value(jid), json_string_length(jid))) {
		if (json_is_string(jid)) {
			zg_quote(q, sizeof(q), json_string_value(jid), json_string_length(jid),
			         SHOW_MAX);
		} else {
			strcpy(q, "(not a string)");
		}
		return refuse(ctx, ZG_EINPUT, "bad id %s (1 to %d characters of A-Z a-z 0-9 "
		              "- _ . : +)", q, ZG_MSG_ID_MAX);
	}
	memcpy(msg->id, json_string_value(jid), json_string_length(jid) + 1);
	ctx->id = msg->id;

	int ret = check_keys(ctx, root, "", msg_keys);
	if (ret != 0) {
		return ret;
	}
	json_t *jver = json_object_get(root, "version");
	if (jver == NULL) {
		return refuse(ctx, ZG_EINPUT, "missing field \"version\"");
	}
	if (!json_is_integer(jver) || json_integer_value(jver) != ZG_MSG_VERSION) {
		return refuse(ctx, ZG_EINPUT, "unsupported version (only %d is known)",
		              ZG_MSG_VERSION);
	}
	json_t *jzone = json_object_get(root, "zone");
	if (!json_is_string(jzone)) {
		return refuse(ctx, ZG_EINPUT, jzone == NULL ? "missing field \"zone\"" :
		              "\"zone\" must be a string");
	}
	const char *err = NULL;
	msg->zone = parse_name(ctx, jzone, &err);
	if (msg->zone == NULL) {
		if (strcmp(err, "out of memory") == 0) {
			return -ENOMEM;
		}
		zg_quote(q, sizeof(q), json_string_value(jzone), json_string_length(jzone),
		         SHOW_MAX);
		return refuse(ctx, ZG_EINPUT, "zone %s: %s", q, err);
	}
	knot_dname_to_str(ctx->zone_txt, msg->zone, sizeof(ctx->zone_txt));
	if (zone != NULL && !knot_dname_is_equal(msg->zone, zone)) {
		char want[KNOT_DNAME_TXT_MAXLEN + 1];
		knot_dname_to_str(want, zone, sizeof(want));
		return refuse(ctx, ZG_EOUTOFZONE, "zone %s is not %s", ctx->zone_txt, want);
	}
	json_t *jch = json_object_get(root, "changes");
	if (jch == NULL) {
		return refuse(ctx, ZG_EINPUT, "missing field \"changes\"");
	}
	if (!json_is_array(jch)) {
		return refuse(ctx, ZG_EINPUT, "\"changes\" must be an array");
	}
	size_t n = json_array_size(jch);
	if (n > ctx->p->limits.max_changes) {
		return refuse(ctx, ZG_ETOOBIG, "%zu owners, more than the limit of %zu",
		              n, ctx->p->limits.max_changes);
	}
	if (n > 0) {
		msg->changes = zg_arena_alloc(&msg->pool, n * sizeof(zg_change_t));
		if (msg->changes == NULL) {
			return -ENOMEM;
		}
	}

	zs_scanner_t *s = ctx->p->zs;
	if (zs_init(s, ctx->zone_txt, KNOT_CLASS_IN, 3600) != 0) {
		return -ENOMEM;
	}
	size_t i;
	json_t *jone;
	json_array_foreach(jch, i, jone) {
		zg_change_t *ch = &msg->changes[i];
		memset(ch, 0, sizeof(*ch));
		ret = parse_change(ctx, ch, jone, i);
		if (ret != 0) {
			break;
		}
		msg->change_count++;
	}
	zs_deinit(s);
	if (ret != 0) {
		return ret;
	}
	return check_duplicates(ctx);
}

int zg_msg_parse(zg_msg_parser_t *parser, const char *data, size_t len,
                 const knot_dname_t *zone, zg_msg_t *msg,
                 char *reason, size_t reason_len)
{
	static char dummy[ZG_MSG_REASON_MAX];
	if (reason == NULL || reason_len == 0) {
		reason = dummy;
		reason_len = sizeof(dummy);
	}
	reason[0] = '\0';
	parse_ctx_t ctx = {
		.p = parser, .msg = msg, .reason = reason, .reason_len = reason_len,
		.id = "(no id)",
	};
	msg_clear(msg);
	if (parser == NULL || data == NULL) {
		return refuse(&ctx, ZG_EINPUT, "no data");
	}
	if (len > parser->limits.max_size) {
		return refuse(&ctx, ZG_ETOOBIG, "%zu bytes, over the limit of %zu",
		              len, parser->limits.max_size);
	}
	int ret = check_depth(&ctx, data, len);
	if (ret != 0) {
		return ret;
	}
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* jansson's text may quote the input (a newline, an ESC). */
		char text[4 * sizeof(jerr.text)];
		zg_msg_escape(jerr.text, text, sizeof(text));
		return refuse(&ctx, ZG_ESYNTAX, "invalid JSON at line %d column %d (%s)",
		              jerr.line, jerr.column, text);
	}
	ret = parse_root(&ctx, root, zone);
	json_decref(root);
	if (ret != 0) {
		char keep_id[ZG_MSG_ID_MAX + 1];
		memcpy(keep_id, msg->id, sizeof(keep_id));
		msg_clear(msg);
		memcpy(msg->id, keep_id, sizeof(keep_id));
		if (ret == -ENOMEM && reason[0] == '\0') {
			refuse(&ctx, ret, "out of memory");
		}
	}
	return ret;
}

/* ---- the writer ---- */

static json_t *rrset_json(const knot_rrset_t *rr)
{
	char type[16];
	if (knot_rrtype_to_string(rr->type, type, sizeof(type)) < 0) {
		return NULL;
	}
	json_t *rdata = json_array();
	if (rdata == NULL) {
		return NULL;
	}
	char buf[2048];
	for (uint16_t i = 0; i < rr->rrs.count; i++) {
		if (knot_rrset_txt_dump_data(rr, i, buf, sizeof(buf), &KNOT_DUMP_STYLE_DEFAULT) < 0 ||
		    json_array_append_new(rdata, json_string(buf)) != 0) {
			json_decref(rdata);
			return NULL;
		}
	}
	return json_pack("{s:s, s:I, s:o}", "type", type, "ttl", (json_int_t)rr->ttl, "rdata", rdata);
}

static json_t *change_json(const zg_change_t *c)
{
	char owner[KNOT_DNAME_TXT_MAXLEN + 1];
	json_t *rrsets = json_array();
	if (rrsets == NULL || knot_dname_to_str(owner, c->owner, sizeof(owner)) == NULL) {
		json_decref(rrsets);
		return NULL;
	}
	for (uint16_t i = 0; i < c->rrset_count; i++) {
		json_t *r = rrset_json(&c->rrsets[i]);
		if (r == NULL || json_array_append_new(rrsets, r) != 0) {
			json_decref(rrsets);
			return NULL;
		}
	}
	return json_pack("{s:s, s:o}", "owner", owner, "rrsets", rrsets);
}

char *zg_msg_write(const char *id, const char *zone, const zg_change_t *changes, size_t count)
{
	if (id == NULL || zone == NULL || (changes == NULL && count > 0)) {
		return NULL;
	}
	json_t *arr = json_array();
	if (arr == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {
		json_t *c = change_json(&changes[i]);
		if (c == NULL || json_array_append_new(arr, c) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	json_t *msg = json_pack("{s:i, s:s, s:s, s:o}", "version", ZG_MSG_VERSION, "id", id,
	                        "zone", zone, "changes", arr);
	if (msg == NULL) {
		return NULL;
	}
	char *text = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(msg);
	return text;
}

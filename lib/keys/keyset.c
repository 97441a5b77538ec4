/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/error.h"
#include "keys/keyset.h"

static const char *const timer_names[ZG_KT_COUNT] = {
	[ZG_KT_CREATED]       = "created",
	[ZG_KT_PRE_ACTIVE]    = "pre-active",
	[ZG_KT_PUBLISH]       = "publish",
	[ZG_KT_READY]         = "ready",
	[ZG_KT_ACTIVE]        = "active",
	[ZG_KT_RETIRE_ACTIVE] = "retire-active",
	[ZG_KT_RETIRE]        = "retire",
	[ZG_KT_POST_ACTIVE]   = "post-active",
	[ZG_KT_REVOKE]        = "revoke",
	[ZG_KT_REMOVE]        = "remove",
};

const char *zg_key_timer_name(zg_key_timer_t t)
{
	return t < ZG_KT_COUNT ? timer_names[t] : "?";
}

const char *zg_key_state_name(zg_key_state_t s)
{
	switch (s) {
	case ZG_KS_FUTURE:        return "future";
	case ZG_KS_PRE_ACTIVE:    return "pre-active";
	case ZG_KS_PUBLISHED:     return "published";
	case ZG_KS_READY:         return "ready";
	case ZG_KS_ACTIVE:        return "active";
	case ZG_KS_RETIRE_ACTIVE: return "retire-active";
	case ZG_KS_RETIRED:       return "retired";
	case ZG_KS_POST_ACTIVE:   return "post-active";
	case ZG_KS_REVOKED:       return "revoked";
	case ZG_KS_REMOVED:       return "removed";
	default:                  return "invalid";
	}
}

const char *zg_key_role(const zg_key_t *key)
{
	if (key->ksk) {
		return key->zsk ? "CSK" : "KSK";
	}
	return "ZSK";
}

/* Knot's knot_time_cmp(t, now) <= 0: a set timer that has been reached. */
static bool reached(int64_t t, int64_t now)
{
	return t != 0 && t <= now;
}

zg_key_state_t zg_key_state(const zg_key_t *key, int64_t now)
{
	const int64_t *t = key->t;
	if (reached(t[ZG_KT_REMOVE], now)) {
		return ZG_KS_REMOVED;
	}
	if (reached(t[ZG_KT_REVOKE], now)) {
		return ZG_KS_REVOKED;
	}
	if (reached(t[ZG_KT_POST_ACTIVE], now)) {
		return reached(t[ZG_KT_RETIRE], now) ? ZG_KS_INVALID : ZG_KS_POST_ACTIVE;
	}
	if (reached(t[ZG_KT_RETIRE], now)) {
		return ZG_KS_RETIRED;
	}
	if (reached(t[ZG_KT_RETIRE_ACTIVE], now)) {
		return ZG_KS_RETIRE_ACTIVE;
	}
	if (reached(t[ZG_KT_ACTIVE], now)) {
		return ZG_KS_ACTIVE;
	}
	if (reached(t[ZG_KT_READY], now)) {
		return ZG_KS_READY;
	}
	if (reached(t[ZG_KT_PUBLISH], now)) {
		return ZG_KS_PUBLISHED;
	}
	if (reached(t[ZG_KT_PRE_ACTIVE], now)) {
		return ZG_KS_PRE_ACTIVE;
	}
	return ZG_KS_FUTURE;
}

void zg_keyset_deinit(zg_keyset_t *ks)
{
	free(ks->keys);
	ks->keys = NULL;
	ks->count = 0;
}

int zg_keyset_copy(zg_keyset_t *dst, const zg_keyset_t *src)
{
	zg_keyset_deinit(dst);
	if (src->count == 0) {
		return 0;
	}
	dst->keys = malloc(src->count * sizeof(*dst->keys));
	if (dst->keys == NULL) {
		return -ENOMEM;
	}
	memcpy(dst->keys, src->keys, src->count * sizeof(*dst->keys));
	dst->count = src->count;
	return 0;
}

/* The key with exactly this id (ids are lowercase), or NULL. */
static const zg_key_t *key_by_id(const zg_keyset_t *ks, const char *id)
{
	for (size_t i = 0; i < ks->count; i++) {
		if (strcmp(ks->keys[i].id, id) == 0) {
			return &ks->keys[i];
		}
	}
	return NULL;
}

static bool key_same(const zg_key_t *a, const zg_key_t *b)
{
	if (a->tag != b->tag || a->algorithm != b->algorithm || a->ksk != b->ksk ||
	    a->zsk != b->zsk || a->pub_only != b->pub_only) {
		return false;
	}
	for (int t = 0; t < ZG_KT_COUNT; t++) {
		if (a->t[t] != b->t[t]) {
			return false;
		}
	}
	return true;
}

/* Counts one changed key; describes the first one in what. */
static void change_note(size_t *n, const zg_key_t *k, const char *how, char *what, size_t len)
{
	if ((*n)++ == 0 && what != NULL) {
		snprintf(what, len, "%s %u (id %.12s...) %s", zg_key_role(k), (unsigned)k->tag, k->id,
		         how);
	}
}

size_t zg_keyset_changes(const zg_keyset_t *last, const zg_keyset_t *now, char *what,
                         size_t whatlen)
{
	if (what != NULL && whatlen > 0) {
		what[0] = '\0';
	}
	if (now->count == 0) {
		return 0; /* Nothing to restore; it would replace a good snapshot. */
	}
	if (last == NULL) {
		if (what != NULL) {
			snprintf(what, whatlen, "first snapshot, %zu key%s", now->count,
			         now->count == 1 ? "" : "s");
		}
		return now->count;
	}
	size_t n = 0;
	/* Added keys first: the line names a new key rather than a timer change. */
	for (size_t i = 0; i < now->count; i++) {
		if (key_by_id(last, now->keys[i].id) == NULL) {
			change_note(&n, &now->keys[i], "added", what, whatlen);
		}
	}
	for (size_t i = 0; i < now->count; i++) {
		const zg_key_t *was = key_by_id(last, now->keys[i].id);
		if (was != NULL && !key_same(was, &now->keys[i])) {
			change_note(&n, &now->keys[i], "timers changed", what, whatlen);
		}
	}
	for (size_t i = 0; i < last->count; i++) {
		if (key_by_id(now, last->keys[i].id) == NULL) {
			change_note(&n, &last->keys[i], "removed", what, whatlen);
		}
	}
	if (n > 1 && what != NULL) {
		size_t used = strlen(what);
		snprintf(what + used, whatlen > used ? whatlen - used : 0, " and %zu more key%s",
		         n - 1, n == 2 ? "" : "s");
	}
	return n;
}

static bool json_flag(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);
	return json_is_true(v);
}

int zg_keyset_parse_json(zg_keyset_t *ks, const char *json, size_t len, char *err, size_t errlen)
{
	zg_keyset_deinit(ks);
	err[0] = '\0';
	size_t sp = 0;
	while (sp < len && (json[sp] == ' ' || json[sp] == '\n' || json[sp] == '\t')) {
		sp++;
	}
	if (sp == len) {
		return 0; /* keymgr prints nothing for a zone without keys. */
	}
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "keymgr output is not JSON (%s, line %d)", jerr.text, jerr.line);
		return ZG_ESYNTAX;
	}
	if (!json_is_array(root)) {
		snprintf(err, errlen, "keymgr output is not a JSON array of keys");
		json_decref(root);
		return ZG_ESYNTAX;
	}
	size_t n = json_array_size(root);
	int ret = 0;
	if (n > 0 && (ks->keys = calloc(n, sizeof(zg_key_t))) == NULL) {
		ret = -ENOMEM;
	}
	for (size_t i = 0; ret == 0 && i < n; i++) {
		json_t *o = json_array_get(root, i);
		zg_key_t *k = &ks->keys[i];
		json_t *id = json_object_get(o, "id");
		json_t *tag = json_object_get(o, "tag");
		json_t *alg = json_object_get(o, "algorithm");
		const char *ids = json_string_value(id);
		if (!json_is_object(o) || ids == NULL || strlen(ids) < 2 ||
		    strlen(ids) >= sizeof(k->id) || !json_is_integer(tag) ||
		    json_integer_value(tag) < 0 || json_integer_value(tag) > 65535 ||
		    !json_is_integer(alg) || json_integer_value(alg) < 0 ||
		    json_integer_value(alg) > 255) {
			snprintf(err, errlen, "key %zu of keymgr's list has no valid id, tag or algorithm",
			         i + 1);
			ret = ZG_ESYNTAX;
			break;
		}
		for (size_t c = 0; ids[c] != '\0'; c++) {
			k->id[c] = (char)tolower((unsigned char)ids[c]);
		}
		k->tag = (uint16_t)json_integer_value(tag);
		k->algorithm = (uint8_t)json_integer_value(alg);
		k->ksk = json_flag(o, "ksk");
		k->zsk = json_flag(o, "zsk");
		k->pub_only = json_flag(o, "public-only");
		for (int t = 0; t < ZG_KT_COUNT; t++) {
			json_t *v = json_object_get(o, timer_names[t]);
			if (v == NULL) {
				continue;
			}
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				snprintf(err, errlen, "key %s: timer '%s' is not a unix time", k->id,
				         timer_names[t]);
				ret = ZG_ESYNTAX;
				break;
			}
			k->t[t] = (int64_t)json_integer_value(v);
		}
		ks->count = i + 1;
	}
	json_decref(root);
	if (ret != 0) {
		zg_keyset_deinit(ks);
	}
	return ret;
}

const zg_key_t *zg_keyset_find(const zg_keyset_t *ks, const char *id)
{
	size_t len = strlen(id);
	bool is_tag = len > 0 && len <= 5 && strspn(id, "0123456789") == len;
	const zg_key_t *found = NULL;
	for (size_t i = 0; i < ks->count; i++) {
		const zg_key_t *k = &ks->keys[i];
		if (strcasecmp(k->id, id) == 0) {
			return k;
		}
		if (is_tag && (unsigned long)k->tag == strtoul(id, NULL, 10)) {
			if (found != NULL) {
				return NULL; /* Two keys with that tag: ambiguous. */
			}
			found = k;
		}
	}
	return found;
}

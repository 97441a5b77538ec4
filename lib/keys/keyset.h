/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * A zone's DNSSEC keys as Knot's KASP database holds them (key id, tag,
 * algorithm, KSK/ZSK flags and the key timers), read from `keymgr -j ZONE
 * list` (the same JSON in Knot 3.2, 3.4 and 3.5; 3.4 adds "created"), and
 * the key states Knot derives from the timers (knot/dnssec/kasp/keystate.c:
 * a timer of 0 is "never").
 */
#ifndef ZONEGATE_KEYS_KEYSET_H
#define ZONEGATE_KEYS_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Knot's key timers, in keymgr's names. */
typedef enum {
	ZG_KT_CREATED = 0,
	ZG_KT_PRE_ACTIVE,
	ZG_KT_PUBLISH,
	ZG_KT_READY,
	ZG_KT_ACTIVE,
	ZG_KT_RETIRE_ACTIVE,
	ZG_KT_RETIRE,
	ZG_KT_POST_ACTIVE,
	ZG_KT_REVOKE,
	ZG_KT_REMOVE,
	ZG_KT_COUNT
} zg_key_timer_t;

/*! One key of a zone. */
typedef struct {
	char id[129];          /*!< Lowercase hex. */
	uint16_t tag;
	uint8_t algorithm;
	bool ksk;
	bool zsk;
	bool pub_only;         /*!< Imported public key: published, never signs. */
	int64_t t[ZG_KT_COUNT]; /*!< Unix times; 0 = not set (never). */
} zg_key_t;

/*! The keys of one zone (owned array); zg_keyset_deinit() frees it. */
typedef struct {
	zg_key_t *keys;
	size_t count;
} zg_keyset_t;

/*! Knot's key states (DNSSEC_KEY_STATE_*), plus FUTURE for a key with no state yet. */
typedef enum {
	ZG_KS_FUTURE = 0,     /*!< No timer reached yet (e.g. pre-generated, publish later). */
	ZG_KS_PRE_ACTIVE,
	ZG_KS_PUBLISHED,
	ZG_KS_READY,
	ZG_KS_ACTIVE,
	ZG_KS_RETIRE_ACTIVE,
	ZG_KS_RETIRED,
	ZG_KS_POST_ACTIVE,
	ZG_KS_REVOKED,
	ZG_KS_REMOVED,
	ZG_KS_INVALID,
} zg_key_state_t;

/*! keymgr's name of a timer ("publish", "retire-active"). */
const char *zg_key_timer_name(zg_key_timer_t t);

/*! Lowercase state name ("published", "retire-active"). */
const char *zg_key_state_name(zg_key_state_t s);

/*! The key's state at \a now, by Knot's rules. */
zg_key_state_t zg_key_state(const zg_key_t *key, int64_t now);

/*! "KSK", "ZSK" or "CSK". */
const char *zg_key_role(const zg_key_t *key);

/*!
 * Parses `keymgr -j ZONE list` output (a JSON array of key objects) into
 * \a ks (cleared first). Unknown members are ignored; missing timers are 0.
 *
 * \param err  Receives what is wrong ("key 2: no 'id'").
 *
 * \return 0, ZG_ESYNTAX, -ENOMEM.
 */
int zg_keyset_parse_json(zg_keyset_t *ks, const char *json, size_t len, char *err, size_t errlen);

/*! The key with id \a id (case-insensitive) or tag (if \a id is all digits and at most 5 long), or NULL. */
const zg_key_t *zg_keyset_find(const zg_keyset_t *ks, const char *id);

/*! Frees the keys. */
void zg_keyset_deinit(zg_keyset_t *ks);

/*!
 * Copies \a src into \a dst (whose keys are freed first); the caller
 * zg_keyset_deinit()s \a dst.
 *
 * \return 0, -ENOMEM (\a dst left empty).
 */
int zg_keyset_copy(zg_keyset_t *dst, const zg_keyset_t *src);

/*!
 * The key-state decision of mod-keys' state-command: how the key state in
 * Knot's KASP database (\a now) differs from the one last written (\a last,
 * NULL when none was written yet), in any key order. A key counts as changed
 * when it was added or removed, or when its tag, algorithm, flags or any
 * timer differ. Pure: no I/O, no clock.
 *
 * \param what  Receives, unless NULL, what changed for a log line (an added
 *              key named first, then changed, then removed ones):
 *              "first snapshot, 2 keys", "ZSK 4920 (id 063a...) added",
 *              "KSK 23112 (id 0578...) timers changed and 1 more key";
 *              "" when nothing changed.
 *
 * \return The number of keys that changed (with \a last NULL: every key, a
 *         first snapshot is due); 0 when \a now has no keys (a zone whose
 *         keys Knot has not generated yet, or a KASP database read empty:
 *         such a state would replace a good snapshot with nothing).
 */
size_t zg_keyset_changes(const zg_keyset_t *last, const zg_keyset_t *now, char *what,
                         size_t whatlen);

#endif /* ZONEGATE_KEYS_KEYSET_H */

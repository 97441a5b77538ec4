/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The backup interlock as pure functions of a zone's keys (keyset.h), the
 * backup register (register.h), the signing policy and the time: which keys
 * need a backup, which are held and how (changes to Knot's key timers, made
 * with `keymgr set`), which are released, when the supply of backed-up keys
 * runs out, and the recovery runway the policy leaves. No I/O, no clock: the
 * caller passes "now", so tests run on a fake clock and any signer (or
 * zg-keys) reaches the same decisions from the same KASP state and register.
 *
 * How Knot (3.2 to 3.5) uses a new key, and how a key is held:
 *  - Automatic key management: a new ZSK is published, then activated by
 *    Knot itself once it has been published for propagation-delay +
 *    dnskey-ttl (the "replace" step, computed from the publish timer; the
 *    active timer does not stop it); a new KSK is submitted (ready, CDS
 *    published) the same time after publication. A held key therefore keeps
 *    its publish timer recent: it stays in the DNSKEY RRset, never becomes
 *    active or ready, and, because a published key counts as a running
 *    rollover, Knot does not generate another one.
 *  - Pre-generated keys (keymgr pregenerate) and manual policies activate a
 *    key by its timers: a held key gets ZG_KEYS_HOLD_TIME in its ready/active
 *    (and later) timers, and the key(s) it would replace keep signing (their
 *    retire/remove timers get ZG_KEYS_HOLD_TIME too).
 *  - A held key is marked by ZG_KEYS_HOLD_TIME in its active (ZSK) or ready
 *    (KSK, CSK) timer, visible in `keymgr list` as 2038-01-01T00:00:00Z (the latest
 *    round date keymgr's JSON output, a 32-bit integer, can print).
 *    Once the key is in the register the marks are removed: under automatic
 *    management Knot then finishes the rollover by itself (at most
 *    propagation-delay + dnskey-ttl after the last publish refresh); under a
 *    manual policy the timers are set to activate the key and retire its
 *    predecessor (not before the key has been published for the delay).
 *  - Keys already in use (active ZSK, ready or active KSK, pre-active keys of
 *    an algorithm rollover) are never touched; one without a backup is only
 *    reported. Rollover steps that need no new key (retiring, removing old
 *    keys, a rollover to a backed-up key) are never held.
 *
 * Knot 3.4 and later clear the future timers of every key under automatic
 * key management at each key event ("cleared future timers of auto-managed
 * key"). There the hold marks last only until Knot's next key event (the
 * key stays held by its refreshed publish timer), and keys generated ahead
 * (keymgr pregenerate, or any key with a future publish timer) lose their
 * timers: they become spare keys, with no timer but "created", which Knot
 * never uses by itself (it generates a new key when a rollover is due). A
 * backed-up spare is therefore put to use by the interlock: once Knot would
 * start the role's rollover (active + zsk-lifetime, KSK created +
 * ksk-lifetime) within the lookahead and no rollover runs, the oldest
 * backed-up spare of the active key's algorithm is published now (a publish
 * timer in the past is kept), so Knot's rollover goes to that key instead of
 * a new one. The same happens in Knot 3.2 with spares made there (keymgr
 * generate with no timers); its timed pre-generated chains are used by their
 * timers and are not spares.
 */
#ifndef ZONEGATE_KEYS_DECIDE_H
#define ZONEGATE_KEYS_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/keyset.h"
#include "keys/register.h"

/*! The timer value of held keys: 2038-01-01T00:00:00Z. */
#define ZG_KEYS_HOLD_TIME INT64_C(2145916800)

/*! A Knot signing policy, as far as the interlock needs it (seconds). */
typedef struct {
	bool manual;                 /*!< policy manual: on (Knot changes no key by itself). */
	int64_t propagation_delay;
	int64_t dnskey_ttl;          /*!< -1: not set (Knot uses the SOA TTL). */
	int64_t zone_max_ttl;        /*!< -1: not set (Knot computes it from the zone). */
	int64_t zsk_lifetime;        /*!< 0: no automatic ZSK rollover. */
	int64_t ksk_lifetime;        /*!< 0: no automatic KSK rollover. */
	int64_t rrsig_lifetime;
	int64_t rrsig_refresh;       /*!< -1: not set (Knot: propagation-delay + zone-max-ttl). */
	int64_t rrsig_pre_refresh;
} zg_keys_policy_t;

/*! Knot's policy defaults (the same in 3.2 to 3.5). */
void zg_keys_policy_default(zg_keys_policy_t *p);

/*!
 * Seconds a new key is published before Knot uses it (propagation-delay +
 * dnskey-ttl; an unset dnskey-ttl counts as 0, which holds keys earlier).
 */
int64_t zg_keys_policy_key_delay(const zg_keys_policy_t *p);

/*!
 * The recovery runway the policy guarantees: Knot refreshes a signature
 * once less than rrsig-refresh of its validity is left, so while the signer
 * works every served signature is valid for at least that long; after a
 * keystore loss the zone stays valid for at least this long. An unset
 * rrsig-refresh is Knot's default, propagation-delay + zone-max-ttl (an unset
 * zone-max-ttl counts as 0).
 */
int64_t zg_keys_policy_runway(const zg_keys_policy_t *p);

/*! What the interlock makes of one key. */
typedef enum {
	ZG_KV_BACKED_UP = 0,  /*!< In the register. */
	ZG_KV_NOT_NEEDED,     /*!< No backup needed: public-only, retired, revoked, removed. */
	ZG_KV_WAITING,        /*!< No backup, not used yet, due later than the lookahead. */
	ZG_KV_HELD,           /*!< No backup, due within the lookahead (or marked held): held. */
	ZG_KV_IN_USE,         /*!< No backup and already in use: reported, never touched. */
} zg_key_verdict_t;

/*! "backed-up", "not-needed", "waiting", "held", "in-use-without-backup". */
const char *zg_key_verdict_name(zg_key_verdict_t v);

/*! The decision for one key. */
typedef struct {
	const zg_key_t *key;
	zg_key_state_t state;
	zg_key_verdict_t verdict;
	int64_t due;                  /*!< When Knot would activate (ZSK) or submit (KSK, CSK)
	                                   it without the hold; 0 unknown or not scheduled. */
	const zg_reg_entry_t *backup; /*!< Latest backup of the key, or NULL. */
	bool marked;                  /*!< Carries the hold marks (ZG_KEYS_HOLD_TIME). */
	bool released;                /*!< Backed up and its marks are removed by this plan. */
	bool spare;                   /*!< Generated ahead: no timer set but "created". */
	bool published_ahead;         /*!< A backed-up spare this plan publishes now for the
	                                   rollover Knot starts at \a due. */
} zg_key_decision_t;

/*! One timer change: `keymgr set id=KEY TIMER=VALUE`. */
typedef struct {
	size_t key;             /*!< Index into the keyset (and plan->keys). */
	zg_key_timer_t timer;
	int64_t value;          /*!< Unix time, 0 = never. */
} zg_keys_change_t;

enum { ZG_ROLE_ZSK = 0, ZG_ROLE_KSK = 1, ZG_ROLES = 2 };

/*! The interlock's plan for one zone; zg_keys_plan_deinit() frees it. */
typedef struct {
	zg_key_decision_t *keys;      /*!< One per key, in keyset order (owned). */
	size_t nkeys;
	zg_keys_change_t *changes;    /*!< Grouped by key, in keyset order (owned). */
	size_t nchanges;
	size_t held, waiting, in_use, released, backed_up;
	size_t published_ahead;       /*!< Spares published for a rollover (zone-keys-load). */
	bool role_held[ZG_ROLES];     /*!< A key of the role is held: its active keys keep signing. */
	int64_t supply_end[ZG_ROLES]; /*!< From when the role needs a key that is in no backup
	                                   (0: never, no rollover planned); each backed-up
	                                   spare adds one lifetime. */
} zg_keys_plan_t;

/*! Inputs of zg_keys_decide() besides keys, register and policy. */
typedef struct {
	int64_t now;
	int64_t lookahead;   /*!< Hold a key once it is due within this many seconds. */
} zg_keys_opts_t;

/*!
 * Decides for every key of \a zone: verdict, hold or release changes,
 * supply. Deterministic for the same inputs.
 *
 * \return 0, -ENOMEM.
 */
int zg_keys_decide(const zg_keyset_t *ks, const zg_reg_t *reg, const char *zone,
                   const zg_keys_policy_t *pol, const zg_keys_opts_t *opts, zg_keys_plan_t *plan);

/*! Frees a plan. */
void zg_keys_plan_deinit(zg_keys_plan_t *plan);

/*!
 * Knot's timer order check (keymgr refuses other orders): pre-active <=
 * publish <= active <= retire-active, retire, post-active; retire <= remove
 * without post-active; 0 is "never".
 *
 * \return true if \a t passes.
 */
bool zg_keys_timers_ordered(const int64_t t[ZG_KT_COUNT]);

/*!
 * The key's timers after the plan's changes (for display and checks).
 */
void zg_keys_plan_timers(const zg_keys_plan_t *plan, size_t key, int64_t out[ZG_KT_COUNT]);

#endif /* ZONEGATE_KEYS_DECIDE_H */

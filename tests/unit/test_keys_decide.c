/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The backup interlock's decisions on a fake clock: holds, releases, keys in
 * use without a backup, pre-generated chains, manual policies, KSKs, the
 * supply of backed-up keys and the policy's recovery runway. Every plan is
 * also checked against Knot's timer order (keymgr refuses other orders).
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "keys/decide.h"
#include "tap.h"

#define H ZG_KEYS_HOLD_TIME

static zg_key_t key(const char *id, bool ksk, int64_t publish, int64_t ready, int64_t active,
                    int64_t retire, int64_t remove)
{
	zg_key_t k;
	memset(&k, 0, sizeof(k));
	snprintf(k.id, sizeof(k.id), "%s", id);
	k.tag = (uint16_t)(id[0] * 7 + id[1]);
	k.algorithm = 13;
	k.ksk = ksk;
	k.zsk = !ksk;
	k.t[ZG_KT_PUBLISH] = publish;
	k.t[ZG_KT_READY] = ready;
	k.t[ZG_KT_ACTIVE] = active;
	k.t[ZG_KT_RETIRE] = retire;
	k.t[ZG_KT_REMOVE] = remove;
	return k;
}

static zg_reg_t reg;

static void backed(const char *id)
{
	reg.e = realloc(reg.e, (reg.count + 1) * sizeof(*reg.e));
	zg_reg_entry_t *e = &reg.e[reg.count++];
	reg.cap = reg.count;
	memset(e, 0, sizeof(*e));
	snprintf(e->zone, sizeof(e->zone), "test.");
	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->keystore, sizeof(e->keystore), "hsm");
	snprintf(e->location, sizeof(e->location), "/backup/1");
	e->time = 50;
}

static zg_keys_policy_t pol;

static void policy(bool manual)
{
	zg_keys_policy_default(&pol);
	pol.manual = manual;
	pol.propagation_delay = 5;
	pol.dnskey_ttl = 2;
	pol.zone_max_ttl = 5;
	pol.zsk_lifetime = 60;
	pol.rrsig_refresh = 86400;
}

/* Decides over keys[] at now; applies the plan to keys[] (as keymgr set would). */
static zg_keys_plan_t pl;

static void decide(zg_key_t *keys, size_t n, int64_t now, int64_t lookahead)
{
	zg_keys_plan_deinit(&pl);
	zg_keyset_t ks = { .keys = keys, .count = n };
	zg_keys_opts_t o = { .now = now, .lookahead = lookahead };
	int ret = zg_keys_decide(&ks, &reg, "test.", &pol, &o, &pl);
	ok(ret == 0, "decide at %lld", (long long)now);
	bool ordered = true;
	for (size_t i = 0; i < n; i++) {
		int64_t t[ZG_KT_COUNT];
		zg_keys_plan_timers(&pl, i, t);
		ordered &= zg_keys_timers_ordered(t);
	}
	ok(ordered, "every key's timers after the plan are in Knot's order");
}

static void apply(zg_key_t *keys)
{
	for (size_t i = 0; i < pl.nchanges; i++) {
		keys[pl.changes[i].key].t[pl.changes[i].timer] = pl.changes[i].value;
	}
}

static int64_t changed(size_t key, zg_key_timer_t t)
{
	for (size_t i = 0; i < pl.nchanges; i++) {
		if (pl.changes[i].key == key && pl.changes[i].timer == t) {
			return pl.changes[i].value;
		}
	}
	return -1;
}

static void test_knot_generated_zsk(void)
{
	/* Knot's own ZSK rollover: the new key is published, active 0. */
	zg_reg_deinit(&reg);
	backed("aa01");
	backed("bb01");
	zg_key_t k[] = {
		key("aa01", true, 100, 100, 0, 0, 0),
		key("bb01", false, 100, 0, 100, 0, 0),
		key("bb02", false, 990, 0, 0, 0, 0),
	};
	/* Published at 990, Knot would replace at 997: not within 3 s of 991. */
	decide(k, 3, 991, 3);
	is_int(pl.keys[2].verdict, ZG_KV_WAITING, "new ZSK without backup due later: waiting");
	is_int(pl.keys[2].due, 997, "due when Knot replaces (publish + propagation + dnskey-ttl)");
	is_int(pl.nchanges, 0, "nothing changed while it is not due");

	decide(k, 3, 992, 10);
	is_int(pl.keys[2].verdict, ZG_KV_HELD, "due within the lookahead: held");
	is_int(changed(2, ZG_KT_ACTIVE), H, "held ZSK marked (active = hold time)");
	is_int(changed(2, ZG_KT_PUBLISH), 992, "publish refreshed, so Knot's replace step moves on");
	is_int(pl.nchanges, 2, "only the new key's timers change");
	ok(pl.keys[0].verdict == ZG_KV_BACKED_UP && pl.keys[1].verdict == ZG_KV_BACKED_UP,
	   "the backed-up keys are left alone");
	is_int(pl.held, 1, "one key held");
	apply(k);

	decide(k, 3, 993, 10);
	is_int(pl.keys[2].verdict, ZG_KV_HELD, "still held (marked) a second later");
	is_int(changed(2, ZG_KT_PUBLISH), 993, "publish refreshed again near the replace step");
	apply(k);
	decide(k, 3, 994, 2);
	is_int(pl.nchanges, 0, "no refresh while the replace step is further than the lookahead");
	is_int(pl.keys[2].verdict, ZG_KV_HELD, "but the key stays held (marked)");

	backed("bb02");
	decide(k, 3, 1000, 10);
	is_int(pl.keys[2].verdict, ZG_KV_BACKED_UP, "backed up now");
	ok(pl.keys[2].released, "released");
	is_int(changed(2, ZG_KT_ACTIVE), 0, "mark removed: Knot's rollover replaces the key by itself");
	is_int(changed(2, ZG_KT_PUBLISH), -1, "publish left as it is");
	is_int(pl.nchanges, 1, "nothing else changes");
	apply(k);
	decide(k, 3, 1001, 10);
	is_int(pl.nchanges, 0, "released: no further change");
}

static void test_pregenerated_chain(void)
{
	/* keymgr pregenerate: z1 -> z2 (2000) -> z3 (3000); only z1 backed up. */
	zg_reg_deinit(&reg);
	backed("aa01");
	backed("cc01");
	zg_key_t k[] = {
		key("aa01", true, 100, 100, 0, 0, 0),
		key("cc01", false, 100, 0, 100, 2000, 2010),
		key("cc02", false, 1993, 0, 2000, 3000, 3010),
		key("cc03", false, 2993, 0, 3000, 0, 0),
	};
	decide(k, 4, 1995, 10);
	is_int(pl.keys[2].verdict, ZG_KV_HELD, "pre-generated ZSK due in 5 s without backup: held");
	is_int(changed(2, ZG_KT_ACTIVE), H, "its active timer is the hold time");
	is_int(changed(2, ZG_KT_RETIRE), H, "its retire moves with it (Knot's timer order)");
	is_int(changed(2, ZG_KT_REMOVE), H, "and its remove");
	is_int(changed(2, ZG_KT_PUBLISH), 1995, "published: publish refreshed (automatic policy)");
	is_int(changed(1, ZG_KT_RETIRE), H, "the active ZSK keeps signing: retire held");
	is_int(changed(1, ZG_KT_REMOVE), H, "and stays published: remove held");
	is_int(pl.keys[3].verdict, ZG_KV_WAITING, "the next pre-generated key is not due yet");
	is_int(changed(3, ZG_KT_ACTIVE), -1, "and is not touched");
	is_int(changed(0, ZG_KT_READY), -1, "the KSK is not touched (no KSK rollover needs a key)");
	is_int((long long)pl.supply_end[ZG_ROLE_ZSK], 2000, "ZSK supply ends at the held key's due");
	apply(k);

	backed("cc02");
	backed("cc03");
	decide(k, 4, 2050, 10);
	ok(pl.keys[2].released, "backed up: released");
	is_int(changed(2, ZG_KT_ACTIVE), 2050, "chain key activated now (published long enough)");
	is_int(changed(2, ZG_KT_RETIRE), 3000, "relinked: retires when the next key activates");
	is_int(changed(2, ZG_KT_REMOVE), 3010, "removed propagation-delay + zone-max-ttl later");
	is_int(changed(1, ZG_KT_RETIRE), 2050, "the old ZSK retires when the new one activates");
	is_int(changed(1, ZG_KT_REMOVE), 2060, "and goes propagation-delay + zone-max-ttl later");
	apply(k);
	is_int(zg_key_state(&k[2], 2050), ZG_KS_ACTIVE, "new ZSK active at 2050");
	is_int(zg_key_state(&k[1], 2050), ZG_KS_RETIRED, "old ZSK retired at 2050");
	is_int((long long)pl.supply_end[ZG_ROLE_ZSK], 3060, "supply: the last backed-up key's lifetime");
}

static void test_manual_policy(void)
{
	policy(true);
	zg_reg_deinit(&reg);
	backed("dd01");
	zg_key_t k[] = {
		key("dd01", false, 100, 0, 100, 2000, 2010),
		key("dd02", false, 1000, 0, 2000, 0, 0),
	};
	decide(k, 2, 1995, 10);
	is_int(pl.keys[1].due, 2000, "manual policy: due at its active timer only");
	is_int(pl.keys[1].verdict, ZG_KV_HELD, "held");
	is_int(changed(1, ZG_KT_ACTIVE), H, "active = hold time");
	is_int(changed(1, ZG_KT_PUBLISH), -1, "no publish refresh under a manual policy");
	is_int(changed(0, ZG_KT_RETIRE), H, "old key's retire held");
	apply(k);
	decide(k, 2, 2500, 10);
	is_int(pl.nchanges, 0, "stable while held (manual: nothing moves by itself)");
	backed("dd02");
	decide(k, 2, 2600, 10);
	is_int(changed(1, ZG_KT_ACTIVE), 2600, "released: active now");
	is_int(changed(0, ZG_KT_RETIRE), 2600, "old key retires at the same time");
	is_int(changed(0, ZG_KT_REMOVE), 2610, "and is removed after propagation-delay + zone-max-ttl");

	/* A key released right after publication waits for propagation. */
	zg_reg_deinit(&reg);
	backed("dd01");
	zg_key_t j[] = {
		key("dd01", false, 100, 0, 100, 0, 0),
		key("dd03", false, 3000, 0, H, 0, 0),
	};
	backed("dd03");
	decide(j, 2, 3001, 10);
	is_int(changed(1, ZG_KT_ACTIVE), 3007, "activation not before publish + propagation + dnskey-ttl");
	policy(false);
}

static void test_ksk(void)
{
	zg_reg_deinit(&reg);
	backed("ee01");
	backed("ee11");
	zg_key_t k[] = {
		key("ee01", true, 100, 100, 100, 0, 0),
		key("ee11", false, 100, 0, 100, 0, 0),
		key("ee02", true, 1000, 0, 0, 0, 0),
	};
	decide(k, 3, 1003, 10);
	is_int(pl.keys[2].verdict, ZG_KV_HELD, "new KSK without backup, submission due: held");
	is_int(changed(2, ZG_KT_READY), H, "KSK marked in its ready timer (not submitted)");
	is_int(changed(2, ZG_KT_ACTIVE), -1, "active stays unset");
	is_int(changed(2, ZG_KT_PUBLISH), 1003, "publish refreshed");
	is_int(changed(1, ZG_KT_RETIRE), -1, "the ZSK is not touched (its role is not held)");
	apply(k);
	is_int(zg_key_state(&k[2], 1003), ZG_KS_PUBLISHED, "held KSK stays published, not ready");
	backed("ee02");
	decide(k, 3, 1010, 10);
	is_int(changed(2, ZG_KT_READY), 0, "released: Knot submits it by itself");
}

static void test_in_use_and_not_needed(void)
{
	zg_reg_deinit(&reg);
	zg_key_t k[] = {
		key("ff01", true, 100, 100, 0, 0, 0),
		key("ff02", false, 100, 0, 100, 0, 0),
		key("ff03", false, 50, 0, 60, 90, 95),
		key("ff04", false, 0, 0, 0, 0, 0),
	};
	k[3].pub_only = true;
	decide(k, 4, 200, 10);
	is_int(pl.keys[0].verdict, ZG_KV_IN_USE, "ready KSK without backup: in use (submitted)");
	is_int(pl.keys[1].verdict, ZG_KV_IN_USE, "active ZSK without backup: in use");
	is_int(pl.keys[2].verdict, ZG_KV_NOT_NEEDED, "removed key: no backup needed");
	is_int(pl.keys[3].verdict, ZG_KV_NOT_NEEDED, "public-only key: no backup needed");
	is_int(pl.nchanges, 0, "keys in use are never touched");
	is_int(pl.in_use, 2, "two keys in use without a backup");
	is_int((long long)pl.supply_end[ZG_ROLE_ZSK], 200, "no backed-up ZSK: supply is out now");
	zg_key_t pre = key("ff05", false, 0, 0, 0, 0, 0);
	pre.t[ZG_KT_PRE_ACTIVE] = 150;
	zg_keyset_t ks = { .keys = &pre, .count = 1 };
	zg_keys_opts_t o = { .now = 200, .lookahead = 10 };
	zg_keys_plan_deinit(&pl);
	zg_keys_decide(&ks, &reg, "test.", &pol, &o, &pl);
	is_int(pl.keys[0].verdict, ZG_KV_IN_USE, "pre-active key (algorithm rollover) signs: in use");
}

static void test_supply_and_runway(void)
{
	zg_reg_deinit(&reg);
	backed("ab01");
	backed("ab02");
	zg_key_t k[] = {
		key("ab01", true, 100, 100, 100, 0, 0),
		key("ab02", false, 100, 0, 100, 0, 0),
	};
	decide(k, 2, 120, 10);
	is_int((long long)pl.supply_end[ZG_ROLE_ZSK], 160, "ZSK supply: active + zsk-lifetime");
	is_int((long long)pl.supply_end[ZG_ROLE_KSK], 0, "KSK supply unlimited (ksk-lifetime 0)");
	pol.zsk_lifetime = 0;
	decide(k, 2, 120, 10);
	is_int((long long)pl.supply_end[ZG_ROLE_ZSK], 0, "zsk-lifetime 0: no rollover, unlimited");
	policy(false);

	zg_keys_policy_t p;
	zg_keys_policy_default(&p);
	is_int(zg_keys_policy_runway(&p), 3600, "default runway: propagation-delay (zone-max-ttl unset)");
	p.zone_max_ttl = 86400;
	is_int(zg_keys_policy_runway(&p), 90000, "default rrsig-refresh: propagation + zone-max-ttl");
	p.rrsig_refresh = 7 * 86400;
	is_int(zg_keys_policy_runway(&p), 604800, "explicit rrsig-refresh");
	is_int(zg_keys_policy_key_delay(&p), 3600, "key delay without dnskey-ttl");
}

static void test_spares(void)
{
	/* Knot 3.4+ clears the future timers of auto-managed keys: keys generated
	 * ahead are left with "created" only. The backed-up ones are published
	 * for the next rollover, oldest first; the others are never used. */
	zg_reg_deinit(&reg);
	backed("aa01");
	backed("ee01");
	backed("ee02");
	backed("ee03");
	backed("ee05");
	zg_key_t k[] = {
		key("aa01", true, 100, 100, 0, 0, 0),
		key("ee01", false, 100, 0, 100, 0, 0),
		key("ee02", false, 0, 0, 0, 0, 0),
		key("ee03", false, 0, 0, 0, 0, 0),
		key("ee04", false, 0, 0, 0, 0, 0),
		key("ee05", false, 0, 0, 0, 0, 0),
	};
	k[2].t[ZG_KT_CREATED] = 150;
	k[3].t[ZG_KT_CREATED] = 140;
	k[4].t[ZG_KT_CREATED] = 130;
	k[5].t[ZG_KT_CREATED] = 120;
	k[5].algorithm = 8;
	k[3].t[ZG_KT_ACTIVE] = H; /* A mark left on a spare (held before its backup). */
	decide(k, 6, 120, 10);
	ok(pl.keys[2].spare && pl.keys[3].spare && pl.keys[4].spare, "keys with no timer are spares");
	ok(!pl.keys[1].spare && !pl.keys[0].spare, "keys in use are not");
	is_int(pl.keys[4].verdict, ZG_KV_WAITING, "a spare without backup waits (never due)");
	is_int(pl.keys[4].due, 0, "and is not due");
	ok(pl.keys[3].released, "a backed-up spare's leftover mark is released");
	is_int(changed(3, ZG_KT_ACTIVE), 0, "its active timer back to never");
	is_int(pl.nchanges, 1, "the rollover (160) is not within the lookahead: nothing else changes");
	ok(!pl.keys[3].published_ahead, "no spare published yet");
	apply(k);
	is_int((long long)pl.supply_end[ZG_ROLE_ZSK], 280, "supply: active + zsk-lifetime, one "
	       "lifetime per backed-up spare (not the unbacked one, nor another algorithm's)");

	decide(k, 6, 152, 10);
	ok(pl.keys[3].published_ahead, "rollover due in 8 s: the oldest backed-up spare is published");
	is_int(changed(3, ZG_KT_PUBLISH), 152, "publish = now (Knot keeps a past publish timer)");
	is_int(pl.keys[3].due, 160, "for the rollover Knot starts at active + zsk-lifetime");
	ok(!pl.keys[4].published_ahead && !pl.keys[5].published_ahead,
	   "not the spare without backup, nor the one of another algorithm");
	is_int(pl.published_ahead, 1, "one key published ahead");
	is_int(pl.nchanges, 1, "only that key changes");
	is_int((long long)pl.supply_end[ZG_ROLE_ZSK], 280, "the supply is the same");
	apply(k);
	is_int(zg_key_state(&k[3], 152), ZG_KS_PUBLISHED, "the spare is published");

	decide(k, 6, 153, 10);
	is_int(pl.nchanges, 0, "a rollover runs: no second spare is published");
	is_int(pl.published_ahead, 0, "none");

	pol.manual = true;
	k[3].t[ZG_KT_PUBLISH] = 0;
	decide(k, 6, 155, 10);
	is_int(pl.published_ahead, 0, "manual policy: spares are the operator's");
	policy(false);
	pol.zsk_lifetime = 0;
	decide(k, 6, 155, 10);
	is_int(pl.published_ahead, 0, "zsk-lifetime 0: no rollover, no spare published");
	policy(false);
	zg_key_t chain = key("ee06", false, 170, 0, 177, 0, 0);
	zg_key_t k2[] = { k[0], k[1], k[2], chain };
	backed("ee06");
	decide(k2, 4, 155, 10);
	is_int(pl.published_ahead, 0, "a timed (pre-generated) key takes over: no spare published");
}

static void test_states_and_order(void)
{
	zg_key_t k = key("a1b2", false, 100, 0, 200, 300, 400);
	is_int(zg_key_state(&k, 50), ZG_KS_FUTURE, "before publish: future");
	is_int(zg_key_state(&k, 150), ZG_KS_PUBLISHED, "published");
	is_int(zg_key_state(&k, 250), ZG_KS_ACTIVE, "active");
	is_int(zg_key_state(&k, 350), ZG_KS_RETIRED, "retired");
	is_int(zg_key_state(&k, 450), ZG_KS_REMOVED, "removed");
	ok(zg_keys_timers_ordered(k.t), "ordered timers pass");
	k.t[ZG_KT_ACTIVE] = H;
	ok(!zg_keys_timers_ordered(k.t), "active after retire is refused (as keymgr does)");
	k.t[ZG_KT_RETIRE] = 0;
	k.t[ZG_KT_REMOVE] = 0;
	ok(zg_keys_timers_ordered(k.t), "0 is never: active H before never");
	k.t[ZG_KT_ACTIVE] = 0;
	k.t[ZG_KT_RETIRE] = 500;
	ok(!zg_keys_timers_ordered(k.t), "never-active key with a retire time is refused");
}

int main(void)
{
	plan_lazy();
	zg_reg_init(&reg);
	policy(false);
	test_states_and_order();
	test_knot_generated_zsk();
	test_pregenerated_chain();
	test_manual_policy();
	test_ksk();
	test_in_use_and_not_needed();
	test_supply_and_runway();
	test_spares();
	zg_keys_plan_deinit(&pl);
	zg_reg_deinit(&reg);
	return done_testing();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-keys' key-state decision (zg_keyset_changes()): a snapshot of Knot's
 * KASP state is due at the first check and whenever a key was added or
 * removed or any of its timers or flags changed, in any key order; never
 * when nothing changed (the command would otherwise run at every check).
 */
#include <stdio.h>
#include <string.h>

#include "keys/keyset.h"
#include "tap.h"

/* A key with its created, publish and active timers. */
#define KEY(i, k, tg, pub, act) { .id = i, .tag = tg, .algorithm = 13, .ksk = k, .zsk = !(k), \
	.t = { [ZG_KT_CREATED] = pub, [ZG_KT_PUBLISH] = pub, [ZG_KT_ACTIVE] = act } }

int main(void)
{
	plan_lazy();
	char what[256];
	zg_key_t keys[3] = {
		KEY("0578b3fa5a8963ff77389276af7c7ef1c2e9cd94", true, 23112, 100, 100),
		KEY("9197aa0b5a8963ff77389276af7c7ef1c2e9cd00", false, 17893, 100, 100),
		KEY("063a11225a8963ff77389276af7c7ef1c2e9cd11", false, 4920, 500, 0),
	};
	zg_keyset_t now = { .keys = keys, .count = 2 };
	zg_keyset_t last = { 0 };

	/* First check: due once there are keys. */
	ok(zg_keyset_changes(NULL, &now, what, sizeof(what)) > 0, "first check: a snapshot is due");
	is_str(what, "first snapshot, 2 keys", "first check: described");
	zg_keyset_t none = { 0 };
	is_int(zg_keyset_changes(NULL, &none, what, sizeof(what)), 0,
	       "first check before Knot generated keys: not due (nothing to restore)");
	is_str(what, "", "nothing described");

	/* What was written is recorded; the same state again is not due. */
	is_int(zg_keyset_copy(&last, &now), 0, "copy of the written state");
	ok(last.keys != now.keys && last.count == 2, "the copy owns its keys");
	is_int(zg_keyset_changes(&last, &now, what, sizeof(what)), 0, "unchanged: no snapshot");
	is_str(what, "", "unchanged: nothing described");

	/* The same keys in another order: not a change. */
	zg_key_t swapped[2] = { keys[1], keys[0] };
	zg_keyset_t sw = { .keys = swapped, .count = 2 };
	is_int(zg_keyset_changes(&last, &sw, what, sizeof(what)), 0, "key order does not matter");

	/* A new key (ZSK rollover starts). */
	now.count = 3;
	is_int(zg_keyset_changes(&last, &now, what, sizeof(what)), 1, "a new key: due");
	is_str(what, "ZSK 4920 (id 063a11225a89...) added", "a new key: named");

	/* Each timer alone is a change (the rollover's next step). */
	is_int(zg_keyset_copy(&last, &now), 0, "copy of the state with the new key");
	for (int t = 0; t < ZG_KT_COUNT; t++) {
		int64_t was = keys[2].t[t];
		keys[2].t[t] = was + 7;
		ok(zg_keyset_changes(&last, &now, NULL, 0) == 1, "timer %s changed: due",
		   zg_key_timer_name((zg_key_timer_t)t));
		keys[2].t[t] = was;
	}
	keys[2].t[ZG_KT_ACTIVE] = 600;
	zg_keyset_changes(&last, &now, what, sizeof(what));
	is_str(what, "ZSK 4920 (id 063a11225a89...) timers changed", "a timer change: named");
	keys[2].t[ZG_KT_ACTIVE] = 0;
	is_int(zg_keyset_changes(&last, &now, NULL, 0), 0, "timer back: not due");

	/* Flags and tag. */
	keys[1].pub_only = true;
	ok(zg_keyset_changes(&last, &now, NULL, 0) == 1, "public-only flag changed: due");
	keys[1].pub_only = false;
	keys[0].algorithm = 8;
	ok(zg_keyset_changes(&last, &now, NULL, 0) == 1, "algorithm changed: due");
	keys[0].algorithm = 13;

	/* A key removed, and several changes at once. */
	now.count = 2;
	is_int(zg_keyset_changes(&last, &now, what, sizeof(what)), 1, "a key removed: due");
	is_str(what, "ZSK 4920 (id 063a11225a89...) removed", "a removed key: named");
	keys[0].t[ZG_KT_RETIRE] = 900;
	is_int(zg_keyset_changes(&last, &now, what, sizeof(what)), 2, "two changes counted");
	is_str(what, "KSK 23112 (id 0578b3fa5a89...) timers changed and 1 more key",
	       "two changes: the first named, the rest counted");

	/* A new key is named before other changes, whatever the order. */
	zg_key_t ordered[3] = { keys[0], keys[1], keys[2] };
	zg_keyset_t two = { .keys = ordered, .count = 2 };
	zg_keyset_t before = { 0 };
	is_int(zg_keyset_copy(&before, &two), 0, "copy of two keys");
	ordered[0].t[ZG_KT_RETIRE] = 1000;
	two.count = 3;
	is_int(zg_keyset_changes(&before, &two, what, sizeof(what)), 2, "a timer change and a new key");
	is_str(what, "ZSK 4920 (id 063a11225a89...) added and 1 more key", "the new key is named first");
	zg_keyset_deinit(&before);

	/* No keys at all (a KASP database read empty): never written over a
	 * snapshot that has keys. */
	is_int(zg_keyset_changes(&last, &none, NULL, 0), 0, "no keys: not due");

	/* A copy of an empty set. */
	is_int(zg_keyset_copy(&last, &none), 0, "copy of an empty set");
	is_int((int)last.count, 0, "the empty copy is empty");
	is_int(zg_keyset_changes(&last, &none, NULL, 0), 0, "empty to empty: not due");
	zg_keyset_deinit(&last);
	return done_testing();
}

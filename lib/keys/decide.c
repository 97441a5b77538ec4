/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "keys/decide.h"

#define HOLD ZG_KEYS_HOLD_TIME

void zg_keys_policy_default(zg_keys_policy_t *p)
{
	memset(p, 0, sizeof(*p));
	p->propagation_delay = 3600;
	p->dnskey_ttl = -1;
	p->zone_max_ttl = -1;
	p->zsk_lifetime = 30 * 86400;
	p->ksk_lifetime = 0;
	p->rrsig_lifetime = 14 * 86400;
	p->rrsig_refresh = -1;
	p->rrsig_pre_refresh = 3600;
}

int64_t zg_keys_policy_key_delay(const zg_keys_policy_t *p)
{
	return p->propagation_delay + (p->dnskey_ttl > 0 ? p->dnskey_ttl : 0);
}

/* Old keys are removed this long after they retire (Knot's zsk_remove_time()). */
static int64_t remove_delay(const zg_keys_policy_t *p)
{
	return p->propagation_delay + (p->zone_max_ttl > 0 ? p->zone_max_ttl : 0);
}

int64_t zg_keys_policy_runway(const zg_keys_policy_t *p)
{
	return p->rrsig_refresh >= 0 ? p->rrsig_refresh : remove_delay(p);
}

const char *zg_key_verdict_name(zg_key_verdict_t v)
{
	switch (v) {
	case ZG_KV_BACKED_UP: return "backed-up";
	case ZG_KV_NOT_NEEDED: return "not-needed";
	case ZG_KV_WAITING:   return "waiting";
	case ZG_KV_HELD:      return "held";
	default:              return "in-use-without-backup";
	}
}

/* Earlier of two timers where 0 means never. */
static int64_t tmin(int64_t a, int64_t b)
{
	if (a == 0) {
		return b;
	}
	if (b == 0) {
		return a;
	}
	return a < b ? a : b;
}

/* A timer that is set and not a hold mark. */
static int64_t real(int64_t t)
{
	return t == HOLD ? 0 : t;
}

static int role_of(const zg_key_t *k)
{
	return k->ksk ? ZG_ROLE_KSK : ZG_ROLE_ZSK;
}

static bool in_use(const zg_key_t *k, zg_key_state_t st)
{
	switch (st) {
	case ZG_KS_PRE_ACTIVE:
	case ZG_KS_ACTIVE:
	case ZG_KS_RETIRE_ACTIVE:
	case ZG_KS_POST_ACTIVE:
		return true;
	case ZG_KS_READY:
		return k->ksk; /* Submitted to the parent. */
	default:
		return false;
	}
}

/* The timer whose mark says "held": active for a ZSK, ready for a KSK/CSK. */
static zg_key_timer_t mark_timer(const zg_key_t *k)
{
	return k->ksk ? ZG_KT_READY : ZG_KT_ACTIVE;
}

/* When Knot would start using a pending key (0: not scheduled). */
static int64_t due_time(const zg_key_t *k, const zg_keys_policy_t *pol)
{
	int64_t due = real(k->t[ZG_KT_ACTIVE]);
	if (k->ksk) {
		due = tmin(due, real(k->t[ZG_KT_READY]));
	}
	int64_t pub = real(k->t[ZG_KT_PUBLISH]);
	if (!pol->manual && pub != 0) {
		due = tmin(due, pub + zg_keys_policy_key_delay(pol));
	}
	return due;
}

bool zg_keys_timers_ordered(const int64_t t[ZG_KT_COUNT])
{
	/* knot_time_cmp(a, b) > 0 with 0 as infinity. */
	#define AFTER(a, b) ((a) == 0 ? (b) != 0 : ((b) != 0 && (a) > (b)))
	if (t[ZG_KT_PRE_ACTIVE] != 0 && AFTER(t[ZG_KT_PRE_ACTIVE], t[ZG_KT_PUBLISH])) {
		return false;
	}
	if (AFTER(t[ZG_KT_PUBLISH], t[ZG_KT_ACTIVE]) ||
	    AFTER(t[ZG_KT_ACTIVE], t[ZG_KT_RETIRE_ACTIVE]) ||
	    AFTER(t[ZG_KT_ACTIVE], t[ZG_KT_RETIRE]) ||
	    AFTER(t[ZG_KT_ACTIVE], t[ZG_KT_POST_ACTIVE])) {
		return false;
	}
	if (t[ZG_KT_POST_ACTIVE] == 0 && AFTER(t[ZG_KT_RETIRE], t[ZG_KT_REMOVE])) {
		return false;
	}
	return true;
	#undef AFTER
}

/* Working copy of the timers while the plan is made. */
typedef struct {
	int64_t t[ZG_KT_COUNT];
	bool changed[ZG_KT_COUNT];
} work_t;

static void set(work_t *w, zg_key_timer_t timer, int64_t value)
{
	if (w->t[timer] != value) {
		w->t[timer] = value;
		w->changed[timer] = true;
	}
}

static const zg_key_timer_t end_timers[] = {
	ZG_KT_RETIRE_ACTIVE, ZG_KT_RETIRE, ZG_KT_POST_ACTIVE, ZG_KT_REMOVE,
};
#define NEND (sizeof(end_timers) / sizeof(end_timers[0]))

/* Holds pending key k: marks it, keeps its later timers in order, refreshes
 * its publish timer under automatic management when the replace step nears. */
static void hold_key(const zg_key_t *k, work_t *w, const zg_keys_policy_t *pol,
                     const zg_keys_opts_t *o)
{
	set(w, mark_timer(k), HOLD);
	if (k->ksk && w->t[ZG_KT_ACTIVE] != 0) {
		set(w, ZG_KT_ACTIVE, HOLD);
	}
	for (size_t i = 0; i < NEND; i++) {
		if (w->t[end_timers[i]] != 0) {
			set(w, end_timers[i], HOLD);
		}
	}
	int64_t pub = w->t[ZG_KT_PUBLISH];
	if (!pol->manual && pub != 0 && pub != HOLD && pub <= o->now &&
	    pub + zg_keys_policy_key_delay(pol) - o->now <= o->lookahead) {
		set(w, ZG_KT_PUBLISH, o->now);
	}
}

/* An active key of a held role keeps signing: its planned end waits. */
static void hold_predecessor(work_t *w, const zg_keys_opts_t *o)
{
	for (size_t i = 0; i < NEND; i++) {
		int64_t t = w->t[end_timers[i]];
		if (t != 0 && t != HOLD && t > o->now) {
			set(w, end_timers[i], HOLD);
		}
	}
}

/* When a released key starts being used under a manual policy. */
static int64_t manual_start(const work_t *w, const zg_keys_policy_t *pol, int64_t now)
{
	int64_t pub = real(w->t[ZG_KT_PUBLISH]);
	if (pub == 0) {
		return 0;
	}
	int64_t at = pub + zg_keys_policy_key_delay(pol);
	return at > now ? at : now;
}

/* The next pending key of the same role after k in a pre-generated chain:
 * the one with the earliest real active timer later than k's publish. */
static const zg_key_t *successor(const zg_keyset_t *ks, const zg_key_t *k, int64_t now)
{
	const zg_key_t *best = NULL;
	for (size_t i = 0; i < ks->count; i++) {
		const zg_key_t *s = &ks->keys[i];
		int64_t act = real(s->t[ZG_KT_ACTIVE]);
		if (s == k || s->ksk != k->ksk || s->pub_only || act == 0 || act <= now ||
		    real(s->t[ZG_KT_PUBLISH]) <= real(k->t[ZG_KT_PUBLISH])) {
			continue;
		}
		if (best == NULL || act < real(best->t[ZG_KT_ACTIVE])) {
			best = s;
		}
	}
	return best;
}

/* Removes the marks of backed-up pending key k. Returns when the key is to
 * start being used when that is set by timers (manual policy, or a key of a
 * pre-generated chain, whose successor's activation is already a timer), 0
 * when Knot's automatic rollover decides (it then retires the old key). */
static int64_t release_key(const zg_keyset_t *ks, const zg_key_t *k, work_t *w,
                           const zg_keys_policy_t *pol, const zg_keys_opts_t *o)
{
	if (k->ksk) {
		if (w->t[ZG_KT_READY] == HOLD) {
			set(w, ZG_KT_READY, pol->manual ? manual_start(w, pol, o->now) : 0);
		}
		if (w->t[ZG_KT_ACTIVE] == HOLD) {
			set(w, ZG_KT_ACTIVE, 0); /* Active once the submission is confirmed. */
		}
		for (size_t i = 0; i < NEND; i++) {
			if (w->t[end_timers[i]] == HOLD) {
				set(w, end_timers[i], 0);
			}
		}
		return 0;
	}
	const zg_key_t *next = successor(ks, k, o->now);
	int64_t start = (pol->manual || next != NULL) ? manual_start(w, pol, o->now) : 0;
	if (w->t[ZG_KT_ACTIVE] == HOLD) {
		set(w, ZG_KT_ACTIVE, start);
	}
	/* Its own planned end: relink a pre-generated chain, else never. */
	for (size_t i = 0; i < NEND; i++) {
		zg_key_timer_t t = end_timers[i];
		if (w->t[t] != HOLD) {
			continue;
		}
		int64_t v = 0;
		if (next != NULL && start != 0 && t == ZG_KT_RETIRE) {
			v = real(next->t[ZG_KT_ACTIVE]);
		} else if (next != NULL && start != 0 && t == ZG_KT_REMOVE) {
			v = real(next->t[ZG_KT_ACTIVE]) + remove_delay(pol);
		}
		set(w, t, v);
	}
	return start;
}

/* Marks left on the end timers of an active key whose successor is not held:
 * retire it when the successor starts (timed), else let Knot decide. */
static void release_predecessor(const zg_key_t *k, work_t *w, const zg_keys_policy_t *pol,
                                int64_t start)
{
	for (size_t i = 0; i < NEND; i++) {
		zg_key_timer_t t = end_timers[i];
		if (w->t[t] != HOLD) {
			continue;
		}
		int64_t v = 0;
		if (!k->ksk && start != 0 && t == ZG_KT_RETIRE) {
			v = start;
		} else if (!k->ksk && start != 0 && t == ZG_KT_REMOVE) {
			v = start + remove_delay(pol);
		}
		set(w, t, v);
	}
}

static bool has_marks(const zg_key_t *k)
{
	for (int t = 0; t < ZG_KT_COUNT; t++) {
		if (k->t[t] == HOLD) {
			return true;
		}
	}
	return false;
}

/* A key generated ahead that Knot does not schedule: every timer but
 * created (and revoke) unset, or a hold mark. */
static bool is_spare(const zg_key_t *k)
{
	static const zg_key_timer_t timers[] = {
		ZG_KT_PRE_ACTIVE, ZG_KT_PUBLISH, ZG_KT_READY, ZG_KT_ACTIVE,
		ZG_KT_RETIRE_ACTIVE, ZG_KT_RETIRE, ZG_KT_POST_ACTIVE, ZG_KT_REMOVE,
	};
	if (k->pub_only) {
		return false;
	}
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		if (real(k->t[timers[i]]) != 0) {
			return false;
		}
	}
	return true;
}

void zg_keys_plan_deinit(zg_keys_plan_t *plan)
{
	free(plan->keys);
	free(plan->changes);
	memset(plan, 0, sizeof(*plan));
}

void zg_keys_plan_timers(const zg_keys_plan_t *plan, size_t key, int64_t out[ZG_KT_COUNT])
{
	memcpy(out, plan->keys[key].key->t, sizeof(int64_t) * ZG_KT_COUNT);
	for (size_t i = 0; i < plan->nchanges; i++) {
		if (plan->changes[i].key == key) {
			out[plan->changes[i].timer] = plan->changes[i].value;
		}
	}
}

/* Supply: from when role r needs a key that is in no backup. */
static int64_t supply_end(const zg_keyset_t *ks, const zg_keys_plan_t *plan, int r,
                          const zg_keys_policy_t *pol, int64_t now)
{
	int64_t lifetime = pol->manual ? 0 : (r == ZG_ROLE_KSK ? pol->ksk_lifetime : pol->zsk_lifetime);
	const zg_key_t *last = NULL;
	int64_t last_start = 0;
	int64_t unbacked_due = 0;
	bool any = false;
	for (size_t i = 0; i < ks->count; i++) {
		const zg_key_decision_t *d = &plan->keys[i];
		const zg_key_t *k = d->key;
		if (role_of(k) != r || k->pub_only) {
			continue;
		}
		if (d->spare && !d->published_ahead) {
			continue; /* Counted below. */
		}
		bool used = in_use(k, d->state);
		bool pending = d->state == ZG_KS_FUTURE || d->state == ZG_KS_PUBLISHED;
		if (!used && !pending) {
			continue;
		}
		if (d->verdict != ZG_KV_BACKED_UP) {
			if (pending) {
				unbacked_due = tmin(unbacked_due, d->due != 0 ? d->due : now);
			}
			continue;
		}
		any = true;
		int64_t start = used ? tmin(real(k->t[ZG_KT_ACTIVE]), real(k->t[ZG_KT_READY])) : d->due;
		if (r == ZG_ROLE_KSK && used && real(k->t[ZG_KT_CREATED]) != 0) {
			start = real(k->t[ZG_KT_CREATED]); /* Knot's KSK lifetime counts from creation. */
		}
		if (start == 0) {
			start = now;
		}
		if (last == NULL || start >= last_start) {
			last = k;
			last_start = start;
		}
	}
	if (!any) {
		return now;
	}
	int64_t end = real(last->t[ZG_KT_RETIRE]);
	if (end == 0 && lifetime > 0) {
		end = last_start + lifetime;
	}
	/* Spares: one lifetime each once backed up (publish_spares()), if of the
	 * algorithm in use; never used without a backup. */
	for (size_t i = 0; i < ks->count && end != 0 && lifetime > 0; i++) {
		const zg_key_decision_t *d = &plan->keys[i];
		if (role_of(d->key) == r && d->spare && !d->published_ahead &&
		    d->verdict == ZG_KV_BACKED_UP && d->key->algorithm == last->algorithm &&
		    d->key->zsk == last->zsk) {
			end += lifetime;
		}
	}
	return tmin(end, unbacked_due);
}

/* Knot's running_rollover(): a key between two states of a rollover, or more
 * than one active key of a role. Knot starts no rollover while one runs. */
static bool rollover_running(const zg_keys_plan_t *plan)
{
	int ksk = 0, zsk = 0;
	for (size_t i = 0; i < plan->nkeys; i++) {
		const zg_key_t *k = plan->keys[i].key;
		if (k->pub_only) {
			continue;
		}
		switch (plan->keys[i].state) {
		case ZG_KS_PRE_ACTIVE:
		case ZG_KS_PUBLISHED:
		case ZG_KS_RETIRE_ACTIVE:
		case ZG_KS_POST_ACTIVE:
			return true;
		case ZG_KS_READY:
			ksk += k->ksk;
			break;
		case ZG_KS_ACTIVE:
			ksk += k->ksk;
			zsk += k->zsk;
			break;
		default:
			break;
		}
	}
	return ksk > 1 || zsk > 1;
}

/* Under automatic management Knot starts a role's rollover by generating a
 * new key (active + zsk-lifetime; KSK created + ksk-lifetime) unless a
 * rollover runs or a timed key of the role is on its way. When that is due
 * within the lookahead, the oldest backed-up spare of the active key's
 * algorithm is published now instead: Knot then rolls to it. */
static void publish_spares(const zg_keyset_t *ks, zg_keys_plan_t *plan, work_t *w,
                           const zg_keys_policy_t *pol, const zg_keys_opts_t *o)
{
	if (pol->manual || rollover_running(plan)) {
		return;
	}
	for (int r = 0; r < ZG_ROLES; r++) {
		int64_t lifetime = r == ZG_ROLE_KSK ? pol->ksk_lifetime : pol->zsk_lifetime;
		const zg_key_t *act = NULL;
		bool coming = false;
		for (size_t i = 0; i < ks->count; i++) {
			const zg_key_decision_t *d = &plan->keys[i];
			if (role_of(d->key) != r || d->key->pub_only) {
				continue;
			}
			if (d->state == ZG_KS_ACTIVE) {
				act = d->key;
			} else if (d->state == ZG_KS_FUTURE && !d->spare) {
				coming = true; /* A timed (pre-generated) key takes over. */
			}
		}
		if (lifetime <= 0 || act == NULL || coming) {
			continue;
		}
		int64_t from = real(act->t[ZG_KT_ACTIVE]);
		if (r == ZG_ROLE_KSK && real(act->t[ZG_KT_CREATED]) != 0) {
			from = real(act->t[ZG_KT_CREATED]);
		}
		if (from == 0 || from + lifetime - o->now > o->lookahead) {
			continue;
		}
		ssize_t best = -1;
		for (size_t i = 0; i < ks->count; i++) {
			const zg_key_decision_t *d = &plan->keys[i];
			if (role_of(d->key) != r || !d->spare || d->verdict != ZG_KV_BACKED_UP ||
			    d->key->algorithm != act->algorithm || d->key->zsk != act->zsk) {
				continue;
			}
			if (best < 0 || real(d->key->t[ZG_KT_CREATED]) <
			                real(plan->keys[best].key->t[ZG_KT_CREATED])) {
				best = (ssize_t)i;
			}
		}
		if (best < 0) {
			continue;
		}
		work_t *sw = &w[best];
		for (int t = 0; t < ZG_KT_COUNT; t++) {
			if (sw->t[t] == HOLD) {
				set(sw, (zg_key_timer_t)t, 0);
			}
		}
		set(sw, ZG_KT_PUBLISH, o->now);
		plan->keys[best].published_ahead = true;
		plan->keys[best].due = from + lifetime;
	}
}

int zg_keys_decide(const zg_keyset_t *ks, const zg_reg_t *reg, const char *zone,
                   const zg_keys_policy_t *pol, const zg_keys_opts_t *o, zg_keys_plan_t *plan)
{
	memset(plan, 0, sizeof(*plan));
	size_t n = ks->count;
	if (n == 0) {
		return 0;
	}
	plan->keys = calloc(n, sizeof(*plan->keys));
	work_t *w = calloc(n, sizeof(*w));
	plan->changes = calloc(n * ZG_KT_COUNT, sizeof(*plan->changes));
	if (plan->keys == NULL || w == NULL || plan->changes == NULL) {
		free(w);
		zg_keys_plan_deinit(plan);
		return -ENOMEM;
	}
	plan->nkeys = n;

	/* 1. Verdicts and the holds of keys without a backup. */
	for (size_t i = 0; i < n; i++) {
		const zg_key_t *k = &ks->keys[i];
		zg_key_decision_t *d = &plan->keys[i];
		memcpy(w[i].t, k->t, sizeof(w[i].t));
		d->key = k;
		d->state = zg_key_state(k, o->now);
		d->backup = zg_reg_latest(reg, zone, k->id);
		d->marked = k->t[mark_timer(k)] == HOLD;
		d->spare = d->state == ZG_KS_FUTURE && is_spare(k);
		bool pending = d->state == ZG_KS_FUTURE || d->state == ZG_KS_PUBLISHED;
		if (pending) {
			d->due = due_time(k, pol);
		}
		if (d->backup != NULL) {
			d->verdict = ZG_KV_BACKED_UP;
		} else if (k->pub_only || !(pending || in_use(k, d->state))) {
			d->verdict = ZG_KV_NOT_NEEDED;
		} else if (in_use(k, d->state)) {
			d->verdict = ZG_KV_IN_USE;
		} else if (d->marked || (d->due != 0 && d->due - o->now <= o->lookahead)) {
			d->verdict = ZG_KV_HELD;
			hold_key(k, &w[i], pol, o);
			plan->role_held[role_of(k)] = true;
		} else {
			d->verdict = ZG_KV_WAITING;
		}
	}

	/* 2. Releases: backed-up pending keys that still carry marks. */
	int64_t *start = calloc(n, sizeof(*start));
	if (start == NULL) {
		free(w);
		zg_keys_plan_deinit(plan);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const zg_key_t *k = &ks->keys[i];
		zg_key_decision_t *d = &plan->keys[i];
		bool pending = d->state == ZG_KS_FUTURE || d->state == ZG_KS_PUBLISHED;
		if (d->verdict == ZG_KV_BACKED_UP && pending && has_marks(k)) {
			start[i] = release_key(ks, k, &w[i], pol, o);
			d->released = true;
		}
	}

	/* 2b. Spares: publish one for a rollover Knot is about to start. */
	publish_spares(ks, plan, w, pol, o);

	/* 3. Active keys: they keep signing while the key Knot switches to next in
	 *    their role (the pending one published first) is held; otherwise their
	 *    marks go and they retire when that key starts. */
	for (int r = 0; r < ZG_ROLES; r++) {
		ssize_t nx = -1;
		for (size_t i = 0; i < n; i++) {
			const zg_key_decision_t *d = &plan->keys[i];
			if (role_of(d->key) != r || d->key->pub_only ||
			    (d->state != ZG_KS_FUTURE && d->state != ZG_KS_PUBLISHED)) {
				continue;
			}
			int64_t p = real(d->key->t[ZG_KT_PUBLISH]);
			int64_t q = nx < 0 ? 0 : real(plan->keys[nx].key->t[ZG_KT_PUBLISH]);
			if (nx < 0 || (p != 0 && (q == 0 || p < q))) {
				nx = (ssize_t)i;
			}
		}
		bool held = nx >= 0 && plan->keys[nx].verdict == ZG_KV_HELD;
		for (size_t i = 0; i < n; i++) {
			const zg_key_t *k = &ks->keys[i];
			if (role_of(k) != r || !in_use(k, plan->keys[i].state)) {
				continue;
			}
			if (held) {
				hold_predecessor(&w[i], o);
			} else {
				release_predecessor(k, &w[i], pol, nx >= 0 ? start[nx] : 0);
			}
		}
	}
	free(start);

	/* 4. The changes, grouped by key; counts; supply. */
	for (size_t i = 0; i < n; i++) {
		for (int t = 0; t < ZG_KT_COUNT; t++) {
			if (w[i].changed[t] && w[i].t[t] != ks->keys[i].t[t]) {
				plan->changes[plan->nchanges++] = (zg_keys_change_t){
					.key = i, .timer = (zg_key_timer_t)t, .value = w[i].t[t],
				};
			}
		}
		switch (plan->keys[i].verdict) {
		case ZG_KV_HELD:      plan->held++; break;
		case ZG_KV_WAITING:   plan->waiting++; break;
		case ZG_KV_IN_USE:    plan->in_use++; break;
		case ZG_KV_BACKED_UP: plan->backed_up++; break;
		default: break;
		}
		plan->released += plan->keys[i].released;
		plan->published_ahead += plan->keys[i].published_ahead;
	}
	free(w);
	for (int r = 0; r < ZG_ROLES; r++) {
		plan->supply_end[r] = supply_end(ks, plan, r, pol, o->now);
	}
	return 0;
}

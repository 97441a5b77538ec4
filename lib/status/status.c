/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libknot/libknot.h>

#include "core/error.h"
#include "dns/ctl.h"
#include "dns/resolver.h"
#include "keys/register.h"
#include "status/status.h"

#define DEFAULT_WARN_FRESHNESS	300
#define DEFAULT_CRIT_FRESHNESS	1800
#define DEFAULT_WARN_RUNWAY	(3 * 86400)
#define DEFAULT_CRIT_RUNWAY	86400
#define MAX_REPLIES		4096

/* CRITICAL above UNKNOWN above WARNING above OK (what cannot be read may hide
 * a critical state, but a known critical one is worse). */
static const int level_rank[] = { 0, 1, 3, 2 };

const char *zg_status_level_str(zg_status_level_t level)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	return level <= ZG_STATUS_UNKNOWN ? names[level] : "UNKNOWN";
}

static void problem(zg_status_t *st, zg_status_level_t level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(zg_status_t *st, zg_status_level_t level, const char *fmt, ...)
{
	if (st->nproblems == ZG_STATUS_PROBLEMS) {
		return;
	}
	zg_status_problem_t *p = &st->problems[st->nproblems++];
	p->level = level;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
}

/* The counters zone-stats reports, by module and name. */
static const struct {
	const char *module;
	const char *name;
	size_t off;
} counters[] = {
#define C(m, n, f) { m, n, offsetof(zg_status_counters_t, f) }
	C("mod-ingest", "messages-applied", ing_applied),
	C("mod-ingest", "messages-refused", ing_refused),
	C("mod-ingest", "changes-applied", ing_changes),
	C("mod-ingest", "queue-lag-seconds", ing_lag),
	C("mod-ingest", "last-applied-id", ing_last_row),
	C("mod-ingest", "consumer-connected", ing_connected),
	C("mod-ingest", "lease-held", ing_lease),
	C("mod-ingest", "last-poll-time", ing_last_poll),
	C("mod-validate", "serials-validated", val_validated),
	C("mod-validate", "serials-failed", val_failed),
	C("mod-validate", "last-validated-serial", val_last),
	C("mod-validate", "validation-latency-ms", val_latency_ms),
	C("mod-validate", "transfers-refused", val_xfr_refused),
	C("mod-validate", "earliest-expiry-seconds", val_expiry_s),
	C("mod-validate", "transfers-content-refused", val_content_refused),
	C("mod-dsync", "parent-ds-checks-ok", ds_ok),
	C("mod-dsync", "parent-ds-checks-failed", ds_failed),
	C("mod-dsync", "syncs-overdue", ds_overdue),
	C("mod-dsync", "cds-unsafe", ds_unsafe),
	C("mod-dsync", "parent-ds-unauthenticated", ds_unauth),
	C("mod-dsync", "transfers-refused", ds_xfr_refused),
	C("mod-keys", "key-state-writes", keys_writes),
	C("mod-keys", "key-state-errors", keys_errors),
#undef C
};

static void counters_init(zg_status_counters_t *c)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		*(int64_t *)((char *)c + counters[i].off) = -1;
	}
}

static bool parse_i64(const char *s, int64_t *v)
{
	if (s == NULL || *s == '\0') {
		return false;
	}
	char *end = NULL;
	long long x = strtoll(s, &end, 10);
	if (*end != '\0') {
		return false;
	}
	*v = x;
	return true;
}

static void stats_cb(const zg_ctl_reply_t *r, void *arg)
{
	zg_status_counters_t *c = arg;
	if (r->section == NULL || r->item == NULL) {
		return;
	}
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		/* The section is the module id ("mod-ingest"); a per-index counter
		 * would carry an id: none of ours has one. */
		if (strcmp(r->section, counters[i].module) == 0 &&
		    strcmp(r->item, counters[i].name) == 0) {
			int64_t v;
			if (parse_i64(r->data, &v)) {
				*(int64_t *)((char *)c + counters[i].off) = v;
			}
		}
	}
}

static void serial_cb(const zg_ctl_reply_t *r, void *arg)
{
	int64_t *serial = arg, v;
	if (r->type != NULL && strcmp(r->type, "serial") == 0 && parse_i64(r->data, &v)) {
		*serial = v;
	}
}

/* zone-status (serial) and zone-stats (counters) of one knotd. */
static int read_knotd(const zg_status_conf_t *conf, const char *sock, const char *zone,
                      int64_t *serial, zg_status_counters_t *c, char *err, size_t errlen)
{
	int tmo = conf->timeout_ms > 0 ? conf->timeout_ms : 2000;
	zg_ctl_request_t req = { .cmd = "zone-status", .zone = zone };
	int ret = zg_ctl_query(sock, tmo, &req, MAX_REPLIES, serial_cb, serial, err, errlen);
	if (ret != 0) {
		return ret;
	}
	if (*serial < 0) {
		snprintf(err, errlen, "control socket %.160s, zone %s has no serial (not loaded)",
		         sock, zone);
		return ZG_EINPUT;
	}
	/* F: also the counters that are zero (Knot 3.3 and later hide them). */
	req = (zg_ctl_request_t){ .cmd = "zone-stats", .zone = zone, .flags = "F" };
	return zg_ctl_query(sock, tmo, &req, MAX_REPLIES, stats_cb, c, err, errlen);
}

/* RFC 1982: a is before b. */
static bool serial_lt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(b - a) < 0x80000000u;
}

static void read_secondary(const zg_status_conf_t *conf, const knot_dname_t *zone,
                           const char *text, zg_status_secondary_t *s)
{
	zg_server_t srv;
	s->serial = -1;
	snprintf(s->name, sizeof(s->name), "%s", text);
	if (zg_server_parse(&srv, text, 53) != 0) {
		snprintf(s->err, sizeof(s->err), "not an address");
		return;
	}
	snprintf(s->name, sizeof(s->name), "%s", srv.name);
	zg_stub_opts_t opts = { .timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 2000,
	                        .udp_tries = 2 };
	knot_pkt_t *ans = NULL;
	int ret = zg_stub_query(&srv, zone, KNOT_RRTYPE_SOA, &opts, &ans);
	if (ret != 0) {
		snprintf(s->err, sizeof(s->err), "SOA query failed (%s)", zg_strerror(ret));
		return;
	}
	const knot_pktsection_t *an = knot_pkt_section(ans, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type == KNOT_RRTYPE_SOA && knot_dname_is_equal(rr->owner, zone)) {
			s->serial = knot_soa_serial(rr->rrs.rdata);
		}
	}
	if (s->serial < 0) {
		snprintf(s->err, sizeof(s->err), "no SOA in the answer (rcode %s)",
		         knot_rcode_names[knot_pkt_ext_rcode(ans)].name != NULL ?
		         knot_rcode_names[knot_pkt_ext_rcode(ans)].name : "?");
	}
	knot_pkt_free(ans);
}

/* The serial every secondary serves (the lowest; -1 unless all answered), or
 * without secondaries the gate's last validated one. */
static int64_t served_serial(const zg_status_t *st)
{
	int64_t served = -1;
	for (size_t i = 0; i < st->nsec; i++) {
		if (st->sec[i].serial < 0) {
			return -1;
		}
		if (served < 0 || serial_lt((uint32_t)st->sec[i].serial, (uint32_t)served)) {
			served = st->sec[i].serial;
		}
	}
	if (st->nsec == 0 && st->have_gate && st->gc.val_last > 0) {
		served = st->gc.val_last;
	}
	return served;
}

static char *dur(int64_t s, char *buf, size_t len)
{
	return s < 0 ? (snprintf(buf, len, "-"), buf) : zg_keys_duration_str(s, buf, len);
}

/* The key-state watcher's status file, DIR/keystate-ZONE.json (ZONE without
 * the final dot), as zg-signer-knot's watch writes it: every field an
 * integer or null, "state" a word. A missing, unreadable or malformed file
 * is an error (ks->err), never a guess. */
static void read_keystate(const char *dir, const char *zone, zg_status_keystate_t *ks)
{
	static const struct {
		const char *name;
		size_t off;
		bool required;
	} fields[] = {
#define F(n, f, r) { n, offsetof(zg_status_keystate_t, f), r }
		F("pid", pid, true), F("token", token, false), F("period", period, true),
		F("timeout", timeout, true), F("started", started, true), F("updated", updated, true),
		F("checks", checks, true), F("writes", writes, true), F("errors", errors, true),
		F("errors_in_a_row", in_a_row, true), F("last_write", last_write, false),
		F("last_error", last_error, false), F("published_token", pub_token, false),
		F("published_at", pub_at, false),
#undef F
	};
	size_t zl = strlen(zone);
	snprintf(ks->path, sizeof(ks->path), "%s/keystate-%.*s.json", dir,
	         (int)(zl > 1 ? zl - 1 : 0), zone);
	FILE *f = fopen(ks->path, "r");
	if (f == NULL) {
		snprintf(ks->err, sizeof(ks->err), "%s: %s", ks->path, strerror(errno));
		return;
	}
	json_error_t jerr;
	json_t *o = json_loadf(f, 0, &jerr);
	fclose(f);
	if (o == NULL) {
		snprintf(ks->err, sizeof(ks->err), "%s: line %d: %s", ks->path, jerr.line, jerr.text);
		return;
	}
	static const char *const states[] = { "running", "stopped", "off", "fenced", "unreachable" };
	const char *state = json_string_value(json_object_get(o, "state"));
	for (size_t i = 0; state != NULL && i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(state, states[i]) == 0) {
			snprintf(ks->state, sizeof(ks->state), "%s", states[i]);
		}
	}
	if (ks->state[0] == '\0') {
		snprintf(ks->err, sizeof(ks->err), "%s: %s", ks->path, state == NULL ?
		         "no \"state\"" : "\"state\" is none of running, stopped, off, fenced, "
		         "unreachable");
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(o, fields[i].name);
		int64_t *dst = (int64_t *)((char *)ks + fields[i].off);
		*dst = -1;
		if (json_is_integer(v) && json_integer_value(v) >= 0) {
			*dst = json_integer_value(v);
		} else if (fields[i].required || (v != NULL && !json_is_null(v))) {
			snprintf(ks->err, sizeof(ks->err), "%s: \"%s\" is not a count or time",
			         ks->path, fields[i].name);
			break;
		}
	}
	json_decref(o);
}

/* What the watcher's file says about the key state's safety. */
static void evaluate_keystate(zg_status_t *st)
{
	const zg_status_keystate_t *ks = &st->ks;
	char b1[32], b2[32];
	if (ks->err[0] != '\0') {
		problem(st, ZG_STATUS_UNKNOWN, "key-state watcher: %s", ks->err);
	} else if (strcmp(ks->state, "running") == 0) {
		/* A round: a key listing and at most one backup, each bounded by
		 * the timeout; two rounds of silence is a hung or vanished watcher. */
		int64_t bound = 2 * (ks->period + ks->timeout);
		if (st->now - ks->updated > bound) {
			problem(st, ZG_STATUS_WARNING, "key-state watcher (pid %" PRId64 ") silent for "
			        "%s, over %s: a key event may not reach the key state",
			        ks->pid, dur(st->now - ks->updated, b1, sizeof(b1)),
			        dur(bound, b2, sizeof(b2)));
		}
		if (ks->in_a_row >= 2) {
			problem(st, ZG_STATUS_WARNING, "key state not written %" PRId64 " times in a "
			        "row: a standby taking over now restores an older one", ks->in_a_row);
		}
	} else if (strcmp(ks->state, "fenced") == 0) {
		problem(st, ZG_STATUS_WARNING, "key-state watcher fenced: a newer active (token %"
		        PRId64 ") wrote the key state, this signer (token %" PRId64 ") must not sign",
		        ks->pub_token, ks->token);
	} else if (strcmp(ks->state, "unreachable") == 0) {
		problem(st, ZG_STATUS_WARNING, "key-state watcher exited: the signer's knotd did "
		        "not answer for %s", dur(ks->timeout, b1, sizeof(b1)));
	}
	/* stopped, off: a standby's, nothing to watch. */
}

static void evaluate(zg_status_t *st)
{
	char b1[32], b2[32];
	for (size_t i = 0; i < st->nsec; i++) {
		if (st->sec[i].serial < 0) {
			problem(st, ZG_STATUS_UNKNOWN, "secondary %s: %s", st->sec[i].name,
			        st->sec[i].err);
		}
	}
	/* The verdict on the gate's newest serial. */
	st->verdict = "unknown";
	if (st->have_gate && st->gc.val_last >= 0) {
		if (st->gc.val_validated > 0 || st->gc.val_last > 0) {
			st->verdict = st->gc.val_last == st->gate_serial ? "valid" :
			              st->gc.val_failed > 0 ? "failed" : "validating";
		} else {
			st->verdict = st->gc.val_failed > 0 ? "failed" : "validating";
		}
	}
	if (strcmp(st->verdict, "failed") == 0) {
		if (st->gc.val_last > 0) {
			problem(st, ZG_STATUS_CRITICAL, "validation of serial %" PRId64 " failed, "
			        "serial %" PRId64 " is the last valid one", st->gate_serial,
			        st->gc.val_last);
		} else {
			problem(st, ZG_STATUS_CRITICAL, "validation of serial %" PRId64 " failed, "
			        "no serial has validated", st->gate_serial);
		}
	}
	if (st->have_queue && st->queue_err[0] != '\0') {
		problem(st, ZG_STATUS_UNKNOWN, "queue: %s", st->queue_err);
	}
	if (st->signer_err[0] != '\0') {
		problem(st, ZG_STATUS_UNKNOWN, "signer: %s", st->signer_err);
	}
	if (st->gate_err[0] != '\0') {
		problem(st, ZG_STATUS_UNKNOWN, "gate: %s", st->gate_err);
	}
	/* Freshness: the oldest change waiting in the queue, or applied but not
	 * yet served by every secondary. */
	st->freshness = -1;
	st->freshness_exact = true;
	bool queue_read = st->have_queue && st->queue_err[0] == '\0';
	if (queue_read) {
		st->freshness = 0;
		if (st->q.pending > 0 && st->q.oldest > 0) {
			st->freshness = st->now - st->q.oldest;
		}
	}
	int64_t target = st->signer_serial >= 0 ? st->signer_serial :
	                 st->have_gate ? st->gate_serial : -1;
	bool behind = st->served >= 0 && target >= 0 &&
	              serial_lt((uint32_t)st->served, (uint32_t)target);
	if (queue_read && behind) {
		int64_t age = -1;
		if (st->q.pg) {
			if (st->q.unserved_oldest > 0) {
				age = st->now - st->q.unserved_oldest;
			}
		} else if (st->q.have_last && st->q.last_enqueued > 0) {
			/* No serial recorded: the newest applied message is unserved
			 * at least (older ones may be too). */
			age = st->now - st->q.last_enqueued;
			st->freshness_exact = false;
		}
		if (age > st->freshness) {
			st->freshness = age;
		}
	}
	if (queue_read && st->served < 0 && (st->nsec > 0 || !st->have_gate)) {
		/* Nothing says what is served: the queue's part only. */
		st->freshness_exact = false;
	}
	if (st->freshness >= 0) {
		const char *ge = st->freshness_exact ? "" : ">= ";
		if (st->freshness >= st->crit_freshness) {
			problem(st, ZG_STATUS_CRITICAL, "freshness %s%s over %s", ge,
			        dur(st->freshness, b1, sizeof(b1)), dur(st->crit_freshness, b2, sizeof(b2)));
		} else if (st->freshness >= st->warn_freshness) {
			problem(st, ZG_STATUS_WARNING, "freshness %s%s over %s", ge,
			        dur(st->freshness, b1, sizeof(b1)), dur(st->warn_freshness, b2, sizeof(b2)));
		}
	}
	/* Runway: mod-validate's earliest expiry. */
	st->runway = st->have_gate && st->gc.val_validated > 0 ? st->gc.val_expiry_s : -1;
	if (st->runway >= 0) {
		if (st->runway <= st->crit_runway) {
			problem(st, ZG_STATUS_CRITICAL, "signatures expire in %s (under %s)",
			        dur(st->runway, b1, sizeof(b1)), dur(st->crit_runway, b2, sizeof(b2)));
		} else if (st->runway <= st->warn_runway) {
			problem(st, ZG_STATUS_WARNING, "signatures expire in %s (under %s)",
			        dur(st->runway, b1, sizeof(b1)), dur(st->warn_runway, b2, sizeof(b2)));
		}
	}
	if (st->have_keystate) {
		evaluate_keystate(st);
	}
	/* DS sync (mod-dsync at the signer, else at the gate). */
	const zg_status_counters_t *ds = st->sc.ds_overdue >= 0 ? &st->sc : &st->gc;
	if (ds->ds_overdue > 0) {
		problem(st, ZG_STATUS_WARNING, "DS sync overdue");
	}
	/* Worst first (stable), and the overall state. */
	for (size_t i = 1; i < st->nproblems; i++) {
		zg_status_problem_t p = st->problems[i];
		size_t j = i;
		while (j > 0 && level_rank[st->problems[j - 1].level] < level_rank[p.level]) {
			st->problems[j] = st->problems[j - 1];
			j--;
		}
		st->problems[j] = p;
	}
	st->level = st->nproblems > 0 ? st->problems[0].level : ZG_STATUS_OK;
}

int zg_status_collect(const zg_status_conf_t *conf, zg_status_t *st)
{
	memset(st, 0, sizeof(*st));
	st->now = conf->now;
	st->signer_serial = st->gate_serial = -1;
	counters_init(&st->sc);
	counters_init(&st->gc);
	st->warn_freshness = conf->warn_freshness > 0 ? conf->warn_freshness : DEFAULT_WARN_FRESHNESS;
	st->crit_freshness = conf->crit_freshness > 0 ? conf->crit_freshness : DEFAULT_CRIT_FRESHNESS;
	st->warn_runway = conf->warn_runway > 0 ? conf->warn_runway : DEFAULT_WARN_RUNWAY;
	st->crit_runway = conf->crit_runway > 0 ? conf->crit_runway : DEFAULT_CRIT_RUNWAY;
	knot_dname_t *zone = knot_dname_from_str_alloc(conf->zone);
	if (zone == NULL) {
		problem(st, ZG_STATUS_UNKNOWN, "invalid zone name '%.200s'", conf->zone);
		st->level = ZG_STATUS_UNKNOWN;
		return ZG_EINPUT;
	}
	knot_dname_to_lower(zone);
	knot_dname_to_str(st->zone, zone, sizeof(st->zone));
	for (size_t i = 0; i < conf->nsecondaries && i < ZG_STATUS_SECONDARIES; i++) {
		zg_server_t srv;
		if (zg_server_parse(&srv, conf->secondaries[i], 53) != 0) {
			problem(st, ZG_STATUS_UNKNOWN, "invalid secondary '%.200s' (ADDR[@PORT])",
			        conf->secondaries[i]);
			st->level = ZG_STATUS_UNKNOWN;
			knot_dname_free(zone, NULL);
			return ZG_EINPUT;
		}
	}
	if (conf->signer_ctl != NULL) {
		st->have_signer = true;
		read_knotd(conf, conf->signer_ctl, st->zone, &st->signer_serial, &st->sc,
		           st->signer_err, sizeof(st->signer_err));
	}
	if (conf->gate_ctl != NULL) {
		st->have_gate = true;
		read_knotd(conf, conf->gate_ctl, st->zone, &st->gate_serial, &st->gc,
		           st->gate_err, sizeof(st->gate_err));
		if (st->gate_err[0] != '\0') {
			st->have_gate = false;
		}
	}
	st->nsec = conf->nsecondaries < ZG_STATUS_SECONDARIES ? conf->nsecondaries :
	           ZG_STATUS_SECONDARIES;
	for (size_t i = 0; i < st->nsec; i++) {
		read_secondary(conf, zone, conf->secondaries[i], &st->sec[i]);
	}
	knot_dname_free(zone, NULL);
	if (conf->keystate_dir != NULL) {
		st->have_keystate = true;
		read_keystate(conf->keystate_dir, st->zone, &st->ks);
	}
	st->served = served_serial(st);
	if (conf->queue != NULL) {
		st->have_queue = true;
		snprintf(st->queue_src, sizeof(st->queue_src), "%s", conf->queue);
		/* The served serial first: the queue dates what lies above it. */
		zg_queue_status_read(conf->queue, st->zone, st->served, &st->q, st->queue_err,
		                     sizeof(st->queue_err));
	}
	evaluate(st);
	return 0;
}

/* Appends " | NAME: VALUE" for a counter that was reported. */
static void text_ctr(FILE *out, const char *name, int64_t v)
{
	if (v >= 0) {
		fprintf(out, " | %s: %" PRId64, name, v);
	}
}

static const char *role_str(const zg_status_counters_t *c)
{
	return c->ing_lease < 0 ? "-" : c->ing_lease > 0 ? "active" : "standby";
}

static void print_keystate(const zg_status_t *st, FILE *out)
{
	const zg_status_keystate_t *ks = &st->ks;
	char b1[32];
	fprintf(out, "[%s] key-state:", st->zone);
	if (ks->err[0] != '\0') {
		fprintf(out, " error: %s\n", ks->err);
		return;
	}
	fprintf(out, " watcher %s (pid %" PRId64 ", every %" PRId64 "s, updated %s ago)", ks->state,
	        ks->pid, ks->period, dur(st->now - ks->updated, b1, sizeof(b1)));
	text_ctr(out, "writes", ks->writes);
	text_ctr(out, "errors", ks->errors);
	text_ctr(out, "errors-in-a-row", ks->in_a_row);
	if (ks->last_write >= 0) {
		fprintf(out, " | last-write: %s ago", dur(st->now - ks->last_write, b1, sizeof(b1)));
	}
	if (ks->pub_at >= 0) {
		fprintf(out, " | published: %s ago", dur(st->now - ks->pub_at, b1, sizeof(b1)));
	}
	if (ks->pub_token >= 0) {
		fprintf(out, " | published-token: %" PRId64, ks->pub_token);
	}
	fprintf(out, "\n");
}

static void print_text(const zg_status_t *st, FILE *out)
{
	char b1[32], b2[32];
	const char *z = st->zone;
	fprintf(out, "[%s] status: %s", z, zg_status_level_str(st->level));
	for (size_t i = 0; i < st->nproblems; i++) {
		fprintf(out, "%s%s", i == 0 ? " (" : "; ", st->problems[i].text);
	}
	fprintf(out, "%s\n", st->nproblems > 0 ? ")" : "");
	fprintf(out, "[%s] freshness: %s%s\n", z, st->freshness >= 0 && !st->freshness_exact ? ">= " : "",
	        dur(st->freshness, b1, sizeof(b1)));
	if (st->have_queue) {
		fprintf(out, "[%s] queue: %s", z, st->queue_src);
		if (st->queue_err[0] != '\0') {
			fprintf(out, " | error: %s\n", st->queue_err);
		} else {
			const zg_queue_status_t *q = &st->q;
			fprintf(out, " | pending: %zu | oldest: %s | last-applied: %s | serial: ",
			        q->pending, q->pending > 0 ? dur(st->now - q->oldest, b1, sizeof(b1)) : "-",
			        q->have_last ? q->last_id : "-");
			if (q->last_serial >= 0) {
				fprintf(out, "%" PRId64, q->last_serial);
			} else {
				fprintf(out, "-");
			}
			fprintf(out, " | refused: %zu\n", q->refused);
		}
	}
	if (st->have_signer) {
		fprintf(out, "[%s] signer:", z);
		if (st->signer_err[0] != '\0') {
			fprintf(out, " error: %s\n", st->signer_err);
		} else {
			fprintf(out, " serial: %" PRId64 " | role: %s", st->signer_serial, role_str(&st->sc));
			if (st->q.have_lease) {
				fprintf(out, " | lease: %s token %" PRId64 " expires in %s", st->q.lease_holder,
				        st->q.lease_token, dur(st->q.lease_expires > st->now ?
				        st->q.lease_expires - st->now : 0, b1, sizeof(b1)));
			}
			text_ctr(out, "messages-applied", st->sc.ing_applied);
			text_ctr(out, "messages-refused", st->sc.ing_refused);
			text_ctr(out, "consumer-connected", st->sc.ing_connected);
			text_ctr(out, "key-state-writes", st->sc.keys_writes);
			text_ctr(out, "key-state-errors", st->sc.keys_errors);
			fprintf(out, "\n");
		}
	}
	if (st->have_keystate) {
		print_keystate(st, out);
	}
	if (st->have_gate || st->gate_err[0] != '\0') {
		fprintf(out, "[%s] gate:", z);
		if (st->gate_err[0] != '\0') {
			fprintf(out, " error: %s\n", st->gate_err);
		} else {
			fprintf(out, " serial: %" PRId64 " | verdict: %s", st->gate_serial, st->verdict);
			text_ctr(out, "last-validated", st->gc.val_last);
			text_ctr(out, "serials-validated", st->gc.val_validated);
			text_ctr(out, "serials-failed", st->gc.val_failed);
			text_ctr(out, "transfers-refused", st->gc.val_xfr_refused);
			if (st->gc.val_latency_ms >= 0) {
				fprintf(out, " | validation-time: %" PRId64 " ms", st->gc.val_latency_ms);
			}
			fprintf(out, "\n");
		}
	}
	for (size_t i = 0; i < st->nsec; i++) {
		const zg_status_secondary_t *s = &st->sec[i];
		fprintf(out, "[%s] secondary %s:", z, s->name);
		if (s->serial < 0) {
			fprintf(out, " error: %s\n", s->err);
			continue;
		}
		int64_t want = st->have_gate && st->gc.val_last > 0 ? st->gc.val_last : -1;
		fprintf(out, " serial: %" PRId64 "%s\n", s->serial,
		        want >= 0 && serial_lt((uint32_t)s->serial, (uint32_t)want) ? " | behind" : "");
	}
	if (st->have_gate) {
		fprintf(out, "[%s] runway: %s\n", z, dur(st->runway, b1, sizeof(b1)));
	}
	const zg_status_counters_t *ds = st->sc.ds_overdue >= 0 ? &st->sc : &st->gc;
	if (ds->ds_overdue >= 0) {
		fprintf(out, "[%s] ds-sync: %s | parent-ds-checks-ok: %" PRId64
		        " | parent-ds-checks-failed: %" PRId64 " | syncs-overdue: %" PRId64 "\n", z,
		        ds->ds_overdue > 0 ? "overdue" : "ok", ds->ds_ok, ds->ds_failed, ds->ds_overdue);
	}
	(void)b2;
}

static void json_ctr(json_t *o, const char *name, int64_t v)
{
	if (v >= 0) {
		json_object_set_new(o, name, json_integer(v));
	}
}

static json_t *json_opt(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *counters_json(const zg_status_counters_t *c)
{
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		int64_t v = *(const int64_t *)((const char *)c + counters[i].off);
		if (v < 0) {
			continue;
		}
		json_t *m = json_object_get(o, counters[i].module);
		if (m == NULL) {
			m = json_object();
			json_object_set_new(o, counters[i].module, m);
		}
		json_ctr(m, counters[i].name, v);
	}
	return o;
}

static json_t *status_json(const zg_status_t *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "zone", json_string(st->zone));
	json_object_set_new(o, "status", json_string(zg_status_level_str(st->level)));
	json_object_set_new(o, "exit", json_integer(st->level));
	json_object_set_new(o, "time", json_integer(st->now));
	json_t *pa = json_array();
	for (size_t i = 0; i < st->nproblems; i++) {
		json_array_append_new(pa, json_pack("{s:s, s:s}", "level",
		                      zg_status_level_str(st->problems[i].level), "text",
		                      st->problems[i].text));
	}
	json_object_set_new(o, "problems", pa);
	json_object_set_new(o, "freshness_s", json_opt(st->freshness));
	json_object_set_new(o, "freshness_exact", json_boolean(st->freshness_exact));
	json_object_set_new(o, "served_serial", json_opt(st->served));
	if (st->have_queue) {
		json_t *q = json_object();
		json_object_set_new(q, "source", json_string(st->queue_src));
		if (st->queue_err[0] != '\0') {
			json_object_set_new(q, "error", json_string(st->queue_err));
		} else {
			json_object_set_new(q, "pending", json_integer((json_int_t)st->q.pending));
			json_object_set_new(q, "oldest_age_s", st->q.pending > 0 ?
			                    json_integer(st->now - st->q.oldest) : json_null());
			json_object_set_new(q, "refused", json_integer((json_int_t)st->q.refused));
			json_object_set_new(q, "last_applied", st->q.have_last ?
			                    json_string(st->q.last_id) : json_null());
			json_object_set_new(q, "last_applied_row", json_opt(st->q.last_row));
			json_object_set_new(q, "last_applied_serial", json_opt(st->q.last_serial));
			if (st->q.have_lease) {
				json_object_set_new(q, "lease", json_pack("{s:s, s:I, s:I}", "holder",
				                    st->q.lease_holder, "token", (json_int_t)st->q.lease_token,
				                    "expires", (json_int_t)st->q.lease_expires));
			}
		}
		json_object_set_new(o, "queue", q);
	}
	if (st->have_signer) {
		json_t *s = json_object();
		if (st->signer_err[0] != '\0') {
			json_object_set_new(s, "error", json_string(st->signer_err));
		} else {
			json_object_set_new(s, "serial", json_integer(st->signer_serial));
			json_object_set_new(s, "role", json_string(role_str(&st->sc)));
			json_object_set_new(s, "counters", counters_json(&st->sc));
		}
		json_object_set_new(o, "signer", s);
	}
	if (st->have_gate || st->gate_err[0] != '\0') {
		json_t *g = json_object();
		if (st->gate_err[0] != '\0') {
			json_object_set_new(g, "error", json_string(st->gate_err));
		} else {
			json_object_set_new(g, "serial", json_integer(st->gate_serial));
			json_object_set_new(g, "verdict", json_string(st->verdict));
			json_object_set_new(g, "counters", counters_json(&st->gc));
		}
		json_object_set_new(o, "gate", g);
	}
	if (st->have_keystate) {
		const zg_status_keystate_t *ks = &st->ks;
		json_t *k = json_pack("{s:s}", "file", ks->path);
		if (ks->err[0] != '\0') {
			json_object_set_new(k, "error", json_string(ks->err));
		} else {
			json_object_set_new(k, "state", json_string(ks->state));
			const struct { const char *n; int64_t v; } f[] = {
				{ "pid", ks->pid }, { "token", ks->token }, { "period_s", ks->period },
				{ "updated", ks->updated }, { "checks", ks->checks },
				{ "writes", ks->writes }, { "errors", ks->errors },
				{ "errors_in_a_row", ks->in_a_row }, { "last_write", ks->last_write },
				{ "last_error", ks->last_error }, { "published_token", ks->pub_token },
				{ "published_at", ks->pub_at },
			};
			for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
				json_object_set_new(k, f[i].n, json_opt(f[i].v));
			}
		}
		json_object_set_new(o, "keystate", k);
	}
	json_t *sa = json_array();
	for (size_t i = 0; i < st->nsec; i++) {
		json_t *s = json_pack("{s:s}", "server", st->sec[i].name);
		json_object_set_new(s, "serial", json_opt(st->sec[i].serial));
		if (st->sec[i].serial < 0) {
			json_object_set_new(s, "error", json_string(st->sec[i].err));
		}
		json_array_append_new(sa, s);
	}
	json_object_set_new(o, "secondaries", sa);
	json_object_set_new(o, "runway_s", json_opt(st->runway));
	return o;
}

static void dump_json(json_t *o, FILE *out)
{
	json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fprintf(out, "\n");
	json_decref(o);
}

static void print_json_all(const zg_status_t *sts, size_t n, FILE *out)
{
	zg_status_level_t worst = zg_status_worst(sts, n);
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string(zg_status_level_str(worst)));
	json_object_set_new(o, "exit", json_integer(worst));
	json_object_set_new(o, "time", json_integer(n > 0 ? sts[0].now : 0));
	json_t *za = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(za, status_json(&sts[i]));
	}
	json_object_set_new(o, "zones", za);
	dump_json(o, out);
}

/* The findings of one zone, "; " between them. */
static void nagios_problems(const zg_status_t *st, FILE *out)
{
	for (size_t i = 0; i < st->nproblems; i++) {
		fprintf(out, "%s%s", i == 0 ? "" : "; ", st->problems[i].text);
	}
}

/* The perfdata of one zone (label prefix: "" for one zone, "'ZONE " for all). */
static void nagios_perf(const zg_status_t *st, bool all, FILE *out)
{
	const char *q = all ? "'" : "", *sp = all ? " " : "", *z = all ? st->zone : "";
	if (st->freshness >= 0) {
		fprintf(out, " %s%s%sfreshness%s=%" PRId64 "s;%" PRId64 ";%" PRId64 ";0;", q, z, sp, q,
		        st->freshness, st->warn_freshness, st->crit_freshness);
	}
	if (st->runway >= 0) {
		fprintf(out, " %s%s%srunway%s=%" PRId64 "s;%" PRId64 ":;%" PRId64 ":;0;", q, z, sp, q,
		        st->runway, st->warn_runway, st->crit_runway);
	}
	if (st->have_queue && st->queue_err[0] == '\0') {
		fprintf(out, " %s%s%spending%s=%zu %s%s%srefused%s=%zu", q, z, sp, q, st->q.pending,
		        q, z, sp, q, st->q.refused);
	}
}

static bool nagios_has_perf(const zg_status_t *st)
{
	return st->freshness >= 0 || st->runway >= 0 || (st->have_queue && st->queue_err[0] == '\0');
}

static void print_nagios(const zg_status_t *st, FILE *out)
{
	fprintf(out, "ZONEGATE STATUS %s - %s ", zg_status_level_str(st->level), st->zone);
	if (st->nproblems > 0) {
		nagios_problems(st, out);
	} else {
		fprintf(out, "serial %" PRId64 " served", st->served);
	}
	if (nagios_has_perf(st)) {
		fprintf(out, " |");
	}
	nagios_perf(st, false, out);
	fprintf(out, "\n");
}

/* One line for all zones: the worst state, the zones per state, the
 * findings of each zone that is not OK, the perfdata of each zone. */
static void print_nagios_all(const zg_status_t *sts, size_t n, FILE *out)
{
	static const zg_status_level_t order[] = { ZG_STATUS_CRITICAL, ZG_STATUS_UNKNOWN,
	                                           ZG_STATUS_WARNING, ZG_STATUS_OK };
	fprintf(out, "ZONEGATE STATUS %s - %zu zone%s (", zg_status_level_str(zg_status_worst(sts, n)),
	        n, n == 1 ? "" : "s");
	bool first = true, perf = false;
	for (size_t l = 0; l < sizeof(order) / sizeof(order[0]); l++) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			k += sts[i].level == order[l];
		}
		if (k > 0) {
			fprintf(out, "%s%zu %s", first ? "" : ", ", k, zg_status_level_str(order[l]));
			first = false;
		}
	}
	fprintf(out, ")");
	for (size_t l = 0; l < 3; l++) {
		for (size_t i = 0; i < n; i++) {
			if (sts[i].level == order[l]) {
				fprintf(out, " [%s] ", sts[i].zone);
				nagios_problems(&sts[i], out);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		perf = perf || nagios_has_perf(&sts[i]);
	}
	if (perf) {
		fprintf(out, " |");
	}
	for (size_t i = 0; i < n; i++) {
		nagios_perf(&sts[i], true, out);
	}
	fprintf(out, "\n");
}

/* The gauges of the prometheus format, in output order. */
enum { M_STATUS, M_FRESH, M_EXACT, M_PENDING, M_OLDEST, M_REFUSED, M_TOKEN, M_SERVED,
       M_SECONDARY, M_RUNWAY, M_KS_WRITES, M_KS_ERRORS, M_KS_ROW, M_KS_AGE, M_COUNT };
static const struct {
	const char *name, *help;
} gauges[M_COUNT] = {
	[M_STATUS] = { "zonegate_status", "zg-status state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN." },
	[M_FRESH] = { "zonegate_freshness_seconds", "Age of the oldest registry change not yet "
	              "served, validated, by every public secondary." },
	[M_EXACT] = { "zonegate_freshness_exact", "1 when the freshness is exact, 0 when a lower "
	              "bound (a spool records no serials)." },
	[M_PENDING] = { "zonegate_queue_pending", "Messages waiting in the queue." },
	[M_OLDEST] = { "zonegate_queue_oldest_seconds", "Age of the oldest message waiting (0: none)." },
	[M_REFUSED] = { "zonegate_queue_refused", "Messages refused (failed/ or state refused)." },
	[M_TOKEN] = { "zonegate_lease_token", "Fencing token of the zone's signer lease "
	              "(a change is a takeover)." },
	[M_SERVED] = { "zonegate_served_serial", "Lowest serial served by the public secondaries." },
	[M_SECONDARY] = { "zonegate_secondary_serial", "SOA serial of each public secondary." },
	[M_RUNWAY] = { "zonegate_runway_seconds", "Seconds to the earliest signature expiry "
	               "(mod-validate)." },
	[M_KS_WRITES] = { "zonegate_keystate_writes", "Key-state snapshots the key-state watcher "
	                  "wrote since it started." },
	[M_KS_ERRORS] = { "zonegate_keystate_errors", "Key-state writes that failed or were "
	                  "refused since the watcher started." },
	[M_KS_ROW] = { "zonegate_keystate_errors_in_a_row", "Key-state writes failed in a row "
	               "(2 or more: the watcher's alarm)." },
	[M_KS_AGE] = { "zonegate_keystate_published_age_seconds", "Age of the published "
	               "key-state snapshot." },
};

/* Whether gauge m applies to the zone (its HELP is printed), and its value
 * (-1: no sample). */
static bool gauge_value(const zg_status_t *st, int m, int64_t *v)
{
	bool queue = st->have_queue && st->queue_err[0] == '\0';
	*v = -1;
	switch (m) {
	case M_STATUS:	*v = st->level; return true;
	case M_FRESH:	*v = st->freshness; return true;
	case M_EXACT:	*v = st->freshness >= 0 ? st->freshness_exact : -1; return true;
	case M_PENDING:	*v = (int64_t)st->q.pending; return queue;
	case M_OLDEST:	*v = st->q.pending > 0 ? st->now - st->q.oldest : 0; return queue;
	case M_REFUSED:	*v = (int64_t)st->q.refused; return queue;
	case M_TOKEN:	*v = st->q.lease_token; return queue && st->q.have_lease;
	case M_SERVED:	*v = st->served; return true;
	case M_SECONDARY: return st->nsec > 0;
	case M_RUNWAY:	*v = st->runway; return true;
	default:	break;
	}
	const zg_status_keystate_t *ks = &st->ks;
	bool have_ks = st->have_keystate && ks->err[0] == '\0';
	switch (m) {
	case M_KS_WRITES: *v = ks->writes; break;
	case M_KS_ERRORS: *v = ks->errors; break;
	case M_KS_ROW:	*v = ks->in_a_row; break;
	default:	*v = ks->pub_at >= 0 ? st->now - ks->pub_at : -1; break;
	}
	return have_ks;
}

/* One sample (labels: zone, then one more if given). */
static void prom(FILE *out, const char *name, const char *zone, const char *label,
                 const char *lvalue, int64_t v)
{
	if (v < 0) {
		return;
	}
	fprintf(out, "%s{zone=\"%s\"", name, zone);
	if (label != NULL) {
		fprintf(out, ",%s=\"%s\"", label, lvalue);
	}
	fprintf(out, "} %" PRId64 "\n", v);
}

/* Each gauge once (HELP, TYPE), with the samples of every zone. */
static void print_prometheus(const zg_status_t *sts, size_t n, FILE *out)
{
	for (int m = 0; m < M_COUNT; m++) {
		int64_t v;
		bool help = false;
		for (size_t i = 0; i < n && !help; i++) {
			help = gauge_value(&sts[i], m, &v);
		}
		if (!help) {
			continue;
		}
		fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", gauges[m].name, gauges[m].help,
		        gauges[m].name);
		for (size_t i = 0; i < n; i++) {
			const zg_status_t *st = &sts[i];
			if (!gauge_value(st, m, &v)) {
				continue;
			}
			if (m != M_SECONDARY) {
				prom(out, gauges[m].name, st->zone, NULL, NULL, v);
				continue;
			}
			for (size_t j = 0; j < st->nsec; j++) {
				prom(out, gauges[m].name, st->zone, "secondary", st->sec[j].name,
				     st->sec[j].serial);
			}
		}
	}
}

void zg_status_print(const zg_status_t *st, zg_status_format_t format, FILE *out)
{
	switch (format) {
	case ZG_STATUS_JSON:
		dump_json(status_json(st), out);
		break;
	case ZG_STATUS_NAGIOS:
		print_nagios(st, out);
		break;
	case ZG_STATUS_PROMETHEUS:
		print_prometheus(st, 1, out);
		break;
	default:
		print_text(st, out);
		break;
	}
}

void zg_status_print_all(const zg_status_t *sts, size_t n, zg_status_format_t format, FILE *out)
{
	switch (format) {
	case ZG_STATUS_JSON:
		print_json_all(sts, n, out);
		break;
	case ZG_STATUS_NAGIOS:
		print_nagios_all(sts, n, out);
		break;
	case ZG_STATUS_PROMETHEUS:
		print_prometheus(sts, n, out);
		break;
	default:
		for (size_t i = 0; i < n; i++) {
			print_text(&sts[i], out);
		}
		break;
	}
}

zg_status_level_t zg_status_worst(const zg_status_t *sts, size_t n)
{
	zg_status_level_t worst = ZG_STATUS_OK;
	for (size_t i = 0; i < n; i++) {
		if (level_rank[sts[i].level] > level_rank[worst]) {
			worst = sts[i].level;
		}
	}
	return worst;
}

/* The zone list being read from zone-status. */
typedef struct {
	char **zones;
	size_t n, cap;
	bool over;
} zone_list_t;

static void zones_cb(const zg_ctl_reply_t *r, void *arg)
{
	zone_list_t *l = arg;
	knot_dname_t *dn = r->zone != NULL ? knot_dname_from_str_alloc(r->zone) : NULL;
	if (dn == NULL) {
		return;
	}
	knot_dname_to_lower(dn);
	char name[256];
	knot_dname_to_str(name, dn, sizeof(name));
	knot_dname_free(dn, NULL);
	for (size_t i = l->n; i > 0; i--) {	/* Replies come zone by zone. */
		if (strcmp(l->zones[i - 1], name) == 0) {
			return;
		}
	}
	if (l->n == ZG_STATUS_ZONES) {
		l->over = true;
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap > 0 ? 2 * l->cap : 16;
		char **z = realloc(l->zones, cap * sizeof(*z));
		if (z == NULL) {
			l->over = true;
			return;
		}
		l->zones = z;
		l->cap = cap;
	}
	l->zones[l->n] = strdup(name);
	l->n += l->zones[l->n] != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void zg_status_zones_free(char **zones, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(zones[i]);
	}
	free(zones);
}

int zg_status_zones(const zg_status_conf_t *conf, char ***zones, size_t *n,
                    char *err, size_t errlen)
{
	const char *socks[] = { conf->signer_ctl, conf->gate_ctl };
	zone_list_t l = { 0 };
	int tmo = conf->timeout_ms > 0 ? conf->timeout_ms : 2000, ret = 0;
	*zones = NULL;
	*n = 0;
	err[0] = '\0';
	if (socks[0] == NULL && socks[1] == NULL) {
		snprintf(err, errlen, "no ZONE: give --signer-ctl or --gate-ctl to list the zones");
		return ZG_EINPUT;
	}
	for (size_t i = 0; i < 2 && ret == 0; i++) {
		if (socks[i] == NULL) {
			continue;
		}
		zg_ctl_request_t req = { .cmd = "zone-status" };
		/* Some ten replies per zone. */
		ret = zg_ctl_query(socks[i], tmo, &req, 32 * ZG_STATUS_ZONES, zones_cb, &l, err, errlen);
	}
	if (ret == 0 && l.over) {
		snprintf(err, errlen, "more than %d zones: name the ZONE", ZG_STATUS_ZONES);
		ret = ZG_EINPUT;
	} else if (ret == 0 && l.n == 0) {
		snprintf(err, errlen, "no zones at %s", socks[0] != NULL ? socks[0] : socks[1]);
		ret = ZG_EINPUT;
	}
	if (ret != 0) {
		zg_status_zones_free(l.zones, l.n);
		return ret;
	}
	qsort(l.zones, l.n, sizeof(*l.zones), cmp_str);
	*zones = l.zones;
	*n = l.n;
	return 0;
}

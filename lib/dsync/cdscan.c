/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Parent-side CDS/CDNSKEY scanner, see lib/dsync/cdscan.h.
 *
 * Cost per child and scan: two queries (CDS, CDNSKEY) to the child's first
 * server when nothing is published (the common case); otherwise three
 * queries to every child server, the DS (and, to write a message, the NS)
 * from the parent's own server. Queries to child servers are paced by a
 * token bucket (query_rate per second, bursts of at most one second).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>


#include "dns/axfr.h"
#include "dsync/cdscan.h"
#include "dsync/ds.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "ingest/msg.h"
#include "ingest/queue.h"
#include "validate/zone.h"


/* What the scanner remembers of a child between scans. */
typedef struct {
	uint64_t key;        /* Name hash; 0 = free slot. */
	uint64_t audit;      /* Hash of the last logged verdict. */
	uint64_t queued;     /* Hash of the DS set last queued. */
	time_t queued_at;
} child_state_t;

struct zg_cdscan {
	zg_cdscan_conf_t conf;
	char *zone_str;
	knot_dname_t *zone;
	char *tsig;
	zg_server_t resolver;
	bool have_resolver;
	char *queue;
	zg_queue_t *out;        /* Where the messages go. */
	zg_cdscan_stats_t stats;
	/* Token bucket. */
	double tokens;
	double last_refill;         /* zg_clock_s() */
	/* Child states (open addressing). */
	child_state_t *states;
	size_t nstates, cap;
	unsigned seq;
};

/* ---- helpers ---- */

static void logf_(zg_cdscan_t *s, int level, const char *fmt, ...)
{
	if (s->conf.log == NULL) {
		return;
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->conf.log(s->conf.log_arg, level, msg);
}

static uint64_t rrs_hash(uint64_t h, const knot_rdataset_t *rrs)
{
	h = zg_fnv1a(h, &rrs->count, sizeof(rrs->count));
	return rrs->count > 0 ? zg_fnv1a(h, rrs->rdata, rrs->size) : h;
}

static bool cancelled(const zg_cdscan_t *s)
{
	return s->conf.cancel != NULL && atomic_load(s->conf.cancel);
}

/* Takes one token, sleeping (in slices of at most 100 ms, cancellable) as needed. */
static int throttle(zg_cdscan_t *s)
{
	if (s->conf.query_rate == 0) {
		return cancelled(s) ? -ECANCELED : 0;
	}
	double rate = s->conf.query_rate;
	for (int i = 0; i < 100000; i++) {
		if (cancelled(s)) {
			return -ECANCELED;
		}
		double now = zg_clock_s();
		s->tokens += (now - s->last_refill) * rate;
		s->last_refill = now;
		if (s->tokens > rate) {
			s->tokens = rate; /* Bursts of at most one second. */
		}
		if (s->tokens >= 1.0) {
			s->tokens -= 1.0;
			return 0;
		}
		double wait = (1.0 - s->tokens) / rate;
		if (wait > 0.1) {
			wait = 0.1;
		}
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(wait * 1e9) + 1 };
		nanosleep(&ts, NULL);
	}
	return ZG_ETIMEOUT;
}

static child_state_t *state_get(zg_cdscan_t *s, const uint8_t *name)
{
	uint64_t key = zg_fnv1a(ZG_FNV1A_INIT, name, knot_dname_size(name));
	if (key == 0) {
		key = 1;
	}
	if (s->nstates + 1 > s->cap * 7 / 10) {
		size_t ncap = s->cap == 0 ? 1024 : s->cap * 2;
		child_state_t *n = calloc(ncap, sizeof(*n));
		if (n == NULL) {
			return NULL;
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->states[i].key == 0) {
				continue;
			}
			size_t j = s->states[i].key & (ncap - 1);
			while (n[j].key != 0) {
				j = (j + 1) & (ncap - 1);
			}
			n[j] = s->states[i];
		}
		free(s->states);
		s->states = n;
		s->cap = ncap;
	}
	size_t j = key & (s->cap - 1);
	while (s->states[j].key != 0 && s->states[j].key != key) {
		j = (j + 1) & (s->cap - 1);
	}
	if (s->states[j].key == 0) {
		s->states[j].key = key;
		s->nstates++;
	}
	return &s->states[j];
}

static void name_str(const uint8_t *name, char *buf, size_t len)
{
	if (knot_dname_to_str(buf, name, len) == NULL) {
		snprintf(buf, len, "?");
	}
}

/* ---- lifecycle ---- */

int zg_cdscan_new(const zg_cdscan_conf_t *conf, zg_cdscan_t **out)
{
	if (conf == NULL || conf->zone == NULL || out == NULL) {
		return -EINVAL;
	}
	zg_cdscan_t *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->conf = *conf;
	s->zone = knot_dname_from_str_alloc(conf->zone);
	if (s->zone == NULL) {
		free(s);
		return ZG_EINPUT;
	}
	knot_dname_to_lower(s->zone);
	char buf[KNOT_DNAME_TXT_MAXLEN + 1];
	name_str(s->zone, buf, sizeof(buf));
	s->zone_str = strdup(buf);
	s->tsig = conf->tsig != NULL ? strdup(conf->tsig) : NULL;
	s->queue = conf->queue != NULL ? strdup(conf->queue) : NULL;
	if (conf->resolver != NULL) {
		s->resolver = *conf->resolver;
		s->have_resolver = true;
	}
	s->conf.zone = s->zone_str;
	s->conf.tsig = s->tsig;
	s->conf.queue = s->queue;
	s->conf.resolver = NULL;
	if (s->conf.child_port == 0) {
		s->conf.child_port = 53;
	}
	if (s->conf.timeout_ms <= 0) {
		s->conf.timeout_ms = 1000;
	}
	if (s->conf.requeue_s == 0) {
		s->conf.requeue_s = 600;
	}
	s->last_refill = zg_clock_s();
	s->tokens = s->conf.query_rate > 0 ? 1.0 : 0.0;
	if (s->zone_str == NULL || (conf->tsig != NULL && s->tsig == NULL) ||
	    (conf->queue != NULL && s->queue == NULL)) {
		zg_cdscan_free(s);
		return -ENOMEM;
	}
	if (s->queue == NULL && !s->conf.dry_run) {
		zg_cdscan_free(s);
		return ZG_EINPUT;
	}
	if (s->queue != NULL) {
		zg_queue_env_t env = { .zone = s->zone_str, .consumer = "mod-dsync-producer",
		                       .lease_s = 30 };
		char err[256];
		int ret = zg_queue_open(s->queue, &env, &s->out, err, sizeof(err));
		if (ret != 0) {
			zg_cdscan_free(s);
			return ret;
		}
	}
	*out = s;
	return 0;
}

void zg_cdscan_free(zg_cdscan_t *s)
{
	if (s == NULL) {
		return;
	}
	zg_queue_close(s->out);
	knot_dname_free(s->zone, NULL);
	free(s->zone_str);
	free(s->tsig);
	free(s->queue);
	free(s->states);
	free(s);
}

void zg_cdscan_stats(const zg_cdscan_t *s, zg_cdscan_stats_t *stats)
{
	*stats = s->stats;
}

void zg_cdscan_pass_begin(const zg_cdscan_t *s, zg_cdscan_pass_t *pass, size_t count)
{
	pass->count = count;
	pass->t0 = zg_clock_s();
	pass->base = s->stats;
}

double zg_cdscan_pass_end(const zg_cdscan_t *s, const zg_cdscan_pass_t *pass,
                          char *text, size_t len)
{
	double secs = zg_clock_s() - pass->t0;
	const zg_cdscan_stats_t *st = &s->stats, *b = &pass->base;
	snprintf(text, len, "scan of %zu delegations done in %.1f s, %llu queries, "
	         "%llu accepted, %llu refused, %llu queued, %llu failed", pass->count, secs,
	         (unsigned long long)(st->queries - b->queries),
	         (unsigned long long)(st->accepted - b->accepted),
	         (unsigned long long)(st->refused - b->refused),
	         (unsigned long long)(st->queued - b->queued),
	         (unsigned long long)(st->failed - b->failed));
	return secs;
}

/* ---- name server addresses ---- */

static void add_addr(zg_cdscan_t *s, zg_cdscan_deleg_t *d, int family, const uint8_t *raw)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(s->conf.child_port);
		memcpy(&a->sin_addr, raw, 4);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(s->conf.child_port);
		memcpy(&a->sin6_addr, raw, 16);
	}
	zg_server_t srv;
	zg_server_set(&srv, (struct sockaddr *)&ss);
	for (size_t i = 0; i < d->naddrs; i++) {
		if (strcmp(d->addrs[i].name, srv.name) == 0) {
			return;
		}
	}
	if (d->naddrs < ZG_CDSCAN_MAX_ADDRS) {
		d->addrs[d->naddrs++] = srv;
	}
}

static void note_noaddr(zg_cdscan_deleg_t *d, const uint8_t *ns)
{
	char n[KNOT_DNAME_TXT_MAXLEN + 1];
	name_str(ns, n, sizeof(n));
	size_t len = strlen(d->noaddr);
	if (len + strlen(n) + 2 < sizeof(d->noaddr)) {
		snprintf(d->noaddr + len, sizeof(d->noaddr) - len, "%s%s", len > 0 ? " " : "", n);
	}
}

/* A and AAAA of an out-of-zone name server through the resolver. */
static void resolve_ns(zg_cdscan_t *s, zg_cdscan_deleg_t *d, const uint8_t *ns)
{
	if (!s->have_resolver) {
		note_noaddr(d, ns);
		return;
	}
	zg_stub_opts_t opts = { .timeout_ms = s->conf.timeout_ms, .udp_tries = 2, .rd = true };
	size_t before = d->naddrs;
	const uint16_t types[] = { KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA };
	for (size_t t = 0; t < 2; t++) {
		knot_pkt_t *a = NULL;
		if (zg_stub_query(&s->resolver, ns, types[t], &opts, &a) != 0) {
			continue;
		}
		const knot_pktsection_t *sec = knot_pkt_section(a, KNOT_ANSWER);
		for (uint16_t i = 0; i < sec->count; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(sec, i);
			knot_rdata_t *rd = rr->rrs.rdata;
			for (uint16_t j = 0; j < rr->rrs.count; j++, rd = knot_rdataset_next(rd)) {
				if (rr->type == KNOT_RRTYPE_A && rd->len == 4) {
					add_addr(s, d, AF_INET, rd->data);
				} else if (rr->type == KNOT_RRTYPE_AAAA && rd->len == 16) {
					add_addr(s, d, AF_INET6, rd->data);
				}
			}
		}
		knot_pkt_free(a);
	}
	if (d->naddrs == before) {
		note_noaddr(d, ns);
	}
}

static bool in_zone(const zg_cdscan_t *s, const uint8_t *name)
{
	return knot_dname_in_bailiwick(name, s->zone) >= 0;
}

int zg_cdscan_list(zg_cdscan_t *s, zg_cdscan_deleg_t **out, size_t *count, char *err,
                   size_t errlen)
{
	*out = NULL;
	*count = 0;
	char srv[80];
	snprintf(srv, sizeof(srv), "%s", s->conf.server.name);
	zg_zone_t *zone = NULL;
	int ret = zg_axfr_load(&zone, srv, s->tsig, s->zone_str, NULL, NULL, err, errlen);
	if (ret != 0) {
		return ret;
	}
	size_t n = 0, cap = 0;
	zg_cdscan_deleg_t *list = NULL;
	for (zg_node_t *node = zg_zone_first(zone); node != NULL; node = zg_node_next(node)) {
		if (!(zg_node_flags(node) & ZG_NODE_DELEG)) {
			continue;
		}
		const zg_rrset_t *ns = zg_node_rrset(node, KNOT_RRTYPE_NS);
		if (ns == NULL) {
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			zg_cdscan_deleg_t *nl = realloc(list, cap * sizeof(*nl));
			if (nl == NULL) {
				free(list);
				zg_zone_free(zone);
				return -ENOMEM;
			}
			list = nl;
		}
		zg_cdscan_deleg_t *d = &list[n++];
		memset(d, 0, sizeof(*d));
		zg_node_owner(node, d->name);
		d->secure = zg_node_rrset(node, KNOT_RRTYPE_DS) != NULL;
		const uint8_t *rd;
		uint16_t len;
		size_t pos = 0;
		while (zg_rrset_next(ns, &pos, &rd, &len)) {
			uint8_t target[KNOT_DNAME_MAXLEN];
			size_t tl = zg_dname_len(rd, len);
			if (tl == 0) {
				continue;
			}
			memcpy(target, rd, tl);
			knot_dname_to_lower(target);
			if (!in_zone(s, target)) {
				resolve_ns(s, d, target);
				continue;
			}
			zg_node_t *g = zg_zone_find(zone, target);
			const zg_rrset_t *a = g != NULL ? zg_node_rrset(g, KNOT_RRTYPE_A) : NULL;
			const zg_rrset_t *aaaa = g != NULL ? zg_node_rrset(g, KNOT_RRTYPE_AAAA) : NULL;
			const uint8_t *ad;
			uint16_t al;
			size_t ap = 0;
			while (a != NULL && zg_rrset_next(a, &ap, &ad, &al)) {
				if (al == 4) {
					add_addr(s, d, AF_INET, ad);
				}
			}
			ap = 0;
			while (aaaa != NULL && zg_rrset_next(aaaa, &ap, &ad, &al)) {
				if (al == 16) {
					add_addr(s, d, AF_INET6, ad);
				}
			}
			if (a == NULL && aaaa == NULL) {
				note_noaddr(d, target);
			}
		}
	}
	zg_zone_free(zone);
	*out = list;
	*count = n;
	return 0;
}

/* Referral for child from the parent's own server: NS (with TTL) and glue. */
static int own_referral(zg_cdscan_t *s, const knot_dname_t *child, zg_signed_rrset_t *ns,
                        zg_cdscan_deleg_t *d, char *err, size_t errlen)
{
	zg_stub_opts_t opts = { .timeout_ms = s->conf.timeout_ms, .udp_tries = 2 };
	knot_pkt_t *a = NULL;
	int ret = zg_stub_query(&s->conf.server, child, KNOT_RRTYPE_NS, &opts, &a);
	if (ret != 0) {
		snprintf(err, errlen, "NS query to %s failed (%s)", s->conf.server.name,
		         zg_strerror(ret));
		return ret;
	}
	ret = zg_stub_collect(a, KNOT_AUTHORITY, ns);
	if (ret == 0 && knot_wire_get_aa(a->wire)) {
		/* The child zone is served here too: an authoritative answer. */
		ret = zg_stub_collect(a, KNOT_ANSWER, ns);
	}
	if (ret <= 0) {
		knot_pkt_free(a);
		snprintf(err, errlen, "not a delegation of %s (no NS referral from %s)", s->zone_str,
		         s->conf.server.name);
		return ret < 0 ? ret : ZG_EINPUT;
	}
	if (d != NULL) {
		const knot_pktsection_t *add = knot_pkt_section(a, KNOT_ADDITIONAL);
		knot_rdata_t *rd = ns->rr.rrs.rdata;
		for (uint16_t k = 0; k < ns->rr.rrs.count; k++, rd = knot_rdataset_next(rd)) {
			const knot_dname_t *target = knot_ns_name(rd);
			size_t before = d->naddrs;
			for (uint16_t i = 0; i < add->count; i++) {
				const knot_rrset_t *g = knot_pkt_rr(add, i);
				if (!knot_dname_is_case_equal(g->owner, target)) {
					continue;
				}
				knot_rdata_t *gd = g->rrs.rdata;
				for (uint16_t j = 0; j < g->rrs.count; j++, gd = knot_rdataset_next(gd)) {
					if (g->type == KNOT_RRTYPE_A && gd->len == 4) {
						add_addr(s, d, AF_INET, gd->data);
					} else if (g->type == KNOT_RRTYPE_AAAA && gd->len == 16) {
						add_addr(s, d, AF_INET6, gd->data);
					}
				}
			}
			if (d->naddrs == before) {
				uint8_t t[KNOT_DNAME_MAXLEN];
				knot_dname_to_wire(t, target, sizeof(t));
				knot_dname_to_lower(t);
				if (in_zone(s, t)) {
					note_noaddr(d, t);
				} else {
					resolve_ns(s, d, t);
				}
			}
		}
	}
	knot_pkt_free(a);
	return 0;
}

int zg_cdscan_lookup(zg_cdscan_t *s, const char *child, zg_cdscan_deleg_t *out, char *err,
                     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (knot_dname_from_str(out->name, child, sizeof(out->name)) == NULL) {
		snprintf(err, errlen, "invalid name '%s'", child);
		return ZG_EINPUT;
	}
	knot_dname_to_lower(out->name);
	if (knot_dname_in_bailiwick(out->name, s->zone) <= 0) {
		snprintf(err, errlen, "%s is not below %s", child, s->zone_str);
		return ZG_EINPUT;
	}
	zg_signed_rrset_t ns;
	if (zg_signed_rrset_init(&ns, out->name, KNOT_RRTYPE_NS) != 0) {
		return -ENOMEM;
	}
	int ret = own_referral(s, out->name, &ns, out, err, errlen);
	zg_signed_rrset_deinit(&ns);
	out->secure = true; /* Not known from a referral; the DS is read when scanned. */
	return ret;
}

/* ---- the message ---- */

char *zg_cdscan_message(const char *id, const char *zone, const knot_rrset_t *ns,
                        const knot_rrset_t *ds)
{
	if (id == NULL || zone == NULL || ns == NULL || ds == NULL) {
		return NULL;
	}
	knot_rrset_t sets[2] = { *ns, *ds };
	zg_change_t change = { .owner = ns->owner, .rrsets = sets,
	                       .rrset_count = ds->rrs.count > 0 ? 2 : 1 };
	return zg_msg_write(id, zone, &change, 1);
}

void zg_cdscan_message_id(char *buf, size_t len, const knot_dname_t *child, unsigned seq,
                          time_t now)
{
	char name[KNOT_DNAME_TXT_MAXLEN + 1], stamp[32];
	name_str(child, name, sizeof(name));
	size_t cl = strlen(name);
	if (cl > 1 && name[cl - 1] == '.') {
		name[--cl] = '\0';
	}
	for (char *c = name; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
		} else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		             *c == '.')) {
			*c = '_';
		}
	}
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	/* 16 + 7 + 6 + 1 = 30 characters before the name, at most 64 in all. */
	snprintf(buf, len, "%s-dsync-%06u-%.34s", stamp, seq % 1000000, name);
}

/* Writes the message that sets the child's DS to ds (empty = removed). */
static int enqueue(zg_cdscan_t *s, const zg_cdscan_deleg_t *d, const knot_rdataset_t *ds,
                   uint32_t ds_ttl, char *id, size_t idlen, char *err, size_t errlen)
{
	zg_signed_rrset_t ns;
	if (zg_signed_rrset_init(&ns, d->name, KNOT_RRTYPE_NS) != 0) {
		return -ENOMEM;
	}
	/* The NS set as served now, read just before writing (full-state message). */
	int ret = own_referral(s, d->name, &ns, NULL, err, errlen);
	if (ret != 0) {
		zg_signed_rrset_deinit(&ns);
		return ret;
	}
	knot_rrset_t dsr;
	knot_rrset_init(&dsr, (knot_dname_t *)d->name, KNOT_RRTYPE_DS, KNOT_CLASS_IN,
	                ds_ttl > 0 ? ds_ttl : ns.rr.ttl);
	dsr.rrs = *ds;

	zg_cdscan_message_id(id, idlen, d->name, ++s->seq, time(NULL));
	char *json = zg_cdscan_message(id, s->zone_str, &ns.rr, &dsr);
	if (json == NULL) {
		zg_signed_rrset_deinit(&ns);
		snprintf(err, errlen, "cannot build the message");
		return -ENOMEM;
	}
	char where[128] = "";
	for (int i = 0; i < 3; i++) {
		ret = zg_queue_put(s->out, id, json, where, sizeof(where), err, errlen);
		if (ret != -EEXIST) {
			break;
		}
		/* Same second, same sequence (after a restart): next number. */
		zg_cdscan_message_id(id, idlen, d->name, ++s->seq, time(NULL));
		free(json);
		json = zg_cdscan_message(id, s->zone_str, &ns.rr, &dsr);
		if (json == NULL) {
			snprintf(err, errlen, "cannot build the message");
			ret = -ENOMEM;
			break;
		}
	}
	if (ret == 0) {
		size_t l = strlen(id);
		snprintf(id + l, idlen - l, "%s", where);
	}
	zg_signed_rrset_deinit(&ns);
	free(json);
	return ret;
}

/* ---- one child ---- */

static int fetch_one(zg_cdscan_t *s, const zg_server_t *srv, zg_signed_rrset_t *out,
                     char *err, size_t errlen)
{
	int ret = throttle(s);
	if (ret != 0) {
		snprintf(err, errlen, "scan cancelled");
		return ret;
	}
	s->stats.queries++;
	zg_stub_opts_t opts = { .timeout_ms = s->conf.timeout_ms, .udp_tries = 2 };
	return zg_stub_fetch(srv, &opts, out, err, errlen);
}

static uint64_t verdict_hash(const zg_child_view_t *v, const knot_rdataset_t *cur, int verdict,
                             const char *reason)
{
	uint64_t h = ZG_FNV1A_INIT;
	h = rrs_hash(h, &v->cds.rr.rrs);
	h = rrs_hash(h, &v->cdnskey.rr.rrs);
	h = rrs_hash(h, cur);
	h = zg_fnv1a(h, &verdict, sizeof(verdict));
	return zg_fnv1a_str(h, reason);
}

zg_cdscan_outcome_t zg_cdscan_child(zg_cdscan_t *s, const zg_cdscan_deleg_t *d)
{
	char child[KNOT_DNAME_TXT_MAXLEN + 1], err[384] = "";
	name_str(d->name, child, sizeof(child));
	s->stats.scanned++;
	child_state_t *st = state_get(s, d->name);
	if (st == NULL) {
		s->stats.failed++;
		return ZG_CDSCAN_FAILED;
	}
	if (d->naddrs == 0) {
		uint64_t h = zg_fnv1a_str(ZG_FNV1A_INIT, d->noaddr) ^ 0x5a5a;
		if (st->audit != h) {
			logf_(s, LOG_WARNING, "child %s not scanned, no address for its name server(s) %s",
			      child, d->noaddr[0] != '\0' ? d->noaddr : "-");
			st->audit = h;
		}
		return ZG_CDSCAN_FAILED;
	}

	/* Cheap look first: CDS and CDNSKEY at the first server. */
	zg_cdscan_outcome_t outcome = ZG_CDSCAN_FAILED;
	size_t nviews = d->naddrs;
	zg_child_view_t *views = calloc(nviews, sizeof(*views));
	zg_signed_rrset_t cur;
	bool cur_init = false;
	if (views == NULL) {
		s->stats.failed++;
		return ZG_CDSCAN_FAILED;
	}
	size_t inited = 0;
	for (; inited < nviews; inited++) {
		if (zg_child_view_init(&views[inited], d->name, d->addrs[inited].name) != 0) {
			goto out;
		}
	}
	int ret;
	if ((ret = fetch_one(s, &d->addrs[0], &views[0].cds, err, sizeof(err))) != 0 ||
	    (ret = fetch_one(s, &d->addrs[0], &views[0].cdnskey, err, sizeof(err))) != 0) {
		goto scan_failed;
	}
	if (views[0].cds.rr.rrs.count == 0 && views[0].cdnskey.rr.rrs.count == 0) {
		st->audit = 0; /* Withdrawn: a later set is logged again. */
		outcome = ZG_CDSCAN_NONE;
		goto out;
	}
	/* Something is published: the whole view at every server. */
	if ((ret = fetch_one(s, &d->addrs[0], &views[0].dnskey, err, sizeof(err))) != 0) {
		goto scan_failed;
	}
	for (size_t i = 1; i < nviews; i++) {
		if ((ret = fetch_one(s, &d->addrs[i], &views[i].dnskey, err, sizeof(err))) != 0 ||
		    (ret = fetch_one(s, &d->addrs[i], &views[i].cds, err, sizeof(err))) != 0 ||
		    (ret = fetch_one(s, &d->addrs[i], &views[i].cdnskey, err, sizeof(err))) != 0) {
			goto scan_failed;
		}
	}
	/* The DS the parent serves now. */
	if (zg_signed_rrset_init(&cur, d->name, KNOT_RRTYPE_DS) != 0) {
		goto out;
	}
	cur_init = true;
	zg_stub_opts_t own = { .timeout_ms = s->conf.timeout_ms, .udp_tries = 2 };
	if ((ret = zg_stub_fetch(&s->conf.server, &own, &cur, err, sizeof(err))) != 0) {
		char e2[384];
		snprintf(e2, sizeof(e2), "own server %s: %s", s->conf.server.name, err);
		snprintf(err, sizeof(err), "%s", e2);
		goto scan_failed;
	}

	zg_cds_input_t in = {
		.zone = d->name, .current_ds = &cur.rr.rrs, .views = views, .nviews = nviews,
		.now = (uint32_t)time(NULL), .allow_delete = s->conf.allow_delete,
	};
	zg_cds_result_t res;
	ret = zg_cds_evaluate(&in, &res);
	if (ret != 0) {
		snprintf(err, sizeof(err), "evaluation failed (%s)", zg_strerror(ret));
		zg_cds_result_deinit(&res);
		goto scan_failed;
	}
	uint64_t vh = verdict_hash(&views[0], &cur.rr.rrs, res.verdict, res.reason);
	bool fresh = st->audit != vh;
	time_t now = time(NULL);
	switch (res.verdict) {
	case ZG_CDS_NONE:
		outcome = ZG_CDSCAN_NONE;
		break;
	case ZG_CDS_UNCHANGED:
		st->queued = 0;
		outcome = ZG_CDSCAN_UNCHANGED;
		break;
	case ZG_CDS_REFUSED:
		if (fresh) {
			logf_(s, LOG_WARNING, "child %s, cds/cdnskey refused (%s)", child, res.reason);
			s->stats.refused++;
		}
		outcome = ZG_CDSCAN_REFUSED;
		break;
	case ZG_CDS_UPDATE:
	case ZG_CDS_DELETE: {
		knot_rdataset_t empty;
		knot_rdataset_init(&empty);
		const knot_rdataset_t *next = res.verdict == ZG_CDS_DELETE ? &empty : &res.ds;
		uint64_t dh = rrs_hash(ZG_FNV1A_INIT, next) | 1;
		if (s->conf.dry_run) {
			if (fresh) {
				logf_(s, LOG_NOTICE, "child %s, %s, dry-run, not queued", child, res.reason);
				s->stats.accepted++;
			}
			outcome = ZG_CDSCAN_DRYRUN;
			break;
		}
		if (st->queued == dh && now - st->queued_at < (time_t)s->conf.requeue_s) {
			outcome = ZG_CDSCAN_PENDING;
			break;
		}
		char id[320];
		ret = enqueue(s, d, next, cur.rr.rrs.count > 0 ? cur.rr.ttl : 0, id, sizeof(id),
		              err, sizeof(err));
		if (ret != 0) {
			logf_(s, LOG_ERR, "child %s, %s, not queued (%s)", child, res.reason, err);
			s->stats.failed++;
			vh = 0; /* Logged again on the next try. */
			outcome = ZG_CDSCAN_FAILED;
			break;
		}
		logf_(s, LOG_NOTICE, "child %s, %s, queued message %s%s", child, res.reason, id,
		      st->queued == dh ? " (again, the previous one is not applied yet)" : "");
		s->stats.accepted++;
		s->stats.queued++;
		st->queued = dh;
		st->queued_at = now;
		outcome = ZG_CDSCAN_QUEUED;
		break;
	}
	}
	st->audit = vh;
	zg_cds_result_deinit(&res);
	goto out;

scan_failed:
	if (ret == -ECANCELED) {
		outcome = ZG_CDSCAN_FAILED;
		goto out;
	}
	{
		uint64_t h = zg_fnv1a_str(ZG_FNV1A_INIT, err) ^ 0xa5a5;
		if (st->audit != h) {
			logf_(s, LOG_WARNING, "child %s, cds/cdnskey not checked (%s)", child, err);
			st->audit = h;
		}
	}
	s->stats.failed++;
	outcome = ZG_CDSCAN_FAILED;
out:
	for (size_t i = 0; i < inited; i++) {
		zg_child_view_deinit(&views[i]);
	}
	free(views);
	if (cur_init) {
		zg_signed_rrset_deinit(&cur);
	}
	return outcome;
}

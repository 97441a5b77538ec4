/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync's child side (see childsync.h): configuration, one round of the
 * guard and the DS interlock, and the hooks' questions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <libdnssec/random.h>

#include "core/clock.h"
#include "core/error.h"
#include "dsync/checkds.h"
#include "dsync/childsync.h"
#include "dsync/ds.h"
#include "dsync/parents.h"

#define PARENT_TIMEOUT_MS	1000
#define PARENT_TRIES		2
#define POLL_TIMEOUT_MS		500
#define POLL_TRIES		2
#define RETRY_UNKNOWN_S		1

static void put_log(const zg_childsync_ops_t *ops, int level, const char *text)
{
	if (ops->log != NULL) {
		ops->log(ops->arg, level, text);
	}
}

int zg_childsync_init(zg_childsync_t *c, const knot_dname_t *zone, const zg_server_t *server,
                      bool allow_delete, unsigned interval)
{
	memset(c, 0, sizeof(*c));
	zg_guard_init(&c->guard);
	atomic_init(&c->state, ZG_GUARD_UNKNOWN);
	atomic_init(&c->checked, 0);
	c->server = *server;
	c->allow_delete = allow_delete;
	c->interval = interval;
	c->zone = knot_dname_copy(zone, NULL);
	if (c->zone == NULL) {
		return -ENOMEM;
	}
	knot_dname_to_lower(c->zone);
	if (knot_dname_to_str(c->zone_str, c->zone, sizeof(c->zone_str)) == NULL ||
	    dnssec_random_buffer(c->token, sizeof(c->token)) != 0) {
		return ZG_EINPUT;
	}
	return 0;
}

void zg_childsync_deinit(zg_childsync_t *c)
{
	knot_rdataset_clear(&c->ta_ds, NULL);
	knot_rdataset_clear(&c->ta_dnskey, NULL);
	knot_dname_free(c->ta_owner, NULL);
	c->ta_owner = NULL;
	for (size_t i = 0; i < c->nparents; i++) {
		knot_tsig_key_deinit(&c->parent_keys[i]);
	}
	c->nparents = 0;
	knot_dname_free(c->zone, NULL);
	c->zone = NULL;
}

int zg_childsync_add_parent(zg_childsync_t *c, const struct sockaddr *addr,
                            const knot_tsig_key_t *key)
{
	if (c->nparents >= ZG_CHILDSYNC_MAX_PARENTS) {
		return ZG_ETOOBIG;
	}
	int ret = 0;
	if (key != NULL && knot_tsig_key_copy(&c->parent_keys[c->nparents], key) != KNOT_EOK) {
		ret = ZG_EINPUT;
	}
	zg_server_set(&c->parents[c->nparents++], addr);
	return ret;
}

void zg_childsync_remote_addr(void *arg, const struct sockaddr_storage *addr,
                              const struct sockaddr_storage *via)
{
	(void)via;
	zg_childsync_remote_t *r = arg;
	if (r->n < sizeof(r->addr) / sizeof(r->addr[0])) {
		r->addr[r->n++] = *addr;
	}
}

/* A parent server; key: its TSIG key (copied) or NULL. Warns of one that
 * cannot be added, or whose key cannot be copied. */
static void add_parent(zg_childsync_t *c, const struct sockaddr_storage *addr,
                       const knot_tsig_key_t *key, const zg_childsync_ops_t *ops)
{
	char text[128] = "";
	int ret = zg_childsync_add_parent(c, (const struct sockaddr *)addr, key);
	if (ret == ZG_EINPUT) {
		snprintf(text, sizeof(text), "parent key not usable, queries unsigned");
	} else if (ret == ZG_ETOOBIG) {
		snprintf(text, sizeof(text), "more than %u parent addresses, the rest ignored",
		         ZG_CHILDSYNC_MAX_PARENTS);
	}
	if (text[0] != '\0') {
		put_log(ops, LOG_WARNING, text);
	}
}

int zg_childsync_add_parents(zg_childsync_t *c, const char *value, zg_childsync_remote_fn remote,
                             void *arg, const zg_childsync_ops_t *ops)
{
	zg_server_t srv;
	if (zg_server_parse(&srv, value, 53) == 0) {
		add_parent(c, &srv.addr, NULL, ops);
		return 0;
	}
	zg_childsync_remote_t r;
	memset(&r, 0, sizeof(r));
	int ret = 0;
	char text[1024];
	if (remote(arg, value, &r) != 0) {
		snprintf(text, sizeof(text), "parent '%s': key not usable", value);
		put_log(ops, LOG_ERR, text);
		ret = ZG_EINPUT;
	}
	if (r.naddr == 0) {
		snprintf(text, sizeof(text), "parent '%s' is neither an address nor a remote "
		         "with an address", value);
		put_log(ops, LOG_ERR, text);
		ret = ZG_EINPUT;
	}
	for (size_t i = 0; i < r.n; i++) {
		add_parent(c, &r.addr[i], r.key.name != NULL ? &r.key : NULL, ops);
	}
	knot_tsig_key_deinit(&r.key);
	return ret;
}

int zg_childsync_conf(zg_childsync_t *c, const char *ta_path, const zg_server_t *resolver,
                      uint32_t overdue, char *err, size_t errlen)
{
	if (ta_path == NULL) {
		ta_path = zg_trust_anchor_default();
	}
	if (ta_path != NULL) {
		int ret = zg_trust_anchor_load(ta_path, &c->ta_ds, &c->ta_dnskey, &c->ta_owner,
		                               err, errlen);
		if (ret != 0) {
			return ret;
		}
		snprintf(c->ta_path, sizeof(c->ta_path), "%s", ta_path);
	}
	if (resolver != NULL) {
		c->resolver = *resolver;
		c->have_resolver = true;
	} else {
		c->have_resolver = zg_resolv_conf(&c->resolver) == 0;
	}
	c->overdue = overdue;
	zg_interlock_init(&c->sync, overdue, c->nparents);
	return 0;
}

static void count(const zg_childsync_ops_t *ops, zg_childsync_ctr_t ctr, uint64_t n)
{
	if (ops->count != NULL && n > 0) {
		ops->count(ops->arg, ctr, n);
	}
}

void zg_childsync_log_conf(const zg_childsync_t *c, const char *ctl_path,
                           const zg_childsync_ops_t *ops)
{
	char text[1024];
	snprintf(text, sizeof(text), "cds/cdnskey guard active (server %s, interval %us, "
	         "allow-delete %s)", c->server.name, c->interval, c->allow_delete ? "on" : "off");
	put_log(ops, LOG_NOTICE, text);
	if (c->nparents == 0) {
		snprintf(text, sizeof(text), "no parent configured, ds changes not confirmed "
		         "(overdue alarm only)");
		put_log(ops, LOG_NOTICE, text);
		return;
	}
	size_t nkeys = 0;
	for (size_t i = 0; i < c->nparents; i++) {
		nkeys += c->parent_keys[i].name != NULL;
	}
	snprintf(text, sizeof(text), "parent ds confirmation active (%zu parent server(s), "
	         "%zu with a tsig key, trust anchor %s, resolver %s, overdue %us, control %s)",
	         c->nparents, nkeys, c->ta_owner != NULL ? c->ta_path : "none",
	         c->have_resolver ? c->resolver.name : "none", c->overdue, ctl_path);
	put_log(ops, LOG_NOTICE, text);
	if (c->ta_owner == NULL && nkeys < c->nparents) {
		snprintf(text, sizeof(text), "no trust anchor (install dns-root-data or set "
		         "trust-anchor) and %zu parent server(s) without a tsig key: their "
		         "answers are not authenticated, no ds change will be confirmed",
		         c->nparents - nkeys);
		put_log(ops, LOG_WARNING, text);
	}
}

static int64_t real_now(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

static int64_t real_mono_ms(void *arg)
{
	(void)arg;
	return zg_clock_ms() + 1; /* Never 0. */
}

/* One check of what the zone publishes; the guard's state is published for
 * the hooks. Returns true when the set is safe; v then holds it (the caller
 * deinits v always). */
static bool guard_check(zg_childsync_t *c, zg_child_view_t *v, int64_t now,
                        const zg_childsync_ops_t *ops)
{
	zg_stub_opts_t opts = {
		.timeout_ms = POLL_TIMEOUT_MS,
		.udp_tries = POLL_TRIES,
		.edns_opt_code = ZG_CHILDSYNC_OPT_CODE,
		.edns_opt_data = c->token,
		.edns_opt_len = ZG_CHILDSYNC_TOKEN_LEN,
	};
	char err[256] = "", why[256] = "";
	zg_guard_in_t in = { .server = c->server.name, .fetch_err = err, .why = why };
	in.fetch_ret = zg_child_view_fetch(v, &c->server, c->zone, &opts, err, sizeof(err));
	if (in.fetch_ret == 0) {
		in.check_ret = zg_cds_check_published(v, (uint32_t)now, c->allow_delete,
		                                      why, sizeof(why));
		in.set_hash = zg_guard_set_hash(&v->dnskey.rr.rrs, &v->cds.rr.rrs,
		                                &v->cdnskey.rr.rrs);
	}
	zg_guard_out_t out;
	zg_guard_step(&c->guard, &in, &out);
	atomic_store(&c->checked, c->guard.checked);
	atomic_store(&c->state, c->guard.state);
	if (out.log) {
		put_log(ops, out.level, out.text);
	}
	count(ops, ZG_CHILDSYNC_CDS_UNSAFE, out.unsafe);
	return out.safe;
}

/* Does what a step of the interlock asks: logs, counters, the alarm. */
static void sync_apply(const zg_interlock_out_t *out, const zg_childsync_ops_t *ops)
{
	for (size_t i = 0; i < out->nlogs; i++) {
		put_log(ops, out->logs[i].level, out->logs[i].text);
	}
	count(ops, ZG_CHILDSYNC_DS_UNAUTH, out->ds_unauth);
	count(ops, ZG_CHILDSYNC_DS_FAILED, out->ds_failed);
	count(ops, ZG_CHILDSYNC_DS_OK, out->ds_ok);
	count(ops, ZG_CHILDSYNC_OVERDUE, out->overdue);
	if (out->alarm && ops->alarm != NULL) {
		ops->alarm(ops->arg, out->alarm_keytag, out->alarm_reason);
	}
}

void zg_childsync_zone_in(const zg_child_view_t *v, int64_t now, zg_interlock_in_t *in,
                          char *tags, size_t tagslen)
{
	const knot_rdataset_t *cds = &v->cds.rr.rrs, *cdnskey = &v->cdnskey.rr.rrs;
	bool has_cds = cds->count > 0;
	const knot_rdataset_t *ann = has_cds ? cds : cdnskey;
	tags[0] = '\0';
	*in = (zg_interlock_in_t) {
		.event = ZG_INTERLOCK_ZONE,
		.now = now,
		.announced = ann->count > 0 && !(has_cds ? zg_cds_is_delete(cds->rdata) :
		                                           zg_cdnskey_is_delete(cdnskey->rdata)),
		.cdnskey = !has_cds,
		.tags = tags,
	};
	if (in->announced) {
		in->hash = zg_guard_rdataset_hash(ann);
		zg_tags_str(ann, !has_cds, tags, tagslen);
		in->keytag = has_cds ? knot_ds_key_tag(ann->rdata) : zg_dnskey_keytag(ann->rdata);
	}
}

/* One round of the DS interlock for the published set v (a safe one): the
 * step function decides, this does the I/O it asks for. */
static void parent_check(zg_childsync_t *c, const zg_child_view_t *v, int64_t now,
                         const zg_childsync_ops_t *ops)
{
	char tags[128];
	zg_interlock_in_t in;
	zg_childsync_zone_in(v, now, &in, tags, sizeof(tags));
	zg_interlock_out_t out;
	zg_interlock_step(&c->sync, &in, &out);
	sync_apply(&out, ops);
	if (!out.check_parents) {
		return;
	}
	char why[384] = "";
	zg_parents_conf_t pc = {
		.servers = c->parents, .keys = c->parent_keys, .nservers = c->nparents,
		.ta_owner = c->ta_owner, .ta_ds = &c->ta_ds, .ta_dnskey = &c->ta_dnskey,
		.ta_path = c->ta_path, .resolver = c->have_resolver ? &c->resolver : NULL,
		.timeout_ms = PARENT_TIMEOUT_MS, .tries = PARENT_TRIES,
		.stopping = ops->stopping, .stopping_arg = ops->arg,
	};
	if (!zg_parents_check(&pc, c->zone, v, c->sync.tags, (uint32_t)in.now, &in, why,
	                      sizeof(why))) {
		return;
	}
	in.event = ZG_INTERLOCK_PARENTS;
	in.mono_ms = (ops->mono_ms != NULL ? ops->mono_ms : real_mono_ms)(ops->arg);
	zg_interlock_step(&c->sync, &in, &out);
	sync_apply(&out, ops);
	if (!out.submit) {
		return;
	}
	char err[256] = "";
	in.event = ZG_INTERLOCK_SUBMITTED;
	in.submit_ret = ops->submit(ops->arg, err, sizeof(err));
	in.submit_err = err;
	zg_interlock_step(&c->sync, &in, &out);
	sync_apply(&out, ops);
}

void zg_childsync_round(zg_childsync_t *c, const zg_childsync_ops_t *ops)
{
	zg_child_view_t v;
	if (guard_check(c, &v, (ops->now != NULL ? ops->now : real_now)(ops->arg), ops)) {
		parent_check(c, &v, (ops->now != NULL ? ops->now : real_now)(ops->arg), ops);
	}
	zg_child_view_deinit(&v);
}

unsigned zg_childsync_wait(const zg_childsync_t *c)
{
	return c->guard.state == ZG_GUARD_UNKNOWN && c->interval > RETRY_UNKNOWN_S ?
	       RETRY_UNKNOWN_S : c->interval;
}

bool zg_childsync_own_query(const zg_childsync_t *c, const knot_rrset_t *opt_rr)
{
	uint8_t *opt = opt_rr != NULL ?
	               knot_edns_get_option(opt_rr, ZG_CHILDSYNC_OPT_CODE, NULL) : NULL;
	return opt != NULL && knot_edns_opt_get_length(opt) == ZG_CHILDSYNC_TOKEN_LEN &&
	       memcmp(knot_edns_opt_get_data(opt), c->token, ZG_CHILDSYNC_TOKEN_LEN) == 0;
}

bool zg_childsync_guarded(const zg_childsync_t *c, bool xfr, bool normal, uint16_t qtype,
                          const knot_dname_t *qname, const knot_rrset_t *opt_rr)
{
	return xfr || (normal && (qtype == KNOT_RRTYPE_CDS || qtype == KNOT_RRTYPE_CDNSKEY) &&
	               qname != NULL && knot_dname_is_case_equal(qname, c->zone) &&
	               !zg_childsync_own_query(c, opt_rr));
}

zg_guard_verdict_t zg_childsync_served(zg_childsync_t *c, const knot_rdataset_t *dnskey,
                                       const knot_rdataset_t *cds, const knot_rdataset_t *cdnskey)
{
	return zg_guard_served(atomic_load(&c->checked), dnskey, cds, cdnskey);
}

zg_guard_action_t zg_childsync_decide(zg_childsync_t *c, bool xfr, bool normal, uint16_t qtype,
                                      const knot_dname_t *qname, const knot_rrset_t *opt_rr,
                                      zg_childsync_apex_fn apex, void *arg)
{
	if (!zg_childsync_guarded(c, xfr, normal, qtype, qname, opt_rr)) {
		return zg_guard_decide(ZG_GUARD_PASS, xfr);
	}
	knot_rdataset_t dnskey = apex(arg, KNOT_RRTYPE_DNSKEY);
	knot_rdataset_t cds = apex(arg, KNOT_RRTYPE_CDS);
	knot_rdataset_t cdnskey = apex(arg, KNOT_RRTYPE_CDNSKEY);
	return zg_guard_decide(zg_childsync_served(c, &dnskey, &cds, &cdnskey), xfr);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-dsync's parent-mode worker (see scanrun.h): scansched.h says what is
 * due, this does it with the scanner.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "dns/xfr.h"
#include "dsync/scanrun.h"

static int64_t now_s(const zg_scanrun_t *r)
{
	if (r->clock != NULL) {
		return r->clock(r->clock_arg);
	}
	return zg_clock_ms() / 1000;
}

static bool stopping(const zg_scanrun_t *r)
{
	return r->stop != NULL && atomic_load(r->stop);
}

/* One line to the log callback (lines are formatted by the caller: one
 * buffer each, no varargs layer). */
static void emit(const zg_scanrun_t *r, int level, const char *line)
{
	if (r->conf.log != NULL) {
		r->conf.log(r->conf.log_arg, level, line);
	}
}

int zg_scanrun_init(zg_scanrun_t *r, const zg_cdscan_conf_t *sc, unsigned interval,
                    unsigned scan_interval)
{
	memset(r, 0, sizeof(*r));
	int ret = zg_cdscan_new(sc, &r->scan);
	if (ret != 0) {
		return ret;
	}
	r->conf = *sc;
	if (sc->queue != NULL && (r->queue = strdup(sc->queue)) == NULL) {
		zg_cdscan_free(r->scan);
		r->scan = NULL;
		return -ENOMEM;
	}
	r->conf.queue = r->queue;
	r->conf.zone = r->conf.tsig = NULL;  /* Not kept. */
	r->conf.resolver = NULL;
	r->interval = interval;
	r->scan_interval = scan_interval;
	return 0;
}

int zg_scanrun_open(zg_scanrun_t *r, const knot_dname_t *zone, const knot_tsig_key_t *key,
                    const zg_cdscan_conf_t *sc, unsigned interval, unsigned scan_interval,
                    char *msg, size_t msglen)
{
	memset(r, 0, sizeof(*r));
	msg[0] = '\0';
	char tsig[512] = "";
	if (key != NULL && (key->name == NULL || zg_xfr_key_str(key, tsig, sizeof(tsig)) != 0)) {
		snprintf(msg, msglen, "key has no usable secret");
		return ZG_EINPUT;
	}
	knot_dname_storage_t lower;
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_wire(lower, zone, sizeof(lower)) <= 0) {
		return ZG_EINPUT;
	}
	knot_dname_to_lower(lower);
	if (knot_dname_to_str(name, lower, sizeof(name)) == NULL) {
		return ZG_EINPUT;
	}
	zg_cdscan_conf_t c = *sc;
	c.zone = name;
	c.tsig = tsig[0] != '\0' ? tsig : NULL;
	int ret = zg_scanrun_init(r, &c, interval, scan_interval);
	if (ret != 0) {
		snprintf(msg, msglen, "cannot open the queue %s (%s)",
		         c.queue != NULL ? c.queue : "-", zg_strerror(ret));
		return ret;
	}
	r->stop = sc->cancel;
	return 0;
}

void zg_scanrun_log_conf(const zg_scanrun_t *r)
{
	const zg_cdscan_conf_t *c = &r->conf;
	char text[1024];
	snprintf(text, sizeof(text), "cds scanner active (queue %s%s, server %s, scan-interval %us, "
	         "%zu listed children every %us, query-rate %u/s, child-port %u, allow-delete %s)",
	         c->queue != NULL ? c->queue : "none", c->dry_run ? ", dry-run" : "", c->server.name,
	         r->scan_interval, r->nchildren, r->interval, c->query_rate,
	         (unsigned)c->child_port, c->allow_delete ? "on" : "off");
	emit(r, LOG_NOTICE, text);
}

int zg_scanrun_add_child(zg_scanrun_t *r, const knot_dname_t *child)
{
	char buf[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(buf, child, sizeof(buf)) == NULL) {
		return ZG_EINPUT;
	}
	char **c = realloc(r->children, (r->nchildren + 2) * sizeof(char *));
	if (c == NULL) {
		return -ENOMEM;
	}
	r->children = c;
	if ((c[r->nchildren] = strdup(buf)) == NULL) {
		return -ENOMEM;
	}
	c[++r->nchildren] = NULL;
	return 0;
}

void zg_scanrun_deinit(zg_scanrun_t *r)
{
	free(r->list);
	r->list = NULL;
	for (size_t i = 0; i < r->nchildren; i++) {
		free(r->children[i]);
	}
	free(r->children);
	r->children = NULL;
	r->nchildren = 0;
	zg_cdscan_free(r->scan);
	r->scan = NULL;
	free(r->queue);
	r->queue = NULL;
}

/* What the scanner counted since the last call. */
static void take_counts(zg_scanrun_t *r, zg_scanrun_out_t *out)
{
	zg_cdscan_stats_t now;
	zg_cdscan_stats(r->scan, &now);
	out->delta.scanned += now.scanned - r->seen.scanned;
	out->delta.queries += now.queries - r->seen.queries;
	out->delta.accepted += now.accepted - r->seen.accepted;
	out->delta.refused += now.refused - r->seen.refused;
	out->delta.queued += now.queued - r->seen.queued;
	out->delta.failed += now.failed - r->seen.failed;
	r->seen = now;
}

/* The listed children, looked up by referral and scanned. */
static void scan_listed(zg_scanrun_t *r)
{
	for (char **c = r->children; c != NULL && *c != NULL && !stopping(r); c++) {
		zg_cdscan_deleg_t d;
		char err[384], text[1024];
		int ret = zg_cdscan_lookup(r->scan, *c, &d, err, sizeof(err));
		if (ret != 0) {
			if (strcmp(r->last_listed, err) != 0) {
				snprintf(text, sizeof(text), "child %s not scanned (%s)", *c, err);
				emit(r, LOG_WARNING, text);
				snprintf(r->last_listed, sizeof(r->last_listed), "%s", err);
			}
			continue;
		}
		(void)zg_cdscan_child(r->scan, &d);
	}
}

/* Lists the delegations: a pass starts, or the failure is logged (once). */
static void list(zg_scanrun_t *r, int64_t now)
{
	char err[256] = "", text[1024];
	int ret = zg_cdscan_list(r->scan, &r->list, &r->count, err, sizeof(err));
	zg_scansched_listing(&r->sched, now, now_s(r), ret == 0);
	if (ret != 0) {
		if (strcmp(r->last_axfr, err) != 0) {
			snprintf(text, sizeof(text), "cannot list the delegations, AXFR from %s "
			         "failed (%s), retrying every %us", r->conf.server.name, err, r->interval);
			emit(r, LOG_WARNING, text);
			snprintf(r->last_axfr, sizeof(r->last_axfr), "%s", err);
		}
		r->list = NULL;
		return;
	}
	r->last_axfr[0] = '\0';
	r->pos = 0;
	zg_cdscan_pass_begin(r->scan, &r->pass, r->count);
	snprintf(text, sizeof(text), "scan of %zu delegations started", r->count);
	emit(r, LOG_DEBUG, text);
}

/* A slice of the pass, so listed children keep their interval. */
static void slice(zg_scanrun_t *r, zg_scanrun_out_t *out)
{
	int64_t until = now_s(r) + 1;
	while (r->pos < r->count && !stopping(r) && now_s(r) <= until) {
		(void)zg_cdscan_child(r->scan, &r->list[r->pos++]);
	}
	take_counts(r, out);
	if (r->pos == r->count) {
		char line[256];
		double secs = zg_cdscan_pass_end(r->scan, &r->pass, line, sizeof(line));
		emit(r, LOG_INFO, line);
		out->pass_done = true;
		out->pass_seconds = (uint64_t)(secs + 0.5);
		free(r->list);
		r->list = NULL;
		zg_scansched_pass_done(&r->sched);
	}
}

int64_t zg_scanrun_step(zg_scanrun_t *r, zg_scanrun_out_t *out)
{
	memset(out, 0, sizeof(*out));
	if (!r->started) {
		zg_scansched_init(&r->sched, now_s(r), r->interval, r->scan_interval,
		                  r->children != NULL);
		r->started = true;
	}
	int64_t now = now_s(r), wait = 0;
	switch (zg_scansched_next(&r->sched, now, &wait)) {
	case ZG_SCANSCHED_LISTED:
		scan_listed(r);
		take_counts(r, out);
		zg_scansched_listed_done(&r->sched, now_s(r));
		return 0;
	case ZG_SCANSCHED_LIST:
		list(r, now);
		return 0;
	case ZG_SCANSCHED_SLICE:
		slice(r, out);
		return 0;
	default:
		return wait;
	}
}

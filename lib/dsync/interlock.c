/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The DS interlock state machine (see interlock.h): announcement, parent
 * findings, the DS TTL wait, zone-ksk-submitted's answer and the overdue
 * alarm, once per overdue interval.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "core/error.h"
#include "dsync/interlock.h"

/* The text buffer of out's next log line, at level (a step writes two at most). */
static char *line(zg_interlock_out_t *out, int level)
{
	zg_interlock_log_t *l = &out->logs[out->nlogs++];
	l->level = level;
	return l->text;
}

/* Forgets the change, keeps the configuration. */
static void reset(zg_interlock_t *st)
{
	zg_interlock_init(st, st->overdue, st->nparents);
}

void zg_interlock_init(zg_interlock_t *st, uint32_t overdue, size_t nparents)
{
	memset(st, 0, sizeof(*st));
	st->overdue = overdue;
	st->nparents = nparents;
}

/* Once per overdue interval while not confirmed: log, count, alarm. */
static void overdue(zg_interlock_t *st, int64_t now, const char *why, zg_interlock_out_t *out)
{
	if (st->done || now < st->next_overdue) {
		return;
	}
	char *reason = out->alarm_reason;
	snprintf(reason, sizeof(out->alarm_reason), "ds for key %s not confirmed at the parent %llds "
	         "after it was announced (%s)", st->tags, (long long)(now - st->since), why);
	char *text = line(out, LOG_ERR);
	snprintf(text, ZG_INTERLOCK_LOG_LEN, "ds sync overdue, %s", reason);
	out->overdue++;
	out->alarm = true;
	out->alarm_keytag = st->keytag;
	st->next_overdue = now + st->overdue;
}

static void step_zone(zg_interlock_t *st, const zg_interlock_in_t *in, zg_interlock_out_t *out)
{
	if (!in->announced) {
		if (st->active && !st->done) {
			char *text = line(out, LOG_INFO);
			snprintf(text, ZG_INTERLOCK_LOG_LEN, "cds/cdnskey for key %s withdrawn, "
			         "nothing to confirm", st->tags);
		}
		reset(st);
		return;
	}
	if (!st->active || st->hash != in->hash) {
		reset(st);
		st->active = true;
		st->hash = in->hash;
		st->since = in->now;
		st->next_overdue = in->now + st->overdue;
		snprintf(st->tags, sizeof(st->tags), "%s", in->tags != NULL ? in->tags : "");
		st->keytag = in->keytag;
		char *text = line(out, LOG_INFO);
		snprintf(text, ZG_INTERLOCK_LOG_LEN, "ds change announced (%s %s), checking %zu "
		         "parent server(s)", in->cdnskey ? "cdnskey" : "cds", st->tags, st->nparents);
	}
	if (st->done) {
		return;
	}
	if (st->nparents == 0) {
		overdue(st, in->now, "no parent server configured", out);
		return;
	}
	out->check_parents = true;
}

static void step_parents(zg_interlock_t *st, const zg_interlock_in_t *in, zg_interlock_out_t *out)
{
	if (!st->active || st->done) {
		return;
	}
	if (in->unauthenticated) {
		/* An answer nobody can vouch for never confirms a submission. */
		out->ds_unauth++;
	}
	if (!in->matched) {
		const char *why = in->why != NULL ? in->why : "";
		out->ds_failed++;
		if (st->matching || strcmp(st->last, why) != 0) {
			char *text = line(out, LOG_NOTICE);
			snprintf(text, ZG_INTERLOCK_LOG_LEN, "ds for key %s not confirmed (%s)",
			         st->tags, why);
			snprintf(st->last, sizeof(st->last), "%s", why);
		}
		st->matching = false;
		overdue(st, in->now, why, out);
		return;
	}
	out->ds_ok++;
	if (!st->matching) {
		/* Logged before the clock starts: the log shows no later time than the start. */
		char *text = line(out, LOG_NOTICE);
		snprintf(text, ZG_INTERLOCK_LOG_LEN, "every parent server (%zu) serves a "
		         "validated ds for key %s, confirming once its ttl (%us) has passed",
		         st->nparents, st->tags, in->ds_ttl);
		st->matching = true;
		st->match_since = in->mono_ms;
		st->last[0] = '\0';
	}
	if (in->mono_ms - st->match_since < (int64_t)in->ds_ttl * 1000) {
		overdue(st, in->now, "waiting for the parent's ds ttl", out);
		return;
	}
	out->submit = true;
}

static void step_submitted(zg_interlock_t *st, const zg_interlock_in_t *in,
                           zg_interlock_out_t *out)
{
	if (!st->active || st->done) {
		return;
	}
	const char *err = in->submit_err != NULL ? in->submit_err : "";
	if (in->submit_ret == 0) {
		char *text = line(out, LOG_NOTICE);
		snprintf(text, ZG_INTERLOCK_LOG_LEN, "ksk submission confirmed "
		         "(zone-ksk-submitted), key %s", st->tags);
		st->done = true;
	} else if (strstr(err, "no key ready") != NULL) {
		char *text = line(out, LOG_INFO);
		snprintf(text, ZG_INTERLOCK_LOG_LEN, "parent serves the ds for key %s, no ksk "
		         "waits for submission", st->tags);
		st->done = true;
	} else {
		char *text = line(out, LOG_WARNING);
		snprintf(text, ZG_INTERLOCK_LOG_LEN, "ksk submission confirmation failed (%s), "
		         "retrying", err);
		overdue(st, in->now, err, out);
	}
}

int zg_interlock_step(zg_interlock_t *st, const zg_interlock_in_t *in, zg_interlock_out_t *out)
{
	if (st == NULL || in == NULL || out == NULL) {
		return ZG_EINPUT;
	}
	memset(out, 0, sizeof(*out));
	switch (in->event) {
	case ZG_INTERLOCK_ZONE:
		step_zone(st, in, out);
		return 0;
	case ZG_INTERLOCK_PARENTS:
		step_parents(st, in, out);
		return 0;
	case ZG_INTERLOCK_SUBMITTED:
		step_submitted(st, in, out);
		return 0;
	}
	return ZG_EINPUT;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "ingest/ingest.h"
#include "ingest/queue.h"
#include "ingest/spool.h"

#define ONCE_RETRIES	5
#define BACKOFF_MAX	5.0

typedef struct {
	const zg_ingest_conf_t *conf;
	size_t bmax;
	zg_msg_parser_t *parser;
	zg_gateway_t *gw;
	zg_msg_t *msgs;
	zg_apply_item_t *items;
	size_t *item_of;
	int *pret;
	char (*preason)[ZG_MSG_REASON_MAX];
	time_t *enqueued;
	char last_warning[1024];
	time_t last_warning_at;
	unsigned failures;
	double backoff;
	zg_ingest_state_t state;
} run_t;

void zg_ingest_conf_default(zg_ingest_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
	zg_gateway_conf_default(&conf->gw);
	zg_msg_limits_default(&conf->limits);
	conf->interval = 1.0;
	conf->lease_s = 30;
}

__attribute__((format(printf, 3, 4)))
static void logf_(const run_t *r, int level, const char *fmt, ...)
{
	if (r->conf->on_log == NULL) {
		return;
	}
	char buf[1024], line[4 * sizeof(buf)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* File names, reasons and server texts come from outside: one line,
	 * control characters escaped. */
	zg_msg_escape(buf, line, sizeof(line));
	r->conf->on_log(r->conf->ctx, level, line);
}

static bool stopping(const run_t *r)
{
	return r->conf->stop != NULL && *r->conf->stop;
}

static void sleep_s(const run_t *r, double sec)
{
	double end = zg_clock_s() + sec;
	while (!stopping(r)) {
		double left = end - zg_clock_s();
		if (left <= 0) {
			return;
		}
		struct timespec step = { 0, (long)((left < 0.05 ? left : 0.05) * 1e9) };
		nanosleep(&step, NULL);
	}
}

static bool is_refusal(int ret)
{
	return ret == ZG_ESYNTAX || ret == ZG_EINPUT || ret == ZG_EOUTOFZONE ||
	       ret == ZG_ETOOBIG || ret == ZG_EREFUSED;
}

/* After a pass that could not finish: back off; false when (once) giving up. */
static bool backoff(run_t *r)
{
	if (r->conf->once && ++r->failures >= ONCE_RETRIES) {
		return false;
	}
	sleep_s(r, r->backoff);
	r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : r->backoff * 2;
	return true;
}

static void progress(run_t *r)
{
	r->failures = 0;
	r->backoff = 0.2;
}

static void report(run_t *r, bool applied, const char *name, int64_t row, size_t i,
                   const zg_apply_result_t *res, const char *reason)
{
	if (r->conf->on_outcome == NULL) {
		return;
	}
	/* File names and reasons come from outside: escaped for the logs. */
	char ename[4 * ZG_SPOOL_NAME_MAX + 1], ereason[4 * ZG_MSG_REASON_MAX];
	if (name != NULL) {
		zg_msg_escape(name, ename, sizeof(ename));
	}
	if (reason != NULL) {
		zg_msg_escape(reason, ereason, sizeof(ereason));
	}
	zg_ingest_outcome_t o = {
		.applied = applied, .name = name != NULL ? ename : NULL, .row_id = row,
		.msg_id = r->msgs[i].id, .res = res, .reason = reason != NULL ? ereason : NULL,
		.enqueued = r->enqueued[i],
	};
	r->conf->on_outcome(r->conf->ctx, &o);
}

/* Sets the consumer's state (a negative connected or holding: unchanged;
 * polled: a successful poll now) and reports it. */
static void set_state(run_t *r, int connected, int holding, bool polled)
{
	if (connected >= 0) {
		r->state.connected = connected;
	}
	if (holding >= 0) {
		r->state.holding = holding;
	}
	if (polled) {
		r->state.polled = time(NULL);
	}
	if (r->conf->on_state != NULL) {
		r->conf->on_state(r->conf->ctx, &r->state);
	}
}

static void lag(run_t *r, size_t count, time_t oldest)
{
	if (r->conf->on_lag != NULL) {
		time_t now = time(NULL);
		r->conf->on_lag(r->conf->ctx, count > 0 && now > oldest ? (int64_t)(now - oldest) : 0);
	}
}

/* Parses the n messages of the pass; fills the batch items.
 * Exactly once holds per message id and zone: a message whose id was applied
 * to its zone already is refused; a second message of one id in the pass
 * ends the pass before it (it is judged in the next one, once the first is
 * recorded). *n is cut accordingly; when the record cannot be read, to 0,
 * and *lookup_err is set. */
static size_t parse_pass(run_t *r, zg_queue_t *q, const zg_queue_item_t *qi, size_t *n,
                         int *lookup_err)
{
	size_t ni = 0;
	*lookup_err = 0;
	for (size_t i = 0; i < *n; i++) {
		r->enqueued[i] = qi[i].enqueued;
		if (qi[i].unusable) {
			r->pret[i] = ZG_EINPUT;
			snprintf(r->preason[i], sizeof(r->preason[i]), "%s", qi[i].why);
			r->msgs[i].id[0] = '\0';
			continue;
		}
		r->pret[i] = zg_msg_parse(r->parser, qi[i].data, qi[i].len, r->conf->zone, &r->msgs[i],
		                          r->preason[i], sizeof(r->preason[i]));
		if (r->pret[i] != 0) {
			continue;
		}
		const zg_msg_t *m = &r->msgs[i];
		for (size_t j = 0; j < i; j++) {
			if (r->pret[j] == 0 && strcmp(r->msgs[j].id, m->id) == 0 &&
			    knot_dname_is_equal(r->msgs[j].zone, m->zone)) {
				*n = i;
				return ni;
			}
		}
		char zone[KNOT_DNAME_TXT_MAXLEN + 1], where[ZG_SPOOL_NAME_MAX + 16];
		knot_dname_to_str(zone, m->zone, sizeof(zone));
		int ret = zg_queue_applied(q, zone, m->id, where, sizeof(where));
		if (ret < 0) {
			*lookup_err = ret;
			*n = 0;
			return 0;
		}
		if (ret > 0) {
			r->pret[i] = ZG_EINPUT;
			snprintf(r->preason[i], sizeof(r->preason[i]), "message %s: id already "
			         "applied to zone %.100s (%s), not applied again", m->id, zone, where);
			continue;
		}
		r->items[ni].msg = &r->msgs[i];
		r->item_of[i] = ni++;
	}
	return ni;
}

/* The verdict of message i of a pass: 0, a refusal code, or "not done". */
static int verdict(run_t *r, size_t i, const char **reason, const zg_apply_result_t **res)
{
	*reason = r->preason[i];
	*res = NULL;
	if (r->pret[i] != 0) {
		return r->pret[i];
	}
	zg_apply_item_t *it = &r->items[r->item_of[i]];
	*reason = it->reason;
	*res = &it->res;
	return it->ret;
}

/* The queue's log lines: escaped, the repeating ones at most once a minute. */
static void queue_log(void *ctx, int level, bool limited, const char *text)
{
	run_t *r = ctx;
	time_t now = time(NULL);
	if (limited) {
		if (strcmp(text, r->last_warning) == 0 && now - r->last_warning_at < 60) {
			return;
		}
		snprintf(r->last_warning, sizeof(r->last_warning), "%.1000s", text);
		r->last_warning_at = now;
	}
	logf_(r, level, "%s", text);
}

static void queue_state(void *ctx, int connected, int holding, bool polled)
{
	set_state(ctx, connected, holding, polled);
}

static bool queue_stopping(void *ctx)
{
	return stopping(ctx);
}

static void queue_sleep(void *ctx, double sec)
{
	sleep_s(ctx, sec);
}

/* Records the outcomes of the pass's n messages; returns how many were
 * marked (their indexes in marked), stopping at the first message not done
 * (*unfinished) or a queue error (*qerr). */
static size_t mark_pass(run_t *r, zg_queue_t *q, size_t n, size_t *marked, bool *unfinished,
                        int *qerr)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const char *reason;
		const zg_apply_result_t *res;
		int v = verdict(r, i, &reason, &res);
		if (v != 0 && !is_refusal(v)) {
			logf_(r, ZG_INGEST_LOG_WARNING, "%s (will retry)", reason);
			*unfinished = true;
			break;
		}
		if (v != 0 && stopping(r) && zg_queue_keeps_refusals_on_stop(q)) {
			/* Stopping (mod-ingest: its unload began, its log is
			 * closed): a refusal nobody would read of is left in the
			 * queue for the next consumer, which says why. Nothing of
			 * it was applied. */
			continue;
		}
		char zone[KNOT_DNAME_TXT_MAXLEN + 1] = "";
		if (v == 0) {
			knot_dname_to_str(zone, r->msgs[i].zone, sizeof(zone));
		}
		int64_t serial = v == 0 && res->serial_known ? (int64_t)res->serial : -1;
		uint32_t now_serial;
		if (v == 0 && serial < 0 && zg_queue_records_serial(q)) {
			/* Applied, but the server went away before it said the
			 * serial (a signer killed right after the UPDATE): the
			 * serial it serves now holds the change; without it the
			 * row would be applied with no serial, and a takeover
			 * could not tell whether it was ever published. */
			if (zg_gateway_serial(r->gw, r->msgs[i].zone, &now_serial) != 0) {
				logf_(r, ZG_INGEST_LOG_WARNING, "message %s applied, but the serial "
				      "of %s cannot be read (will retry)", r->msgs[i].id, zone);
				*unfinished = true;
				break;
			}
			serial = now_serial;
		}
		int ret = zg_queue_mark(q, i, v == 0, serial, zone, r->msgs[i].id, reason);
		if (ret == ZG_QUEUE_SKIPPED) {
			continue;
		}
		if (ret != 0) {
			*qerr = ret;
			break;
		}
		marked[m++] = i;
	}
	return m;
}

/* The consumer: passes over the queue until stopped (once: until empty). */
static int run_queue(run_t *r)
{
	const zg_ingest_conf_t *c = r->conf;
	char zone_txt[KNOT_DNAME_TXT_MAXLEN + 1], consumer[300];
	if (c->zone != NULL) {
		knot_dname_to_str(zone_txt, c->zone, sizeof(zone_txt));
	}
	if (c->consumer != NULL) {
		snprintf(consumer, sizeof(consumer), "%s", c->consumer);
	} else {
		char host[256] = "localhost";
		gethostname(host, sizeof(host) - 1);
		snprintf(consumer, sizeof(consumer), "%s:%d", host, (int)getpid());
	}
	zg_queue_env_t env = {
		.zone = c->zone != NULL ? zone_txt : NULL, .consumer = consumer,
		.lease_s = c->lease_s, .consume = true, .once = c->once,
		.max_size = c->limits.max_size, .log = queue_log, .state = queue_state,
		.stopping = queue_stopping, .sleep = queue_sleep, .ctx = r,
	};
	zg_queue_t *q = NULL;
	char err[512] = "";
	int ret = zg_queue_open(c->source, &env, &q, err, sizeof(err));
	if (ret != 0 || q == NULL) {
		return stopping(r) ? 0 : ret;
	}
	size_t *marked = calloc(r->bmax, sizeof(*marked));
	ret = marked == NULL ? -ENOMEM : 0;
	while (ret == 0 && !stopping(r)) {
		zg_queue_pass_t pass;
		int cret = zg_queue_claim(q, r->bmax, &pass, err, sizeof(err));
		if (cret == ZG_EFENCED) {
			if (c->once) {
				break;
			}
			sleep_s(r, c->interval);
			continue;
		}
		if (cret == ZG_EINPUT) {
			/* The queue needs the operator (err says what to do). */
			queue_log(r, ZG_INGEST_LOG_ERR, true, err);
			if (c->once) {
				ret = ZG_EINPUT;
				break;
			}
			sleep_s(r, 5.0);
			continue;
		}
		if (cret != 0) {
			if (!backoff(r)) {
				ret = cret;
			}
			continue;
		}
		if (pass.empty) {
			cret = zg_queue_commit(q);
			lag(r, 0, 0);
			if (c->once) {
				break;
			}
			if (cret == 0) {
				zg_queue_wait(q, (int)(c->interval * 1000));
			}
			continue;
		}
		size_t n = pass.count;
		int qerr;
		size_t ni = parse_pass(r, q, pass.items, &n, &qerr);
		int bret = ni > 0 ? zg_gateway_apply_batch(r->gw, r->items, ni) : 0;
		bool unfinished = false;
		size_t m = qerr != 0 ? 0 : mark_pass(r, q, n, marked, &unfinished, &qerr);
		if (zg_queue_commit(q) == 0) {
			for (size_t k = 0; k < m; k++) {
				size_t i = marked[k];
				const char *reason;
				const zg_apply_result_t *res;
				int v = verdict(r, i, &reason, &res);
				report(r, v == 0, pass.items[i].name, pass.items[i].row, i, res, reason);
			}
		}
		size_t pend = 0;
		time_t oldest = 0;
		if (zg_queue_pending(q, &pend, &oldest) == 0) {
			lag(r, pend, oldest);
		}
		if (pass.error && qerr == 0) {
			qerr = -EIO;
		}
		if (qerr != 0 || unfinished || bret != 0) {
			if (!backoff(r)) {
				/* The queue's own error (spool: -EIO), else the
				 * server's. */
				ret = qerr != 0 ? qerr : ZG_ECONNECT;
			}
		} else {
			progress(r);
		}
	}
	free(marked);
	zg_queue_close(q);
	return ret;
}

int zg_ingest_run(const zg_ingest_conf_t *conf)
{
	run_t r = { .conf = conf, .backoff = 0.2 };
	r.bmax = conf->gw.batch_max > 0 ? conf->gw.batch_max : 1;
	zg_queue_kind_t kind = zg_queue_uri(conf->source, NULL);
	if (kind == ZG_QUEUE_INVALID) {
		logf_(&r, ZG_INGEST_LOG_ERR, "source must be spool:/ABSOLUTE/PATH or postgresql://...");
		return ZG_EINPUT;
	}
	r.parser = zg_msg_parser_new(&conf->limits);
	r.gw = zg_gateway_new(&conf->gw);
	r.msgs = calloc(r.bmax, sizeof(*r.msgs));
	r.items = calloc(r.bmax, sizeof(*r.items));
	r.item_of = calloc(r.bmax, sizeof(*r.item_of));
	r.pret = calloc(r.bmax, sizeof(*r.pret));
	r.preason = calloc(r.bmax, sizeof(*r.preason));
	r.enqueued = calloc(r.bmax, sizeof(*r.enqueued));
	int ret = -ENOMEM;
	if (r.parser != NULL && r.gw != NULL && r.msgs != NULL && r.items != NULL &&
	    r.item_of != NULL && r.pret != NULL && r.preason != NULL && r.enqueued != NULL) {
		for (size_t i = 0; i < r.bmax; i++) {
			zg_msg_init(&r.msgs[i]);
		}
		ret = run_queue(&r);
		set_state(&r, 0, 0, false);
		for (size_t i = 0; i < r.bmax; i++) {
			zg_msg_deinit(&r.msgs[i]);
		}
	}
	free(r.msgs);
	free(r.items);
	free(r.item_of);
	free(r.pret);
	free(r.preason);
	free(r.enqueued);
	zg_gateway_free(r.gw);
	zg_msg_parser_free(r.parser);
	return ret;
}

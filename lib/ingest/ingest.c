/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "ingest/ingest.h"
#include "ingest/pgqueue.h"
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
	bool *unusable;         /* Spool entry that is no readable file. */
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
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stopping(r)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		double el = (double)(now.tv_sec - start.tv_sec) +
		            (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (el >= sec) {
			return;
		}
		double left = sec - el;
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

/* Whether a message of msg's zone and id was applied already: 1 (where
 * says where, e.g. "row 7"), 0, or negative when the record cannot be read. */
typedef int (*applied_fn)(void *ctx, const zg_msg_t *msg, char *where, size_t where_len);

/* Parses messages 0..*n of the pass (text in data[i]); fills the batch items.
 * Exactly once holds per message id and zone: a message whose id was applied
 * to its zone already is refused; a second message of one id in the pass
 * ends the pass before it (it is judged in the next one, once the first is
 * recorded). *n is cut accordingly; when the record cannot be read, to 0,
 * and *lookup_err is set. */
static size_t parse_pass(run_t *r, char **data, size_t *len, size_t *n, applied_fn applied,
                         void *ctx, int *lookup_err)
{
	size_t ni = 0;
	*lookup_err = 0;
	for (size_t i = 0; i < *n; i++) {
		if (r->unusable[i]) {
			r->pret[i] = ZG_EINPUT;
			r->msgs[i].id[0] = '\0';
			continue;
		}
		r->pret[i] = zg_msg_parse(r->parser, data[i], len[i], r->conf->zone, &r->msgs[i],
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
		char where[ZG_SPOOL_NAME_MAX + 16];
		int ret = applied(ctx, m, where, sizeof(where));
		if (ret < 0) {
			*lookup_err = ret;
			*n = 0;
			return 0;
		}
		if (ret > 0) {
			char zone[KNOT_DNAME_TXT_MAXLEN + 1];
			knot_dname_to_str(zone, m->zone, sizeof(zone));
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

/* Spool entries that could not be moved out of incoming/ (skipped until the
 * consumer restarts; each was logged once). */
#define SKIP_MAX	32

typedef struct {
	char names[SKIP_MAX][ZG_SPOOL_NAME_MAX + 1];
	size_t count;
} skip_t;

static bool skipped(const skip_t *s, const char *name)
{
	for (size_t i = 0; i < s->count; i++) {
		if (strcmp(s->names[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* Takes the spool's consumer lock: a daemon waits for it (standby), --once
 * gives up. Returns 0, ZG_EFENCED (--once, held by another) or -errno. */
static int spool_lock(run_t *r, zg_spool_t *spool, const char *dir)
{
	char holder[300];
	const char *edir = dir;
	int ret = zg_spool_lock(spool, holder, sizeof(holder));
	if (ret == 0 || ret != -EWOULDBLOCK) {
		if (ret != 0) {
			logf_(r, ZG_INGEST_LOG_ERR, "cannot lock spool %s (%s)", edir, zg_strerror(ret));
		}
		return ret;
	}
	if (r->conf->once) {
		logf_(r, ZG_INGEST_LOG_ERR, "spool %s is in use by another consumer (%s), not "
		      "consuming it", edir, holder[0] != '\0' ? holder : "holder unknown");
		return ZG_EFENCED;
	}
	logf_(r, ZG_INGEST_LOG_NOTICE, "spool %s is in use by another consumer (%s), waiting "
	      "for its lock", edir, holder[0] != '\0' ? holder : "holder unknown");
	while (!stopping(r)) {
		sleep_s(r, 1.0);
		ret = zg_spool_lock(spool, holder, sizeof(holder));
		if (ret == 0) {
			logf_(r, ZG_INGEST_LOG_NOTICE, "spool %s locked, consuming it", edir);
			return 0;
		}
		if (ret != -EWOULDBLOCK) {
			logf_(r, ZG_INGEST_LOG_ERR, "cannot lock spool %s (%s)", edir,
			      zg_strerror(ret));
			return ret;
		}
	}
	return 0;
}

/* A warning that repeats while a condition lasts: at most once a minute. */
static void log_limited(run_t *r, int level, const char *text)
{
	time_t now = time(NULL);
	if (strcmp(text, r->last_warning) == 0 && now - r->last_warning_at < 60) {
		return;
	}
	snprintf(r->last_warning, sizeof(r->last_warning), "%.1000s", text);
	r->last_warning_at = now;
	logf_(r, level, "%s", text);
}

static int spool_applied(void *ctx, const zg_msg_t *msg, char *where, size_t where_len)
{
	char zone[KNOT_DNAME_TXT_MAXLEN + 1], name[ZG_SPOOL_NAME_MAX + 1];
	knot_dname_to_str(zone, msg->zone, sizeof(zone));
	int ret = zg_spool_applied(ctx, zone, msg->id, name);
	if (ret > 0) {
		snprintf(where, where_len, "done/%s", name);
	}
	return ret;
}

static int run_spool(run_t *r)
{
	const zg_ingest_conf_t *c = r->conf;
	zg_spool_t *spool = NULL;
	const char *dir = NULL;
	(void)zg_queue_uri(c->source, &dir);
	const char *edir = dir;
	int ret = zg_spool_open(dir, &spool);
	if (ret != 0) {
		logf_(r, ZG_INGEST_LOG_ERR, "cannot open spool %s (%s)%s", edir,
		      zg_strerror(ret), c->once ? "" : ", retrying");
		/* A daemon waits for the directory to appear (bounded steps). */
		while (ret != 0 && !c->once && !stopping(r)) {
			sleep_s(r, 5.0);
			ret = zg_spool_open(dir, &spool);
		}
		if (ret != 0) {
			return stopping(r) ? 0 : ret;
		}
	}
	set_state(r, 1, -1, false);
	/* One consumer per spool: two would reorder messages. */
	ret = spool_lock(r, spool, dir);
	if (ret != 0 || stopping(r)) {
		zg_spool_free(spool);
		return ret;
	}
	set_state(r, -1, 1, false);
	size_t lmax = r->bmax + SKIP_MAX;
	char (*names)[ZG_SPOOL_NAME_MAX + 1] = calloc(lmax, sizeof(*names));
	char **data = calloc(r->bmax, sizeof(*data));
	size_t *len = calloc(r->bmax, sizeof(*len));
	skip_t *skip = calloc(1, sizeof(*skip));
	if (names == NULL || data == NULL || len == NULL || skip == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	while (!stopping(r)) {
		char text[1024];
		size_t listed = 0, n = 0;
		ret = zg_spool_list(spool, names, lmax, &listed);
		if (ret != 0) {
			snprintf(text, sizeof(text), "cannot read the spool %s (%s)", edir,
			         zg_strerror(ret));
			log_limited(r, ZG_INGEST_LOG_ERR, text);
			set_state(r, 0, -1, false);
			if (!backoff(r)) {
				break;
			}
			continue;
		}
		set_state(r, 1, -1, true);
		/* The first bmax names not skipped, in order. */
		for (size_t i = 0; i < listed && n < r->bmax; i++) {
			if (!skipped(skip, names[i])) {
				memmove(names[n++], names[i], sizeof(names[0]));
			}
		}
		if (n == 0) {
			lag(r, 0, 0);
			if (c->once) {
				break;
			}
			/* Until a message arrives or the interval passes, in steps
			 * that keep a stop request prompt. */
			struct timespec start, now;
			clock_gettime(CLOCK_MONOTONIC, &start);
			while (!stopping(r)) {
				clock_gettime(CLOCK_MONOTONIC, &now);
				double left = c->interval - ((double)(now.tv_sec - start.tv_sec) +
				              (double)(now.tv_nsec - start.tv_nsec) / 1e9);
				int ms = left < 0.05 ? (int)(left * 1000) + 1 : 50;
				if (left <= 0 || zg_spool_wait(spool, ms) > 0) {
					break;
				}
			}
			continue;
		}
		/* Read; a file over the limit is refused without reading it, an
		 * entry that is no readable regular file is refused as such. */
		size_t readable = n;
		bool io_error = false;
		for (size_t i = 0; i < n; i++) {
			data[i] = NULL;
			len[i] = 0;
			r->enqueued[i] = 0;
			r->unusable[i] = false;
			char why[128];
			int rr = zg_spool_read(spool, names[i], c->limits.max_size, &data[i], &len[i],
			                       why, sizeof(why));
			if (rr == -EFBIG) {
				/* Let the parser refuse it with the size reason. */
				data[i] = malloc(1);
				rr = data[i] == NULL ? -ENOMEM : 0;
			} else if (rr == ZG_EINPUT) {
				r->unusable[i] = true;
				snprintf(r->preason[i], sizeof(r->preason[i]), "entry %s: %s", names[i], why);
				rr = 0;
			}
			if (rr != 0) {
				if (rr != -ENOENT) {
					snprintf(text, sizeof(text), "cannot read %s (%s)%s", names[i],
					         zg_strerror(rr), why[0] != '\0' ? why : "");
					log_limited(r, ZG_INGEST_LOG_ERR, text);
					io_error = true;
				}
				readable = i;
				break;
			}
		}
		n = readable;
		size_t read_n = n;
		int lerr;
		size_t ni = parse_pass(r, data, len, &n, spool_applied, spool, &lerr);
		for (size_t i = 0; i < read_n; i++) {
			free(data[i]);
			data[i] = NULL;
		}
		if (lerr != 0) {
			snprintf(text, sizeof(text), "cannot read the applied message ids in "
			         "%s/done (%s)", edir, zg_strerror(lerr));
			log_limited(r, ZG_INGEST_LOG_ERR, text);
			io_error = true;
		}
		int bret = ni > 0 ? zg_gateway_apply_batch(r->gw, r->items, ni) : 0;
		bool unfinished = false;
		for (size_t i = 0; i < n; i++) {
			const char *reason;
			const zg_apply_result_t *res;
			int v = verdict(r, i, &reason, &res);
			if (v != 0 && !is_refusal(v)) {
				logf_(r, ZG_INGEST_LOG_WARNING, "%s (will retry)", reason);
				unfinished = true;
				break;
			}
			if (v != 0 && stopping(r)) {
				/* Stopping (mod-ingest: its unload began, its log is
				 * closed): a refusal nobody would read of is left in
				 * incoming/ for the next consumer, which says why.
				 * Nothing of it was applied. */
				continue;
			}
			char zone[KNOT_DNAME_TXT_MAXLEN + 1] = "";
			if (v == 0) {
				knot_dname_to_str(zone, r->msgs[i].zone, sizeof(zone));
			}
			int mret = v == 0 ? zg_spool_done(spool, names[i], zone, r->msgs[i].id) :
			                    zg_spool_fail(spool, names[i], reason);
			if (mret != 0) {
				snprintf(text, sizeof(text), "cannot move %s to %s (%s)", names[i],
				         v == 0 ? "done/" : "failed/", zg_strerror(mret));
				if (v != 0 && skip->count < SKIP_MAX) {
					/* Refused, but it cannot leave incoming/: go on
					 * without it (logged once). */
					memcpy(skip->names[skip->count++], names[i], sizeof(names[0]));
					logf_(r, ZG_INGEST_LOG_ERR, "%s; skipping it until restart", text);
					continue;
				}
				log_limited(r, ZG_INGEST_LOG_ERR, text);
				io_error = true;
				break;
			}
			report(r, v == 0, names[i], -1, i, res, reason);
		}
		size_t pend = 0;
		time_t oldest = 0;
		if (zg_spool_pending(spool, &pend, &oldest) == 0) {
			lag(r, pend, oldest);
		}
		if (io_error || unfinished || bret != 0) {
			if (!backoff(r)) {
				ret = io_error ? -EIO : ZG_ECONNECT;
				break;
			}
		} else {
			progress(r);
		}
		ret = 0;
	}
done:
	free(names);
	free(data);
	free(len);
	free(skip);
	zg_spool_free(spool);
	return ret;
}

typedef struct {
	zg_pgqueue_t *q;
	char *err;
	size_t err_len;
} pg_lookup_t;

static int pg_applied(void *ctx, const zg_msg_t *msg, char *where, size_t where_len)
{
	pg_lookup_t *l = ctx;
	int64_t row = -1;
	int ret = zg_pgqueue_applied(l->q, msg->id, &row, l->err, l->err_len);
	if (ret > 0) {
		snprintf(where, where_len, "row %lld", (long long)row);
	}
	return ret > 0 ? 1 : ret;
}

static int run_pg(run_t *r)
{
	const zg_ingest_conf_t *c = r->conf;
	if (c->zone == NULL) {
		logf_(r, ZG_INGEST_LOG_ERR, "a PostgreSQL source needs the zone");
		return ZG_EINPUT;
	}
	char zone_txt[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(zone_txt, c->zone, sizeof(zone_txt));
	char consumer[300];
	if (c->consumer != NULL) {
		snprintf(consumer, sizeof(consumer), "%s", c->consumer);
	} else {
		char host[256] = "localhost";
		gethostname(host, sizeof(host) - 1);
		snprintf(consumer, sizeof(consumer), "%s:%d", host, (int)getpid());
	}
	zg_pgqueue_t *q = NULL;
	if (zg_pgqueue_new(c->source, zone_txt, consumer, c->lease_s, &q) != 0) {
		return -ENOMEM;
	}
	char **data = calloc(r->bmax, sizeof(*data));
	size_t *len = calloc(r->bmax, sizeof(*len));
	int ret = data == NULL || len == NULL ? -ENOMEM : 0;
	bool standby_said = false;
	int64_t last_token = -1;
	while (ret == 0 && !stopping(r)) {
		zg_pgitem_t *rows = NULL;
		size_t n = 0;
		int64_t token = 0;
		char err[512] = "";
		int cret = zg_pgqueue_claim(q, r->bmax, &rows, &n, &token, err, sizeof(err));
		if (zg_pgqueue_created(q)) {
			logf_(r, ZG_INGEST_LOG_NOTICE, "created the missing queue tables of "
			      "zonegate-queue.sql in PostgreSQL (zonegate_queue, zonegate_lease, "
			      "NOTIFY trigger)");
		}
		const char *notice = zg_pgqueue_notice(q);
		if (notice != NULL) {
			logf_(r, ZG_INGEST_LOG_NOTICE, "%s", notice);
		}
		set_state(r, cret == 0 || cret == ZG_EFENCED || cret == ZG_EINPUT, cret == 0,
		          cret == 0);
		if (cret == ZG_EFENCED) {
			if (!standby_said) {
				logf_(r, ZG_INGEST_LOG_NOTICE, "standby: another consumer holds the "
				      "lease of %s", zone_txt);
				standby_said = true;
			}
			if (c->once) {
				break;
			}
			sleep_s(r, c->interval);
			continue;
		}
		if (cret == ZG_EINPUT) {
			/* The table needs the operator (err says what to run). */
			log_limited(r, ZG_INGEST_LOG_ERR, err);
			if (c->once) {
				ret = ZG_EINPUT;
				break;
			}
			sleep_s(r, 5.0);
			continue;
		}
		if (cret != 0) {
			logf_(r, ZG_INGEST_LOG_WARNING, "%s (will retry)", err[0] ? err : zg_strerror(cret));
			if (!backoff(r)) {
				ret = ZG_ECONNECT;
			}
			continue;
		}
		standby_said = false;
		if (token != last_token) {
			logf_(r, ZG_INGEST_LOG_NOTICE, "lease of %s taken, fencing token %lld",
			      zone_txt, (long long)token);
			last_token = token;
		}
		if (n == 0) {
			cret = zg_pgqueue_commit(q, err, sizeof(err));
			lag(r, 0, 0);
			if (c->once) {
				break;
			}
			if (cret == 0) {
				zg_pgqueue_wait(q, (int)(c->interval * 1000));
			}
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			data[i] = (char *)rows[i].json;
			len[i] = rows[i].len;
			r->enqueued[i] = rows[i].enqueued;
		}
		pg_lookup_t look = { q, err, sizeof(err) };
		int lerr;
		size_t ni = parse_pass(r, data, len, &n, pg_applied, &look, &lerr);
		int bret = ni > 0 ? zg_gateway_apply_batch(r->gw, r->items, ni) : 0;
		size_t done = 0;
		bool db_error = lerr != 0;
		for (size_t i = 0; i < n; i++) {
			const char *reason;
			const zg_apply_result_t *res;
			int v = verdict(r, i, &reason, &res);
			if (v != 0 && !is_refusal(v)) {
				logf_(r, ZG_INGEST_LOG_WARNING, "%s (will retry)", reason);
				break;
			}
			int64_t serial = v == 0 && res->serial_known ? (int64_t)res->serial : -1;
			if (zg_pgqueue_finish(q, rows[i].id, v == 0, serial, v == 0 ? NULL : reason,
			                      err, sizeof(err)) != 0) {
				db_error = true;
				break;
			}
			done++;
		}
		int64_t *ids = calloc(done > 0 ? done : 1, sizeof(*ids));
		for (size_t i = 0; ids != NULL && i < done; i++) {
			ids[i] = rows[i].id;
		}
		if (!db_error) {
			cret = zg_pgqueue_commit(q, err, sizeof(err));
			if (cret == 0) {
				for (size_t i = 0; i < done; i++) {
					const char *reason;
					const zg_apply_result_t *res;
					int v = verdict(r, i, &reason, &res);
					report(r, v == 0, NULL, ids != NULL ? ids[i] : -1, i, res, reason);
				}
			} else if (cret == ZG_EFENCED) {
				logf_(r, ZG_INGEST_LOG_WARNING, "lease of %s lost; outcomes rolled back",
				      zone_txt);
				set_state(r, -1, 0, false);
			} else {
				db_error = true;
			}
		}
		free(ids);
		if (db_error) {
			logf_(r, ZG_INGEST_LOG_WARNING, "%s (rows stay pending, will retry)", err);
			set_state(r, 0, 0, false);
		}
		size_t pend = 0;
		time_t oldest = 0;
		if (!db_error && zg_pgqueue_pending(q, &pend, &oldest) == 0) {
			lag(r, pend, oldest);
		}
		if (db_error || bret != 0 || done < n) {
			if (!backoff(r)) {
				ret = ZG_ECONNECT;
			}
		} else {
			progress(r);
		}
	}
	free(data);
	free(len);
	zg_pgqueue_free(q);
	return ret;
}

int zg_ingest_run(const zg_ingest_conf_t *conf)
{
	run_t r = { .conf = conf, .backoff = 0.2 };
	r.bmax = conf->gw.batch_max > 0 ? conf->gw.batch_max : 1;
	zg_queue_kind_t kind = zg_queue_uri(conf->source, NULL);
	bool pg = kind == ZG_QUEUE_PG;
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
	r.unusable = calloc(r.bmax, sizeof(*r.unusable));
	int ret = -ENOMEM;
	if (r.parser != NULL && r.gw != NULL && r.msgs != NULL && r.items != NULL &&
	    r.item_of != NULL && r.pret != NULL && r.preason != NULL && r.enqueued != NULL &&
	    r.unusable != NULL) {
		for (size_t i = 0; i < r.bmax; i++) {
			zg_msg_init(&r.msgs[i]);
		}
		ret = pg ? run_pg(&r) : run_spool(&r);
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
	free(r.unusable);
	zg_gateway_free(r.gw);
	zg_msg_parser_free(r.parser);
	return ret;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"
#include "ingest/pgqueue.h"
#include "ingest/queue.h"
#include "ingest/spool.h"

#define SPOOL_SCHEME "spool:"

zg_queue_kind_t zg_queue_uri(const char *uri, const char **spool_dir)
{
	if (spool_dir != NULL) {
		*spool_dir = NULL;
	}
	if (uri == NULL) {
		return ZG_QUEUE_INVALID;
	}
	size_t sl = strlen(SPOOL_SCHEME);
	if (strncmp(uri, SPOOL_SCHEME, sl) == 0) {
		const char *dir = uri + sl;
		if (dir[0] != '/' || dir[1] == '\0') {
			return ZG_QUEUE_INVALID;
		}
		if (spool_dir != NULL) {
			*spool_dir = dir;
		}
		return ZG_QUEUE_SPOOL;
	}
	if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
		return ZG_QUEUE_PG;
	}
	return ZG_QUEUE_INVALID;
}

/* Spool entries that could not be moved out of incoming/ (skipped until the
 * consumer restarts; each was logged once). */
#define SKIP_MAX	32

/* A backend: the operations of queue.h on its own handle. */
typedef struct {
	int (*open)(zg_queue_t *q, const char *uri, char *err, size_t err_len);
	void (*close)(zg_queue_t *q);
	int (*claim)(zg_queue_t *q, size_t max, zg_queue_pass_t *pass, char *err, size_t err_len);
	int (*applied)(zg_queue_t *q, const char *zone, const char *id, char *where,
	               size_t where_len);
	int (*mark)(zg_queue_t *q, size_t i, bool applied, int64_t serial, const char *zone,
	            const char *id, const char *reason);
	int (*commit)(zg_queue_t *q);
	void (*wait)(zg_queue_t *q, int timeout_ms);
	int (*pending)(zg_queue_t *q, size_t *count, time_t *oldest);
	int (*put)(zg_queue_t *q, const char *id, const char *json, char *where,
	           size_t where_len, char *err, size_t err_len);
	bool keeps_refusals_on_stop;
	bool records_serial;
} queue_ops_t;

struct zg_queue {
	const queue_ops_t *ops;
	zg_queue_env_t env;
	zg_queue_item_t *items;     /* Of the last claim. */
	size_t cap;
	/* Spool. */
	const char *dir;
	zg_spool_t *spool;
	char (*names)[ZG_SPOOL_NAME_MAX + 1];
	char skip[SKIP_MAX][ZG_SPOOL_NAME_MAX + 1];
	size_t skipped;
	/* PostgreSQL. */
	zg_pgqueue_t *pg;
	char pg_err[512];
	bool pg_failed;             /* This pass failed (logged). */
	bool standby_said;
	int64_t last_token;
};

__attribute__((format(printf, 4, 5)))
static void qlog(const zg_queue_t *q, int level, bool limited, const char *fmt, ...)
{
	if (q->env.log == NULL) {
		return;
	}
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	q->env.log(q->env.ctx, level, limited, text);
}

static void qstate(const zg_queue_t *q, int connected, int holding, bool polled)
{
	if (q->env.state != NULL) {
		q->env.state(q->env.ctx, connected, holding, polled);
	}
}

static bool qstopping(const zg_queue_t *q)
{
	return q->env.stopping != NULL && q->env.stopping(q->env.ctx);
}

/* Sleeps sec seconds (with the user's sleep, which ends on a stop request). */
static void qsleep(const zg_queue_t *q, double sec)
{
	if (q->env.sleep != NULL) {
		q->env.sleep(q->env.ctx, sec);
		return;
	}
	struct timespec step = { (time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9) };
	nanosleep(&step, NULL);
}

static int grow_items(zg_queue_t *q, size_t max)
{
	if (max <= q->cap) {
		return 0;
	}
	zg_queue_item_t *items = realloc(q->items, max * sizeof(*items));
	if (items == NULL) {
		return -ENOMEM;
	}
	memset(items + q->cap, 0, (max - q->cap) * sizeof(*items));
	q->items = items;
	q->cap = max;
	return 0;
}

/* ---- the spool ---- */

static void spool_free_data(zg_queue_t *q)
{
	for (size_t i = 0; i < q->cap; i++) {
		free(q->items[i].data);
		q->items[i].data = NULL;
	}
}

/* Takes the spool's consumer lock: a daemon waits for it (standby), once
 * gives up. Returns 0, ZG_EFENCED (once, held by another) or -errno. */
static int spool_lock(zg_queue_t *q)
{
	char holder[300];
	int ret = zg_spool_lock(q->spool, holder, sizeof(holder));
	if (ret == 0 || ret != -EWOULDBLOCK) {
		if (ret != 0) {
			qlog(q, ZG_QUEUE_LOG_ERR, false, "cannot lock spool %s (%s)", q->dir,
			     zg_strerror(ret));
		}
		return ret;
	}
	if (q->env.once) {
		qlog(q, ZG_QUEUE_LOG_ERR, false, "spool %s is in use by another consumer (%s), "
		     "not consuming it", q->dir, holder[0] != '\0' ? holder : "holder unknown");
		return ZG_EFENCED;
	}
	qlog(q, ZG_QUEUE_LOG_NOTICE, false, "spool %s is in use by another consumer (%s), "
	     "waiting for its lock", q->dir, holder[0] != '\0' ? holder : "holder unknown");
	while (!qstopping(q)) {
		qsleep(q, 1.0);
		ret = zg_spool_lock(q->spool, holder, sizeof(holder));
		if (ret == 0) {
			qlog(q, ZG_QUEUE_LOG_NOTICE, false, "spool %s locked, consuming it", q->dir);
			return 0;
		}
		if (ret != -EWOULDBLOCK) {
			qlog(q, ZG_QUEUE_LOG_ERR, false, "cannot lock spool %s (%s)", q->dir,
			     zg_strerror(ret));
			return ret;
		}
	}
	return 0;
}

static int spool_open(zg_queue_t *q, const char *uri, char *err, size_t err_len)
{
	(void)zg_queue_uri(uri, &q->dir);
	int ret = zg_spool_open(q->dir, &q->spool);
	if (ret != 0) {
		snprintf(err, err_len, "cannot open spool %s (%s)", q->dir, zg_strerror(ret));
		if (!q->env.consume) {
			return ret;
		}
		qlog(q, ZG_QUEUE_LOG_ERR, false, "cannot open spool %s (%s)%s", q->dir,
		     zg_strerror(ret), q->env.once ? "" : ", retrying");
		/* A consumer waits for the directory to appear (bounded steps). */
		while (ret != 0 && !q->env.once && !qstopping(q)) {
			qsleep(q, 5.0);
			ret = zg_spool_open(q->dir, &q->spool);
		}
		if (ret != 0) {
			return ret;
		}
	}
	if (!q->env.consume) {
		return 0;
	}
	qstate(q, 1, -1, false);
	/* One consumer per spool: two would reorder messages. */
	ret = spool_lock(q);
	if (ret != 0) {
		return ret;
	}
	qstate(q, -1, 1, false);
	return 0;
}

static void spool_close(zg_queue_t *q)
{
	spool_free_data(q);
	free(q->names);
	zg_spool_free(q->spool);
}

static bool spool_skipped(const zg_queue_t *q, const char *name)
{
	for (size_t i = 0; i < q->skipped; i++) {
		if (strcmp(q->skip[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static int spool_claim(zg_queue_t *q, size_t max, zg_queue_pass_t *pass, char *err,
                       size_t err_len)
{
	(void)err;
	(void)err_len;
	spool_free_data(q);
	size_t lmax = max + SKIP_MAX;
	if (q->names == NULL && (q->names = calloc(lmax, sizeof(*q->names))) == NULL) {
		return -ENOMEM;
	}
	size_t listed = 0, n = 0;
	int ret = zg_spool_list(q->spool, q->names, lmax, &listed);
	if (ret != 0) {
		qlog(q, ZG_QUEUE_LOG_ERR, true, "cannot read the spool %s (%s)", q->dir,
		     zg_strerror(ret));
		qstate(q, 0, -1, false);
		return ret;
	}
	qstate(q, 1, -1, true);
	/* The first max names not skipped, in order. */
	for (size_t i = 0; i < listed && n < max; i++) {
		if (!spool_skipped(q, q->names[i])) {
			memmove(q->names[n++], q->names[i], sizeof(q->names[0]));
		}
	}
	pass->items = q->items;
	pass->empty = n == 0;
	/* Read; a file over the limit is claimed unread, an entry that is no
	 * readable regular file is claimed as such. */
	size_t readable = n;
	for (size_t i = 0; i < n; i++) {
		zg_queue_item_t *it = &q->items[i];
		*it = (zg_queue_item_t){ .name = q->names[i], .row = -1 };
		char why[128] = "";
		int rr = zg_spool_read(q->spool, it->name, q->env.max_size, &it->data, &it->len,
		                       why, sizeof(why));
		if (rr == -EFBIG) {
			/* Let the parser refuse it with the size reason. */
			it->data = malloc(1);
			rr = it->data == NULL ? -ENOMEM : 0;
		} else if (rr == ZG_EINPUT) {
			it->unusable = true;
			snprintf(it->why, sizeof(it->why), "entry %s: %s", it->name, why);
			rr = 0;
		}
		if (rr != 0) {
			if (rr != -ENOENT) {
				qlog(q, ZG_QUEUE_LOG_ERR, true, "cannot read %s (%s)%s", it->name,
				     zg_strerror(rr), why[0] != '\0' ? why : "");
				pass->error = true;
			}
			readable = i;
			break;
		}
	}
	pass->count = readable;
	return 0;
}

static int spool_applied(zg_queue_t *q, const char *zone, const char *id, char *where,
                         size_t where_len)
{
	char name[ZG_SPOOL_NAME_MAX + 1];
	int ret = zg_spool_applied(q->spool, zone, id, name);
	if (ret > 0) {
		snprintf(where, where_len, "done/%s", name);
	} else if (ret < 0) {
		qlog(q, ZG_QUEUE_LOG_ERR, true, "cannot read the applied message ids in "
		     "%s/done (%s)", q->dir, zg_strerror(ret));
		return -EIO;
	}
	return ret;
}

static int spool_mark(zg_queue_t *q, size_t i, bool applied, int64_t serial, const char *zone,
                      const char *id, const char *reason)
{
	(void)serial;
	const char *name = q->items[i].name;
	int ret = applied ? zg_spool_done(q->spool, name, zone, id) :
	                    zg_spool_fail(q->spool, name, reason);
	if (ret == 0) {
		return 0;
	}
	char text[1024];
	snprintf(text, sizeof(text), "cannot move %s to %s (%s)", name,
	         applied ? "done/" : "failed/", zg_strerror(ret));
	if (!applied && q->skipped < SKIP_MAX) {
		/* Refused, but it cannot leave incoming/: go on without it
		 * (logged once). */
		memcpy(q->skip[q->skipped++], name, sizeof(q->skip[0]));
		qlog(q, ZG_QUEUE_LOG_ERR, false, "%s; skipping it until restart", text);
		return ZG_QUEUE_SKIPPED;
	}
	qlog(q, ZG_QUEUE_LOG_ERR, true, "%s", text);
	return -EIO;
}

static int spool_commit(zg_queue_t *q)
{
	(void)q;
	return 0; /* Every move was final. */
}

static void spool_wait(zg_queue_t *q, int timeout_ms)
{
	/* Until a message arrives or the time passes, in steps that keep a
	 * stop request prompt. */
	int64_t end = zg_clock_ms() + timeout_ms;
	while (!qstopping(q)) {
		int64_t left = end - zg_clock_ms();
		if (left <= 0 || zg_spool_wait(q->spool, left < 50 ? (int)left : 50) > 0) {
			break;
		}
	}
}

static int spool_pending(zg_queue_t *q, size_t *count, time_t *oldest)
{
	return zg_spool_pending(q->spool, count, oldest);
}

static int spool_put(zg_queue_t *q, const char *id, const char *json, char *where,
                     size_t where_len, char *err, size_t err_len)
{
	char name[ZG_SPOOL_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s.json", id);
	int ret = zg_spool_put(q->spool, name, json, strlen(json));
	if (ret != 0) {
		snprintf(err, err_len, "cannot write %s to the spool (%s)", name, zg_strerror(ret));
	}
	if (where_len > 0) {
		where[0] = '\0';
	}
	return ret;
}

static const queue_ops_t SPOOL_OPS = {
	.open = spool_open, .close = spool_close, .claim = spool_claim,
	.applied = spool_applied, .mark = spool_mark, .commit = spool_commit,
	.wait = spool_wait, .pending = spool_pending, .put = spool_put,
	.keeps_refusals_on_stop = true,
	.records_serial = false,
};

/* ---- PostgreSQL ---- */

/* A failed statement loses the pass: rows stay pending. */
static int pg_failed(zg_queue_t *q)
{
	q->pg_failed = true;
	qlog(q, ZG_QUEUE_LOG_WARNING, false, "%s (rows stay pending, will retry)", q->pg_err);
	qstate(q, 0, 0, false);
	return ZG_ECONNECT;
}

static int pg_open(zg_queue_t *q, const char *uri, char *err, size_t err_len)
{
	if (q->env.zone == NULL) {
		snprintf(err, err_len, "a PostgreSQL source needs the zone");
		if (q->env.consume) {
			qlog(q, ZG_QUEUE_LOG_ERR, false, "a PostgreSQL source needs the zone");
		}
		return ZG_EINPUT;
	}
	q->last_token = -1;
	int ret = zg_pgqueue_new(uri, q->env.zone, q->env.consumer != NULL ? q->env.consumer : "-",
	                         q->env.lease_s, &q->pg);
	if (ret != 0) {
		snprintf(err, err_len, "%s", zg_strerror(ret));
	}
	return ret;
}

static void pg_close(zg_queue_t *q)
{
	zg_pgqueue_free(q->pg);
}

static int pg_claim(zg_queue_t *q, size_t max, zg_queue_pass_t *pass, char *err, size_t err_len)
{
	zg_pgitem_t *rows = NULL;
	size_t n = 0;
	int64_t token = 0;
	err[0] = '\0';
	q->pg_failed = false;
	int ret = zg_pgqueue_claim(q->pg, max, &rows, &n, &token, err, err_len);
	if (zg_pgqueue_created(q->pg)) {
		qlog(q, ZG_QUEUE_LOG_NOTICE, false, "created the missing queue tables of "
		     "zonegate-queue.sql in PostgreSQL (zonegate_queue, zonegate_lease, "
		     "NOTIFY trigger)");
	}
	const char *notice = zg_pgqueue_notice(q->pg);
	if (notice != NULL) {
		qlog(q, ZG_QUEUE_LOG_NOTICE, false, "%s", notice);
	}
	qstate(q, ret == 0 || ret == ZG_EFENCED || ret == ZG_EINPUT, ret == 0, ret == 0);
	if (ret == ZG_EFENCED) {
		if (!q->standby_said) {
			qlog(q, ZG_QUEUE_LOG_NOTICE, false, "standby: another consumer holds the "
			     "lease of %s", q->env.zone);
			q->standby_said = true;
		}
		return ret;
	}
	if (ret == ZG_EINPUT) {
		return ret; /* The table needs the operator (err says what to run). */
	}
	if (ret != 0) {
		qlog(q, ZG_QUEUE_LOG_WARNING, false, "%s (will retry)",
		     err[0] ? err : zg_strerror(ret));
		return ZG_ECONNECT;
	}
	q->standby_said = false;
	if (token != q->last_token) {
		qlog(q, ZG_QUEUE_LOG_NOTICE, false, "lease of %s taken, fencing token %lld",
		     q->env.zone, (long long)token);
		q->last_token = token;
	}
	for (size_t i = 0; i < n; i++) {
		q->items[i] = (zg_queue_item_t){
			.row = rows[i].id, .data = (char *)rows[i].json, .len = rows[i].len,
			.enqueued = rows[i].enqueued,
		};
	}
	pass->items = q->items;
	pass->count = n;
	pass->empty = n == 0;
	return 0;
}

static int pg_applied(zg_queue_t *q, const char *zone, const char *id, char *where,
                      size_t where_len)
{
	(void)zone; /* The queue's own. */
	int64_t row = -1;
	int ret = zg_pgqueue_applied(q->pg, id, &row, q->pg_err, sizeof(q->pg_err));
	if (ret > 0) {
		snprintf(where, where_len, "row %lld", (long long)row);
		return 1;
	}
	return ret < 0 ? pg_failed(q) : ret;
}

static int pg_mark(zg_queue_t *q, size_t i, bool applied, int64_t serial, const char *zone,
                   const char *id, const char *reason)
{
	(void)zone;
	(void)id;
	if (zg_pgqueue_finish(q->pg, q->items[i].row, applied, serial, applied ? NULL : reason,
	                      q->pg_err, sizeof(q->pg_err)) != 0) {
		return pg_failed(q);
	}
	return 0;
}

static int pg_commit(zg_queue_t *q)
{
	if (q->pg_failed) {
		return ZG_ECONNECT; /* Logged when it failed. */
	}
	int ret = zg_pgqueue_commit(q->pg, q->pg_err, sizeof(q->pg_err));
	if (ret == ZG_EFENCED) {
		qlog(q, ZG_QUEUE_LOG_WARNING, false, "lease of %s lost; outcomes rolled back",
		     q->env.zone);
		qstate(q, -1, 0, false);
	} else if (ret != 0) {
		return pg_failed(q);
	}
	return ret;
}

static void pg_wait(zg_queue_t *q, int timeout_ms)
{
	zg_pgqueue_wait(q->pg, timeout_ms);
}

static int pg_pending(zg_queue_t *q, size_t *count, time_t *oldest)
{
	return q->pg_failed ? ZG_ECONNECT : zg_pgqueue_pending(q->pg, count, oldest);
}

static int pg_put(zg_queue_t *q, const char *id, const char *json, char *where,
                  size_t where_len, char *err, size_t err_len)
{
	(void)id;
	int64_t row = 0;
	char perr[256] = "";
	int ret = zg_pgqueue_enqueue(q->pg, json, &row, perr, sizeof(perr));
	if (ret != 0) {
		snprintf(err, err_len, "cannot insert into the PostgreSQL queue (%s)", perr);
	} else {
		snprintf(where, where_len, " (row %lld%s)", (long long)row,
		         zg_pgqueue_created(q->pg) ? "; created the missing queue tables" : "");
	}
	return ret;
}

static const queue_ops_t PG_OPS = {
	.open = pg_open, .close = pg_close, .claim = pg_claim,
	.applied = pg_applied, .mark = pg_mark, .commit = pg_commit,
	.wait = pg_wait, .pending = pg_pending, .put = pg_put,
	.keeps_refusals_on_stop = false,
	.records_serial = true,
};

/* ---- the interface ---- */

int zg_queue_open(const char *uri, const zg_queue_env_t *env, zg_queue_t **out,
                  char *err, size_t err_len)
{
	*out = NULL;
	const queue_ops_t *ops = NULL;
	switch (zg_queue_uri(uri, NULL)) {
	case ZG_QUEUE_SPOOL:
		ops = &SPOOL_OPS;
		break;
	case ZG_QUEUE_PG:
		ops = &PG_OPS;
		break;
	default:
		snprintf(err, err_len, "queue '%.200s': not a queue URI (" ZG_QUEUE_URI_FORMS ")",
		         uri != NULL ? uri : "");
		return ZG_EINPUT;
	}
	zg_queue_t *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		snprintf(err, err_len, "%s", zg_strerror(-ENOMEM));
		return -ENOMEM;
	}
	q->ops = ops;
	q->env = *env;
	int ret = ops->open(q, uri, err, err_len);
	if (ret != 0 || qstopping(q)) {
		zg_queue_close(q);
		return ret;
	}
	*out = q;
	return 0;
}

void zg_queue_close(zg_queue_t *q)
{
	if (q == NULL) {
		return;
	}
	q->ops->close(q);
	free(q->items);
	free(q);
}

int zg_queue_claim(zg_queue_t *q, size_t max, zg_queue_pass_t *pass, char *err, size_t err_len)
{
	*pass = (zg_queue_pass_t){ .items = q->items };
	int ret = grow_items(q, max);
	return ret != 0 ? ret : q->ops->claim(q, max, pass, err, err_len);
}

int zg_queue_applied(zg_queue_t *q, const char *zone, const char *id, char *where,
                     size_t where_len)
{
	return q->ops->applied(q, zone, id, where, where_len);
}

int zg_queue_mark(zg_queue_t *q, size_t i, bool applied, int64_t serial, const char *zone,
                  const char *id, const char *reason)
{
	return q->ops->mark(q, i, applied, serial, zone, id, reason);
}

int zg_queue_commit(zg_queue_t *q)
{
	return q->ops->commit(q);
}

void zg_queue_wait(zg_queue_t *q, int timeout_ms)
{
	q->ops->wait(q, timeout_ms);
}

int zg_queue_pending(zg_queue_t *q, size_t *count, time_t *oldest)
{
	return q->ops->pending(q, count, oldest);
}

bool zg_queue_keeps_refusals_on_stop(const zg_queue_t *q)
{
	return q->ops->keeps_refusals_on_stop;
}

bool zg_queue_records_serial(const zg_queue_t *q)
{
	return q->ops->records_serial;
}

int zg_queue_put(zg_queue_t *q, const char *id, const char *json, char *where,
                 size_t where_len, char *err, size_t err_len)
{
	return q->ops->put(q, id, json, where, where_len, err, err_len);
}

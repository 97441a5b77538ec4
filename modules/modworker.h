/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A module's worker thread: started at load, sleeping between rounds on
 * the monotonic clock, woken early by a hook, stopped and joined at unload.
 * Header only, included by mod-dsync and mod-keys.
 */
#ifndef ZONEGATE_MODULES_MODWORKER_H
#define ZONEGATE_MODULES_MODWORKER_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "modules/knotd-compat.h"

typedef struct {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* On CLOCK_MONOTONIC. */
	atomic_bool stop;      /* Set once, by zg_modworker_stop(). */
} zg_modworker_t;

static inline void zg_modworker_init(zg_modworker_t *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&w->stop, false);
	w->started = false;
}

/* Starts fn(arg) on the worker thread. Returns 0 or an errno. */
static inline int zg_modworker_start(zg_modworker_t *w, void *(*fn)(void *), void *arg)
{
	int ret = pthread_create(&w->thread, NULL, fn, arg);
	w->started = ret == 0;
	return ret;
}

static inline bool zg_modworker_stopping(zg_modworker_t *w)
{
	return atomic_load(&w->stop);
}

/* Sleeps secs seconds, less when woken or stopped. Returns whether stopped. */
static inline bool zg_modworker_sleep(zg_modworker_t *w, long long secs)
{
	pthread_mutex_lock(&w->lock);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += secs > 0 ? secs : 0;
	while (!atomic_load(&w->stop)) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT) {
			break;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return atomic_load(&w->stop);
}

/* Ends the current sleep of the worker (from any thread, e.g. a hook). */
static inline void zg_modworker_wake(zg_modworker_t *w)
{
	pthread_mutex_lock(&w->lock);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Stops the worker and waits for it; then frees the lock and condition. */
static inline void zg_modworker_deinit(zg_modworker_t *w)
{
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		atomic_store(&w->stop, true);
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

/* Registers the module's counters (one value each), in order. */
static inline int zg_mod_counters_add(knotd_mod_t *mod, const char *const *names, int count)
{
	for (int i = 0; i < count; i++) {
		int ret = knotd_mod_stats_add(mod, names[i], 1, NULL);
		if (ret != KNOT_EOK) {
			return ret;
		}
	}
	return KNOT_EOK;
}

#endif /* ZONEGATE_MODULES_MODWORKER_H */

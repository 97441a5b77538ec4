/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A module's worker thread: started at load, sleeping between rounds on
 * the monotonic clock, woken early by a hook, stopped and joined at unload.
 * Header only, included by mod-dsync, mod-keys and mod-validate.
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
	bool kicked;           /* zg_modworker_kick() since the last sleep_ms (lock). */
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
	w->kicked = false;
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

/* Ends the current zg_modworker_sleep_ms() of the worker, or its next one
 * if it is not sleeping (from any thread, e.g. a hook). */
static inline void zg_modworker_kick(zg_modworker_t *w)
{
	pthread_mutex_lock(&w->lock);
	w->kicked = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Sleeps ms milliseconds, less when kicked (also before the call) or
 * stopped. Returns whether kicked (and forgets the kick). */
static inline bool zg_modworker_sleep_ms(zg_modworker_t *w, long long ms)
{
	pthread_mutex_lock(&w->lock);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	ms = ms > 0 ? ms : 0;
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (!atomic_load(&w->stop) && !w->kicked) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT) {
			break;
		}
	}
	bool kicked = w->kicked;
	w->kicked = false;
	pthread_mutex_unlock(&w->lock);
	return kicked;
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

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-validate's own header: the module's context and counters, shared by
 * validate.c (configuration, load, the worker) and gate.c (the transfer
 * hooks). Both are linked into the one validate.so.
 */
#ifndef ZONEGATE_MOD_VALIDATE_H
#define ZONEGATE_MOD_VALIDATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "modules/knotd-compat.h"
#include "modules/modalarm.h"
#include "modules/modlog.h"
#include "modules/modworker.h"
#include "validate/follow.h"

enum {
	CTR_SERIALS_VALIDATED,
	CTR_SERIALS_FAILED,
	CTR_LAST_SERIAL,
	CTR_LATENCY_MS,
	CTR_XFR_REFUSED,
	CTR_EXPIRY_SECONDS,
	CTR_CONTENT_REFUSED,
	CTR_BASE_COUNT,             /* Those below only with lease (downstream fencing). */
	CTR_SERIALS_FENCED = CTR_BASE_COUNT,
	CTR_LEASE_ERRORS,
	CTR_LEASE_TOKEN,
	CTR_COUNT
};

/*!
 * An outgoing AXFR/IXFR being summed in one knotd thread (its records go out
 * in messages, each passing the END hook). A transfer is told apart by the
 * connection socket, the query id and the remote address.
 */
typedef struct {
	zg_follow_out_t out;    /*!< The content check (lib/validate/follow). */
	int socket;
	uint16_t qid;
	struct sockaddr_storage remote;
} xfr_check_t;

typedef struct {
	knotd_mod_t *mod;
	zg_follow_t f;              /*!< The follow-and-verify loop and the verdicts. */
	zg_modworker_t w;           /*!< Runs it. */
	zg_alarm_t alarm;           /*!< The alarm command runner. */
	knotd_conf_t allow;         /*!< Configured ranges (count 0: none). */
	bool resign;                /*!< Ask this server to re-sign on failure. */
	char ctl_path[512];         /*!< This server's control socket. */
	unsigned p256_cache;        /*!< p256-table-cache of this zone ... */
	bool p256_cache_held;       /*!< ... counted in p256_cache_users. */

	/* Outgoing transfers, summed as they are sent (one per knotd thread). */
	xfr_check_t *checks;
	unsigned nchecks;
	atomic_llong recheck_asked; /*!< When a refused transfer last asked for a recheck. */

	/* Log rate limits. */
	zg_modlog_limit_t refuse_log;     /*!< Refused transfers. */
	zg_modlog_limit_t content_log;    /*!< Transfers failed at their end. */
} validate_ctx_t;

/* The gate (gate.c), after zg_follow_restore(): sets up the content check
 * of each knotd thread and installs the hooks. Returns a KNOT_ error. */
int gate_init(validate_ctx_t *ctx);
/* Frees what gate_init() set up (the hooks are knotd's). */
void gate_deinit(validate_ctx_t *ctx);

#endif /* ZONEGATE_MOD_VALIDATE_H */

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * mod-validate's gate: the hooks knotd runs on each request, in any of its
 * worker threads. A KNOTD_STAGE_BEGIN hook refuses outgoing AXFR/IXFR of a
 * served serial that has not validated (lock-free verdict lookup) and wakes
 * the worker for a NOTIFY; a KNOTD_STAGE_END hook refuses a transfer whose
 * content is not the validated content (lib/validate/follow: the content
 * check of outgoing transfers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libknot/rrtype/soa.h>

#include "modules/validate/validate.h"

/*! Seconds between two log lines about refused transfers. */
#define REFUSE_LOG_SEC	10
/*! A transfer refused for a failed serial has the served content checked
 *  again (it may have changed behind the serial), at most this often (s). */
#define RECHECK_SEC	30

/* Asks the worker to check the content this server serves (content_recheck()). */
static void content_recheck_request(validate_ctx_t *ctx)
{
	zg_follow_recheck_request(&ctx->f);
	zg_modworker_kick(&ctx->w);
}

/* Transfers that pass the gate whatever the verdict: the module's own (the
 * remote end is the local end of a connection it opened to this server:
 * address and port), those from the allow ranges, those signed with key. */
static bool transfer_allowed(validate_ctx_t *ctx, knotd_qdata_t *qdata)
{
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
	if (remote != NULL) {
		if (zg_xfr_self_match(&ctx->f.self, remote)) {
			return true;
		}
		if (ctx->allow.count > 0 && knotd_conf_addr_range_match(&ctx->allow, remote)) {
			return true;
		}
	}
	/* The key name only: knotd verifies the signature against the zone ACL later. */
	const knot_rrset_t *tsig = qdata->query->tsig_rr;
	return ctx->f.key.name != NULL && tsig != NULL &&
	       knot_dname_is_equal(tsig->owner, ctx->f.key.name);
}

static knotd_state_t validate_begin(knotd_state_t state, knot_pkt_t *pkt,
                                    knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	(void)pkt;
	validate_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL) {
		return state;
	}
	if (qdata->type == KNOTD_QUERY_TYPE_NOTIFY) {
		zg_modworker_kick(&ctx->w);
		return state;
	}
	if (qdata->type != KNOTD_QUERY_TYPE_AXFR && qdata->type != KNOTD_QUERY_TYPE_IXFR) {
		return state;
	}
	if (transfer_allowed(ctx, qdata)) {
		return state;
	}
	knot_rrset_t soa = knotd_qdata_zone_apex_rrset(qdata, KNOT_RRTYPE_SOA);
	if (soa.rrs.count == 0) {
		return state;  /* Zone not loaded: knotd answers that itself. */
	}
	uint32_t serial = knot_soa_serial(soa.rrs.rdata);
	int verdict = zg_follow_verdict(&ctx->f, serial);
	if (verdict == 1) {
		return state;
	}

	knotd_mod_stats_incr(mod, qdata->params->thread_id, CTR_XFR_REFUSED, 0, 1);
	long long now = (long long)time(NULL);
	if (verdict == 0) {
		/* The serial failed; its content may have changed since (fixed
		 * behind the same serial): the worker looks again, at most every
		 * RECHECK_SEC, when someone asks for it. */
		long long asked = atomic_load(&ctx->recheck_asked);
		if (now - asked >= RECHECK_SEC &&
		    atomic_compare_exchange_strong(&ctx->recheck_asked, &asked, now)) {
			content_recheck_request(ctx);
		}
	}
	unsigned long long quiet = 0;
	if (zg_modlog_due(&ctx->refuse_log, now, REFUSE_LOG_SEC, &quiet)) {
		char addr[80];
		knotd_mod_log(mod, LOG_NOTICE, "%s, outgoing, remote %s, refused (serial %u %s, "
		              "%llu more refused since the last message)",
		              qdata->type == KNOTD_QUERY_TYPE_AXFR ? "AXFR" : "IXFR",
		              zg_modlog_remote(qdata, addr, sizeof(addr)), serial,
		              verdict == 0 ? "failed validation" : "not validated yet", quiet);
	}
	qdata->rcode = KNOT_RCODE_REFUSED;
	return KNOTD_STATE_FAIL;
}

/* The serial an IXFR request asks from (its authority SOA); 0 if none. */
static uint32_t ixfr_serial(const knot_pkt_t *query)
{
	const knot_pktsection_t *au = knot_pkt_section(query, KNOT_AUTHORITY);
	for (uint16_t i = 0; i < au->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(au, i);
		if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0) {
			return knot_soa_serial(rr->rrs.rdata);
		}
	}
	return 0;
}

static bool same_remote(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/*
 * The end of each outgoing AXFR/IXFR message: the records sent are summed
 * (per knotd thread; a transfer is produced by one thread, message after
 * message, see zg_follow_out_msg()). A transfer whose content is not the
 * validated content of its serial has its last message replaced by an
 * error, so the receiver drops the whole transfer, and the worker checks
 * the served content.
 */
static knotd_state_t validate_end(knotd_state_t state, knot_pkt_t *pkt,
                                  knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	validate_ctx_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL || state == KNOTD_STATE_FAIL ||
	    (qdata->type != KNOTD_QUERY_TYPE_AXFR && qdata->type != KNOTD_QUERY_TYPE_IXFR) ||
	    knot_wire_get_rcode(pkt->wire) != KNOT_RCODE_NOERROR || transfer_allowed(ctx, qdata)) {
		return state;
	}
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
	unsigned tid = qdata->params->thread_id;
	char reason[320] = "";
	bool recheck = false;
	if (tid >= ctx->nchecks || remote == NULL) {
		snprintf(reason, sizeof(reason), "content not checked (thread %u)", tid);
		goto refuse;
	}
	xfr_check_t *c = &ctx->checks[tid];
	uint16_t qid = knot_wire_get_id(qdata->query->wire);
	if (!c->out.active || c->socket != qdata->params->socket || c->qid != qid ||
	    !same_remote(&c->remote, remote)) {
		bool axfr = qdata->type == KNOTD_QUERY_TYPE_AXFR;
		zg_follow_out_begin(&ctx->f, &c->out, axfr, axfr ? 0 : ixfr_serial(qdata->query));
		c->socket = qdata->params->socket;
		c->qid = qid;
		c->remote = *remote;
	}
	zg_follow_out_verdict_t v = zg_follow_out_msg(&ctx->f, &c->out, pkt->wire, pkt->size,
	                                              reason, sizeof(reason));
	if (v == ZG_FOLLOW_OUT_SEND) {
		return state;
	}
	recheck = v == ZG_FOLLOW_OUT_RECHECK;
refuse:
	knotd_mod_stats_incr(mod, tid, CTR_CONTENT_REFUSED, 0, 1);
	unsigned long long quiet = 0;
	if (zg_modlog_due(&ctx->content_log, (long long)time(NULL), REFUSE_LOG_SEC, &quiet)) {
		char addr[80];
		knotd_mod_log(mod, LOG_WARNING, "%s, outgoing, remote %s, failed at its end (%s, "
		              "%llu more since the last message)",
		              qdata->type == KNOTD_QUERY_TYPE_AXFR ? "AXFR" : "IXFR",
		              zg_modlog_remote(qdata, addr, sizeof(addr)), reason, quiet);
	}
	if (recheck) {
		content_recheck_request(ctx);
	}
	qdata->rcode = KNOT_RCODE_REFUSED;
	return KNOTD_STATE_FAIL;
}

int gate_init(validate_ctx_t *ctx)
{
	ctx->nchecks = knotd_mod_threads(ctx->mod);
	ctx->checks = calloc(ctx->nchecks > 0 ? ctx->nchecks : 1, sizeof(ctx->checks[0]));
	if (ctx->checks == NULL) {
		ctx->nchecks = 0;
		return KNOT_ENOMEM;
	}
	for (unsigned i = 0; i < ctx->nchecks; i++) {
		if (zg_follow_out_init(&ctx->f, &ctx->checks[i].out) != 0) {
			return KNOT_ENOMEM;
		}
	}
	int ret = knotd_mod_hook(ctx->mod, KNOTD_STAGE_BEGIN, validate_begin);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_hook(ctx->mod, KNOTD_STAGE_END, validate_end);
	}
	return ret;
}

void gate_deinit(validate_ctx_t *ctx)
{
	for (unsigned i = 0; i < ctx->nchecks; i++) {
		zg_follow_out_deinit(&ctx->checks[i].out);
	}
	free(ctx->checks);
	ctx->checks = NULL;
	ctx->nchecks = 0;
}

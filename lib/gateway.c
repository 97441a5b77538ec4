/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <libdnssec/random.h>
#include <libknot/codes.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libknot/lookup.h>
#include <libknot/rrtype/soa.h>
#include <libknot/tsig-op.h>
#include <libknot/wire.h>

#include "zonegate/dnsclient.h"
#include "zonegate/error.h"
#include "zonegate/gateway.h"
#include "zonegate/update.h"

struct zg_gateway {
	zg_gateway_conf_t conf;
	zg_dnsconn_t *conn;
	knot_pkt_t *answer;
	zg_update_list_t updates;
	zg_mpool_t state_pool;
	zg_owner_state_t *states;
	size_t states_alloc;
};

void zg_gateway_conf_default(zg_gateway_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&conf->server;
	in4->sin_family = AF_INET;
	in4->sin_port = htons(53);
	in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conf->timeout_ms = ZG_DNS_TIMEOUT_DEFAULT_MS;
	conf->servfail_retries = 3;
	conf->retry_delay_ms = 200;
}

zg_gateway_t *zg_gateway_new(const zg_gateway_conf_t *conf)
{
	zg_gateway_t *gw = calloc(1, sizeof(*gw));
	if (gw == NULL) {
		return NULL;
	}
	gw->conf = *conf;
	if (gw->conf.timeout_ms <= 0) {
		gw->conf.timeout_ms = ZG_DNS_TIMEOUT_DEFAULT_MS;
	}
	gw->answer = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (gw->answer == NULL) {
		free(gw);
		return NULL;
	}
	zg_update_list_init(&gw->updates);
	zg_mpool_init(&gw->state_pool, 0);
	return gw;
}

void zg_gateway_free(zg_gateway_t *gw)
{
	if (gw == NULL) {
		return;
	}
	zg_dnsconn_free(gw->conn);
	knot_pkt_free(gw->answer);
	zg_update_list_deinit(&gw->updates);
	zg_mpool_deinit(&gw->state_pool);
	free(gw->states);
	free(gw);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void disconnect(zg_gateway_t *gw)
{
	zg_dnsconn_free(gw->conn);
	gw->conn = NULL;
}

static int connect_gw(zg_gateway_t *gw)
{
	if (gw->conn != NULL) {
		return 0;
	}
	return zg_dnsconn_open(&gw->conf.server, gw->conf.timeout_ms, &gw->conn);
}

static const char *rcode_name(uint8_t rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l != NULL ? l->name : "unknown RCODE";
}

/* Sends one UPDATE; the packet stays unsigned afterwards (re-sendable). */
static int send_update(zg_gateway_t *gw, knot_pkt_t *pkt, uint8_t *rcode)
{
	size_t size = pkt->size;
	uint16_t arcount = knot_wire_get_arcount(pkt->wire);
	int ret = zg_dns_request(gw->conn, pkt, gw->conf.key, gw->answer);
	pkt->size = size;
	knot_wire_set_arcount(pkt->wire, arcount);
	if (ret == 0) {
		*rcode = knot_wire_get_rcode(gw->answer->wire);
	}
	return ret;
}

int zg_gateway_serial(zg_gateway_t *gw, const knot_dname_t *zone, uint32_t *serial)
{
	int ret = connect_gw(gw);
	if (ret != 0) {
		return ret;
	}
	uint8_t wire[512];
	knot_pkt_t *q = knot_pkt_new(wire, sizeof(wire), NULL);
	if (q == NULL) {
		return -ENOMEM;
	}
	knot_wire_set_id(q->wire, dnssec_random_uint16_t());
	ret = knot_pkt_put_question(q, zone, KNOT_CLASS_IN, KNOT_RRTYPE_SOA);
	if (ret == KNOT_EOK) {
		ret = zg_dns_request(gw->conn, q, NULL, gw->answer);
	}
	knot_pkt_free(q);
	if (ret != 0) {
		disconnect(gw);
		return ret;
	}
	const knot_pktsection_t *an = knot_pkt_section(gw->answer, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0) {
			*serial = knot_soa_serial(rr->rrs.rdata);
			return 0;
		}
	}
	return ZG_EPROTO;
}

static int ensure_states(zg_gateway_t *gw, size_t n)
{
	if (n <= gw->states_alloc) {
		return 0;
	}
	zg_owner_state_t *s = realloc(gw->states, n * sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	gw->states = s;
	gw->states_alloc = n;
	return 0;
}

static int apply_once(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                      char *reason, size_t reason_len, bool *fresh_conn)
{
	*fresh_conn = gw->conn == NULL;
	int ret = connect_gw(gw);
	if (ret != 0) {
		char a[80];
		snprintf(reason, reason_len, "message %s: cannot connect to %s (%s)", msg->id,
		         zg_dns_addr_str(&gw->conf.server, a, sizeof(a)), zg_strerror(ret));
		return ret;
	}

	const zg_owner_state_t *states = NULL;
	if (!gw->conf.blind && msg->change_count > 0) {
		ret = ensure_states(gw, msg->change_count);
		if (ret != 0) {
			return ret;
		}
		zg_mpool_reset(&gw->state_pool);
		char why[ZG_MSG_REASON_MAX];
		ret = zg_update_read_state(gw->conn, msg, gw->states, &gw->state_pool,
		                           why, sizeof(why));
		if (ret != 0) {
			snprintf(reason, reason_len, "message %s: reading current data failed: %s",
			         msg->id, why);
			disconnect(gw);
			return ret == ZG_EREFUSED ? ZG_EPROTO : ret;
		}
		states = gw->states;
	}

	size_t tsig = gw->conf.key != NULL ? knot_tsig_wire_size(gw->conf.key) : 0;
	ret = zg_update_build(&gw->updates, msg, states, ZG_UPDATE_MAX_SIZE, tsig);
	if (ret != 0) {
		snprintf(reason, reason_len, "message %s: cannot build UPDATE (%s)", msg->id,
		         zg_strerror(ret));
		return ret == ZG_ETOOBIG ? ZG_EREFUSED : ret;
	}
	res->owners_changed = gw->updates.owners_changed;
	res->ops = gw->updates.ops;

	for (size_t k = 0; k < gw->updates.count; k++) {
		zg_update_t *u = &gw->updates.items[k];
		unsigned delay = gw->conf.retry_delay_ms;
		for (unsigned attempt = 0; ; attempt++) {
			uint8_t rcode = 0;
			ret = send_update(gw, u->pkt, &rcode);
			if (ret != 0) {
				snprintf(reason, reason_len, "message %s: UPDATE %zu/%zu: %s", msg->id,
				         k + 1, gw->updates.count, ret == ZG_EPROTO ?
				         "bad or unsigned answer (TSIG check failed?)" : zg_strerror(ret));
				disconnect(gw);
				return ret;
			}
			if (rcode == KNOT_RCODE_NOERROR) {
				break;
			}
			char first[KNOT_DNAME_TXT_MAXLEN + 1], last[KNOT_DNAME_TXT_MAXLEN + 1];
			knot_dname_to_str(first, msg->changes[u->first_change].owner, sizeof(first));
			knot_dname_to_str(last, msg->changes[u->last_change].owner, sizeof(last));
			if (rcode == KNOT_RCODE_SERVFAIL && attempt < gw->conf.servfail_retries) {
				sleep_ms(delay);
				delay *= 2;
				continue;
			}
			snprintf(reason, reason_len, "message %s: server answered %s to UPDATE "
			         "%zu/%zu (owners %s .. %s)%s", msg->id, rcode_name(rcode), k + 1,
			         gw->updates.count, first, last,
			         rcode == KNOT_RCODE_SERVFAIL ? " every time" : "");
			return ZG_EREFUSED;
		}
		res->updates++;
	}
	uint32_t serial = 0;
	if (zg_gateway_serial(gw, msg->zone, &serial) == 0) {
		res->serial = serial;
		res->serial_known = true;
	}
	return 0;
}

int zg_gateway_apply(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                     char *reason, size_t reason_len)
{
	zg_apply_result_t dummy;
	if (res == NULL) {
		res = &dummy;
	}
	memset(res, 0, sizeof(*res));
	reason[0] = '\0';
	bool fresh = false;
	int ret = apply_once(gw, msg, res, reason, reason_len, &fresh);
	if ((ret == ZG_ECONNECT || ret == ZG_ETIMEOUT) && !fresh) {
		/* A kept connection may have been closed by the server while idle. */
		memset(res, 0, sizeof(*res));
		ret = apply_once(gw, msg, res, reason, reason_len, &fresh);
	}
	return ret;
}

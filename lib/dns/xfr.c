/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libdnssec/binary.h>
#include <libdnssec/error.h>
#include <libdnssec/random.h>
#include <libdnssec/tsig.h>
#include <libknot/codes.h>
#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libknot/lookup.h>
#include <libknot/packet/pkt.h>
#include <libknot/packet/wire.h>
#include <libknot/rrset.h>
#include <libknot/rrtype/tsig.h>
#include <libknot/tsig-op.h>
#include <libknot/rrtype/soa.h>
#include <libknot/wire.h>

#include "dns/dnsclient.h"
#include "core/error.h"
#include "dns/xfr.h"
#include "validate/zone.h"

/* The SOA of zone carrying only serial (the other fields empty) into section
 * sec of q: the IXFR request's authority (RFC 1995 3), the NOTIFY's answer
 * (RFC 1996 3.7). */
static int put_serial_soa(knot_pkt_t *q, const uint8_t *zone, knot_section_t sec,
                          uint32_t serial)
{
	int ret = knot_pkt_begin(q, sec);
	if (ret != KNOT_EOK) {
		return ret;
	}
	uint8_t rd[2 + 20];
	memset(rd, 0, sizeof(rd));
	knot_wire_write_u32(rd + 2, serial);
	knot_rrset_t soa;
	knot_rrset_init(&soa, (knot_dname_t *)zone, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 0);
	ret = knot_rrset_add_rdata(&soa, rd, sizeof(rd), NULL);
	if (ret == KNOT_EOK) {
		ret = knot_pkt_put(q, KNOT_COMPR_HINT_QNAME, &soa, 0);
	}
	knot_rdataset_clear(&soa.rrs, NULL);
	return ret;
}

/* A query about zone with a fresh random id: one question of qtype. */
static int put_question(knot_pkt_t *q, const uint8_t *zone, uint8_t opcode, uint16_t qtype)
{
	knot_wire_set_id(q->wire, dnssec_random_uint16_t());
	knot_wire_set_opcode(q->wire, opcode);
	if (opcode == KNOT_OPCODE_NOTIFY) {
		knot_wire_set_aa(q->wire);
	}
	return knot_pkt_put_question(q, zone, KNOT_CLASS_IN, qtype);
}

int zg_xfr_soa_serial_on(zg_dnsconn_t *conn, const knot_tsig_key_t *key, const uint8_t *zone,
                         knot_pkt_t *answer, uint32_t *serial)
{
	if (conn == NULL || zone == NULL || answer == NULL || serial == NULL) {
		return KNOT_EINVAL;
	}
	uint8_t wire[1024];
	memset(wire, 0, sizeof(wire));
	knot_pkt_t *q = knot_pkt_new(wire, sizeof(wire), NULL);
	if (q == NULL) {
		return -ENOMEM;
	}
	int ret = put_question(q, zone, KNOT_OPCODE_QUERY, KNOT_RRTYPE_SOA);
	if (ret == KNOT_EOK) {
		ret = zg_dns_request(conn, q, key, answer);
	}
	knot_pkt_free(q);
	if (ret != 0) {
		return ret;
	}
	if (knot_wire_get_rcode(answer->wire) != KNOT_RCODE_NOERROR) {
		return ZG_EREFUSED;
	}
	const knot_pktsection_t *an = knot_pkt_section(answer, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0 &&
		    knot_dname_is_equal(rr->owner, zone)) {
			*serial = knot_soa_serial(rr->rrs.rdata);
			return 0;
		}
	}
	return ZG_EPROTO;
}

/* Sends a NOTIFY of serial from via and waits for the answer. The answer is
 * kept for 0 and for ZG_EREFUSED (an error answer whose TSIG does not check:
 * only its error may be read). */
static int notify_exchange(const struct sockaddr_storage *addr,
                           const struct sockaddr_storage *via, const knot_tsig_key_t *key,
                           const uint8_t *zone, uint32_t serial, int timeout_ms,
                           knot_pkt_t **answer_out)
{
	if (addr == NULL || zone == NULL) {
		return KNOT_EINVAL;
	}
	uint8_t wire[1024];
	memset(wire, 0, sizeof(wire));
	knot_pkt_t *q = knot_pkt_new(wire, sizeof(wire), NULL);
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (q == NULL || a == NULL) {
		knot_pkt_free(q);
		knot_pkt_free(a);
		return -ENOMEM;
	}
	int ret = put_question(q, zone, KNOT_OPCODE_NOTIFY, KNOT_RRTYPE_SOA);
	if (ret == KNOT_EOK) {
		ret = put_serial_soa(q, zone, KNOT_ANSWER, serial);
	}
	zg_dnsconn_t *conn = NULL;
	if (ret == KNOT_EOK) {
		ret = zg_dnsconn_open_from(addr, via, timeout_ms, &conn);
	}
	if (ret == 0) {
		ret = zg_dns_request(conn, q, key, a);
	}
	zg_dnsconn_free(conn);
	knot_pkt_free(q);
	if (ret != 0 && ret != ZG_EREFUSED) {
		knot_pkt_free(a);
		return ret;
	}
	*answer_out = a;
	return ret;
}

int zg_xfr_soa_serial(const struct sockaddr_storage *addr, const knot_tsig_key_t *key,
                      const uint8_t *zone, int timeout_ms, uint32_t *serial)
{
	return zg_xfr_soa_serial_from(addr, NULL, key, zone, timeout_ms, serial);
}

int zg_xfr_soa_serial_from(const struct sockaddr_storage *addr,
                           const struct sockaddr_storage *via, const knot_tsig_key_t *key,
                           const uint8_t *zone, int timeout_ms, uint32_t *serial)
{
	if (addr == NULL || zone == NULL || serial == NULL) {
		return KNOT_EINVAL;
	}
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (a == NULL) {
		return -ENOMEM;
	}
	zg_dnsconn_t *conn = NULL;
	int ret = zg_dnsconn_open_from(addr, via, timeout_ms, &conn);
	if (ret == 0) {
		ret = zg_xfr_soa_serial_on(conn, key, zone, a, serial);
	}
	zg_dnsconn_free(conn);
	knot_pkt_free(a);
	return ret;
}

int zg_xfr_notify(const struct sockaddr_storage *addr, const struct sockaddr_storage *via,
                  const knot_tsig_key_t *key, const uint8_t *zone, uint32_t serial,
                  int timeout_ms, char *reason, size_t rlen)
{
	knot_pkt_t *a = NULL;
	int ret = notify_exchange(addr, via, key, zone, serial, timeout_ms, &a);
	if (ret == 0 && knot_wire_get_rcode(a->wire) != KNOT_RCODE_NOERROR) {
		ret = ZG_EREFUSED;
	}
	if (ret == ZG_EREFUSED) {
		char err[64];
		ret = zg_reason(reason, rlen, ret, "server answered %s",
		                zg_dns_answer_error(a, err, sizeof(err)));
	} else if (ret == -EADDRNOTAVAIL && via != NULL) {
		char va[80];
		ret = zg_reason(reason, rlen, ret, "via %s is not an address of this host",
		                zg_dns_addr_str(via, va, sizeof(va)));
	} else if (ret != 0) {
		ret = zg_reason(reason, rlen, ret, "%s", zg_strerror(ret));
	}
	knot_pkt_free(a);
	return ret;
}

int zg_xfr_key_str(const knot_tsig_key_t *key, char *buf, size_t len)
{
	if (key == NULL || key->name == NULL || buf == NULL) {
		return KNOT_EINVAL;
	}
	const char *alg = dnssec_tsig_algorithm_to_name(key->algorithm);
	if (alg == NULL) {
		return KNOT_EINVAL;
	}
	char name[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(name, key->name, sizeof(name)) == NULL) {
		return KNOT_EINVAL;
	}
	dnssec_binary_t b64 = { 0 };
	if (dnssec_binary_to_base64(&key->secret, &b64) != DNSSEC_EOK) {
		return -ENOMEM;
	}
	int n = snprintf(buf, len, "%s:%s:%.*s", alg, name, (int)b64.size, (const char *)b64.data);
	dnssec_binary_free(&b64);
	return (n < 0 || (size_t)n >= len) ? ZG_ETOOBIG : 0;
}

/* ---- IXFR and AXFR ---- */

/* The client's sink: a full zone into a zg_zone_t, changes into the diff. */
typedef struct {
	const uint8_t *zone;
	zg_zone_t *full;
	zg_diff_t *diff;
	zg_xfr_rr_cb_t each;     /* Instead of loading: called for every record. */
	void *each_ctx;
} client_sink_t;

static int client_full(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl,
                       const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen)
{
	client_sink_t *c = arg;
	int ret = 0;
	if (c->each != NULL) {
		if (type == KNOT_RRTYPE_SOA) {
			return 0;  /* the opening SOA: not passed on (see zg_xfr_rr_cb_t) */
		}
		ret = c->each(c->each_ctx, owner, type, ttl, rdata, rdlen);
		return ret == 0 ? 0 : zg_reason(reason, rlen, ret, "stopped at a record (%s)",
		                                zg_strerror(ret));
	}
	if (c->full == NULL) {
		ret = zg_zone_new(&c->full, c->zone);
		if (ret != 0) {
			return zg_reason(reason, rlen, ret, "cannot store the zone (%s)", zg_strerror(ret));
		}
	}
	ret = zg_zone_add(c->full, owner, type, ttl, rdata, rdlen);
	if (ret == ZG_EOUTOFZONE) {
		return 0;  /* not ours; ignored like a secondary would */
	}
	if (ret != 0) {
		return zg_reason(reason, rlen, ret, "cannot store a record (%s)", zg_strerror(ret));
	}
	return 0;
}

static int client_change(void *arg, bool add, const uint8_t *owner, uint16_t type, uint32_t ttl,
                         const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen)
{
	client_sink_t *c = arg;
	if (c->diff == NULL) {
		return zg_reason(reason, rlen, ZG_EPROTO, "incremental answer to an AXFR");
	}
	if (zg_diff_put(c->diff, add, owner, type, ttl, rdata, rdlen) != 0) {
		return zg_reason(reason, rlen, -ENOMEM, "out of memory");
	}
	return 0;
}

static const zg_xfr_sink_t client_sink = { .full_rr = client_full, .change = client_change };

zg_xfr_limits_t zg_xfr_limits_resolve(const zg_xfr_limits_t *conf, uint64_t zone_records)
{
	zg_xfr_limits_t out = { 0 };
	if (conf != NULL) {
		out = *conf;
	}
	uint64_t records = out.records;
	if (records == 0) {
		records = ZG_XFR_AUTO_RECORDS;
		if (zone_records > 0) {
			records = zone_records > UINT64_MAX / ZG_XFR_AUTO_FACTOR ? UINT64_MAX :
			          zone_records * ZG_XFR_AUTO_FACTOR;
			if (records < ZG_XFR_AUTO_MIN_RECORDS) {
				records = ZG_XFR_AUTO_MIN_RECORDS;
			}
		}
		out.records = records;
	}
	if (out.bytes == 0) {
		out.bytes = records > UINT64_MAX / ZG_XFR_AUTO_BYTES_PER_RECORD ? UINT64_MAX :
		            records * ZG_XFR_AUTO_BYTES_PER_RECORD;
	}
	if (out.time_ms == 0) {
		uint64_t sec = records / ZG_XFR_AUTO_RECORDS_PER_SEC;
		if (sec < ZG_XFR_AUTO_MIN_SEC) {
			sec = ZG_XFR_AUTO_MIN_SEC;
		}
		out.time_ms = sec > UINT32_MAX / 1000 ? UINT32_MAX : (uint32_t)(sec * 1000);
	}
	return out;
}

void zg_xfr_self_init(zg_xfr_self_t *self)
{
	memset(self, 0, sizeof(*self));
	pthread_mutex_init(&self->lock, NULL);
}

void zg_xfr_self_deinit(zg_xfr_self_t *self)
{
	if (self != NULL) {
		pthread_mutex_destroy(&self->lock);
	}
}

static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

bool zg_xfr_self_match(zg_xfr_self_t *self, const struct sockaddr_storage *remote)
{
	if (self == NULL || remote == NULL) {
		return false;
	}
	bool found = false;
	pthread_mutex_lock(&self->lock);
	for (int i = 0; i < ZG_XFR_SELF_MAX && !found; i++) {
		found = self->used[i] && same_endpoint(&self->addr[i], remote);
	}
	pthread_mutex_unlock(&self->lock);
	return found;
}

/* Records the local end of conn in self; returns the slot or -1 (no room:
 * the transfer then goes on unrecognised, as any other client's). */
static int self_add(zg_xfr_self_t *self, const zg_dnsconn_t *conn)
{
	struct sockaddr_storage local;
	if (self == NULL || zg_dnsconn_local_addr(conn, &local) != 0) {
		return -1;
	}
	int slot = -1;
	pthread_mutex_lock(&self->lock);
	for (int i = 0; i < ZG_XFR_SELF_MAX && slot < 0; i++) {
		if (!self->used[i]) {
			self->addr[i] = local;
			self->used[i] = true;
			slot = i;
		}
	}
	pthread_mutex_unlock(&self->lock);
	return slot;
}

static void self_remove(zg_xfr_self_t *self, int slot)
{
	if (self != NULL && slot >= 0) {
		pthread_mutex_lock(&self->lock);
		self->used[slot] = false;
		pthread_mutex_unlock(&self->lock);
	}
}

/* One transfer: AXFR (diff NULL) or IXFR from serial. */
static int xfr_run(const zg_xfr_peer_t *peer, bool ixfr, uint32_t serial, zg_diff_t *diff,
                   zg_zone_t **full, zg_xfr_kind_t *kind, zg_xfr_rr_cb_t each, void *each_ctx,
                   char *reason, size_t rlen)
{
	const knot_tsig_key_t *key = peer->key;
	const uint8_t *zone = peer->zone;
	int timeout_ms = peer->timeout_ms > 0 ? peer->timeout_ms : ZG_XFR_TIMEOUT_MS;
	int ret = 0;
	zg_dnsconn_t *conn = NULL;
	zg_buf_t tsig_buf;
	zg_buf_init(&tsig_buf);
	uint8_t digest[64];
	size_t digest_len = sizeof(digest);
	uint64_t prev_time = 0;
	unsigned unsigned_run = 0;
	client_sink_t sink = { .zone = zone, .diff = diff, .each = each, .each_ctx = each_ctx };
	zg_xfr_stream_t st;
	zg_xfr_stream_init(&st, zone, !ixfr, serial, &client_sink, &sink);
	zg_xfr_limits_t lim = zg_xfr_limits_resolve(&peer->limits, 0);
	zg_xfr_stats_t stats = { 0 };
	int64_t t_start = zg_clock_ms();
	int self_slot = -1;
	knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_pkt_t *p = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (q == NULL || p == NULL) {
		ret = zg_reason(reason, rlen, -ENOMEM, "out of memory");
		goto done;
	}
	ret = put_question(q, zone, KNOT_OPCODE_QUERY, ixfr ? KNOT_RRTYPE_IXFR : KNOT_RRTYPE_AXFR);
	uint16_t id = knot_wire_get_id(q->wire);
	if (ret == KNOT_EOK && ixfr) {
		ret = put_serial_soa(q, zone, KNOT_AUTHORITY, serial);
	}
	if (ret == KNOT_EOK && key != NULL) {
		digest_len = dnssec_tsig_algorithm_size(key->algorithm);
		ret = knot_tsig_sign(q->wire, &q->size, q->max_size, NULL, 0, digest, &digest_len,
		                     key, 0, 0);
	}
	if (ret != KNOT_EOK) {
		ret = zg_reason(reason, rlen, ZG_EINPUT, "cannot build the query (%s)", zg_strerror(ret));
		goto done;
	}
	ret = zg_dnsconn_open_from(peer->addr, peer->via, timeout_ms, &conn);
	if (ret == 0) {
		/* Known as ours before the server can see the request. */
		self_slot = self_add(peer->self, conn);
		(void)zg_dnsconn_local_addr(conn, &stats.local);
		ret = zg_dnsconn_send(conn, q->wire, q->size);
	}
	if (ret != 0) {
		ret = zg_reason(reason, rlen, ret, "%s", zg_strerror(ret));
		goto done;
	}

	while (!zg_xfr_stream_done(&st)) {
		if (peer->cancel != NULL && atomic_load(peer->cancel)) {
			ret = zg_reason(reason, rlen, -ECANCELED, "canceled");
			goto done;
		}
		knot_pkt_clear(p);
		size_t len = 0;
		ret = zg_dnsconn_recv(conn, p->wire, p->max_size, &len);
		if (ret != 0) {
			bool closed = ret == ZG_EPROTO || ret == ZG_ECONNECT;
			ret = zg_reason(reason, rlen, closed ? ZG_EPROTO : ret, "receive: %s", closed ?
			            "connection closed before the end of the transfer" : zg_strerror(ret));
			goto done;
		}
		p->size = len;
		stats.bytes += len;
		if (stats.bytes > lim.bytes) {
			stats.limit = ZG_XFR_LIMIT_BYTES;
			ret = zg_reason(reason, rlen, ZG_ETOOBIG, "transfer stopped after more than %llu "
			            "bytes (size limit)", (unsigned long long)lim.bytes);
			goto done;
		}
		if (knot_pkt_parse(p, 0) != KNOT_EOK) {
			ret = zg_reason(reason, rlen, ZG_EPROTO, "malformed answer");
			goto done;
		}
		if (knot_wire_get_id(p->wire) != id) {
			ret = zg_reason(reason, rlen, ZG_EPROTO, "answer with a wrong message id");
			goto done;
		}
		if (knot_wire_get_rcode(p->wire) != KNOT_RCODE_NOERROR) {
			char err[64];
			ret = zg_reason(reason, rlen, ZG_EREFUSED, "server answered %s",
			            zg_dns_answer_error(p, err, sizeof(err)));
			goto done;
		}
		if (key != NULL) {
			if (zg_buf_append(&tsig_buf, p->wire, p->size) != 0) {
				ret = zg_reason(reason, rlen, -ENOMEM, "out of memory");
				goto done;
			}
			if (p->tsig_rr == NULL) {
				if (prev_time == 0 || ++unsigned_run >= 100) {
					ret = zg_reason(reason, rlen, ZG_EPROTO, "answer not signed with TSIG");
					goto done;
				}
			} else {
				int tr = prev_time == 0
					? knot_tsig_client_check(p->tsig_rr, tsig_buf.data, tsig_buf.len,
					                         digest, digest_len, key, 0)
					: knot_tsig_client_check_next(p->tsig_rr, tsig_buf.data, tsig_buf.len,
					                              digest, digest_len, key, prev_time);
				if (tr != KNOT_EOK || knot_tsig_rdata_mac_length(p->tsig_rr) != digest_len) {
					ret = zg_reason(reason, rlen, ZG_EPROTO, "TSIG check failed (%s)",
					            zg_strerror(tr));
					goto done;
				}
				memcpy(digest, knot_tsig_rdata_mac(p->tsig_rr), digest_len);
				prev_time = knot_tsig_rdata_time_signed(p->tsig_rr);
				tsig_buf.len = 0;
				unsigned_run = 0;
			}
		}
		const knot_pktsection_t *an = knot_pkt_section(p, KNOT_ANSWER);
		if (an->count == 0) {
			ret = zg_reason(reason, rlen, ZG_EPROTO, "transfer message without records");
			goto done;
		}
		for (uint16_t i = 0; i < an->count && !zg_xfr_stream_done(&st); i++) {
			const knot_rrset_t *rr = knot_pkt_rr(an, i);
			if (rr->rclass != KNOT_CLASS_IN) {
				continue;
			}
			for (uint16_t k = 0; k < rr->rrs.count && !zg_xfr_stream_done(&st); k++) {
				if (++stats.records > lim.records) {
					stats.limit = ZG_XFR_LIMIT_RECORDS;
					ret = zg_reason(reason, rlen, ZG_ETOOBIG, "transfer stopped after more "
					            "than %llu records (records limit)",
					            (unsigned long long)lim.records);
					goto done;
				}
				const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, k);
				ret = zg_xfr_stream_rr(&st, rr->owner, rr->type, rr->ttl, rd->data,
				                       rd->len, reason, rlen);
				if (zg_xfr_stream_started(&st) && !stats.have_serial) {
					stats.have_serial = true;
					stats.serial = st.to;
				}
				if (ret != 0) {
					goto done;
				}
			}
		}
		if (!zg_xfr_stream_done(&st) && zg_clock_ms() - t_start > (int64_t)lim.time_ms) {
			stats.limit = ZG_XFR_LIMIT_TIME;
			ret = zg_reason(reason, rlen, ZG_ETOOBIG, "transfer stopped after more than %g s "
			            "(time limit)", (double)lim.time_ms / 1000);
			goto done;
		}
		/* IXFR: a lone SOA at the requested serial or older means up to date. */
		if (zg_xfr_stream_uptodate(&st) && an->count == 1) {
			*kind = ZG_XFR_UPTODATE;
			ret = 0;
			goto done;
		}
	}
	if (key != NULL && tsig_buf.len > 0) {
		ret = zg_reason(reason, rlen, ZG_EPROTO, "last answer not signed with TSIG");
		goto done;
	}
	if (sink.full != NULL) {
		ret = zg_zone_finalize(sink.full);
		if (ret != 0) {
			ret = zg_reason(reason, rlen, ret, "%s", zg_strerror(ret));
			goto done;
		}
		*kind = ZG_XFR_AXFR;
		*full = sink.full;
		sink.full = NULL;
		if (diff != NULL) {
			zg_diff_clear(diff);
		}
	} else if (each != NULL) {
		*kind = ZG_XFR_AXFR;
	} else {
		*kind = diff->count > 0 ? ZG_XFR_IXFR : ZG_XFR_UPTODATE;
		diff->serial_to = diff->count > 0 ? st.to : diff->serial_from;
	}
	ret = 0;
done:
	if (peer->stats != NULL) {
		stats.ms = (uint32_t)(zg_clock_ms() - t_start);
		*peer->stats = stats;
	}
	zg_zone_free(sink.full);
	self_remove(peer->self, self_slot);
	zg_dnsconn_free(conn);
	knot_pkt_free(q);
	knot_pkt_free(p);
	zg_buf_deinit(&tsig_buf);
	return ret;
}

int zg_xfr_ixfr(const zg_xfr_peer_t *peer, uint32_t serial, zg_diff_t *diff,
                zg_zone_t **full, zg_xfr_kind_t *kind, char *reason, size_t reason_len)
{
	if (peer == NULL || peer->addr == NULL || peer->zone == NULL || diff == NULL ||
	    full == NULL || kind == NULL) {
		return KNOT_EINVAL;
	}
	*full = NULL;
	zg_diff_clear(diff);
	diff->serial_from = serial;
	diff->serial_to = serial;
	return xfr_run(peer, true, serial, diff, full, kind, NULL, NULL, reason, reason_len);
}

int zg_xfr_axfr(const zg_xfr_peer_t *peer, zg_zone_t **out, char *reason, size_t reason_len)
{
	if (peer == NULL || peer->addr == NULL || peer->zone == NULL || out == NULL) {
		return KNOT_EINVAL;
	}
	zg_xfr_kind_t kind;
	zg_zone_t *zone = NULL;
	int ret = xfr_run(peer, false, 0, NULL, &zone, &kind, NULL, NULL, reason, reason_len);
	if (ret == 0) {
		*out = zone;
	}
	return ret;
}

int zg_xfr_axfr_each(const zg_xfr_peer_t *peer, zg_xfr_rr_cb_t each, void *ctx,
                     char *reason, size_t reason_len)
{
	if (peer == NULL || peer->addr == NULL || peer->zone == NULL || each == NULL) {
		return KNOT_EINVAL;
	}
	zg_xfr_kind_t kind;
	zg_zone_t *zone = NULL;
	int ret = xfr_run(peer, false, 0, NULL, &zone, &kind, each, ctx, reason, reason_len);
	zg_zone_free(zone);
	return ret;
}

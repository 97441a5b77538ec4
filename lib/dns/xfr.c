/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Builds a one-question query in wire (max bytes) and exchanges it. */
static int exchange(const struct sockaddr_storage *addr, const knot_tsig_key_t *key,
                    const uint8_t *zone, uint8_t opcode, uint32_t serial, int timeout_ms,
                    knot_pkt_t **answer_out)
{
	if (addr == NULL || zone == NULL || answer_out == NULL) {
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
	knot_wire_set_id(q->wire, dnssec_random_uint16_t());
	knot_wire_set_opcode(q->wire, opcode);
	if (opcode == KNOT_OPCODE_NOTIFY) {
		knot_wire_set_aa(q->wire);
	}
	int ret = knot_pkt_put_question(q, zone, KNOT_CLASS_IN, KNOT_RRTYPE_SOA);
	if (ret == KNOT_EOK && opcode == KNOT_OPCODE_NOTIFY) {
		/* Answer section: SOA with the serial (RFC 1996 3.7); other fields empty. */
		ret = knot_pkt_begin(q, KNOT_ANSWER);
		uint8_t rd[2 + 20];
		memset(rd, 0, sizeof(rd));
		knot_wire_write_u32(rd + 2, serial);
		knot_rrset_t soa;
		knot_rrset_init(&soa, (knot_dname_t *)zone, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 0);
		if (ret == KNOT_EOK) {
			ret = knot_rrset_add_rdata(&soa, rd, sizeof(rd), NULL);
		}
		if (ret == KNOT_EOK) {
			ret = knot_pkt_put(q, KNOT_COMPR_HINT_QNAME, &soa, 0);
		}
		knot_rdataset_clear(&soa.rrs, NULL);
	}
	zg_dnsconn_t *conn = NULL;
	if (ret == KNOT_EOK) {
		ret = zg_dnsconn_open(addr, timeout_ms, &conn);
	}
	if (ret == 0) {
		ret = zg_dns_request(conn, q, key, a);
	}
	zg_dnsconn_free(conn);
	knot_pkt_free(q);
	if (ret != 0) {
		knot_pkt_free(a);
		return ret;
	}
	*answer_out = a;
	return 0;
}

int zg_xfr_soa_serial(const struct sockaddr_storage *addr, const knot_tsig_key_t *key,
                      const uint8_t *zone, int timeout_ms, uint32_t *serial)
{
	if (serial == NULL) {
		return KNOT_EINVAL;
	}
	knot_pkt_t *a = NULL;
	int ret = exchange(addr, key, zone, KNOT_OPCODE_QUERY, 0, timeout_ms, &a);
	if (ret != 0) {
		return ret;
	}
	ret = ZG_EPROTO;
	if (knot_wire_get_rcode(a->wire) != KNOT_RCODE_NOERROR) {
		ret = ZG_EREFUSED;
	} else {
		const knot_pktsection_t *an = knot_pkt_section(a, KNOT_ANSWER);
		for (uint16_t i = 0; i < an->count; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(an, i);
			if (rr->type == KNOT_RRTYPE_SOA && rr->rrs.count > 0 &&
			    knot_dname_is_equal(rr->owner, zone)) {
				*serial = knot_soa_serial(rr->rrs.rdata);
				ret = 0;
				break;
			}
		}
	}
	knot_pkt_free(a);
	return ret;
}

int zg_xfr_notify(const struct sockaddr_storage *addr, const knot_tsig_key_t *key,
                  const uint8_t *zone, uint32_t serial, int timeout_ms)
{
	knot_pkt_t *a = NULL;
	int ret = exchange(addr, key, zone, KNOT_OPCODE_NOTIFY, serial, timeout_ms, &a);
	if (ret != 0) {
		return ret;
	}
	ret = knot_wire_get_rcode(a->wire) == KNOT_RCODE_NOERROR ? 0 : ZG_EREFUSED;
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

/* ---- IXFR ---- */

void zg_xfr_diff_init(zg_xfr_diff_t *diff)
{
	memset(diff, 0, sizeof(*diff));
	zg_buf_init(&diff->buf);
}

void zg_xfr_diff_deinit(zg_xfr_diff_t *diff)
{
	if (diff != NULL) {
		zg_buf_deinit(&diff->buf);
		diff->count = 0;
	}
}

/* Stored change: u8 add, u16 type, u32 ttl, u16 rdlen, u8 ownerlen, owner, rdata. */
#define CH_HDR 10

static int diff_put(zg_xfr_diff_t *diff, bool add, const knot_dname_t *owner, uint16_t type,
                    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t olen = knot_dname_size(owner);
	if (zg_buf_reserve(&diff->buf, CH_HDR + olen + rdlen) != 0) {
		return -ENOMEM;
	}
	uint8_t *p = diff->buf.data + diff->buf.len;
	p[0] = add;
	memcpy(p + 1, &type, 2);
	memcpy(p + 3, &ttl, 4);
	memcpy(p + 7, &rdlen, 2);
	p[9] = (uint8_t)olen;
	memcpy(p + CH_HDR, owner, olen);
	memcpy(p + CH_HDR + olen, rdata, rdlen);
	diff->buf.len += CH_HDR + olen + rdlen;
	diff->count++;
	return 0;
}

bool zg_xfr_diff_next(const zg_xfr_diff_t *diff, size_t *pos, zg_xfr_change_t *out)
{
	if (*pos + CH_HDR > diff->buf.len) {
		return false;
	}
	const uint8_t *p = diff->buf.data + *pos;
	out->add = p[0] != 0;
	memcpy(&out->type, p + 1, 2);
	memcpy(&out->ttl, p + 3, 4);
	memcpy(&out->rdlen, p + 7, 2);
	out->owner = p + CH_HDR;
	out->rdata = p + CH_HDR + p[9];
	*pos += CH_HDR + p[9] + out->rdlen;
	return true;
}

static int xfail(char *reason, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int xfail(char *reason, size_t len, int ret, const char *fmt, ...)
{
	if (reason != NULL && len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* Parser state over the RRs of an IXFR (RFC 1995 4) or AXFR answer. */
typedef struct {
	const uint8_t *zone;
	bool axfr_query;
	uint32_t from, to;       /* Requested serial; serial of the first SOA. */
	uint32_t cur_new;        /* New serial of the delta being read. */
	size_t rrs;              /* RRs seen. */
	enum { ST_FIRST, ST_SECOND, ST_DEL, ST_ADD, ST_BODY, ST_DONE } st;
	zg_zone_t *full;         /* Full zone being loaded (AXFR or AXFR-style answer). */
	uint8_t soa[512];        /* First SOA rdata, for a full zone. */
	uint16_t soa_len;
	uint32_t soa_ttl;
} xfr_state_t;

static int body_add(xfr_state_t *s, const knot_rrset_t *rr, const knot_rdata_t *rd,
                    char *reason, size_t rlen)
{
	int ret = zg_zone_add(s->full, rr->owner, rr->type, rr->ttl, rd->data, rd->len);
	if (ret == ZG_EOUTOFZONE) {
		return 0;  /* not ours; ignored like a secondary would */
	}
	if (ret != 0) {
		return xfail(reason, rlen, ret, "cannot store a record (%s)", zg_strerror(ret));
	}
	return 0;
}

static int body_start(xfr_state_t *s, char *reason, size_t rlen)
{
	int ret = zg_zone_new(&s->full, s->zone);
	if (ret == 0) {
		ret = zg_zone_add(s->full, s->zone, KNOT_RRTYPE_SOA, s->soa_ttl, s->soa, s->soa_len);
	}
	if (ret != 0) {
		return xfail(reason, rlen, ret, "cannot store the zone (%s)", zg_strerror(ret));
	}
	s->st = ST_BODY;
	return 0;
}

static int xfr_rr(xfr_state_t *s, zg_xfr_diff_t *diff, const knot_rrset_t *rr,
                  const knot_rdata_t *rd, char *reason, size_t rlen)
{
	bool soa = rr->type == KNOT_RRTYPE_SOA;
	if (soa && !knot_dname_is_equal(rr->owner, s->zone)) {
		return xfail(reason, rlen, ZG_EPROTO, "SOA for a different owner in the transfer");
	}
	uint32_t serial = soa ? knot_soa_serial(rd) : 0;
	s->rrs++;
	switch (s->st) {
	case ST_FIRST:
		if (!soa) {
			return xfail(reason, rlen, ZG_EPROTO, "transfer does not start with SOA");
		}
		if (rd->len > sizeof(s->soa)) {
			return xfail(reason, rlen, ZG_EPROTO, "SOA too long");
		}
		memcpy(s->soa, rd->data, rd->len);
		s->soa_len = rd->len;
		s->soa_ttl = rr->ttl;
		s->to = serial;
		if (diff != NULL) {
			diff->serial_to = serial;
		}
		s->st = ST_SECOND;
		return 0;
	case ST_SECOND:
		if (!soa || s->axfr_query) {
			int ret = body_start(s, reason, rlen);
			if (ret == 0 && soa) {
				s->st = ST_DONE;   /* a zone of just its SOA */
			} else if (ret == 0) {
				ret = body_add(s, rr, rd, reason, rlen);
			}
			return ret;
		}
		if (serial == s->to) {
			s->st = ST_DONE;   /* SOA, SOA: an empty transfer */
			return 0;
		}
		if (serial != s->from) {
			return xfail(reason, rlen, ZG_EPROTO, "IXFR starts at serial %u, not %u",
			             serial, s->from);
		}
		s->st = ST_DEL;
		return diff_put(diff, false, rr->owner, rr->type, rr->ttl, rd->data, rd->len);
	case ST_DEL:
		if (soa) {
			s->st = ST_ADD;
			s->cur_new = serial;
			return diff_put(diff, true, rr->owner, rr->type, rr->ttl, rd->data, rd->len);
		}
		return diff_put(diff, false, rr->owner, rr->type, rr->ttl, rd->data, rd->len);
	case ST_ADD:
		if (soa) {
			if (s->cur_new == s->to && serial == s->to) {
				s->st = ST_DONE;
				return 0;
			}
			if (serial != s->cur_new) {
				return xfail(reason, rlen, ZG_EPROTO, "IXFR delta starts at serial %u, "
				             "expected %u", serial, s->cur_new);
			}
			s->st = ST_DEL;
			return diff_put(diff, false, rr->owner, rr->type, rr->ttl, rd->data, rd->len);
		}
		return diff_put(diff, true, rr->owner, rr->type, rr->ttl, rd->data, rd->len);
	case ST_BODY:
		if (soa) {
			if (serial != s->to) {
				return xfail(reason, rlen, ZG_EPROTO, "transfer ends with serial %u, "
				             "started with %u", serial, s->to);
			}
			s->st = ST_DONE;
			return 0;
		}
		return body_add(s, rr, rd, reason, rlen);
	default:
		return xfail(reason, rlen, ZG_EPROTO, "records after the end of the transfer");
	}
}

/* One transfer: AXFR (diff NULL) or IXFR from serial. */
static int xfr_run(const zg_xfr_peer_t *peer, bool ixfr, uint32_t serial, zg_xfr_diff_t *diff,
                   zg_zone_t **full, zg_xfr_kind_t *kind, char *reason, size_t rlen)
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
	xfr_state_t st = { .zone = zone, .axfr_query = !ixfr, .from = serial, .st = ST_FIRST };
	knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_pkt_t *p = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (q == NULL || p == NULL) {
		ret = xfail(reason, rlen, -ENOMEM, "out of memory");
		goto done;
	}
	uint16_t id = dnssec_random_uint16_t();
	knot_wire_set_id(q->wire, id);
	ret = knot_pkt_put_question(q, zone, KNOT_CLASS_IN, ixfr ? KNOT_RRTYPE_IXFR : KNOT_RRTYPE_AXFR);
	if (ret == KNOT_EOK && ixfr) {
		ret = knot_pkt_begin(q, KNOT_AUTHORITY);
		if (ret == KNOT_EOK) {
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
		}
	}
	if (ret == KNOT_EOK && key != NULL) {
		digest_len = dnssec_tsig_algorithm_size(key->algorithm);
		ret = knot_tsig_sign(q->wire, &q->size, q->max_size, NULL, 0, digest, &digest_len,
		                     key, 0, 0);
	}
	if (ret != KNOT_EOK) {
		ret = xfail(reason, rlen, ZG_EINPUT, "cannot build the query (%s)", zg_strerror(ret));
		goto done;
	}
	ret = zg_dnsconn_open(peer->addr, timeout_ms, &conn);
	if (ret == 0) {
		ret = zg_dnsconn_send(conn, q->wire, q->size);
	}
	if (ret != 0) {
		ret = xfail(reason, rlen, ret, "%s", zg_strerror(ret));
		goto done;
	}

	while (st.st != ST_DONE) {
		if (peer->cancel != NULL && atomic_load(peer->cancel)) {
			ret = xfail(reason, rlen, -ECANCELED, "canceled");
			goto done;
		}
		knot_pkt_clear(p);
		size_t len = 0;
		ret = zg_dnsconn_recv(conn, p->wire, p->max_size, &len);
		if (ret != 0) {
			bool closed = ret == ZG_EPROTO || ret == ZG_ECONNECT;
			ret = xfail(reason, rlen, closed ? ZG_EPROTO : ret, "receive: %s", closed ?
			            "connection closed before the end of the transfer" : zg_strerror(ret));
			goto done;
		}
		p->size = len;
		if (knot_pkt_parse(p, 0) != KNOT_EOK) {
			ret = xfail(reason, rlen, ZG_EPROTO, "malformed answer");
			goto done;
		}
		if (knot_wire_get_id(p->wire) != id) {
			ret = xfail(reason, rlen, ZG_EPROTO, "answer with a wrong message id");
			goto done;
		}
		uint8_t rcode = knot_wire_get_rcode(p->wire);
		if (rcode != KNOT_RCODE_NOERROR) {
			const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
			ret = xfail(reason, rlen, ZG_EREFUSED, "server answered %s",
			            l ? l->name : "an error");
			goto done;
		}
		if (key != NULL) {
			if (zg_buf_append(&tsig_buf, p->wire, p->size) != 0) {
				ret = xfail(reason, rlen, -ENOMEM, "out of memory");
				goto done;
			}
			if (p->tsig_rr == NULL) {
				if (prev_time == 0 || ++unsigned_run >= 100) {
					ret = xfail(reason, rlen, ZG_EPROTO, "answer not signed with TSIG");
					goto done;
				}
			} else {
				int tr = prev_time == 0
					? knot_tsig_client_check(p->tsig_rr, tsig_buf.data, tsig_buf.len,
					                         digest, digest_len, key, 0)
					: knot_tsig_client_check_next(p->tsig_rr, tsig_buf.data, tsig_buf.len,
					                              digest, digest_len, key, prev_time);
				if (tr != KNOT_EOK || knot_tsig_rdata_mac_length(p->tsig_rr) != digest_len) {
					ret = xfail(reason, rlen, ZG_EPROTO, "TSIG check failed (%s)",
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
			ret = xfail(reason, rlen, ZG_EPROTO, "transfer message without records");
			goto done;
		}
		for (uint16_t i = 0; i < an->count && st.st != ST_DONE; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(an, i);
			if (rr->rclass != KNOT_CLASS_IN) {
				continue;
			}
			for (uint16_t k = 0; k < rr->rrs.count && st.st != ST_DONE; k++) {
				ret = xfr_rr(&st, diff, rr, knot_rdataset_at(&rr->rrs, k), reason, rlen);
				if (ret != 0) {
					goto done;
				}
			}
		}
		/* IXFR: a lone SOA at the requested serial or older means up to date. */
		if (ixfr && st.st == ST_SECOND && st.rrs == 1 && an->count == 1 &&
		    (int32_t)(st.to - serial) <= 0) {
			*kind = ZG_XFR_UPTODATE;
			ret = 0;
			goto done;
		}
	}
	if (key != NULL && tsig_buf.len > 0) {
		ret = xfail(reason, rlen, ZG_EPROTO, "last answer not signed with TSIG");
		goto done;
	}
	if (st.full != NULL) {
		ret = zg_zone_finalize(st.full);
		if (ret != 0) {
			ret = xfail(reason, rlen, ret, "%s", zg_strerror(ret));
			goto done;
		}
		*kind = ZG_XFR_AXFR;
		*full = st.full;
		st.full = NULL;
		if (diff != NULL) {
			diff->buf.len = 0;
			diff->count = 0;
		}
	} else {
		*kind = diff->count > 0 ? ZG_XFR_IXFR : ZG_XFR_UPTODATE;
	}
	ret = 0;
done:
	zg_zone_free(st.full);
	zg_dnsconn_free(conn);
	knot_pkt_free(q);
	knot_pkt_free(p);
	zg_buf_deinit(&tsig_buf);
	return ret;
}

int zg_xfr_ixfr(const zg_xfr_peer_t *peer, uint32_t serial, zg_xfr_diff_t *diff,
                zg_zone_t **full, zg_xfr_kind_t *kind, char *reason, size_t reason_len)
{
	if (peer == NULL || peer->addr == NULL || peer->zone == NULL || diff == NULL ||
	    full == NULL || kind == NULL) {
		return KNOT_EINVAL;
	}
	*full = NULL;
	diff->buf.len = 0;
	diff->count = 0;
	diff->serial_from = serial;
	diff->serial_to = serial;
	return xfr_run(peer, true, serial, diff, full, kind, reason, reason_len);
}

int zg_xfr_axfr(const zg_xfr_peer_t *peer, zg_zone_t **out, char *reason, size_t reason_len)
{
	if (peer == NULL || peer->addr == NULL || peer->zone == NULL || out == NULL) {
		return KNOT_EINVAL;
	}
	zg_xfr_kind_t kind;
	zg_zone_t *zone = NULL;
	int ret = xfr_run(peer, false, 0, NULL, &zone, &kind, reason, reason_len);
	if (ret == 0) {
		*out = zone;
	}
	return ret;
}

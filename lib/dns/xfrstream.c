/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/wire.h>

#include "core/error.h"
#include "dns/xfrstream.h"

/* ---- the answer stream (RFC 1995 section 4, RFC 5936) ---- */

enum { ST_FIRST, ST_SECOND, ST_DEL, ST_ADD, ST_BODY, ST_DONE };

void zg_xfr_stream_init(zg_xfr_stream_t *s, const uint8_t *zone, bool axfr, uint32_t serial,
                        const zg_xfr_sink_t *sink, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->zone = zone;
	s->axfr_query = axfr;
	s->from = serial;
	s->st = ST_FIRST;
	s->sink = sink;
	s->arg = arg;
}

bool zg_xfr_stream_done(const zg_xfr_stream_t *s)
{
	return s->st == ST_DONE;
}

bool zg_xfr_stream_started(const zg_xfr_stream_t *s)
{
	return s->st != ST_FIRST;
}

bool zg_xfr_stream_uptodate(const zg_xfr_stream_t *s)
{
	return !s->axfr_query && s->st == ST_SECOND && s->rrs == 1 &&
	       (int32_t)(s->to - s->from) <= 0;
}

static int put_full(zg_xfr_stream_t *s, const uint8_t *owner, uint16_t type, uint32_t ttl,
                    const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen)
{
	s->full = true;
	return s->sink->full_rr(s->arg, owner, type, ttl, rdata, rdlen, reason, rlen);
}

static int put_change(zg_xfr_stream_t *s, bool add, const uint8_t *owner, uint16_t type,
                      uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, char *reason,
                      size_t rlen)
{
	return s->sink->change(s->arg, add, owner, type, ttl, rdata, rdlen, reason, rlen);
}

int zg_xfr_stream_rr(zg_xfr_stream_t *s, const uint8_t *owner, uint16_t type, uint32_t ttl,
                     const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen)
{
	bool soa = type == KNOT_RRTYPE_SOA;
	if (soa && !knot_dname_is_equal(owner, s->zone)) {
		return zg_reason(reason, rlen, ZG_EPROTO, "SOA for a different owner in the transfer");
	}
	if (soa && rdlen < 22) {
		return zg_reason(reason, rlen, ZG_EPROTO, "malformed SOA in the transfer");
	}
	uint32_t serial = soa ? knot_wire_read_u32(rdata + rdlen - 20) : 0;
	s->rrs++;
	int ret;
	switch (s->st) {
	case ST_FIRST:
		if (!soa) {
			return zg_reason(reason, rlen, ZG_EPROTO, "transfer does not start with SOA");
		}
		if (rdlen > sizeof(s->soa)) {
			return zg_reason(reason, rlen, ZG_EPROTO, "SOA too long");
		}
		memcpy(s->soa, rdata, rdlen);
		s->soa_len = rdlen;
		s->soa_ttl = ttl;
		s->to = serial;
		s->st = ST_SECOND;
		return 0;
	case ST_SECOND:
		if (!soa || s->axfr_query) {
			/* The whole zone: the first SOA, then this record. */
			s->st = ST_BODY;
			ret = put_full(s, s->zone, KNOT_RRTYPE_SOA, s->soa_ttl, s->soa, s->soa_len,
			               reason, rlen);
			if (ret == 0 && soa) {
				s->st = ST_DONE;   /* a zone of just its SOA */
			} else if (ret == 0) {
				ret = put_full(s, owner, type, ttl, rdata, rdlen, reason, rlen);
			}
			return ret;
		}
		if (serial == s->to) {
			s->st = ST_DONE;   /* SOA, SOA: an empty transfer */
			return 0;
		}
		if (serial != s->from) {
			return zg_reason(reason, rlen, ZG_EPROTO, "IXFR starts at serial %u, not %u",
			             serial, s->from);
		}
		s->st = ST_DEL;
		return put_change(s, false, owner, type, ttl, rdata, rdlen, reason, rlen);
	case ST_DEL:
		if (soa) {
			s->st = ST_ADD;
			s->cur_new = serial;
			return put_change(s, true, owner, type, ttl, rdata, rdlen, reason, rlen);
		}
		return put_change(s, false, owner, type, ttl, rdata, rdlen, reason, rlen);
	case ST_ADD:
		if (soa) {
			if (s->cur_new == s->to && serial == s->to) {
				s->st = ST_DONE;
				return 0;
			}
			if (serial != s->cur_new) {
				return zg_reason(reason, rlen, ZG_EPROTO, "IXFR delta starts at serial %u, "
				             "expected %u", serial, s->cur_new);
			}
			s->st = ST_DEL;
			return put_change(s, false, owner, type, ttl, rdata, rdlen, reason, rlen);
		}
		return put_change(s, true, owner, type, ttl, rdata, rdlen, reason, rlen);
	case ST_BODY:
		if (soa) {
			if (serial != s->to) {
				return zg_reason(reason, rlen, ZG_EPROTO, "transfer ends with serial %u, "
				             "started with %u", serial, s->to);
			}
			s->st = ST_DONE;
			return 0;
		}
		return put_full(s, owner, type, ttl, rdata, rdlen, reason, rlen);
	default:
		return zg_reason(reason, rlen, ZG_EPROTO, "records after the end of the transfer");
	}
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
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
#include <libknot/packet/pkt.h>
#include <libknot/packet/wire.h>
#include <libknot/rrset.h>
#include <libknot/rrtype/soa.h>
#include <libknot/wire.h>

#include "zonegate/dnsclient.h"
#include "zonegate/error.h"
#include "zonegate/xfr.h"

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

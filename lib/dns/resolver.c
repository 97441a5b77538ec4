/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Small DNS stub: one question to one server over the transport of
 * dns/dnsclient.h (UDP, TCP when truncated, bounded timeouts and retries,
 * TSIG), RRsets + RRSIGs collected for the DS/CDS logic.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/random.h>
#include <libknot/libknot.h>

#include "core/error.h"
#include "dns/dnsclient.h"
#include "dns/resolver.h"

#define EDNS_PAYLOAD	1232
#define DEF_TIMEOUT_MS	2000
#define DEF_UDP_TRIES	3
#define MAX_NS_NAMES	16
#define MAX_SERVERS	32

void zg_server_set(zg_server_t *srv, const struct sockaddr *sa)
{
	memset(srv, 0, sizeof(*srv));
	memcpy(&srv->addr, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                                   sizeof(struct sockaddr_in));
	zg_dns_addr_str(&srv->addr, srv->name, sizeof(srv->name));
}

int zg_server_parse(zg_server_t *srv, const char *text, uint16_t default_port)
{
	if (srv == NULL || text == NULL) {
		return -EINVAL;
	}
	struct sockaddr_storage ss;
	int ret = zg_dns_addr_parse(text, default_port, &ss);
	if (ret != 0) {
		return ret;
	}
	zg_server_set(srv, (struct sockaddr *)&ss);
	return 0;
}

static const knot_dname_t *next_label(const knot_dname_t *name)
{
	return *name == 0 ? name : name + name[0] + 1;
}

int zg_stub_query(const zg_server_t *srv, const knot_dname_t *qname, uint16_t qtype,
                  const zg_stub_opts_t *opts, knot_pkt_t **answer)
{
	if (srv == NULL || qname == NULL || answer == NULL) {
		return -EINVAL;
	}
	int timeout = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms : DEF_TIMEOUT_MS;
	int tries = opts != NULL && opts->udp_tries > 0 ? opts->udp_tries : DEF_UDP_TRIES;
	bool rd = opts != NULL && opts->rd;

	knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	int ret = -ENOMEM;
	if (q == NULL || a == NULL) {
		goto done;
	}
	zg_dns_edns_t edns = { .payload = EDNS_PAYLOAD, .dnssec_ok = true };
	if (opts != NULL && opts->edns_opt_code != 0) {
		edns.opt_code = opts->edns_opt_code;
		edns.opt_len = opts->edns_opt_len;
		edns.opt_data = opts->edns_opt_data;
	}
	ret = zg_dns_query_make(q, dnssec_random_uint16_t(), qname, qtype, &edns);
	if (ret != KNOT_EOK) {
		goto done;
	}
	if (rd) {
		knot_wire_set_rd(q->wire);
	}
	const knot_tsig_key_t *key = opts != NULL ? opts->tsig : NULL;
	bool signed_ok = false;
	ret = zg_dns_query(&srv->addr, q, key, timeout, tries, a, &signed_ok);
	if (ret != 0) {
		goto done;
	}
	if (knot_wire_get_qdcount(a->wire) != 1 ||
	    knot_pkt_qtype(a) != qtype || !knot_dname_is_case_equal(knot_pkt_qname(a), qname)) {
		ret = ZG_EPROTO;
		goto done;
	}
	uint8_t rcode = knot_wire_get_rcode(a->wire);
	if (rcode == KNOT_RCODE_REFUSED || rcode == KNOT_RCODE_NOTAUTH) {
		ret = ZG_EREFUSED;
		goto done;
	}
	if (!signed_ok) {
		ret = ZG_EPROTO;   /* Unsigned or badly signed: not from the key holder. */
		goto done;
	}
	*answer = a;
	a = NULL;
	ret = 0;
done:
	knot_pkt_free(a);
	knot_pkt_free(q);
	return ret;
}

int zg_stub_collect(const knot_pkt_t *pkt, knot_section_t section, zg_signed_rrset_t *out)
{
	if (pkt == NULL || out == NULL || out->rr.owner == NULL) {
		return -EINVAL;
	}
	const knot_pktsection_t *sec = knot_pkt_section(pkt, section);
	int found = 0;
	for (uint16_t i = 0; i < sec->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		if (rr->rclass != KNOT_CLASS_IN || !knot_dname_is_case_equal(rr->owner, out->rr.owner)) {
			continue;
		}
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count; j++, rd = knot_rdataset_next(rd)) {
			int ret = 0;
			if (rr->type == out->rr.type) {
				ret = knot_rdataset_add(&out->rr.rrs, rd, NULL);
				out->rr.ttl = rr->ttl;
				found++;
			} else if (rr->type == KNOT_RRTYPE_RRSIG &&
			           knot_rrsig_type_covered(rd) == out->rr.type) {
				ret = knot_rdataset_add(&out->sigs, rd, NULL);
			}
			if (ret != 0) {
				return ret;
			}
		}
	}
	return found;
}

static void fetch_error(char *err, size_t errlen, uint16_t type, const char *fmt, const char *what)
{
	if (err == NULL || errlen == 0) {
		return;
	}
	char tname[32] = "?";
	knot_rrtype_to_string(type, tname, sizeof(tname));
	char msg[128];
	snprintf(msg, sizeof(msg), fmt, what);
	snprintf(err, errlen, "%s query %s", tname, msg);
}

int zg_stub_fetch(const zg_server_t *srv, const zg_stub_opts_t *opts, zg_signed_rrset_t *out,
                  char *err, size_t errlen)
{
	knot_pkt_t *a = NULL;
	int ret = zg_stub_query(srv, out->rr.owner, out->rr.type, opts, &a);
	if (ret != 0) {
		fetch_error(err, errlen, out->rr.type, "failed (%s)", zg_strerror(ret));
		return ret;
	}
	uint8_t rcode = knot_wire_get_rcode(a->wire);
	if (rcode != KNOT_RCODE_NOERROR && rcode != KNOT_RCODE_NXDOMAIN) {
		const knot_lookup_t *rc = knot_lookup_by_id(knot_rcode_names, rcode);
		fetch_error(err, errlen, out->rr.type, "answered %s", rc != NULL ? rc->name : "an error");
		ret = ZG_EPROTO;
	} else if ((opts == NULL || !opts->rd) && !knot_wire_get_aa(a->wire)) {
		fetch_error(err, errlen, out->rr.type, "answered %s", "without the AA bit (not authoritative)");
		ret = ZG_EPROTO;
	} else {
		ret = zg_stub_collect(a, KNOT_ANSWER, out);
		ret = ret < 0 ? ret : 0;
	}
	knot_pkt_free(a);
	return ret;
}

int zg_child_view_fetch(zg_child_view_t *v, const zg_server_t *srv, const knot_dname_t *zone,
                        const zg_stub_opts_t *opts, char *err, size_t errlen)
{
	int ret = zg_child_view_init(v, zone, srv->name);
	if (ret != 0) {
		return ret;
	}
	if ((ret = zg_stub_fetch(srv, opts, &v->dnskey, err, errlen)) != 0 ||
	    (ret = zg_stub_fetch(srv, opts, &v->cds, err, errlen)) != 0 ||
	    (ret = zg_stub_fetch(srv, opts, &v->cdnskey, err, errlen)) != 0) {
		return ret;
	}
	return 0;
}

void zg_parent_view_deinit(zg_parent_view_t *v)
{
	if (v == NULL) {
		return;
	}
	zg_signed_rrset_deinit(&v->ds);
	zg_signed_rrset_deinit(&v->dnskey);
	knot_dname_free(v->parent, NULL);
	v->parent = NULL;
}

int zg_resolv_conf(zg_server_t *srv)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	if (f == NULL) {
		return -errno;
	}
	char line[256];
	int ret = ZG_EINPUT;
	while (fgets(line, sizeof(line), f) != NULL) {
		char addr[128];
		if (sscanf(line, " nameserver %127s", addr) == 1 && zg_server_parse(srv, addr, 53) == 0) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int zg_parent_view_fetch(zg_parent_view_t *v, const zg_server_t *srv, const knot_dname_t *zone,
                         const zg_stub_opts_t *opts, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->server = srv->name;
	int ret = zg_signed_rrset_init(&v->ds, zone, KNOT_RRTYPE_DS);
	if (ret == 0) {
		ret = zg_signed_rrset_init(&v->dnskey, NULL, KNOT_RRTYPE_DNSKEY);
	}
	if (ret != 0) {
		return ret;
	}
	if ((ret = zg_stub_fetch(srv, opts, &v->ds, err, errlen)) != 0) {
		return ret;
	}
	const knot_dname_t *parent = NULL;
	if (v->ds.sigs.count > 0) {
		parent = knot_rrsig_signer_name(v->ds.sigs.rdata);
		if (knot_dname_in_bailiwick(zone, parent) <= 0) {
			parent = NULL; /* Signer must be a proper ancestor. */
		}
	}
	if (parent == NULL) {
		if (*zone == 0) {
			return ZG_EINPUT;
		}
		parent = next_label(zone);
	}
	v->parent = knot_dname_copy(parent, NULL);
	if (v->parent == NULL) {
		return -ENOMEM;
	}
	knot_dname_to_lower(v->parent);
	v->dnskey.rr.owner = knot_dname_copy(v->parent, NULL);
	if (v->dnskey.rr.owner == NULL) {
		return -ENOMEM;
	}
	ret = zg_stub_fetch(srv, opts, &v->dnskey, err, errlen);
	v->tsig = ret == 0 && opts != NULL && opts->tsig != NULL;
	return ret;
}

/* Names of the NS RRset at name (answer section), from the resolver. */
static int ns_names(const zg_server_t *res, const knot_dname_t *name, const zg_stub_opts_t *opts,
                    knot_dname_t **names, size_t *count)
{
	knot_pkt_t *a = NULL;
	int ret = zg_stub_query(res, name, KNOT_RRTYPE_NS, opts, &a);
	if (ret != 0) {
		return ret;
	}
	*count = 0;
	const knot_pktsection_t *sec = knot_pkt_section(a, KNOT_ANSWER);
	for (uint16_t i = 0; i < sec->count && *count < MAX_NS_NAMES; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(sec, i);
		if (rr->type != KNOT_RRTYPE_NS || !knot_dname_is_case_equal(rr->owner, name)) {
			continue;
		}
		knot_rdata_t *rd = rr->rrs.rdata;
		for (uint16_t j = 0; j < rr->rrs.count && *count < MAX_NS_NAMES; j++) {
			names[*count] = knot_dname_copy(knot_ns_name(rd), NULL);
			if (names[*count] != NULL) {
				(*count)++;
			}
			rd = knot_rdataset_next(rd);
		}
	}
	knot_pkt_free(a);
	return 0;
}

static int add_addrs(const zg_server_t *res, const knot_dname_t *name, const zg_stub_opts_t *opts,
                     zg_server_t *out, size_t *count)
{
	static const uint16_t types[] = { KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA };
	for (size_t t = 0; t < 2; t++) {
		knot_pkt_t *a = NULL;
		int ret = zg_stub_query(res, name, types[t], opts, &a);
		if (ret != 0) {
			continue;
		}
		const knot_pktsection_t *sec = knot_pkt_section(a, KNOT_ANSWER);
		for (uint16_t i = 0; i < sec->count && *count < MAX_SERVERS; i++) {
			const knot_rrset_t *rr = knot_pkt_rr(sec, i);
			if (rr->type != types[t]) {
				continue; /* CNAME chains: the resolver adds the target's A. */
			}
			knot_rdata_t *rd = rr->rrs.rdata;
			for (uint16_t j = 0; j < rr->rrs.count && *count < MAX_SERVERS; j++) {
				struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(53) };
				struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
				if (types[t] == KNOT_RRTYPE_A && rd->len == 4) {
					memcpy(&s4.sin_addr, rd->data, 4);
					zg_server_set(&out[(*count)++], (struct sockaddr *)&s4);
				} else if (types[t] == KNOT_RRTYPE_AAAA && rd->len == 16) {
					memcpy(&s6.sin6_addr, rd->data, 16);
					zg_server_set(&out[(*count)++], (struct sockaddr *)&s6);
				}
				rd = knot_rdataset_next(rd);
			}
		}
		knot_pkt_free(a);
	}
	return 0;
}

int zg_stub_discover(const zg_server_t *resolver, const knot_dname_t *zone, bool parent,
                     const zg_stub_opts_t *opts, zg_server_t **servers, size_t *count)
{
	if (resolver == NULL || zone == NULL || servers == NULL || count == NULL) {
		return -EINVAL;
	}
	zg_stub_opts_t o = opts != NULL ? *opts : (zg_stub_opts_t){ 0 };
	o.rd = true;
	knot_dname_t *names[MAX_NS_NAMES];
	size_t nnames = 0;
	const knot_dname_t *name = zone;
	if (parent) {
		if (*zone == 0) {
			return ZG_EINPUT;
		}
		name = next_label(zone);
	}
	/* Walk up to the closest zone cut (bounded by the label count). */
	for (;;) {
		int ret = ns_names(resolver, name, &o, names, &nnames);
		if (ret != 0) {
			return ret;
		}
		if (nnames > 0 || !parent || *name == 0) {
			break;
		}
		name = next_label(name);
	}
	if (nnames == 0) {
		return ZG_EINPUT;
	}
	zg_server_t *out = calloc(MAX_SERVERS, sizeof(*out));
	if (out == NULL) {
		for (size_t i = 0; i < nnames; i++) {
			knot_dname_free(names[i], NULL);
		}
		return -ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < nnames; i++) {
		add_addrs(resolver, names[i], &o, out, &n);
		knot_dname_free(names[i], NULL);
	}
	if (n == 0) {
		free(out);
		return ZG_EINPUT;
	}
	*servers = out;
	*count = n;
	return 0;
}

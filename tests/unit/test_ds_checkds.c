/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for lib/dsync/checkds.c (zg-checkds states from what each server
 * serves) and the address / trust-anchor parsers, without network.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include "tap.h"
#include "test_ds_keys.h"
#include "dsync/checkds.h"
#include "dsync/ds.h"
#include "core/error.h"
#include "dns/resolver.h"

static knot_dname_t *parent;
static tkey_t *pk;       /* parent KSK (signs everything of the parent) */
static char tmpdir[] = "/tmp/zg-test-checkds.XXXXXX";

/* A parent view: DS set for the child (digest SHA-256 of keys), signed by pk
 * unless unsigned_ds; the parent's DNSKEY {pk} self-signed. */
static void parent_make(zg_parent_view_t *p, const char *server, tkey_t **ds_keys, bool unsigned_ds)
{
	memset(p, 0, sizeof(*p));
	p->server = server;
	p->parent = knot_dname_copy(parent, NULL);
	zg_signed_rrset_init(&p->ds, zone, KNOT_RRTYPE_DS);
	zg_signed_rrset_init(&p->dnskey, parent, KNOT_RRTYPE_DNSKEY);
	for (tkey_t **k = ds_keys; k && *k; k++) {
		add_ds(&p->ds.rr.rrs, *k, ZG_DS_SHA256);
	}
	if (p->ds.rr.rrs.count > 0 && !unsigned_ds) {
		sign_rrset_by(&p->ds, pk, parent, now - 3600, now + 86400);
	}
	knot_rdataset_add(&p->dnskey.rr.rrs, pk->rdata, NULL);
	sign_rrset_by(&p->dnskey, pk, parent, now - 3600, now + 86400);
}

static zg_checkds_state_t run(zg_parent_view_t *p, size_t np, zg_child_view_t *c, size_t nc,
                              const knot_rdataset_t *ta_ds, zg_checkds_report_t *rep)
{
	zg_checkds_input_t in = {
		.zone = zone, .parents = p, .nparents = np, .children = c, .nchildren = nc,
		.ta_ds = ta_ds, .now = now,
	};
	if (zg_checkds_evaluate(&in, rep) != 0) {
		return (zg_checkds_state_t)-1;
	}
	for (size_t i = 0; i < rep->nfindings; i++) {
		diag("%s: %s", zg_checkds_state_str(rep->findings[i].state), rep->findings[i].text);
	}
	return rep->state;
}

static bool found(const zg_checkds_report_t *rep, zg_checkds_state_t state, const char *text)
{
	for (size_t i = 0; i < rep->nfindings; i++) {
		if (rep->findings[i].state == state && strstr(rep->findings[i].text, text) != NULL) {
			return true;
		}
	}
	return false;
}

static void free_views(zg_parent_view_t *p, size_t np, zg_child_view_t *c, size_t nc)
{
	for (size_t i = 0; i < np; i++) {
		zg_parent_view_deinit(&p[i]);
	}
	for (size_t i = 0; i < nc; i++) {
		zg_child_view_deinit(&c[i]);
	}
}

static void test_states(tkey_t *k1, tkey_t *k2, tkey_t *zsk, tkey_t *k14)
{
	zg_parent_view_t p[2];
	zg_child_view_t c[2];
	zg_checkds_report_t *rep = calloc(1, sizeof(*rep));
	tkey_t *d1[] = { k1, NULL }, *d2[] = { k2, NULL }, *d12[] = { k1, k2, NULL };
	tkey_t *keys[] = { k1, zsk, NULL }, *keys2[] = { k1, k2, zsk, NULL };
	tkey_t *s1[] = { k1, zsk, NULL }, *s12[] = { k1, k2, zsk, NULL };
	char tag1[16], tag2[16];
	snprintf(tag1, sizeof(tag1), "%u/13/2", k1->tag);
	snprintf(tag2, sizeof(tag2), "%u/13/2", k2->tag);

	/* In sync, with and without CDS. */
	parent_make(&p[0], "p1", d1, false);
	parent_make(&p[1], "p2", d1, false);
	view_make(&c[0], "c1", keys, s1, d1, d1);
	view_make(&c[1], "c2", keys, s1, d1, d1);
	is_int(run(p, 2, c, 2, NULL, rep), ZG_CHECKDS_IN_SYNC, "DS = CDS on every server: in-sync");
	ok(!rep->anchored, "not anchored without a trust anchor");
	is_int(zg_checkds_exit_code(rep->state), 0, "exit 0");
	knot_rdataset_t ta;
	knot_rdataset_init(&ta);
	zg_ds_from_dnskey(&ta, parent, pk->rdata, ZG_DS_SHA256);
	is_int(run(p, 2, c, 2, &ta, rep), ZG_CHECKDS_IN_SYNC, "in-sync with the parent's trust anchor");
	ok(rep->anchored, "anchored");
	knot_rdataset_t wrong_ta;
	knot_rdataset_init(&wrong_ta);
	zg_ds_from_dnskey(&wrong_ta, parent, k2->rdata, ZG_DS_SHA256);
	is_int(run(p, 2, c, 2, &wrong_ta, rep), ZG_CHECKDS_BROKEN, "trust anchor not matching the parent: broken");
	ok(found(rep, ZG_CHECKDS_BROKEN, "p1: dnskey of test. not authenticated by the trust anchor"),
	   "finding names the server and the reason");
	knot_rdataset_clear(&wrong_ta, NULL);
	knot_rdataset_clear(&ta, NULL);
	free_views(p, 2, c, 2);

	parent_make(&p[0], "p1", d1, false);
	view_make(&c[0], "c1", keys, s1, NULL, NULL);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_IN_SYNC, "no CDS, DS authenticates: in-sync");
	free_views(p, 1, c, 1);

	/* Broken: wrong DS, unsigned DS, DS for an algorithm that does not sign. */
	parent_make(&p[0], "p1", d2, false);
	parent_make(&p[1], "p2", d1, false);
	view_make(&c[0], "c1", keys, s1, NULL, NULL);
	is_int(run(p, 2, c, 1, NULL, rep), ZG_CHECKDS_BROKEN, "DS of a key the child does not have: broken");
	ok(found(rep, ZG_CHECKDS_BROKEN, "parent server p1 serves ds") &&
	   found(rep, ZG_CHECKDS_BROKEN, tag2) && !found(rep, ZG_CHECKDS_BROKEN, "p2"),
	   "names p1 and the key tag, not p2");
	is_int(zg_checkds_exit_code(rep->state), 2, "exit 2");
	free_views(p, 2, c, 1);

	parent_make(&p[0], "p1", d1, true);
	view_make(&c[0], "c1", keys, s1, NULL, NULL);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_BROKEN, "unsigned DS RRset: broken");
	ok(found(rep, ZG_CHECKDS_BROKEN, "without a valid signature"), "reason: signature");
	free_views(p, 1, c, 1);

	parent_make(&p[0], "p1", d1, false);
	add_ds(&p[0].ds.rr.rrs, k14, ZG_DS_SHA384);
	knot_rdataset_clear(&p[0].ds.sigs, NULL);
	sign_rrset_by(&p[0].ds, pk, parent, now - 3600, now + 86400);
	tkey_t *keys14[] = { k1, zsk, k14, NULL };
	view_make(&c[0], "c1", keys14, s1, NULL, NULL);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_BROKEN, "DS algorithm 14 whose key does not sign: broken");
	ok(found(rep, ZG_CHECKDS_BROKEN, "only some algorithms"), "reason: algorithms");
	free_views(p, 1, c, 1);

	/* Unsafe CDS published by the child. */
	parent_make(&p[0], "p1", d1, false);
	view_make(&c[0], "c1", keys2, s1, d2, NULL);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_BROKEN, "CDS for a key that does not sign: broken");
	ok(found(rep, ZG_CHECKDS_BROKEN, "unsafe cds/cdnskey"), "reason: unsafe cds");
	free_views(p, 1, c, 1);

	/* Pending: new KSK announced, no parent server has it; then one lags. */
	parent_make(&p[0], "p1", d1, false);
	parent_make(&p[1], "p2", d1, false);
	view_make(&c[0], "c1", keys2, s12, d2, d2);
	is_int(run(p, 2, c, 1, NULL, rep), ZG_CHECKDS_PENDING, "CDS announces a new KSK: pending");
	ok(found(rep, ZG_CHECKDS_PENDING, "parent server p1 serves ds") &&
	   found(rep, ZG_CHECKDS_PENDING, "parent server p2 serves ds"), "both parent servers named");
	is_int(zg_checkds_exit_code(rep->state), 1, "exit 1");
	zg_parent_view_deinit(&p[0]);
	parent_make(&p[0], "p1", d2, false);
	is_int(run(p, 2, c, 1, NULL, rep), ZG_CHECKDS_PENDING, "one parent server lags: pending");
	ok(found(rep, ZG_CHECKDS_PENDING, "parent server p2") && !found(rep, ZG_CHECKDS_PENDING, "p1"),
	   "only the lagging server named");
	zg_parent_view_deinit(&p[1]);
	parent_make(&p[1], "p2", d2, false);
	is_int(run(p, 2, c, 1, NULL, rep), ZG_CHECKDS_IN_SYNC, "both serve the announced DS: in-sync");
	free_views(p, 2, c, 1);

	/* CDNSKEY only. */
	parent_make(&p[0], "p1", d12, false);
	view_make(&c[0], "c1", keys2, s12, NULL, d12);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_IN_SYNC, "DS matches the CDNSKEY set: in-sync");
	zg_parent_view_deinit(&p[0]);
	parent_make(&p[0], "p1", d1, false);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_PENDING, "CDNSKEY names a key without DS: pending");
	free_views(p, 1, c, 1);

	/* Inconsistent: child servers, parent servers. */
	parent_make(&p[0], "p1", d1, false);
	view_make(&c[0], "c1", keys, s1, d1, NULL);
	view_make(&c[1], "c2", keys2, s12, d1, NULL);
	is_int(run(p, 1, c, 2, NULL, rep), ZG_CHECKDS_INCONSISTENT, "child servers disagree: inconsistent");
	ok(found(rep, ZG_CHECKDS_INCONSISTENT, "child servers disagree (c1: dnskey"), "both named");
	free_views(p, 1, c, 2);

	parent_make(&p[0], "p1", d1, false);
	parent_make(&p[1], "p2", d12, false);
	view_make(&c[0], "c1", keys2, s12, NULL, NULL);
	is_int(run(p, 2, c, 1, NULL, rep), ZG_CHECKDS_INCONSISTENT,
	       "parent servers disagree, no CDS to explain it: inconsistent");
	ok(found(rep, ZG_CHECKDS_INCONSISTENT, "parent servers disagree (p1: ds"), "reason names p1 and p2");
	free_views(p, 2, c, 1);

	/* Delete form. */
	parent_make(&p[0], "p1", d1, false);
	view_make(&c[0], "c1", keys, NULL, NULL, NULL);
	zg_signed_rrset_add_text(&c[0].cds, "test.", "child CDS 0 0 0 00");
	resign(&c[0].dnskey, s1);
	resign(&c[0].cds, s1);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_PENDING, "delete announced, DS still there: pending");
	zg_parent_view_deinit(&p[0]);
	parent_make(&p[0], "p1", NULL, false);
	is_int(run(p, 1, c, 1, NULL, rep), ZG_CHECKDS_IN_SYNC, "delete announced, no DS: in-sync");
	free_views(p, 1, c, 1);

	zg_checkds_input_t bad = { 0 };
	is_int(zg_checkds_evaluate(&bad, rep), -EINVAL, "no servers: invalid input");
	is_str(zg_checkds_state_str(ZG_CHECKDS_INCONSISTENT), "inconsistent", "state names");
	free(rep);
}

static void test_server_parse(void)
{
	zg_server_t s;
	is_int(zg_server_parse(&s, "127.0.0.1@5353", 53), 0, "IPv4 with port");
	is_str(s.name, "127.0.0.1@5353", "IPv4 name");
	is_int(zg_server_parse(&s, "::1", 53), 0, "IPv6 without port");
	is_str(s.name, "::1@53", "default port");
	is_int(zg_server_parse(&s, "2001:db8::1@853", 53), 0, "IPv6 with port");
	is_int(zg_server_parse(&s, "ns.example", 53), ZG_EINPUT, "name refused");
	is_int(zg_server_parse(&s, "1.2.3.4@0", 53), ZG_EINPUT, "port 0 refused");
	is_int(zg_server_parse(&s, "1.2.3.4@70000", 53), ZG_EINPUT, "port over 65535 refused");
	is_int(zg_server_parse(&s, "1.2.3.4@", 53), ZG_EINPUT, "empty port refused");
	is_int(zg_server_parse(&s, "@53", 53), ZG_EINPUT, "empty address refused");
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bounded waits of the stub against local sockets (no DNS server involved). */
static void test_stub_bounds(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		ok(false, "local UDP socket");
		return;
	}
	zg_server_t srv;
	zg_server_set(&srv, (struct sockaddr *)&sa);
	zg_stub_opts_t opts = { .timeout_ms = 150, .udp_tries = 2 };
	knot_pkt_t *a = NULL;
	int64_t t0 = mono_ms();
	is_int(zg_stub_query(&srv, zone, KNOT_RRTYPE_DS, &opts, &a), ZG_ETIMEOUT, "silent server: timeout");
	int64_t el = mono_ms() - t0;
	ok(el >= 250 && el < 1500, "bounded by tries x timeout (%lld ms)", (long long)el);
	ok(a == NULL, "no answer returned");
	close(fd); /* now nothing listens: ICMP port unreachable */
	is_int(zg_stub_query(&srv, zone, KNOT_RRTYPE_DS, &opts, &a), ZG_ECONNECT, "closed port: not reachable");
	char err[128] = "";
	zg_signed_rrset_t s;
	zg_signed_rrset_init(&s, zone, KNOT_RRTYPE_CDS);
	ok(zg_stub_fetch(&srv, &opts, &s, err, sizeof(err)) == ZG_ECONNECT &&
	   strcmp(err, "CDS query failed (server not reachable)") == 0, "fetch error names the query (%s)", err);
	zg_signed_rrset_deinit(&s);
}

/* A fake recursive resolver in a thread: fixed NS/A/AAAA data, NODATA otherwise. */
typedef struct {
	int fd;
	volatile bool stop;
	int queries;
} fake_t;

static void fake_put(knot_pkt_t *resp, const char *owner, uint16_t type, const uint8_t *rd, uint16_t len)
{
	knot_dname_t *o = knot_dname_from_str_alloc(owner);
	knot_rrset_t rr;
	knot_rrset_init(&rr, knot_dname_copy(o, &resp->mm), type, KNOT_CLASS_IN, 60);
	knot_rrset_add_rdata(&rr, rd, len, &resp->mm);
	knot_pkt_put(resp, KNOT_COMPR_HINT_NONE, &rr, KNOT_PF_FREE); /* contents freed with resp */
	knot_dname_free(o, NULL);
}

static void *fake_resolver(void *arg)
{
	fake_t *f = arg;
	uint8_t buf[1500];
	for (int rounds = 0; !f->stop && rounds < 200; rounds++) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0) {
			continue;
		}
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n <= 0) {
			continue;
		}
		f->queries++;
		knot_pkt_t *q = knot_pkt_new(buf, n, NULL);
		knot_pkt_t *r = knot_pkt_new(NULL, 1232, NULL);
		if (knot_pkt_parse(q, 0) == KNOT_EOK && knot_pkt_init_response(r, q) == KNOT_EOK) {
			char qn[KNOT_DNAME_TXT_MAXLEN + 1];
			knot_dname_to_str(qn, knot_pkt_qname(q), sizeof(qn));
			uint16_t qt = knot_pkt_qtype(q);
			knot_pkt_begin(r, KNOT_ANSWER);
			static const uint8_t a1[] = { 192, 0, 2, 1 }, a53[] = { 192, 0, 2, 53 };
			static const uint8_t aaaa1[] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
			if (qt == KNOT_RRTYPE_NS && strcmp(qn, "child.test.") == 0) {
				fake_put(r, qn, qt, (const uint8_t *)"\x03""ns1""\x05""child""\x04""test", 16);
			} else if (qt == KNOT_RRTYPE_NS && strcmp(qn, "test.") == 0) {
				fake_put(r, qn, qt, (const uint8_t *)"\x02""ns""\x04""test", 9);
			} else if (qt == KNOT_RRTYPE_A && strcmp(qn, "ns1.child.test.") == 0) {
				fake_put(r, qn, qt, a1, 4);
			} else if (qt == KNOT_RRTYPE_AAAA && strcmp(qn, "ns1.child.test.") == 0) {
				fake_put(r, qn, qt, aaaa1, 16);
			} else if (qt == KNOT_RRTYPE_A && strcmp(qn, "ns.test.") == 0) {
				fake_put(r, qn, qt, a53, 4);
			}
			sendto(f->fd, r->wire, r->size, 0, (struct sockaddr *)&from, flen);
		}
		knot_pkt_free(q);
		knot_pkt_free(r);
	}
	return NULL;
}

static void test_discover(void)
{
	fake_t f = { .fd = socket(AF_INET, SOCK_DGRAM, 0) };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	pthread_t th;
	if (f.fd < 0 || bind(f.fd, (struct sockaddr *)&sa, len) != 0 ||
	    getsockname(f.fd, (struct sockaddr *)&sa, &len) != 0 ||
	    pthread_create(&th, NULL, fake_resolver, &f) != 0) {
		ok(false, "fake resolver started");
		return;
	}
	zg_server_t res;
	zg_server_set(&res, (struct sockaddr *)&sa);
	zg_stub_opts_t opts = { .timeout_ms = 500, .udp_tries = 2 };
	zg_server_t *list = NULL;
	size_t n = 0;
	is_int(zg_stub_discover(&res, zone, false, &opts, &list, &n), 0, "child servers discovered");
	ok(n == 2 && strcmp(list[0].name, "192.0.2.1@53") == 0 && strcmp(list[1].name, "2001:db8::1@53") == 0,
	   "child: A and AAAA of ns1.child.test. (%zu)", n);
	free(list);
	is_int(zg_stub_discover(&res, zone, true, &opts, &list, &n), 0, "parent servers discovered");
	ok(n == 1 && strcmp(list[0].name, "192.0.2.53@53") == 0, "parent: ns.test.");
	free(list);
	knot_dname_t *deep = knot_dname_from_str_alloc("a.b.test.");
	is_int(zg_stub_discover(&res, deep, true, &opts, &list, &n), 0, "parent found above an empty non-terminal");
	ok(n == 1 && strcmp(list[0].name, "192.0.2.53@53") == 0, "walked up to test.");
	free(list);
	knot_dname_free(deep, NULL);
	knot_dname_t *none = knot_dname_from_str_alloc("nothing.example.");
	is_int(zg_stub_discover(&res, none, false, &opts, &list, &n), ZG_EINPUT, "no NS: error");
	knot_dname_free(none, NULL);
	f.stop = true;
	pthread_join(th, NULL);
	close(f.fd);
}

static int write_file(const char *name, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		return -1;
	}
	fputs(text, f);
	fclose(f);
	return 0;
}

static void test_trust_anchor(void)
{
	char path[256], err[512];
	knot_rdataset_t ds, keys;
	knot_dname_t *owner = NULL;
	knot_rdataset_init(&ds);
	knot_rdataset_init(&keys);

	write_file("good", "; anchor\ntest. 3600 IN DS 2466 13 2 40961B207715EC223C537783B991484592FB0498C4EFFAE74E55205C21CF1D81\n"
	           "test. DNSKEY 257 3 13 5ZtlgSqFRTrZ8GvHg1EivBWubfhez4oRLrHvv5zJmV1TR/8RsePzBnb4 Vli3+Nb25tahTGrOcyLRSyy/XjuH8g==\n",
	           path, sizeof(path));
	is_int(zg_trust_anchor_load(path, &ds, &keys, &owner, err, sizeof(err)), 0, "trust anchor loaded");
	ok(ds.count == 1 && keys.count == 1, "one DS and one DNSKEY");
	ok(owner != NULL && knot_dname_is_equal(owner, parent), "owner is test.");
	knot_dname_free(owner, NULL);
	knot_rdataset_clear(&ds, NULL);
	knot_rdataset_clear(&keys, NULL);

	write_file("a", "test. A 192.0.2.1\n", path, sizeof(path));
	is_int(zg_trust_anchor_load(path, &ds, &keys, &owner, err, sizeof(err)), ZG_EINPUT, "A record refused");
	ok(strstr(err, "line 1") != NULL && strstr(err, "only DS and DNSKEY") != NULL, "reason with line (%s)", err);

	write_file("two", "test. DS 1 13 2 00\nother. DS 1 13 2 00\n", path, sizeof(path));
	is_int(zg_trust_anchor_load(path, &ds, &keys, &owner, err, sizeof(err)), ZG_EINPUT, "two owners refused");
	knot_rdataset_clear(&ds, NULL);

	write_file("syntax", "test. DS 1 13 2 XYZ\n", path, sizeof(path));
	is_int(zg_trust_anchor_load(path, &ds, &keys, &owner, err, sizeof(err)), ZG_ESYNTAX, "syntax error");
	ok(strstr(err, "line 1") != NULL, "syntax error names the line (%s)", err);

	write_file("empty", "; nothing\n", path, sizeof(path));
	is_int(zg_trust_anchor_load(path, &ds, &keys, &owner, err, sizeof(err)), ZG_EINPUT, "empty file refused");

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ok(zg_trust_anchor_load(path, &ds, &keys, &owner, err, sizeof(err)) < 0, "missing file is an error (%s)", err);
	knot_rdataset_clear(&ds, NULL);
	knot_rdataset_clear(&keys, NULL);
}

int main(void)
{
	plan_lazy();
	dnssec_crypto_init();
	zone = knot_dname_from_str_alloc("child.test.");
	parent = knot_dname_from_str_alloc("test.");
	now = (uint32_t)time(NULL);
	if (mkdtemp(tmpdir) == NULL) {
		skip_all("cannot create a temp dir");
	}

	tkey_t *k1 = key_gen(257, 13), *k2 = key_gen(257, 13), *zsk = key_gen(256, 13);
	tkey_t *k14 = key_gen(257, 14);
	pk = key_gen_for(parent, 257, 13);
	if (ok(k1 && k2 && zsk && k14 && pk, "test keys generated")) {
		test_states(k1, k2, zsk, k14);
	}
	test_server_parse();
	test_stub_bounds();
	test_discover();
	test_trust_anchor();

	const char *names[] = { "good", "a", "two", "syntax", "empty" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	key_free(k1);
	key_free(k2);
	key_free(zsk);
	key_free(k14);
	key_free(pk);
	knot_dname_free(zone, NULL);
	knot_dname_free(parent, NULL);
	dnssec_crypto_cleanup();
	return done_testing();
}

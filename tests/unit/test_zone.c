/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>

#include "zonegate/error.h"
#include "zonegate/zone.h"
#include "tap.h"

static const uint8_t *dn(const char *s)
{
	static uint8_t bufs[8][256];
	static int i;
	uint8_t *b = bufs[i++ % 8];
	if (knot_dname_from_str(b, s, 256) == NULL) {
		fprintf(stderr, "bad name %s\n", s);
		abort();
	}
	return b;
}

static const char *owner_str(const zg_node_t *n)
{
	static char out[1024];
	uint8_t w[256];
	if (n == NULL) {
		return "(null)";
	}
	zg_node_owner(n, w);
	return zg_dname_str(w, out, sizeof(out));
}

static int add_a(zg_zone_t *z, const char *owner, uint8_t last)
{
	uint8_t rd[4] = { 192, 0, 2, last };
	return zg_zone_add(z, dn(owner), KNOT_RRTYPE_A, 300, rd, 4);
}

static int add_ns(zg_zone_t *z, const char *owner, const char *target)
{
	const uint8_t *t = dn(target);
	return zg_zone_add(z, dn(owner), KNOT_RRTYPE_NS, 300, t, (uint16_t)zg_dname_len(t, 255));
}

static void test_order(void)
{
	/* RFC 4034 6.1 example, in canonical order. */
	const char *names[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.",
		"\\200.z.example.",
	};
	size_t n = sizeof(names) / sizeof(names[0]);
	uint8_t prev[ZG_KEY_MAXLEN], key[ZG_KEY_MAXLEN];
	size_t plen = 0;
	bool ordered = true;
	for (size_t i = 0; i < n; i++) {
		size_t len = zg_dname_key(dn(names[i]), key);
		if (i > 0) {
			size_t m = plen < len ? plen : len;
			int c = memcmp(prev, key, m);
			if (c > 0 || (c == 0 && plen >= len)) {
				ordered = false;
				diag("%s sorts before %s", names[i], names[i - 1]);
			}
		}
		memcpy(prev, key, len);
		plen = len;
	}
	ok(ordered, "keys follow the RFC 4034 6.1 canonical order");

	uint8_t w[256];
	size_t klen = zg_dname_key(dn("A.\\000b.Example."), key);
	size_t wl = zg_key_to_dname(key, klen, w);
	is_int(wl, zg_dname_len(dn("a.\\000b.example."), 255), "key round trip length");
	ok(memcmp(w, dn("a.\\000b.example."), wl) == 0, "key round trip lowercases and keeps \\000");

	uint8_t k2[ZG_KEY_MAXLEN];
	size_t l1 = zg_dname_key(dn("example."), key), l2 = zg_dname_key(dn("a.b.example."), k2);
	ok(zg_key_is_ancestor(key, l1, k2, l2), "example. is an ancestor of a.b.example.");
	l1 = zg_dname_key(dn("b.example."), key);
	l2 = zg_dname_key(dn("bb.example."), k2);
	ok(!zg_key_is_ancestor(key, l1, k2, l2), "b.example. is not an ancestor of bb.example.");

	/* Zone with the same names in shuffled order. */
	zg_zone_t *z = NULL;
	is_int(zg_zone_new(&z, dn("example.")), 0, "zone created");
	size_t order[] = { 5, 2, 8, 0, 7, 1, 4, 6, 3 };
	for (size_t i = 0; i < n; i++) {
		add_a(z, names[order[i]], (uint8_t)i);
	}
	add_a(z, "a.example.", 99); /* same owner again, not adjacent */
	add_a(z, "a.example.", 99); /* duplicate RR */
	is_int(add_a(z, "other.", 1), ZG_EOUTOFZONE, "name outside the zone refused");
	is_int(zg_zone_finalize(z), 0, "finalized");
	size_t names_n, n3, rrs;
	zg_zone_counts(z, &names_n, &n3, &rrs);
	is_int(names_n, n, "duplicate owners merged");
	is_int(rrs, n + 1, "duplicate RR dropped");
	size_t i = 0;
	bool same = true;
	for (zg_node_t *node = zg_zone_first(z); node != NULL; node = zg_node_next(node), i++) {
		char want[1024];
		zg_dname_str(dn(names[i]), want, sizeof(want));
		for (char *c = want; *c; c++) {
			if (*c >= 'A' && *c <= 'Z') {
				*c += 32;
			}
		}
		if (strcmp(owner_str(node), want) != 0) {
			diag("position %zu: %s, expected %s", i, owner_str(node), want);
			same = false;
		}
	}
	ok(same && i == n, "iteration in canonical order");
	const zg_rrset_t *a = zg_node_rrset(zg_zone_find(z, dn("A.EXAMPLE.")), KNOT_RRTYPE_A);
	ok(a != NULL && a->count == 2, "merged owner has both A records");
	is_str(owner_str(zg_zone_find_leq(z, dn("b.example."))), "zabc.a.example.",
	       "predecessor of a missing name");
	is_str(owner_str(zg_node_next(zg_zone_find_leq(z, dn("b.example.")))), "z.example.",
	       "successor of a missing name");
	is_str(owner_str(zg_node_prev(zg_zone_find(z, dn("z.example.")))), "zabc.a.example.",
	       "prev link");
	is_str(owner_str(zg_zone_last(z)), "\\200.z.example.", "last node");
	ok(zg_zone_find(z, dn("nothere.example.")) == NULL, "absent name not found");
	zg_zone_free(z);
}

static void test_flags_and_changes(void)
{
	zg_zone_t *z = NULL;
	zg_zone_new(&z, dn("test."));
	uint8_t soa[64];
	size_t p = 0;
	const uint8_t *m = dn("ns.test."), *r = dn("hm.test.");
	memcpy(soa, m, zg_dname_len(m, 255));
	p += zg_dname_len(m, 255);
	memcpy(soa + p, r, zg_dname_len(r, 255));
	p += zg_dname_len(r, 255);
	uint8_t nums[20] = { 0, 0, 0, 42 };
	memcpy(soa + p, nums, 20);
	p += 20;
	zg_zone_add(z, dn("test."), KNOT_RRTYPE_SOA, 300, soa, (uint16_t)p);
	add_ns(z, "test.", "ns.test.");
	add_ns(z, "deleg.test.", "ns.deleg.test.");
	add_a(z, "ns.deleg.test.", 1);
	add_a(z, "x.test.", 2);
	/* MX with an uppercase name: stored lowercased. */
	uint8_t mx[64] = { 0, 10 };
	const uint8_t *mxn = dn("MAIL.Test.");
	memcpy(mx + 2, mxn, zg_dname_len(mxn, 255));
	zg_zone_add(z, dn("x.test."), KNOT_RRTYPE_MX, 300, mx, (uint16_t)(2 + zg_dname_len(mxn, 255)));
	is_int(zg_zone_finalize(z), 0, "finalized");
	bool found;
	is_int(zg_zone_serial(z, &found), 42, "serial");
	ok(found, "SOA found");
	ok(zg_node_flags(zg_zone_apex(z)) & ZG_NODE_APEX, "apex flag");
	ok(zg_node_flags(zg_zone_find(z, dn("deleg.test."))) & ZG_NODE_DELEG, "delegation flag");
	ok(zg_node_flags(zg_zone_find(z, dn("ns.deleg.test."))) & ZG_NODE_NONAUTH, "glue is non-authoritative");
	ok(!(zg_node_flags(zg_zone_find(z, dn("x.test."))) & (ZG_NODE_NONAUTH | ZG_NODE_DELEG)),
	   "plain name is authoritative");
	const zg_rrset_t *mxs = zg_node_rrset(zg_zone_find(z, dn("x.test.")), KNOT_RRTYPE_MX);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t len;
	ok(mxs && zg_rrset_next(mxs, &pos, &rd, &len) && memcmp(rd + 2, dn("mail.test."), 11) == 0,
	   "MX target lowercased (RFC 4034 6.2)");

	/* Incremental changes. */
	is_int(add_a(z, "new.x.test.", 3), 0, "add a new owner");
	is_str(owner_str(zg_node_next(zg_zone_find(z, dn("x.test.")))), "new.x.test.", "new owner linked in order");
	is_int(add_ns(z, "x.test.", "ns.elsewhere."), 0, "add NS below the apex");
	ok(zg_node_flags(zg_zone_find(z, dn("x.test."))) & ZG_NODE_DELEG, "x.test. became a delegation");
	ok(zg_node_flags(zg_zone_find(z, dn("new.x.test."))) & ZG_NODE_NONAUTH, "its subtree became non-authoritative");
	const uint8_t *t = dn("ns.elsewhere.");
	is_int(zg_zone_remove(z, dn("x.test."), KNOT_RRTYPE_NS, t, (uint16_t)zg_dname_len(t, 255)), 0,
	       "remove the NS");
	ok(!(zg_node_flags(zg_zone_find(z, dn("new.x.test."))) & ZG_NODE_NONAUTH), "subtree authoritative again");
	uint8_t a3[4] = { 192, 0, 2, 3 };
	is_int(zg_zone_remove(z, dn("new.x.test."), KNOT_RRTYPE_A, a3, 4), 0, "remove the last RR of an owner");
	ok(zg_zone_find(z, dn("new.x.test.")) == NULL, "owner gone");
	is_int(zg_zone_remove(z, dn("new.x.test."), KNOT_RRTYPE_A, a3, 4), KNOT_ENOENT,
	       "removing a removed RR fails");
	ok(zg_zone_remove(z, dn("x.test."), KNOT_RRTYPE_A, a3, 4) != 0, "removing an absent RR fails");
	is_int(add_a(z, "x.test.", 2), 0, "adding a present RR is a no-op");
	ok(zg_node_rrset(zg_zone_find(z, dn("x.test.")), KNOT_RRTYPE_A)->count == 1, "still one A");

	/* NSEC3 tree: hash lookups. */
	uint8_t h1[20], h2[20];
	memset(h1, 0x11, 20);
	memset(h2, 0x22, 20);
	char b32[64];
	char owner[128];
	zg_base32hex_encode(h1, 20, b32, sizeof(b32), false);
	snprintf(owner, sizeof(owner), "%s.test.", b32);
	uint8_t n3rd[64] = { 1, 0, 0, 0, 0, 20 };
	memcpy(n3rd + 6, h2, 20);
	is_int(zg_zone_add(z, dn(owner), KNOT_RRTYPE_NSEC3, 300, n3rd, 26), 0, "add NSEC3");
	zg_node_t *n3 = zg_zone_find_nsec3(z, h1, 20);
	ok(n3 != NULL && (zg_node_flags(n3) & ZG_NODE_NSEC3), "NSEC3 node found by hash");
	ok(zg_zone_find(z, dn(owner)) == NULL, "NSEC3 owner is not in the name tree");
	ok(zg_zone_find_nsec3_leq(z, h2, 20) == n3, "covering NSEC3 of a bigger hash");
	uint8_t h0[20] = { 0 };
	ok(zg_zone_find_nsec3_leq(z, h0, 20) == NULL, "no predecessor for the smallest hash");
	zg_zone_free(z);
}

static void test_base32(void)
{
	uint8_t in[5] = { 0xff, 0x00, 0x11, 0x22, 0x33 }, out[8];
	char s[16];
	is_int(zg_base32hex_encode(in, 5, s, sizeof(s), false), 8, "base32hex length");
	is_str(s, "VS0128HJ", "base32hex value");
	is_int(zg_base32hex_decode((const uint8_t *)"vs0128hj", 8, out, sizeof(out)), 5, "decode lowercase");
	ok(memcmp(in, out, 5) == 0, "decode round trip");
	is_int(zg_base32hex_decode((const uint8_t *)"VS0W", 4, out, sizeof(out)), -1, "bad character refused");
}

static char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/zg-test-zone-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0) {
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_load(void)
{
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	char *p = write_tmp("$ORIGIN test.\n$TTL 60\n@ SOA ns hm 7 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n");
	is_int(zg_zone_load_file(&z, p, NULL, &err), 0, "load, origin from the SOA");
	ok(z != NULL && zg_zone_serial(z, NULL) == 7, "serial 7");
	zg_zone_free(z);
	z = NULL;
	unlink(p);

	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nns 60 A 192.0.2.1\nbad 60 A 192.0.2.300\n");
	is_int(zg_zone_load_file(&z, p, NULL, &err), ZG_ESYNTAX, "syntax error");
	is_int(err.line, 4, "error line");
	ok(strstr(err.file, "zg-test-zone") != NULL, "error names the file");
	unlink(p);

	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nx.other. 60 A 192.0.2.1\n");
	is_int(zg_zone_load_file(&z, p, NULL, &err), ZG_EOUTOFZONE, "out-of-zone record");
	is_int(err.line, 3, "out-of-zone line");
	ok(strstr(err.reason, "outside the zone") != NULL, "reason: %s", err.reason);
	unlink(p);

	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\n");
	is_int(zg_zone_load_file(&z, p, "other.", &err), ZG_EOUTOFZONE, "wrong -o origin");
	unlink(p);

	p = write_tmp("$ORIGIN test.\nns 60 A 192.0.2.1\n");
	is_int(zg_zone_load_file(&z, p, "test.", &err), ZG_EINPUT, "no SOA");
	unlink(p);

	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nx 60 TXT \"abc");
	is_int(zg_zone_load_file(&z, p, NULL, &err), ZG_ESYNTAX, "truncated file");
	unlink(p);

	is_int(zg_zone_load_file(&z, "/nonexistent/zone", "test.", &err), -2, "missing file is -ENOENT");
}

int main(void)
{
	plan_lazy();
	test_order();
	test_flags_and_changes();
	test_base32();
	test_load();
	return done_testing();
}

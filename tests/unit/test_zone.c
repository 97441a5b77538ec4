/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>

#include "core/error.h"
#include "validate/zone.h"
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
	/* A DNAME occludes the names below it (RFC 6672 2.3), at the apex too. */
	uint8_t target[256];
	memcpy(target, t, zg_dname_len(t, 255));
	t = target;
	is_int(zg_zone_add(z, dn("x.test."), KNOT_RRTYPE_DNAME, 300, t, (uint16_t)zg_dname_len(t, 255)),
	       0, "add a DNAME");
	uint32_t xf = zg_node_flags(zg_zone_find(z, dn("x.test.")));
	uint32_t nf = zg_node_flags(zg_zone_find(z, dn("new.x.test.")));
	ok(!(xf & (ZG_NODE_NONAUTH | ZG_NODE_DELEG)), "the DNAME owner stays authoritative");
	ok((nf & ZG_NODE_NONAUTH) && (nf & ZG_NODE_BELOW_DNAME), "the name below is occluded by a DNAME");
	is_int(zg_zone_remove(z, dn("x.test."), KNOT_RRTYPE_DNAME, t, (uint16_t)zg_dname_len(t, 255)), 0,
	       "remove the DNAME");
	nf = zg_node_flags(zg_zone_find(z, dn("new.x.test.")));
	ok(!(nf & (ZG_NODE_NONAUTH | ZG_NODE_BELOW_DNAME)), "the name below is authoritative again");
	is_int(zg_zone_add(z, dn("test."), KNOT_RRTYPE_DNAME, 300, t, (uint16_t)zg_dname_len(t, 255)),
	       0, "add a DNAME at the apex");
	ok((zg_node_flags(zg_zone_find(z, dn("x.test."))) & ZG_NODE_BELOW_DNAME) &&
	   (zg_node_flags(zg_zone_find(z, dn("new.x.test."))) & ZG_NODE_BELOW_DNAME) &&
	   (zg_node_flags(zg_zone_apex(z)) & ZG_NODE_APEX), "an apex DNAME occludes every other name");
	is_int(add_a(z, "late.test.", 9), 0, "a name added below the apex DNAME");
	ok(zg_node_flags(zg_zone_find(z, dn("late.test."))) & ZG_NODE_BELOW_DNAME, "is occluded at once");
	zg_zone_remove(z, dn("test."), KNOT_RRTYPE_DNAME, t, (uint16_t)zg_dname_len(t, 255));
	ok(!(zg_node_flags(zg_zone_find(z, dn("late.test."))) & ZG_NODE_NONAUTH), "apex DNAME removed");
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

	/* Out-of-zone records are left out and remembered, in file order, each
	 * owner and type once per run of records. */
	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nx.other. 60 A 192.0.2.1\n"
	              "x.other. 60 A 192.0.2.2\nX.Other. 60 NSEC test. A\nns 60 A 192.0.2.1\n");
	is_int(zg_zone_load_file(&z, p, NULL, &err), 0, "out-of-zone records: the zone loads");
	const uint8_t *o = NULL;
	uint16_t ot = 0;
	ok(z != NULL && zg_zone_outside(z, 0, &o, &ot) && ot == KNOT_RRTYPE_A &&
	   zg_dname_len(o, 255) == zg_dname_len(dn("x.other."), 255) &&
	   memcmp(o, dn("x.other."), zg_dname_len(o, 255)) == 0, "first out-of-zone pair: x.other. A");
	ok(z != NULL && zg_zone_outside(z, 1, &o, &ot) && ot == KNOT_RRTYPE_NSEC &&
	   memcmp(o, dn("x.other."), zg_dname_len(o, 255)) == 0, "second: x.other. NSEC (lowercased)");
	ok(z != NULL && !zg_zone_outside(z, 2, &o, &ot), "two pairs remembered");
	size_t rrs = 0;
	if (z != NULL) {
		zg_zone_counts(z, NULL, NULL, &rrs);
	}
	is_int(rrs, 2, "only the zone's own records are in the zone");
	zg_zone_free(z);
	z = NULL;
	unlink(p);

	/* Past ZG_ZONE_OUTSIDE_MAX pairs, only counts (NSEC and NSEC3 apart). */
	zg_zone_new(&z, dn("test."));
	char nm[64];
	for (int i = 0; i < ZG_ZONE_OUTSIDE_MAX + 5; i++) {
		snprintf(nm, sizeof(nm), "n%d.other.", i);
		zg_zone_note_outside(z, dn(nm), i % 2 ? KNOT_RRTYPE_NSEC3 : KNOT_RRTYPE_TXT);
	}
	size_t more = 0, more_denial = 0;
	zg_zone_outside_more(z, &more, &more_denial);
	ok(zg_zone_outside(z, ZG_ZONE_OUTSIDE_MAX - 1, &o, &ot) &&
	   !zg_zone_outside(z, ZG_ZONE_OUTSIDE_MAX, &o, &ot), "the first %d pairs are remembered",
	   ZG_ZONE_OUTSIDE_MAX);
	ok(more == 5 && more_denial == 2, "beyond them: %zu more, %zu NSEC/NSEC3", more, more_denial);
	zg_zone_free(z);
	z = NULL;

	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\n");
	is_int(zg_zone_load_file(&z, p, "other.", &err), ZG_EINPUT, "wrong -o origin: no SOA");
	ok(strstr(err.reason, "no SOA record at the zone apex other. (records outside the zone, "
	          "the first: test. SOA)") != NULL, "reason names the first record outside: %s",
	   err.reason);
	unlink(p);

	/* What cannot be a zone file fails before it is read. */
	p = write_tmp("");
	is_int(zg_zone_load_file(&z, p, "test.", &err), ZG_EINPUT, "empty file");
	is_str(err.reason, "empty file", "empty file: reason");
	unlink(p);
	char dir[] = "/tmp/zg-test-dir-XXXXXX";
	ok(mkdtemp(dir) != NULL, "a directory");
	is_int(zg_zone_load_file(&z, dir, "test.", &err), ZG_EINPUT, "a directory is refused");
	is_str(err.reason, "not a regular file (a directory)", "directory: reason");
	char fifo[sizeof(dir) + 8];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ok(mkfifo(fifo, 0600) == 0, "a FIFO without a writer");
	is_int(zg_zone_load_file(&z, fifo, "test.", &err), ZG_EINPUT, "a FIFO is refused at once");
	is_str(err.reason, "not a regular file (a FIFO)", "FIFO: reason");
	unlink(fifo);
	rmdir(dir);
	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nns 60 A 192.0.2.1\n");
	FILE *f = fopen(p, "r+");
	fseek(f, 0, SEEK_END);
	fputc(0, f);  /* a NUL byte on line 4, then a large hole (a sparse file) */
	ftruncate(fileno(f), 1 << 30);
	fclose(f);
	time_t t0 = time(NULL);
	is_int(zg_zone_load_file(&z, p, NULL, &err), ZG_EINPUT, "binary data refused");
	ok(time(NULL) - t0 < 60, "without reading the 1 GiB file (%lld s)", (long long)(time(NULL) - t0));
	is_int(err.line, 4, "binary data: the line of the NUL byte");
	ok(strstr(err.reason, "binary data (a NUL byte at offset") != NULL, "reason: %s", err.reason);
	zg_load_opts_t two = { .threads = 2 };
	is_int(zg_zone_load_file_opts(&z, p, NULL, &two, &err), ZG_EINPUT,
	       "binary data refused by the parallel load too");
	unlink(p);

	p = write_tmp("$ORIGIN test.\nns 60 A 192.0.2.1\n");
	is_int(zg_zone_load_file(&z, p, "test.", &err), ZG_EINPUT, "no SOA");
	unlink(p);

	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nx 60 TXT \"abc");
	is_int(zg_zone_load_file(&z, p, NULL, &err), ZG_ESYNTAX, "truncated file");
	unlink(p);

	is_int(zg_zone_load_file(&z, "/nonexistent/zone", "test.", &err), -2, "missing file is -ENOENT");
}

/* Where the cut lands: the offset of \a marker (which starts a line) in \a text. */
static size_t at(const char *text, const char *marker)
{
	const char *p = strstr(text, marker);
	return p != NULL ? (size_t)(p - text) : (size_t)-1;
}

static void test_split_cuts(void)
{
	size_t cuts[ZG_LOAD_MAX_PARTS];
	const char *t;

	t = "a A 192.0.2.1\nb A 192.0.2.2\nc A 192.0.2.3\nd A 192.0.2.4\n";
	is_int(zg_zone_text_split(t, strlen(t), 2, cuts), 2, "plain text: two parts");
	is_int(cuts[0], at(t, "c A"), "cut at the first record at or after the middle");
	is_int(zg_zone_text_split(t, strlen(t), 4, cuts), 4, "four parts");
	ok(cuts[0] == at(t, "b A") && cuts[1] == at(t, "c A") && cuts[2] == at(t, "d A"),
	   "four parts: cuts at b, c, d (%zu %zu %zu)", cuts[0], cuts[1], cuts[2]);
	is_int(zg_zone_text_split(t, strlen(t), 1, cuts), 1, "one part asked: no cut");

	/* A record in parentheses spans the middle; its continuation line starts
	 * in the first column like an owner would. */
	t = "a A 192.0.2.1\nb TXT ( \"one\"\n\"two\" \"three\"\nthree-looks-like-an-owner\n)\n"
	    "c A 192.0.2.3\n";
	is_int(zg_zone_text_split(t, strlen(t), 2, cuts), 2, "parentheses: two parts");
	is_int(cuts[0], at(t, "c A"), "no cut inside parentheses");

	/* Quotes, semicolons and parentheses in comments and quoted strings. */
	t = "a A 192.0.2.1 ; a comment with \"a quote and ( a parenthesis\n"
	    "b TXT \"a ; semicolon and a ( parenthesis in quotes\" \"\\\" escaped\"\n"
	    "c A 192.0.2.3\nd A 192.0.2.4\n";
	is_int(zg_zone_text_split(t, strlen(t), 2, cuts), 2, "comments with quotes: two parts");
	ok(cuts[0] == at(t, "c A") || cuts[0] == at(t, "d A"),
	   "cut at a record line after the middle (%zu)", cuts[0]);

	/* Lines starting with a blank continue the previous owner; the same
	 * owner on consecutive lines is not cut apart; directives are not cuts. */
	t = "a A 192.0.2.1\nb A 192.0.2.2\n  AAAA 2001:db8::2\n\tTXT \"b\"\n"
	    "b MX 10 b\nb TXT \"again\"\n$TTL 60\nc A 192.0.2.3\n";
	is_int(zg_zone_text_split(t, strlen(t), 2, cuts), 2, "continuation lines: two parts");
	is_int(cuts[0], at(t, "c A"), "cut at the next owner, not at a blank or a repeated owner");

	t = "a A 192.0.2.1\n  A 192.0.2.2\n  A 192.0.2.3\n  A 192.0.2.4\n  A 192.0.2.5\n";
	is_int(zg_zone_text_split(t, strlen(t), 2, cuts), 1, "nothing to cut at: one part");

	/* Texts shorter than the number of parts (found by fuzz_zone): every cut
	 * is a line start strictly inside the text, in increasing order. */
	static const char *const shorts[] = { "a", "a\n", "a\nb", "a\nb\n", "a\nb\nc\n", "ab\nc\n",
	                                     "\na\nb", "a\nb\nc\nd\ne\n" };
	for (size_t k = 0; k < sizeof(shorts) / sizeof(shorts[0]); k++) {
		size_t len = strlen(shorts[k]);
		for (unsigned parts = 2; parts <= ZG_LOAD_MAX_PARTS; parts++) {
			unsigned n = zg_zone_text_split(shorts[k], len, parts, cuts);
			bool good = n >= 1 && n <= parts;
			for (unsigned i = 0; good && i + 1 < n; i++) {
				good = cuts[i] > 0 && cuts[i] < len && shorts[k][cuts[i] - 1] == '\n' &&
				       (i == 0 || cuts[i] > cuts[i - 1]);
			}
			if (!good) {
				ok(false, "short text %zu (%zu bytes) in %u parts: %u parts, first cut %zu",
				   k, len, parts, n, n > 1 ? cuts[0] : 0);
				goto next;
			}
		}
		ok(true, "short text %zu (%zu bytes): cuts inside the text at line starts", k, len);
next:;
	}
	t = "a\nb\n";
	is_int(zg_zone_text_split(t, strlen(t), 8, cuts), 2, "4 bytes in 8 parts: two parts");
	is_int(cuts[0], 2, "cut at the second line, not at offset 0");
}

/* Whether two finalized zones hold the same owners and RRsets, byte for byte. */
static bool zones_equal(const zg_zone_t *a, const zg_zone_t *b, char *why, size_t whylen)
{
	size_t na, nb, ra, rb, ha, hb;
	zg_zone_counts(a, &na, &ha, &ra);
	zg_zone_counts(b, &nb, &hb, &rb);
	if (na != nb || ha != hb || ra != rb) {
		snprintf(why, whylen, "counts %zu/%zu/%zu vs %zu/%zu/%zu", na, ha, ra, nb, hb, rb);
		return false;
	}
	for (int t = 0; t < 2; t++) {
		zg_node_t *x = t ? zg_zone_nsec3_first(a) : zg_zone_first(a);
		zg_node_t *y = t ? zg_zone_nsec3_first(b) : zg_zone_first(b);
		for (; x != NULL && y != NULL; x = zg_node_next(x), y = zg_node_next(y)) {
			size_t kx, ky;
			const uint8_t *px = zg_node_key(x, &kx), *py = zg_node_key(y, &ky);
			if (kx != ky || memcmp(px, py, kx) != 0 ||
			    zg_node_flags(x) != zg_node_flags(y) ||
			    zg_node_rrset_count(x) != zg_node_rrset_count(y)) {
				snprintf(why, whylen, "owner %s differs", owner_str(x));
				return false;
			}
			for (unsigned i = 0; i < zg_node_rrset_count(x); i++) {
				const zg_rrset_t *sx = zg_node_rrset_at(x, i), *sy = zg_node_rrset_at(y, i);
				if (sx->type != sy->type || sx->covered != sy->covered ||
				    sx->ttl != sy->ttl || sx->count != sy->count || sx->size != sy->size ||
				    memcmp(sx->data, sy->data, sx->size) != 0) {
					snprintf(why, whylen, "%s type %u differs", owner_str(x), sx->type);
					return false;
				}
			}
		}
		if (x != NULL || y != NULL) {
			snprintf(why, whylen, "tree %d lengths differ", t);
			return false;
		}
	}
	return true;
}

/* Loads \a text whole and in \a threads parts; both loads must agree. */
/* Random incremental changes (NS, A, TXT at names of several depths, the
 * apex's SOA included) keep every node's flags equal to those of a zone built
 * from scratch with the same records. */
static void test_flags_random(void)
{
	static const char *names[] = {
		"test.", "a.test.", "b.a.test.", "c.b.a.test.", "x.test.", "y.x.test.",
		"z.y.x.test.", "m.test.", "n.m.test.", "h0.test.", "h1.test.", "h2.test.",
		"h3.test.", "h4.test.", "h5.test.", "h6.test.", "h7.test.", "h8.test.", "h9.test.",
		"ha.test.", "hb.test.", "hc.test.", "hd.test.", "he.test.", "hf.test.",
	};
	static const uint16_t types[] = { KNOT_RRTYPE_NS, KNOT_RRTYPE_A, KNOT_RRTYPE_TXT,
	                                  KNOT_RRTYPE_SOA, KNOT_RRTYPE_DNAME };
	enum { NN = sizeof(names) / sizeof(names[0]), NT = 5 };
	bool have[NN][NT] = { { false } };
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	zg_zone_t *z = NULL;
	zg_zone_new(&z, dn("test."));
	zg_zone_finalize(z);
	const uint8_t *nst = dn("ns.elsewhere.");
	size_t nslen = zg_dname_len(nst, 255);
	uint8_t ns[256];
	memcpy(ns, nst, nslen);
	const uint8_t a[4] = { 192, 0, 2, 1 };
	const uint8_t txt[4] = { 3, 'z', 'g', '!' };
	uint8_t soa[64] = { 0 };
	size_t soalen = 0;
	memcpy(soa, ns, nslen);
	soalen = nslen;
	memcpy(soa + soalen, ns, nslen);
	soalen += nslen + 20;
	int bad = 0;
	char why[256] = "";
	for (int step = 0; step < 2000 && bad == 0; step++) {
		rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
		unsigned ni = (unsigned)(rng % NN), ti = (unsigned)((rng >> 8) % NT);
		if (types[ti] == KNOT_RRTYPE_SOA) {
			ni = 0;  /* the apex's SOA, as every serial changes it */
			soa[soalen - 17] = (uint8_t)step;
		}
		/* NS and DNAME (a cut each, DNAME also at the apex) share the target. */
		bool target = types[ti] == KNOT_RRTYPE_NS || types[ti] == KNOT_RRTYPE_DNAME;
		const uint8_t *rd = target ? ns : types[ti] == KNOT_RRTYPE_A ? a :
		                    types[ti] == KNOT_RRTYPE_TXT ? txt : soa;
		uint16_t rdlen = (uint16_t)(target ? nslen : types[ti] == KNOT_RRTYPE_SOA ? soalen : 4);
		int ret;
		if (types[ti] == KNOT_RRTYPE_SOA && have[0][ti]) {
			/* SOA replaced: remove the old one (its serial byte was step - 1). */
			const zg_node_t *apex = zg_zone_apex(z);
			const zg_rrset_t *old = apex ? zg_node_rrset(apex, KNOT_RRTYPE_SOA) : NULL;
			size_t pos = 0;
			const uint8_t *ord;
			uint16_t olen;
			uint8_t copy[64];
			ret = old != NULL && zg_rrset_next(old, &pos, &ord, &olen) ? 0 : -1;
			if (ret == 0) {
				memcpy(copy, ord, olen);
				ret = zg_zone_remove(z, dn("test."), KNOT_RRTYPE_SOA, copy, olen);
			}
			if (ret == 0) {
				ret = zg_zone_add(z, dn("test."), KNOT_RRTYPE_SOA, 300, rd, rdlen);
			}
		} else if (have[ni][ti]) {
			ret = zg_zone_remove(z, dn(names[ni]), types[ti], rd, rdlen);
			have[ni][ti] = false;
		} else {
			ret = zg_zone_add(z, dn(names[ni]), types[ti], 300, rd, rdlen);
			have[ni][ti] = true;
		}
		if (ret != 0) {
			snprintf(why, sizeof(why), "step %d: change failed (%d)", step, ret);
			bad = 1;
			break;
		}
		/* The same records, loaded from scratch. */
		zg_zone_t *f = NULL;
		zg_zone_new(&f, dn("test."));
		for (unsigned i = 0; i < NN; i++) {
			for (unsigned t = 0; t < NT; t++) {
				if (!have[i][t] && !(t == 3 && i == 0 && types[ti] == KNOT_RRTYPE_SOA)) {
					continue;
				}
				if (t == 3 && i != 0) {
					continue;
				}
				const uint8_t *r = (t == 0 || t == 4) ? ns : t == 1 ? a : t == 2 ? txt : soa;
				uint16_t l = (uint16_t)((t == 0 || t == 4) ? nslen : t == 3 ? soalen : 4);
				zg_zone_add(f, dn(names[i]), types[t], 300, r, l);
			}
		}
		if (types[ti] == KNOT_RRTYPE_SOA) {
			have[0][ti] = true;
		}
		zg_zone_finalize(f);
		/* Links both ways, and every name found exactly when it has records. */
		size_t fwd = 0, bwd = 0;
		const zg_node_t *prev = NULL;
		for (const zg_node_t *x = zg_zone_first(z); x != NULL; x = zg_node_next(x)) {
			if (zg_node_prev(x) != prev) {
				snprintf(why, sizeof(why), "step %d: prev link of %s wrong", step, owner_str(x));
				bad = 1;
			}
			prev = x;
			fwd++;
		}
		if (zg_zone_last(z) != prev) {
			snprintf(why, sizeof(why), "step %d: last node wrong", step);
			bad = 1;
		}
		for (const zg_node_t *x = zg_zone_last(z); x != NULL; x = zg_node_prev(x)) {
			bwd++;
		}
		if (fwd != bwd) {
			snprintf(why, sizeof(why), "step %d: %zu nodes forward, %zu backward", step, fwd, bwd);
			bad = 1;
		}
		for (unsigned i = 0; i < NN; i++) {
			bool any = false;
			for (unsigned t = 0; t < NT; t++) {
				any |= have[i][t];
			}
			if ((zg_zone_find(z, dn(names[i])) != NULL) != any) {
				snprintf(why, sizeof(why), "step %d: lookup of %s wrong", step, names[i]);
				bad = 1;
			}
		}
		if (bad == 0 && !zones_equal(z, f, why, sizeof(why))) {
			char w2[256];
			snprintf(w2, sizeof(w2), "step %d (%s %u): %s", step, names[ni], types[ti], why);
			snprintf(why, sizeof(why), "%s", w2);
			bad = 1;
		}
		zg_zone_free(f);
	}
	ok(bad == 0, "2,000 random changes: links, lookups and flags equal to a fresh load's%s%s", bad ? ": " : "",
	   why);
	zg_zone_free(z);
}

static void split_load(const char *name, const char *text, unsigned threads, unsigned want_parts)
{
	char *p = write_tmp(text);
	zg_zone_t *one = NULL, *many = NULL;
	zg_load_error_t err;
	zg_load_opts_t o1 = { .threads = 1 }, on = { .threads = threads };
	int r1 = zg_zone_load_file_opts(&one, p, NULL, &o1, &err);
	int rn = zg_zone_load_file_opts(&many, p, NULL, &on, &err);
	ok(r1 == 0 && rn == 0, "%s: both loads succeed (%d, %d: %s)", name, r1, rn, err.reason);
	is_int(on.parts, want_parts, "%s: parsed in %u parts", name, want_parts);
	char why[256] = "";
	ok(one != NULL && many != NULL && zones_equal(one, many, why, sizeof(why)),
	   "%s: same zone as the one-piece load %s", name, why);
	zg_zone_free(one);
	zg_zone_free(many);
	unlink(p);
}

static void test_split_load(void)
{
	/* $ORIGIN and $TTL change before the cut; after it, relative owners and
	 * records without a TTL rely on both. */
	split_load("directives before the cut",
	           "$ORIGIN test.\n$TTL 60\n@ SOA ns hm 7 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n"
	           "$ORIGIN sub.test.\n$TTL 120\nwww A 192.0.2.2\nmail A 192.0.2.3\n"
	           "ftp A 192.0.2.4\nx A 192.0.2.5\ny A 192.0.2.6\nz A 192.0.2.7\n", 2, 2);
	/* A relative owner continued by blank-started lines across the middle. */
	split_load("owner continued across the middle",
	           "$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\n@ 60 NS ns\nns 60 A 192.0.2.1\n"
	           "www 60 A 192.0.2.2\n 60 A 192.0.2.3\n 60 A 192.0.2.4\n 60 A 192.0.2.5\n"
	           "\t60 AAAA 2001:db8::1\n 60 TXT \"still www\"\nzz 60 A 192.0.2.9\n", 2, 2);
	/* A multi-line record across the middle, one of its lines in column 1. */
	split_load("parentheses across the middle",
	           "$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\n@ 60 NS ns\nns 60 A 192.0.2.1\n"
	           "t 60 TXT ( \"one\" ; a comment with a \" quote\n\"two\" \"three\"\n"
	           "four-in-column-one\n\"five\" )\nu 60 A 192.0.2.2\nv 60 A 192.0.2.3\n", 2, 2);
	/* The same owner on both sides of the cut, spelled differently. */
	split_load("owner split by the cut",
	           "$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\n@ 60 NS ns\nns 60 A 192.0.2.1\n"
	           "www 60 A 192.0.2.2\nwww 60 A 192.0.2.3\nwww 60 A 192.0.2.4\n"
	           "WWW 60 A 192.0.2.5\nwww.test. 60 AAAA 2001:db8::1\nwww 60 TXT \"x\"\n", 2, 2);
	split_load("three parts",
	           "$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\n@ 60 NS ns\nns 60 A 192.0.2.1\n"
	           "$TTL 30\na A 192.0.2.2\nb A 192.0.2.3\nc A 192.0.2.4\nd A 192.0.2.5\n"
	           "$ORIGIN d.test.\ne A 192.0.2.6\nf A 192.0.2.7\ng A 192.0.2.8\n", 3, 3);

	/* Errors in a later part: the file is parsed again in one piece and the
	 * error and its line are those of the one-piece load. */
	zg_zone_t *z = NULL;
	zg_load_error_t err;
	zg_load_opts_t o = { .threads = 2 };
	char *p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nns 60 A 192.0.2.1\n"
	                    "a 60 A 192.0.2.2\nb 60 A 192.0.2.3\nc 60 A 192.0.2.4\n"
	                    "bad 60 A 192.0.2.300\nd 60 A 192.0.2.5\n");
	is_int(zg_zone_load_file_opts(&z, p, NULL, &o, &err), ZG_ESYNTAX, "error after the cut");
	is_int(err.line, 7, "its line counts the lines before the cut");
	unlink(p);
	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nns 60 A 192.0.2.1\n"
	              "a 60 A 192.0.2.2\nb 60 A 192.0.2.3\nc 60 A 192.0.2.4\n"
	              "x.other. 60 A 192.0.2.5\nd 60 A 192.0.2.5\n");
	is_int(zg_zone_load_file_opts(&z, p, NULL, &o, &err), 0, "out-of-zone record after the cut");
	const uint8_t *xo = NULL;
	uint16_t xt = 0;
	ok(z != NULL && o.parts == 2 && zg_zone_outside(z, 0, &xo, &xt) && xt == KNOT_RRTYPE_A &&
	   !zg_zone_outside(z, 1, &xo, &xt), "loaded in %u parts, the record remembered once",
	   o.parts);
	zg_zone_free(z);
	z = NULL;
	unlink(p);
	/* An unclosed parenthesis before the cut: no cut is found after it. */
	p = write_tmp("$ORIGIN test.\n@ 60 SOA ns hm 7 1 1 1 1\nns 60 A 192.0.2.1\n"
	              "t 60 TXT ( \"open\"\na 60 A 192.0.2.2\nb 60 A 192.0.2.3\nc 60 A 192.0.2.4\n");
	is_int(zg_zone_load_file_opts(&z, p, NULL, &o, &err), ZG_ESYNTAX, "unclosed parenthesis");
	unlink(p);
}

/* The RRs of owner i of test_memory_flat()'s zone: one to three A records
 * and a TXT record whose size depends on the owner. */
static int mem_owner(zg_zone_t *z, unsigned i, bool add)
{
	char name[64];
	snprintf(name, sizeof(name), "h%u.%s.test.", i, (i % 3) ? "sub" : "x");
	uint8_t txt[256];
	size_t tl = 8 + (i * 37) % 200;
	txt[0] = (uint8_t)(tl - 1);
	memset(txt + 1, 'a' + i % 26, tl - 1);
	int ret = add ? zg_zone_add(z, dn(name), KNOT_RRTYPE_TXT, 300, txt, (uint16_t)tl)
	              : zg_zone_remove(z, dn(name), KNOT_RRTYPE_TXT, txt, (uint16_t)tl);
	for (unsigned k = 0; ret == 0 && k <= i % 3; k++) {
		uint8_t rd[4] = { 192, 0, (uint8_t)k, (uint8_t)i };
		ret = add ? zg_zone_add(z, dn(name), KNOT_RRTYPE_A, 300, rd, 4)
		          : zg_zone_remove(z, dn(name), KNOT_RRTYPE_A, rd, 4);
	}
	return ret;
}

/*
 * Issue 20: a long stream of changes that keeps the zone's content (owners
 * removed and added again, record by record) keeps the store's memory flat:
 * the blocks of replaced and removed nodes are reused.
 */
static void test_memory_flat(void)
{
	enum { OWNERS = 3000, ROUNDS = 300, PER_ROUND = 300 };
	zg_zone_t *z = NULL, *ref = NULL;
	zg_zone_new(&z, dn("test."));
	zg_zone_new(&ref, dn("test."));
	int ret = 0;
	for (unsigned i = 0; i < OWNERS && ret == 0; i++) {
		ret = mem_owner(z, i, true);
		ret = ret ? ret : mem_owner(ref, i, true);
	}
	ret = ret ? ret : zg_zone_finalize(z);
	ret = ret ? ret : zg_zone_finalize(ref);
	size_t total0 = 0, warm = 0, total = 0, nfree = 0;
	zg_zone_mem(z, &total0, &nfree);
	is_int(nfree, 0, "memory: no free blocks after the load");
	/* Each round removes some owners (their nodes shrink to nothing) and
	 * adds back those the round before removed. */
	static unsigned removed[2][PER_ROUND];
	uint64_t rng = 20;
	for (unsigned r = 0; r <= ROUNDS && ret == 0; r++) {
		for (unsigned k = 0; k < PER_ROUND && r > 0 && ret == 0; k++) {
			ret = mem_owner(z, removed[(r - 1) % 2][k], true);
		}
		for (unsigned k = 0; k < PER_ROUND && r < ROUNDS && ret == 0; k++) {
			rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
			/* Distinct owners within a round: one of each tenth of the zone's
			 * stretch of PER_ROUND. */
			unsigned i = k * (OWNERS / PER_ROUND) + (unsigned)(rng % (OWNERS / PER_ROUND));
			removed[r % 2][k] = i;
			ret = mem_owner(z, i, false);
		}
		if (r == ROUNDS / 10) {
			zg_zone_mem(z, &warm, NULL);
		}
	}
	is_int(ret, 0, "memory: %d rounds of %d owners removed and added back", ROUNDS, PER_ROUND);
	char why[256] = "";
	ok(zones_equal(z, ref, why, sizeof(why)), "memory: the content is the loaded zone's %s", why);
	zg_zone_mem(z, &total, &nfree);
	/* Without reuse every change takes a new node: over 100 times the zone. */
	ok(total <= total0 + total0 / 20, "memory: %zu bytes for nodes, %zu after the load", total,
	   total0);
	ok(total <= warm + warm / 50, "memory: under 2%% growth after the warm-up (%zu, then %zu bytes)",
	   warm, total);
	ok(nfree <= total0 / 20, "memory: %zu bytes in free blocks", nfree);
	zg_zone_free(z);
	zg_zone_free(ref);
}

int main(void)
{
	plan_lazy();
	test_order();
	test_flags_and_changes();
	test_base32();
	test_load();
	test_split_cuts();
	test_split_load();
	test_flags_random();
	test_memory_flat();
	return done_testing();
}

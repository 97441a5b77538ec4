/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the gateway's batches (lib/ingest/gateway.c,
 * zg_gateway_apply_batch()) against a real knotd started here on 127.0.0.1
 * (KNOTD, or /usr/sbin/knotd): knotd refuses a whole pipelined batch when
 * one of its UPDATEs fails (here: one message over zone-max-size, REFUSED
 * for every UPDATE of the batch on Knot 3.2 to 3.5); the gateway bisects
 * until the culprit is alone. The culprit first, in the middle and last;
 * a batch without culprit; batches of one. Every outcome is read back from
 * knotd with the library's own signed AXFR and SOA query.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>

#include "tap.h"
#include "core/error.h"
#include "dns/xfr.h"
#include "ingest/gateway.h"
#include "ingest/msg.h"
#include "knotd.h"

#define SECRET     "c2VjcmV0IG9mIHRoZSBnYXRld2F5IHRlc3Q="
#define KEY_STR    "hmac-sha256:gkey:" SECRET
#define N          8     /* Messages of a batch. */
#define MAX_OWNERS 64

static char tmpdir[] = "/tmp/zg-test-gateway.XXXXXX";
static pid_t knotd_pid = -1;
static struct sockaddr_storage server;
static uint8_t zone[KNOT_DNAME_MAXLEN];
static knot_tsig_key_t key;
static zg_msg_parser_t *parser;
static zg_gateway_t *gw;

static bool knotd_start(void)
{
	const char *zonefile = "$ORIGIN test.\n$TTL 3600\n"
	                       "@ SOA ns.test. hostmaster.test. 1 3600 900 604800 300\n"
	                       "@ NS ns.test.\n"
	                       "ns A 192.0.2.53\n";
	if (write_file_in(tmpdir, "test.zone", zonefile) != 0) {
		return false;
	}
	char sections[1024];
	snprintf(sections, sizeof(sections),
	         "key:\n  - id: gkey\n    algorithm: hmac-sha256\n    secret: " SECRET "\n"
	         "acl:\n  - id: gw\n    address: 127.0.0.0/8\n    key: gkey\n"
	         "    action: [transfer, update]\n"
	         "zone:\n  - domain: test.\n    storage: \"%s\"\n    file: test.zone\n"
	         "    zonefile-sync: -1\n    zone-max-size: 20000\n    acl: gw\n",
	         tmpdir);
	return knotd_start_in(tmpdir, &server, sections, zone, 1, &knotd_pid);
}

/* ---- reading back: the zone by signed AXFR ---- */

typedef struct {
	char owner[MAX_OWNERS][KNOT_DNAME_TXT_MAXLEN];
	int a[MAX_OWNERS];        /* A records at the owner. */
	char addr[MAX_OWNERS][INET_ADDRSTRLEN];
	int other[MAX_OWNERS];    /* Other records at the owner. */
	size_t n;
	int64_t total;
} zone_view_t;

static int view_rr(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                   const uint8_t *rdata, uint16_t rdlen)
{
	(void)ttl;
	zone_view_t *v = ctx;
	char name[KNOT_DNAME_TXT_MAXLEN];
	v->total++;
	if (knot_dname_to_str(name, owner, sizeof(name)) == NULL) {
		return -EINVAL;
	}
	size_t i = 0;
	while (i < v->n && strcmp(v->owner[i], name) != 0) {
		i++;
	}
	if (i == v->n) {
		if (v->n == MAX_OWNERS) {
			return -ENOSPC;
		}
		strcpy(v->owner[v->n++], name);
	}
	if (type == KNOT_RRTYPE_A && rdlen == 4) {
		v->a[i]++;
		inet_ntop(AF_INET, rdata, v->addr[i], sizeof(v->addr[i]));
	} else {
		v->other[i]++;
	}
	return 0;
}

static int zone_read(zone_view_t *v)
{
	memset(v, 0, sizeof(*v));
	zg_xfr_peer_t peer = { .addr = &server, .key = &key, .zone = zone, .timeout_ms = 5000 };
	char reason[256] = "";
	int ret = zg_xfr_axfr_each(&peer, view_rr, v, reason, sizeof(reason));
	if (ret != 0) {
		diag("AXFR: %s", reason);
	}
	return ret;
}

static int view_find(const zone_view_t *v, const char *owner)
{
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->owner[i], owner) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* ---- knotd's own count of the batches it refused ---- */

static int refused_batches(void)
{
	char path[256], line[1024];
	snprintf(path, sizeof(path), "%s/knotd.log", tmpdir);
	FILE *f = fopen(path, "r");
	int n = 0;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		n += strstr(line, "zone size exceeded") != NULL;
	}
	if (f != NULL) {
		fclose(f);
	}
	return n;
}

/* ---- messages ---- */

/* A record at <tag><i>.test. */
static int msg_small(zg_msg_t *msg, const char *tag, int i)
{
	char json[512], reason[ZG_MSG_REASON_MAX];
	snprintf(json, sizeof(json),
	         "{\"version\":1,\"id\":\"%s-%d\",\"zone\":\"test.\",\"changes\":"
	         "[{\"owner\":\"%s%d.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,"
	         "\"rdata\":[\"192.0.2.%d\"]}]}]}",
	         tag, i, tag, i, 10 + i);
	int ret = zg_msg_parse(parser, json, strlen(json), zone, msg, reason, sizeof(reason));
	if (ret != 0) {
		diag("%s", reason);
	}
	return ret;
}

/* 170 TXT records of 230 bytes at big-<tag>.test.: some 40 KB in one
 * UPDATE, twice the zone's size limit. */
static int msg_big(zg_msg_t *msg, const char *tag)
{
	size_t len = 64 * 1024;
	char *json = malloc(len), reason[ZG_MSG_REASON_MAX];
	if (json == NULL) {
		return -ENOMEM;
	}
	size_t at = (size_t)snprintf(json, len,
	         "{\"version\":1,\"id\":\"%s-big\",\"zone\":\"test.\",\"changes\":"
	         "[{\"owner\":\"big-%s.test.\",\"rrsets\":[{\"type\":\"TXT\",\"ttl\":300,"
	         "\"rdata\":[", tag, tag);
	for (int i = 0; i < 170; i++) {
		at += (size_t)snprintf(json + at, len - at, "%s\"\\\"%03d", i > 0 ? "," : "", i);
		memset(json + at, 'x', 227);
		at += 227;
		at += (size_t)snprintf(json + at, len - at, "\\\"\"");
	}
	at += (size_t)snprintf(json + at, len - at, "]}]}]}");
	int ret = zg_msg_parse(parser, json, at, zone, msg, reason, sizeof(reason));
	if (ret != 0) {
		diag("%s", reason);
	}
	free(json);
	return ret;
}

/*
 * A batch of n messages tagged tag, the culprit at position culprit (-1:
 * none). Checks every verdict, the zone read back and the serial.
 */
static void test_batch(const char *tag, size_t n, int culprit)
{
	zg_msg_t msgs[N];
	zg_apply_item_t items[N];
	memset(items, 0, sizeof(items));
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		zg_msg_init(&msgs[i]);
		if (ret == 0) {
			ret = (int)i == culprit ? msg_big(&msgs[i], tag) : msg_small(&msgs[i], tag, (int)i);
		}
		items[i].msg = &msgs[i];
	}
	uint32_t before = 0, after = 0;
	int refused0 = refused_batches();
	if (ret != 0 || zg_gateway_serial(gw, zone, &before) != 0) {
		ok(false, "%s: messages parsed and serial read", tag);
		goto out;
	}

	ret = zg_gateway_apply_batch(gw, items, n);
	is_int(ret, 0, "%s: every one of %zu messages has its verdict", tag, n);

	int good = 0;
	for (size_t i = 0; i < n; i++) {
		if ((int)i == culprit) {
			continue;
		}
		good += items[i].ret == 0 && items[i].reason[0] == '\0' &&
		        items[i].res.serial_known && items[i].res.serial != before;
		if (items[i].ret != 0) {
			diag("%s: %s", items[i].msg->id, items[i].reason);
		}
	}
	is_int(good, (int)n - (culprit >= 0), "%s: every message but the culprit applied", tag);
	if (culprit >= 0) {
		char want[128];
		snprintf(want, sizeof(want), "message %s-big: server answered REFUSED to UPDATE 1/1 ",
		         tag);
		const zg_apply_item_t *c = &items[culprit];
		ok(c->ret == ZG_EREFUSED && strncmp(c->reason, want, strlen(want)) == 0,
		   "%s: the culprit (position %d) refused alone, with Knot's answer (%s)", tag,
		   culprit, c->reason);
	}

	/* The zone as served: each applied message's record once, the
	 * culprit's owner absent. */
	zone_view_t *v = calloc(1, sizeof(*v));
	static zone_view_t prev;
	static bool have_prev;
	ret = v == NULL ? -ENOMEM : zone_read(v);
	is_int(ret, 0, "%s: zone read back by signed AXFR", tag);
	int served = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		char owner[64], addr[32];
		if ((int)i == culprit) {
			snprintf(owner, sizeof(owner), "big-%s.test.", tag);
			ok(view_find(v, owner) < 0, "%s: nothing of the culprit served", tag);
			continue;
		}
		snprintf(owner, sizeof(owner), "%s%zu.test.", tag, i);
		snprintf(addr, sizeof(addr), "192.0.2.%zu", 10 + i);
		int k = view_find(v, owner);
		served += k >= 0 && v->a[k] == 1 && v->other[k] == 0 && strcmp(v->addr[k], addr) == 0;
	}
	if (ret == 0) {
		is_int(served, (int)n - (culprit >= 0),
		       "%s: each applied message's record served exactly once", tag);
		/* Apart from these owners, the zone is what it was. */
		if (have_prev) {
			int64_t added = (int64_t)n - (culprit >= 0);
			ok(v->total == prev.total + added, "%s: %lld records, %lld before, %lld added",
			   tag, (long long)v->total, (long long)prev.total, (long long)added);
		}
		prev = *v;
		have_prev = true;
	}
	free(v);

	/* The serial: moved, by at most one per applied message; every item's
	 * serial is one served meanwhile. */
	ret = zg_gateway_serial(gw, zone, &after);
	uint32_t moved = after - before;
	bool in_range = true;
	for (size_t i = 0; i < n; i++) {
		if (items[i].ret == 0) {
			in_range = in_range && items[i].res.serial - before >= 1 &&
			           items[i].res.serial - before <= moved;
		}
	}
	uint32_t applied = (uint32_t)(n - (culprit >= 0));
	ok(ret == 0 && (applied == 0 ? moved == 0 : moved >= 1 && moved <= applied) && in_range,
	   "%s: serial %u -> %u for %u applied messages", tag, before, after, applied);

	/* knotd's count of the batches it refused: one per round of the
	 * gateway that held the culprit (it is in exactly one of knotd's
	 * batches). A round that failed whole is halved (bisection: log2(n) + 1
	 * rounds when knotd takes each round as one batch); knotd may also
	 * split a round into batches of its own as the UPDATEs arrive, and the
	 * failed ones go again as a smaller group, so every round holding the
	 * culprit is smaller than the one before: at most n rounds. */
	int refused = refused_batches() - refused0;
	if (culprit >= 0) {
		int halving = 1;
		for (size_t m = n; m > 1; m = (m + 1) / 2) {
			halving++;
		}
		ok(refused >= 1 && refused <= (int)n,
		   "%s: knotd refused %d batches holding the culprit (at most %zu; %d when "
		   "every round fails whole)", tag, refused, n, halving);
		if (refused > halving) {
			diag("%s: knotd split rounds into batches of its own:", tag);
			knotd_diag(tmpdir);
		}
	} else {
		is_int(refused, 0, "%s: knotd refused no batch", tag);
	}
	if (culprit < 0 && n > 1) {
		/* One pass: every message answered in the same round, one serial. */
		bool one = true;
		for (size_t i = 1; i < n; i++) {
			one = one && items[i].res.serial == items[0].res.serial &&
			      items[i].res.updates == 1;
		}
		ok(one && items[0].res.updates == 1,
		   "%s: one pass (one UPDATE each, one serial %u for all)", tag, items[0].res.serial);
	}
out:
	for (size_t i = 0; i < n; i++) {
		zg_msg_deinit(&msgs[i]);
	}
}

int main(void)
{
	plan_lazy();
	signal(SIGPIPE, SIG_IGN);
	zg_gateway_conf_t conf;
	zg_gateway_conf_default(&conf);
	if (knot_dname_from_str(zone, "test.", sizeof(zone)) == NULL ||
	    knot_tsig_key_init_str(&key, KEY_STR) != KNOT_EOK ||
	    mkdtemp(tmpdir) == NULL || free_port(&server) != 0 ||
	    (parser = zg_msg_parser_new(NULL)) == NULL) {
		ok(false, "test setup");
		return done_testing();
	}
	conf.server = server;
	conf.key = &key;
	conf.timeout_ms = 5000;
	conf.batch_max = 16;
	if (!ok(knotd_start(), "knotd serves test. on 127.0.0.1 (zone-max-size 20000)")) {
		knotd_diag(tmpdir);
	} else if (!ok((gw = zg_gateway_new(&conf)) != NULL, "gateway opened")) {
		/* Nothing more to test. */
	} else {
		test_batch("none", N, -1);     /* No culprit: one pass. */
		test_batch("first", N, 0);
		test_batch("middle", N, N / 2 - 1);
		test_batch("last", N, N - 1);
		test_batch("mid5", 5, 2);      /* Odd sizes split unevenly. */
		test_batch("one", 1, -1);      /* A batch of one. */
		test_batch("alone", 1, 0);     /* A batch of the culprit alone. */
		if (!ok(refused_batches() > 0, "knotd logged its refusals (zone size exceeded)")) {
			knotd_diag(tmpdir);
		}
	}
	zg_gateway_free(gw);
	knotd_stop_pid(&knotd_pid);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ok(system(cmd) == 0, "temporary directory removed");
	zg_msg_parser_free(parser);
	knot_tsig_key_deinit(&key);
	return done_testing();
}

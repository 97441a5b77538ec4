/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Unit tests for the DNS transport (lib/dns/dnsclient.c) and the transfer
 * client over it (lib/dns/xfr.c), against a real knotd started here on
 * 127.0.0.1 (KNOTD, or /usr/sbin/knotd): the TSIG chain of a multi-message
 * AXFR (a message altered in flight by a relay fails it), the TC bit answered
 * by a TCP retry, pipelined signed queries, and timeouts on silent servers
 * bounded by their deadlines; the query builder and TCP framing of the
 * pipelined reads.
 */
#define _GNU_SOURCE /* memmem() */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <libknot/libknot.h>

#include "tap.h"
#include "core/error.h"
#include "dns/dnsclient.h"
#include "dns/xfr.h"
#include "knotd.h"

#define KEY_STR   "hmac-sha256:tkey:c2VjcmV0IG9mIHRoZSB0cmFuc3BvcnQgdGVzdA=="
#define WRONG_STR "hmac-sha256:tkey:d3Jvbmcgc2VjcmV0IG9mIHRoZSB0ZXN0IGtleQ=="
#define OWNERS    1500  /* TXT owners: some 400 KB, several AXFR messages. */
#define BIG_TXT   30    /* TXT records at big.zone.test.: too big for UDP. */
#define FILLER    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"

static char tmpdir[] = "/tmp/zg-test-transport.XXXXXX";
static pid_t knotd_pid = -1;
static struct sockaddr_storage server;
static uint8_t zone[KNOT_DNAME_MAXLEN];
static knot_tsig_key_t key, wrong;

static int64_t zone_records(void)
{
	return 2 + OWNERS + BIG_TXT;  /* SOA, NS, the TXT records */
}

static int write_zone(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/zone.test.zone", tmpdir);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		return -1;
	}
	fprintf(f, "$ORIGIN zone.test.\n$TTL 3600\n"
	           "@ SOA ns.zone.test. admin.zone.test. 7 3600 600 86400 300\n"
	           "@ NS ns.zone.test.\n");
	for (int i = 0; i < OWNERS; i++) {
		fprintf(f, "o%d TXT \"%d %s%s\"\n", i, i, FILLER, FILLER);
	}
	for (int i = 0; i < BIG_TXT; i++) {
		fprintf(f, "big TXT \"%d %s%s\"\n", i, FILLER, FILLER);
	}
	return fclose(f);
}

static int64_t now_ms(void)
{
	return zg_clock_ms();
}

static bool knotd_start(void)
{
	if (write_zone() != 0) {
		return false;
	}
	char sections[1024];
	snprintf(sections, sizeof(sections),
	         "key:\n  - id: tkey\n    algorithm: hmac-sha256\n"
	         "    secret: c2VjcmV0IG9mIHRoZSB0cmFuc3BvcnQgdGVzdA==\n"
	         "acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    key: tkey\n    action: transfer\n"
	         "zone:\n  - domain: zone.test.\n    storage: \"%s\"\n    file: zone.test.zone\n"
	         "    acl: xfr\n",
	         tmpdir);
	return knotd_start_in(tmpdir, &server, sections, zone, 7, &knotd_pid);
}

static void knotd_stop(void)
{
	knotd_stop_pid(&knotd_pid);
}

/* ---- TSIG over a multi-message AXFR ---- */

static int count_rr(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                    const uint8_t *rdata, uint16_t rdlen)
{
	(void)owner, (void)type, (void)ttl, (void)rdata, (void)rdlen;
	(*(int64_t *)ctx)++;
	return 0;
}

static void test_axfr_tsig(void)
{
	zg_xfr_stats_t stats = { 0 };
	zg_xfr_peer_t peer = { .addr = &server, .key = &key, .zone = zone, .stats = &stats };
	char reason[256] = "";
	int64_t n = 0;
	int ret = zg_xfr_axfr_each(&peer, count_rr, &n, reason, sizeof(reason));
	is_int(ret, 0, "signed AXFR of %lld records (%s)", (long long)zone_records(), reason);
	/* Every record after the first SOA, the closing SOA excluded. */
	ok(n == zone_records() - 1, "every record handed on (%lld)", (long long)n);
	ok(stats.bytes > 2 * 65535, "the transfer took several messages (%llu bytes)",
	   (unsigned long long)stats.bytes);
	ok(stats.have_serial && stats.serial == 7, "serial 7 transferred");

	peer.key = NULL;
	n = 0;
	ret = zg_xfr_axfr_each(&peer, count_rr, &n, reason, sizeof(reason));
	ok(ret == ZG_EREFUSED && n == 0, "unsigned AXFR refused by the ACL (%s)", reason);

	peer.key = &wrong;
	n = 0;
	ret = zg_xfr_axfr_each(&peer, count_rr, &n, reason, sizeof(reason));
	ok(ret == ZG_EREFUSED && n == 0, "AXFR signed with a wrong secret refused (%s)", reason);
}

/* A relay between the client and knotd that changes one byte of the filler
 * text in the second message of the answer: its TSIG no longer checks. */
typedef struct {
	int lfd;
	int altered;  /* The message that was altered (index), -1 none. */
} relay_t;

static bool io_full(int fd, uint8_t *p, size_t len, bool wr)
{
	while (len > 0) {
		ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void *relay_main(void *arg)
{
	relay_t *r = arg;
	int c = accept(r->lfd, NULL, NULL);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 10 };
	if (c < 0 || s < 0 || connect(s, (struct sockaddr *)&server, sizeof(struct sockaddr_in)) != 0) {
		goto done;
	}
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	uint8_t *buf = malloc(65537);
	if (buf == NULL) {
		goto done;
	}
	/* The query, then the answer messages until knotd or the client stops. */
	if (io_full(c, buf, 2, false) && io_full(c, buf + 2, knot_wire_read_u16(buf), false) &&
	    io_full(s, buf, 2 + knot_wire_read_u16(buf), true)) {
		for (int i = 0; io_full(s, buf, 2, false); i++) {
			size_t len = knot_wire_read_u16(buf);
			if (!io_full(s, buf + 2, len, false)) {
				break;
			}
			uint8_t *z = i == 1 ? memmem(buf + 2, len, FILLER, 16) : NULL;
			if (z != NULL) {
				z[8] = 'y';
				r->altered = i;
			}
			if (!io_full(c, buf, 2 + len, true)) {
				break;
			}
		}
	}
	free(buf);
done:
	if (c >= 0) {
		close(c);
	}
	if (s >= 0) {
		close(s);
	}
	return NULL;
}

static void test_axfr_tsig_altered(void)
{
	relay_t r = { .lfd = socket(AF_INET, SOCK_STREAM, 0), .altered = -1 };
	struct sockaddr_storage at = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&at;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(*in);
	pthread_t th;
	if (r.lfd < 0 || bind(r.lfd, (struct sockaddr *)in, len) != 0 ||
	    getsockname(r.lfd, (struct sockaddr *)in, &len) != 0 || listen(r.lfd, 1) != 0 ||
	    pthread_create(&th, NULL, relay_main, &r) != 0) {
		ok(false, "relay started");
		return;
	}
	zg_xfr_peer_t peer = { .addr = &at, .key = &key, .zone = zone, .timeout_ms = 5000 };
	char reason[256] = "";
	int64_t n = 0;
	int ret = zg_xfr_axfr_each(&peer, count_rr, &n, reason, sizeof(reason));
	pthread_join(th, NULL);
	close(r.lfd);
	ok(r.altered == 1, "the relay altered the second message");
	ok(ret == ZG_EPROTO && strstr(reason, "TSIG") != NULL,
	   "an altered message in the middle of a signed AXFR fails it (%s)", reason);
	ok(n > 0 && n < zone_records() - 1, "the records of the first message only (%lld)",
	   (long long)n);
}

/* ---- UDP, TC, TCP ---- */

static knot_pkt_t *question(uint16_t type, const char *name)
{
	knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	uint8_t qname[KNOT_DNAME_MAXLEN];
	if (q == NULL || knot_dname_from_str(qname, name, sizeof(qname)) == NULL) {
		knot_pkt_free(q);
		return NULL;
	}
	knot_wire_set_id(q->wire, (uint16_t)(now_ms() & 0xffff));
	if (knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type) != KNOT_EOK) {
		knot_pkt_free(q);
		return NULL;
	}
	return q;
}

static void test_tc_retry(void)
{
	knot_pkt_t *q = question(KNOT_RRTYPE_TXT, "big.zone.test.");
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (q == NULL || a == NULL) {
		ok(false, "packets");
		return;
	}
	bool signed_ok = false;
	int ret = zg_dns_query(&server, q, &key, 2000, 2, a, &signed_ok);
	is_int(ret, 0, "query for a large TXT set answered");
	const knot_pktsection_t *an = knot_pkt_section(a, KNOT_ANSWER);
	unsigned count = 0;
	for (uint16_t i = 0; i < an->count; i++) {
		count += knot_pkt_rr(an, i)->type == KNOT_RRTYPE_TXT ? knot_pkt_rr(an, i)->rrs.count : 0;
	}
	ok(!knot_wire_get_tc(a->wire) && count == BIG_TXT,
	   "truncated over UDP, the whole set over TCP (%u records, TC %d)", count,
	   knot_wire_get_tc(a->wire) != 0);
	ok(signed_ok, "the TCP answer is TSIG-signed and checks");

	/* A small answer fits UDP; signed with the wrong secret it does not check. */
	knot_pkt_free(q);
	q = question(KNOT_RRTYPE_SOA, "zone.test.");
	ret = q != NULL ? zg_dns_query(&server, q, &wrong, 2000, 2, a, &signed_ok) : -ENOMEM;
	ok(ret == 0 && !signed_ok, "an answer to a query with a wrong key is not taken as signed");
	knot_pkt_free(q);
	q = question(KNOT_RRTYPE_SOA, "zone.test.");
	ret = q != NULL ? zg_dns_query(&server, q, NULL, 2000, 2, a, &signed_ok) : -ENOMEM;
	ok(ret == 0 && signed_ok && knot_wire_get_rcode(a->wire) == KNOT_RCODE_NOERROR,
	   "unsigned query over UDP answered");
	knot_pkt_free(q);
	knot_pkt_free(a);
}

/* Pipelined signed queries on one TCP connection, answers matched by id. */
#define PIPE_N 20
typedef struct {
	uint8_t mac[PIPE_N][ZG_DNS_MAC_MAX];
	size_t mac_len[PIPE_N];
	uint16_t base;
	int seen[PIPE_N];
} pipe_t;

static bool pipe_mac(void *ctx, uint16_t id, const uint8_t **mac, size_t *mac_len)
{
	pipe_t *p = ctx;
	uint16_t i = (uint16_t)(id - p->base);
	if (i >= PIPE_N) {
		return false;
	}
	p->seen[i]++;
	*mac = p->mac[i];
	*mac_len = p->mac_len[i];
	return true;
}

static void test_pipelining(void)
{
	zg_dnsconn_t *conn = NULL;
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	pipe_t p = { .base = 1000 };
	int ret = a == NULL ? -ENOMEM : zg_dnsconn_open(&server, 2000, &conn);
	for (int i = 0; i < PIPE_N && ret == 0; i++) {
		char name[64];
		snprintf(name, sizeof(name), "o%d.zone.test.", i);
		knot_pkt_t *q = question(KNOT_RRTYPE_TXT, name);
		if (q == NULL) {
			ret = -ENOMEM;
			break;
		}
		knot_wire_set_id(q->wire, (uint16_t)(p.base + i));
		ret = zg_dns_send_query(conn, q, &key, p.mac[i], &p.mac_len[i]);
		knot_pkt_free(q);
	}
	is_int(ret, 0, "%d signed queries sent without waiting", PIPE_N);
	int good = 0;
	for (int i = 0; i < PIPE_N && ret == 0; i++) {
		ret = zg_dns_recv_answer(conn, a, &key, pipe_mac, &p);
		good += ret == 0 && knot_pkt_section(a, KNOT_ANSWER)->count == 1;
	}
	int once = 0;
	for (int i = 0; i < PIPE_N; i++) {
		once += p.seen[i] == 1;
	}
	ok(good == PIPE_N && once == PIPE_N, "every answer matched once and its TSIG checked (%d)",
	   good);
	zg_dnsconn_free(conn);
	knot_pkt_free(a);
}

/* The query builder and framing (no server): the exact wire of an EDNS
 * query with DO, an option, a frame that does not fit; then framed queries
 * written in one call and answered in order by knotd. */
static void test_query_make(void)
{
	knot_pkt_t *q = knot_pkt_new(NULL, 512, NULL);
	uint8_t qname[KNOT_DNAME_MAXLEN];
	knot_dname_from_str(qname, "o1.zone.test.", sizeof(qname));
	zg_dns_edns_t edns = { .payload = 65535, .dnssec_ok = true };
	int ret = q != NULL ? zg_dns_query_make(q, 0x1234, qname, KNOT_RRTYPE_NS, &edns) : -ENOMEM;
	static const uint8_t want[] = {
		0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,          /* id, flags, counts */
		2, 'o', '1', 4, 'z', 'o', 'n', 'e', 4, 't', 'e', 's', 't', 0,
		0, 2, 0, 1,                                               /* NS IN */
		0, 0, 41, 0xff, 0xff, 0, 0, 0x80, 0, 0, 0,               /* OPT, DO */
	};
	ok(ret == 0 && q->size == sizeof(want) && memcmp(q->wire, want, sizeof(want)) == 0,
	   "query made: header, question, OPT with payload 65535 and DO (%zu bytes)",
	   q != NULL ? q->size : 0);
	uint8_t buf[64];
	size_t n = ret == 0 ? zg_dns_frame(buf, sizeof(buf), q) : 0;
	ok(n == sizeof(want) + 2 && buf[0] == 0 && buf[1] == sizeof(want) &&
	   memcmp(buf + 2, want, sizeof(want)) == 0, "framed with its 2-byte length");
	is_int((int)zg_dns_frame(buf, sizeof(want) + 1, q), 0, "a frame that does not fit: 0");

	uint8_t nsid[2] = { 0xab, 0xcd };
	edns = (zg_dns_edns_t){ .payload = 1232, .opt_code = 3, .opt_len = 2, .opt_data = nsid };
	ret = zg_dns_query_make(q, 7, qname, KNOT_RRTYPE_DS, &edns);
	knot_pkt_t *p = ret == 0 ? knot_pkt_new(q->wire, q->size, NULL) : NULL;
	ok(p != NULL && knot_pkt_parse(p, 0) == KNOT_EOK && p->opt_rr != NULL &&
	   !knot_edns_do(p->opt_rr) && knot_edns_get_payload(p->opt_rr) == 1232 &&
	   knot_edns_get_option(p->opt_rr, 3, NULL) != NULL && knot_pkt_qtype(p) == KNOT_RRTYPE_DS &&
	   knot_wire_get_id(p->wire) == 7,
	   "query made again in the same packet: no DO, payload 1232, the option");
	knot_pkt_free(p);
	ret = zg_dns_query_make(q, 8, qname, KNOT_RRTYPE_SOA, NULL);
	ok(ret == 0 && q->size == KNOT_WIRE_HEADER_SIZE + 14 + 4 && knot_wire_get_arcount(q->wire) == 0,
	   "without EDNS: no OPT");

	/* Three framed queries in one write, answered in order. */
	zg_dnsconn_t *conn = NULL;
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	uint8_t wire[3 * 80];
	size_t len = 0;
	edns = (zg_dns_edns_t){ .payload = 65535, .dnssec_ok = true };
	for (int i = 0; i < 3 && q != NULL; i++) {
		char name[32];
		snprintf(name, sizeof(name), "o%d.zone.test.", i + 10);
		knot_dname_from_str(qname, name, sizeof(qname));
		if (zg_dns_query_make(q, (uint16_t)(500 + i), qname, KNOT_RRTYPE_TXT, &edns) == 0) {
			len += zg_dns_frame(wire + len, sizeof(wire) - len, q);
		}
	}
	ret = a == NULL ? -ENOMEM : zg_dnsconn_open(&server, 2000, &conn);
	if (ret == 0) {
		ret = zg_dnsconn_write(conn, wire, len);
	}
	int good = 0;
	for (int i = 0; i < 3 && ret == 0; i++) {
		size_t alen = 0;
		knot_pkt_clear(a);
		ret = zg_dnsconn_recv(conn, a->wire, a->max_size, &alen);
		a->size = alen;
		good += ret == 0 && knot_pkt_parse(a, 0) == KNOT_EOK &&
		        knot_wire_get_id(a->wire) == 500 + i &&
		        knot_pkt_section(a, KNOT_ANSWER)->count == 1;
	}
	is_int(good, 3, "three framed queries in one write answered in order");
	zg_dnsconn_free(conn);
	knot_pkt_free(a);
	knot_pkt_free(q);
}

/* ---- silent servers: bounded by the deadline ---- */

static int bound_socket(int type, struct sockaddr_storage *at)
{
	memset(at, 0, sizeof(*at));
	struct sockaddr_in *in = (struct sockaddr_in *)at;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(*in);
	int fd = socket(AF_INET, type, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)in, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)in, &len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) != 0)) {
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

static void test_silent(void)
{
	struct sockaddr_storage at;
	int fd = bound_socket(SOCK_DGRAM, &at);
	knot_pkt_t *q = question(KNOT_RRTYPE_SOA, "zone.test.");
	knot_pkt_t *a = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (fd < 0 || q == NULL || a == NULL) {
		ok(false, "silent UDP server");
		return;
	}
	bool signed_ok = false;
	int64_t t0 = now_ms();
	int ret = zg_dns_query(&at, q, NULL, 200, 2, a, &signed_ok);
	int64_t el = now_ms() - t0;
	is_int(ret, ZG_ETIMEOUT, "silent UDP server: timeout");
	ok(el >= 390 && el < 1500, "after 2 tries of 200 ms (%lld ms)", (long long)el);
	close(fd);

	/* TCP: the kernel completes the handshake, nobody ever answers. */
	fd = bound_socket(SOCK_STREAM, &at);
	zg_dnsconn_t *conn = NULL;
	ret = fd < 0 ? -1 : zg_dnsconn_open(&at, 300, &conn);
	is_int(ret, 0, "silent TCP server: connected");
	t0 = now_ms();
	ret = conn != NULL ? zg_dns_request(conn, q, NULL, a) : -1;
	el = now_ms() - t0;
	is_int(ret, ZG_ETIMEOUT, "silent TCP server: request times out");
	ok(el >= 290 && el < 1500, "after the 300 ms deadline (%lld ms)", (long long)el);
	zg_dnsconn_free(conn);

	zg_xfr_peer_t peer = { .addr = &at, .key = &key, .zone = zone, .timeout_ms = 300 };
	char reason[256] = "";
	int64_t n = 0;
	t0 = now_ms();
	ret = zg_xfr_axfr_each(&peer, count_rr, &n, reason, sizeof(reason));
	el = now_ms() - t0;
	ok(ret == ZG_ETIMEOUT && n == 0, "silent TCP server: AXFR times out (%s)", reason);
	ok(el >= 290 && el < 1500, "after the 300 ms step deadline (%lld ms)", (long long)el);
	if (fd >= 0) {
		close(fd);
	}
	knot_pkt_free(q);
	knot_pkt_free(a);
}

int main(void)
{
	plan_lazy();
	signal(SIGPIPE, SIG_IGN);
	if (knot_dname_from_str(zone, "zone.test.", sizeof(zone)) == NULL ||
	    knot_tsig_key_init_str(&key, KEY_STR) != KNOT_EOK ||
	    knot_tsig_key_init_str(&wrong, WRONG_STR) != KNOT_EOK ||
	    mkdtemp(tmpdir) == NULL || free_port(&server) != 0) {
		ok(false, "test setup");
		return done_testing();
	}
	test_silent();
	if (!ok(knotd_start(), "knotd serves zone.test. on 127.0.0.1")) {
		knotd_diag(tmpdir);
	} else {
		test_axfr_tsig();
		test_axfr_tsig_altered();
		test_tc_retry();
		test_pipelining();
		test_query_make();
	}
	knotd_stop();
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ok(system(cmd) == 0, "temporary directory removed");
	knot_tsig_key_deinit(&key);
	knot_tsig_key_deinit(&wrong);
	return done_testing();
}

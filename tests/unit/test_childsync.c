/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dsync/childsync.h: mod-dsync's child side without knotd (configuration,
 * the hooks' questions, the interlock input, a round on a fake clock
 * against a server that does not answer). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/error.h"
#include "dsync/childsync.h"
#include "tap.h"
#include "worker_fx.h"

typedef struct {
	fx_logs_t logs;
	uint64_t counts[8];
	int alarms, submits;
} fx_t;

static void fx_count(void *arg, zg_childsync_ctr_t ctr, uint64_t n)
{
	((fx_t *)arg)->counts[ctr] += n;
}

static void fx_alarm(void *arg, uint16_t keytag, const char *reason)
{
	(void)keytag; (void)reason;
	((fx_t *)arg)->alarms++;
}

static int fx_submit(void *arg, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	((fx_t *)arg)->submits++;
	return 0;
}

static int64_t fx_now(void *arg) { (void)arg; return 1700000000; }
static int64_t fx_mono(void *arg) { (void)arg; return 5000; }

/* The remotes of the fake configuration: "signed" (two addresses and a
 * key), "badkey" (an address, its key not usable), "many" (17 addresses);
 * any other id names none. */
static int fx_remote(void *arg, const char *id, zg_childsync_remote_t *r)
{
	int *calls = arg;
	(*calls)++;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	size_t n = strcmp(id, "signed") == 0 ? 2 : strcmp(id, "badkey") == 0 ? 1 :
	           strcmp(id, "many") == 0 ? 17 : 0;
	for (size_t i = 0; i < n; i++) {
		sin->sin_port = htons((uint16_t)(5300 + i));
		zg_childsync_remote_addr(r, &ss, NULL);
	}
	r->naddr = n;
	if (strcmp(id, "signed") == 0) {
		return knot_tsig_key_init(&r->key, "hmac-sha256", "p.", "Zm9vYmFyZm9vYmFyZm9vYmFy");
	}
	return strcmp(id, "badkey") == 0 ? KNOT_ENOENT : 0;
}

/* The zone's apex as served: the DNSKEY, and the CDS when fx_cds is set. */
static knot_rdataset_t fx_key, fx_cds;
static int fx_apex_calls;

static knot_rdataset_t fx_apex(void *arg, uint16_t type)
{
	(void)arg;
	fx_apex_calls++;
	knot_rdataset_t none = { 0 };
	return type == KNOT_RRTYPE_DNSKEY ? fx_key : type == KNOT_RRTYPE_CDS ? fx_cds : none;
}

static void opt_with(knot_rrset_t *opt, const uint8_t *token, uint16_t len)
{
	knot_edns_init(opt, 1232, 0, 0, NULL);
	knot_edns_add_option(opt, ZG_CHILDSYNC_OPT_CODE, len, token, NULL);
}

int main(void)
{
	plan_lazy();
	zg_server_t srv;
	fx_dead_server(&srv);
	knot_dname_t *zone = knot_dname_from_str_alloc("Example.");
	zg_childsync_t c;
	ok(zg_childsync_init(&c, zone, &srv, false, 10) == 0, "init");
	is_str(c.zone_str, "example.", "the zone is kept in lower case");
	ok(c.state == ZG_GUARD_UNKNOWN && c.checked == 0, "nothing checked yet");
	is_int(zg_childsync_wait(&c), 1, "while nothing is checked, rounds every second");

	/* The hooks' questions. */
	knot_rrset_t opt;
	opt_with(&opt, c.token, ZG_CHILDSYNC_TOKEN_LEN);
	ok(zg_childsync_own_query(&c, &opt), "the worker's token marks its own poll");
	knot_rrset_clear(&opt, NULL);
	uint8_t other[ZG_CHILDSYNC_TOKEN_LEN];
	memcpy(other, c.token, sizeof(other));
	other[0] ^= 1;
	opt_with(&opt, other, ZG_CHILDSYNC_TOKEN_LEN);
	ok(!zg_childsync_own_query(&c, &opt), "another token is not the worker's");
	knot_rrset_clear(&opt, NULL);
	opt_with(&opt, c.token, ZG_CHILDSYNC_TOKEN_LEN - 1);
	ok(!zg_childsync_own_query(&c, &opt), "a short token is not the worker's");
	knot_rrset_clear(&opt, NULL);
	ok(!zg_childsync_own_query(&c, NULL), "no OPT: not the worker's");
	knot_dname_t *sub = knot_dname_from_str_alloc("a.example.");
	ok(zg_childsync_guarded(&c, false, true, KNOT_RRTYPE_CDS, zone, NULL) &&
	   zg_childsync_guarded(&c, false, true, KNOT_RRTYPE_CDNSKEY, zone, NULL),
	   "CDS and CDNSKEY queries for the apex are guarded");
	ok(zg_childsync_guarded(&c, true, false, KNOT_RRTYPE_AXFR, zone, NULL),
	   "outgoing transfers are guarded");
	ok(!zg_childsync_guarded(&c, false, true, KNOT_RRTYPE_DNSKEY, zone, NULL) &&
	   !zg_childsync_guarded(&c, false, true, KNOT_RRTYPE_CDS, sub, NULL) &&
	   !zg_childsync_guarded(&c, false, false, KNOT_RRTYPE_CDS, zone, NULL),
	   "other types, names below the apex and non-normal queries are not");
	knot_dname_free(sub, NULL);
	opt_with(&opt, c.token, ZG_CHILDSYNC_TOKEN_LEN);
	ok(!zg_childsync_guarded(&c, false, true, KNOT_RRTYPE_CDS, zone, &opt),
	   "the worker's own poll is not");
	knot_rrset_clear(&opt, NULL);

	uint8_t cds_wire[] = { 0x30, 0x39, 13, 2, 1, 2, 3, 4 };
	uint8_t key_wire[] = { 1, 1, 3, 13, 9, 9, 9, 9 };
	knot_rrset_t cds, key, none;
	knot_rrset_init(&cds, zone, KNOT_RRTYPE_CDS, KNOT_CLASS_IN, 3600);
	knot_rrset_init(&key, zone, KNOT_RRTYPE_DNSKEY, KNOT_CLASS_IN, 3600);
	knot_rrset_init(&none, zone, KNOT_RRTYPE_CDNSKEY, KNOT_CLASS_IN, 3600);
	knot_rrset_add_rdata(&cds, cds_wire, sizeof(cds_wire), NULL);
	knot_rrset_add_rdata(&key, key_wire, sizeof(key_wire), NULL);
	is_int(zg_childsync_served(&c, &key.rrs, &cds.rrs, &none.rrs), ZG_GUARD_UNCHECKED,
	       "a CDS set nothing checked is withheld");
	is_int(zg_childsync_served(&c, &key.rrs, &none.rrs, &none.rrs), ZG_GUARD_PASS,
	       "no CDS/CDNSKEY passes");
	c.checked = zg_guard_set_hash(&key.rrs, &cds.rrs, &none.rrs) | 1;
	is_int(zg_childsync_served(&c, &key.rrs, &cds.rrs, &none.rrs), ZG_GUARD_PASS,
	       "the published safe set passes");
	c.checked = 0;

	/* The hook's decision: the apex read only for guarded queries. */
	fx_key = key.rrs;
	fx_cds = cds.rrs;
	zg_guard_action_t act = zg_childsync_decide(&c, false, true, KNOT_RRTYPE_DNSKEY, zone, NULL,
	                                            fx_apex, NULL);
	ok(act.rcode == KNOT_RCODE_NOERROR && !act.wake && fx_apex_calls == 0,
	   "a query the guard does not look at: answered, the apex not read");
	act = zg_childsync_decide(&c, false, true, KNOT_RRTYPE_CDS, zone, NULL, fx_apex, NULL);
	ok(act.rcode == KNOT_RCODE_SERVFAIL && act.wake && fx_apex_calls == 3,
	   "a CDS query while the set is not checked: servfail, the worker woken, three reads");
	act = zg_childsync_decide(&c, true, false, KNOT_RRTYPE_AXFR, zone, NULL, fx_apex, NULL);
	ok(act.rcode == KNOT_RCODE_REFUSED && act.wake && strcmp(act.why, "not checked yet") == 0,
	   "a transfer then: refused (%s)", act.why);
	c.checked = zg_guard_set_hash(&key.rrs, &cds.rrs, &none.rrs);
	act = zg_childsync_decide(&c, true, false, KNOT_RRTYPE_IXFR, zone, NULL, fx_apex, NULL);
	ok(act.rcode == KNOT_RCODE_REFUSED && !act.wake && strcmp(act.why, "unsafe") == 0,
	   "a transfer of the set found unsafe: refused (%s), no wake-up", act.why);
	c.checked |= 1;
	act = zg_childsync_decide(&c, false, true, KNOT_RRTYPE_CDNSKEY, zone, NULL, fx_apex, NULL);
	ok(act.rcode == KNOT_RCODE_NOERROR && !act.wake, "the set found safe: answered");
	c.checked = 0;
	fx_cds = none.rrs;
	act = zg_childsync_decide(&c, true, false, KNOT_RRTYPE_AXFR, zone, NULL, fx_apex, NULL);
	ok(act.rcode == KNOT_RCODE_NOERROR, "no CDS/CDNSKEY: transferred, nothing to check");
	opt_with(&opt, c.token, ZG_CHILDSYNC_TOKEN_LEN);
	fx_apex_calls = 0;
	act = zg_childsync_decide(&c, false, true, KNOT_RRTYPE_CDS, zone, &opt, fx_apex, NULL);
	ok(act.rcode == KNOT_RCODE_NOERROR && fx_apex_calls == 0, "the worker's own poll: answered");
	knot_rrset_clear(&opt, NULL);

	/* The interlock's input for what the zone publishes. */
	zg_child_view_t v;
	zg_child_view_init(&v, zone, "x");
	zg_interlock_in_t in;
	char tags[128];
	zg_childsync_zone_in(&v, 42, &in, tags, sizeof(tags));
	ok(in.event == ZG_INTERLOCK_ZONE && in.now == 42 && !in.announced,
	   "no CDS/CDNSKEY: nothing announced");
	knot_rrset_add_rdata(&v.cds.rr, cds_wire, sizeof(cds_wire), NULL);
	zg_childsync_zone_in(&v, 42, &in, tags, sizeof(tags));
	ok(in.announced && !in.cdnskey && in.keytag == 12345, "a CDS set is announced, key tag 12345");
	is_str(in.tags, "12345/13/2", "its tags");
	ok(in.hash == zg_guard_rdataset_hash(&v.cds.rr.rrs), "its hash is the rdata's");
	uint8_t del_wire[] = { 0, 0, 0, 0, 0 };
	knot_rdataset_clear(&v.cds.rr.rrs, NULL);
	knot_rrset_add_rdata(&v.cds.rr, del_wire, sizeof(del_wire), NULL);
	zg_childsync_zone_in(&v, 42, &in, tags, sizeof(tags));
	ok(!in.announced, "the delete form announces no DS change");
	knot_rdataset_clear(&v.cds.rr.rrs, NULL);
	knot_rrset_add_rdata(&v.cdnskey.rr, key_wire, sizeof(key_wire), NULL);
	zg_childsync_zone_in(&v, 42, &in, tags, sizeof(tags));
	ok(in.announced && in.cdnskey && in.keytag == zg_dnskey_keytag(key.rrs.rdata),
	   "a CDNSKEY set alone is announced, as CDNSKEY");
	zg_child_view_deinit(&v);

	/* A round against a server that does not answer, on a fake clock. */
	fx_t fx = { 0 };
	zg_childsync_ops_t ops = { .log = fx_log, .count = fx_count, .alarm = fx_alarm,
	                           .submit = fx_submit, .now = fx_now, .mono_ms = fx_mono,
	                           .arg = &fx };
	zg_childsync_round(&c, &ops);
	is_int(fx.logs.n, 1, "a failed poll is logged");
	ok(fx.logs.levels[0] == LOG_WARNING && strstr(fx.logs.lines[0], srv.name) != NULL &&
	   strstr(fx.logs.lines[0], "withholding them until checked") != NULL, "naming the server: %s",
	   fx.logs.lines[0]);
	ok(c.state == ZG_GUARD_UNKNOWN && c.checked == 0, "still nothing checked");
	ok(fx.alarms == 0 && fx.submits == 0 && fx.counts[ZG_CHILDSYNC_CDS_UNSAFE] == 0,
	   "no alarm, no submission, nothing counted");
	zg_childsync_round(&c, &ops);
	is_int(fx.logs.n, 1, "the same failure is not logged again");
	c.guard.state = ZG_GUARD_SAFE;
	is_int(zg_childsync_wait(&c), 10, "once checked, rounds every interval");

	/* Parents and what authenticates them. */
	zg_childsync_log_conf(&c, "/run/knot/knot.sock", &ops);
	is_int(fx.logs.n, 3, "without parents: two lines");
	ok(strncmp(fx.logs.lines[1], "cds/cdnskey guard active (server 127.0.0.1@", 43) == 0 &&
	   strstr(fx.logs.lines[1], ", interval 10s, allow-delete off)") != NULL, "guard line: %s",
	   fx.logs.lines[1]);
	is_str(fx.logs.lines[2], "no parent configured, ds changes not confirmed (overdue alarm only)",
	       "no parent line");
	knot_tsig_key_t tk;
	ok(knot_tsig_key_init(&tk, "hmac-sha256", "k.", "Zm9vYmFyZm9vYmFyZm9vYmFy") == KNOT_EOK,
	   "a tsig key");
	ok(zg_childsync_add_parent(&c, (struct sockaddr *)&srv.addr, &tk) == 0, "a signed parent");
	knot_tsig_key_deinit(&tk);
	for (int i = 1; i < ZG_CHILDSYNC_MAX_PARENTS; i++) {
		zg_childsync_add_parent(&c, (struct sockaddr *)&srv.addr, NULL);
	}
	is_int(zg_childsync_add_parent(&c, (struct sockaddr *)&srv.addr, NULL), ZG_ETOOBIG,
	       "one parent too many is refused");
	ok(c.nparents == ZG_CHILDSYNC_MAX_PARENTS && c.parent_keys[0].name != NULL &&
	   c.parent_keys[1].name == NULL, "16 parents, the first with its key");

	char ta[] = "/tmp/zg-childsync-XXXXXX", err[512] = "";
	int fd = mkstemp(ta);
	const char *rr = "example. 3600 IN DS 12345 13 2 "
	                 "0000000000000000000000000000000000000000000000000000000000000000\n";
	ok(fd >= 0 && write(fd, rr, strlen(rr)) == (ssize_t)strlen(rr), "trust anchor file");
	close(fd);
	ok(zg_childsync_conf(&c, "/nonexistent/ta", &srv, 600, err, sizeof(err)) != 0 &&
	   err[0] != '\0', "an unreadable trust anchor is an error: %s", err);
	ok(zg_childsync_conf(&c, ta, &srv, 600, err, sizeof(err)) == 0, "trust anchor read");
	unlink(ta);
	ok(c.ta_owner != NULL && knot_dname_is_case_equal(c.ta_owner, zone) &&
	   strcmp(c.ta_path, ta) == 0, "its owner and path");
	ok(c.have_resolver && strcmp(c.resolver.name, srv.name) == 0, "the resolver given");
	ok(c.overdue == 600 && c.sync.overdue == 600 &&
	   c.sync.nparents == ZG_CHILDSYNC_MAX_PARENTS, "the interlock knows overdue and parents");

	fx.logs.n = 0;
	zg_childsync_log_conf(&c, "/run/knot/knot.sock", &ops);
	is_int(fx.logs.n, 2, "with parents and an anchor: two lines, no warning");
	ok(strstr(fx.logs.lines[1], "(16 parent server(s), 1 with a tsig key, trust anchor ") != NULL &&
	   strstr(fx.logs.lines[1], ", overdue 600s, control /run/knot/knot.sock)") != NULL,
	   "parent line: %s", fx.logs.lines[1]);
	knot_dname_free(c.ta_owner, NULL);
	c.ta_owner = NULL;
	fx.logs.n = 0;
	zg_childsync_log_conf(&c, "/run/knot/knot.sock", &ops);
	ok(fx.logs.n == 3 && fx.logs.levels[2] == LOG_WARNING &&
	   strstr(fx.logs.lines[2], "and 15 parent server(s) without a tsig key") != NULL,
	   "no anchor and unsigned parents: warned");

	zg_childsync_deinit(&c);
	ok(c.zone == NULL && c.nparents == 0, "deinit frees");

	/* The parent values: an address, else a remote. */
	ok(zg_childsync_init(&c, zone, &srv, false, 10) == 0, "another child side");
	fx.logs.n = 0;
	int calls = 0;
	ok(zg_childsync_add_parents(&c, "127.0.0.2@5353", fx_remote, &calls, &ops) == 0 &&
	   zg_childsync_add_parents(&c, "::1", fx_remote, &calls, &ops) == 0, "two addresses");
	ok(c.nparents == 2 && calls == 0 && fx.logs.n == 0, "added unsigned, no remote read");
	is_str(c.parents[0].name, "127.0.0.2@5353", "the port given");
	is_str(c.parents[1].name, "::1@53", "port 53 by default");
	ok(c.parent_keys[0].name == NULL && c.parent_keys[1].name == NULL, "no keys");
	ok(zg_childsync_add_parents(&c, "signed", fx_remote, &calls, &ops) == 0 && calls == 1,
	   "a remote");
	ok(c.nparents == 4 && c.parent_keys[2].name != NULL && c.parent_keys[3].name != NULL &&
	   strcmp(c.parents[3].name, "127.0.0.1@5301") == 0 && fx.logs.n == 0,
	   "its two addresses, each with its key");
	is_int(zg_childsync_add_parents(&c, "badkey", fx_remote, &calls, &ops), ZG_EINPUT,
	       "a remote whose key is not usable is an error");
	ok(fx.logs.n == 1 && fx.logs.levels[0] == LOG_ERR, "logged as an error");
	is_str(fx.logs.lines[0], "parent 'badkey': key not usable", "naming the value");
	is_int(zg_childsync_add_parents(&c, "nothing", fx_remote, &calls, &ops), ZG_EINPUT,
	       "a value that is neither an address nor a remote is an error");
	ok(fx.logs.n == 2 && fx.logs.levels[1] == LOG_ERR, "logged as an error");
	is_str(fx.logs.lines[1], "parent 'nothing' is neither an address nor a remote with an address",
	       "naming the value");
	size_t before = c.nparents;
	fx.logs.n = 0;
	ok(zg_childsync_add_parents(&c, "many", fx_remote, &calls, &ops) == 0, "a remote of 17");
	ok(c.nparents == ZG_CHILDSYNC_MAX_PARENTS, "16 parents in all (%zu before)", before);
	is_int(fx.logs.n, (int)(17 - (ZG_CHILDSYNC_MAX_PARENTS - before)),
	       "each address left out is warned of");
	ok(fx.logs.levels[0] == LOG_WARNING &&
	   strcmp(fx.logs.lines[0], "more than 16 parent addresses, the rest ignored") == 0,
	   "warned: %s", fx.logs.lines[0]);
	zg_childsync_deinit(&c);
	knot_rdataset_clear(&cds.rrs, NULL);
	knot_rdataset_clear(&key.rrs, NULL);
	knot_dname_free(zone, NULL);
	return done_testing();
}

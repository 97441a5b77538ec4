/* SPDX-License-Identifier: GPL-3.0-or-later */
/* UPDATE building: the difference per owner, protected types, packing. */
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/packet/pkt.h>
#include <libknot/wire.h>

#include "core/error.h"
#include "ingest/msg.h"
#include "ingest/update.h"
#include "tap.h"

static zg_msg_parser_t *parser;
static zg_arena_t pool;

static int parse(zg_msg_t *msg, const char *json)
{
	char reason[ZG_MSG_REASON_MAX];
	int ret = zg_msg_parse(parser, json, strlen(json), NULL, msg, reason, sizeof(reason));
	if (ret != 0) {
		diag("%s", reason);
	}
	return ret;
}

/* Parses an UPDATE back and counts its authority records by class. */
static void count_ops(knot_pkt_t *pkt, int *del_node, int *del_rrset, int *add)
{
	knot_pkt_t *p = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	memcpy(p->wire, pkt->wire, pkt->size);
	p->size = pkt->size;
	*del_node = *del_rrset = *add = 0;
	if (knot_pkt_parse(p, 0) != KNOT_EOK) {
		*add = -1;
		knot_pkt_free(p);
		return;
	}
	const knot_pktsection_t *au = knot_pkt_section(p, KNOT_AUTHORITY);
	for (uint16_t i = 0; i < au->count; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(au, i);
		if (rr->rclass == KNOT_CLASS_ANY && rr->type == KNOT_RRTYPE_ANY) {
			(*del_node)++;
		} else if (rr->rclass == KNOT_CLASS_ANY) {
			(*del_rrset)++;
		} else {
			*add += rr->rrs.count;
		}
	}
	knot_pkt_free(p);
}

static int count_plan(void *ctx, size_t change, zg_update_op_t op, uint16_t type,
                      const knot_rrset_t *rr)
{
	(void)change;
	(void)type;
	(void)rr;
	((int *)ctx)[op]++;
	return 0;
}

static void test_diff(void)
{
	zg_msg_t msg, cur;
	zg_msg_init(&msg);
	zg_msg_init(&cur);
	zg_update_list_t list;
	zg_update_list_init(&list);

	/* The "current" data, expressed as a message too. */
	ok(parse(&cur, "{\"version\":1,\"id\":\"c\",\"zone\":\"test.\",\"changes\":["
	     "{\"owner\":\"a.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.1\"]},"
	     "{\"type\":\"TXT\",\"ttl\":300,\"rdata\":[\"x\"]}]},"
	     "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.2\"]}]},"
	     "{\"owner\":\"test.\",\"rrsets\":[{\"type\":\"TXT\",\"ttl\":300,\"rdata\":[\"apex\"]}]}]}") == 0,
	   "current state parsed");
	ok(parse(&msg, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	     "{\"owner\":\"a.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.1\"]}]},"
	     "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.2\"]}]},"
	     "{\"owner\":\"test.\",\"rrsets\":[]}]}") == 0, "message parsed");
	zg_owner_state_t st[3];
	memset(st, 0, sizeof(st));
	for (int i = 0; i < 3; i++) {
		st[i].rrsets = cur.changes[i].rrsets;
		st[i].count = cur.changes[i].rrset_count;
		st[i].complete = true;
	}
	/* The apex also holds SOA, NS and DNSKEY: never to be deleted. */
	knot_rrset_t apex[4];
	apex[0] = cur.changes[2].rrsets[0];
	knot_rrset_init(&apex[1], cur.changes[2].owner, KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 300);
	knot_rrset_init(&apex[2], cur.changes[2].owner, KNOT_RRTYPE_NS, KNOT_CLASS_IN, 300);
	knot_rrset_init(&apex[3], cur.changes[2].owner, KNOT_RRTYPE_DNSKEY, KNOT_CLASS_IN, 300);
	st[2].rrsets = apex;
	st[2].count = 4;

	is_int(zg_update_build(&list, &msg, st, 0, 0), 0, "build with state");
	is_int(list.count, 1, "one UPDATE");
	is_int(list.owners_changed, 2, "two owners differ (b.test. unchanged)");
	int dn, dr, ad;
	count_ops(list.items[0].pkt, &dn, &dr, &ad);
	is_int(dn, 0, "no name deletion");
	is_int(dr, 2, "TXT at a.test. and TXT at the apex deleted, nothing else");
	is_int(ad, 0, "nothing added (A unchanged)");
	is_int(knot_wire_get_opcode(list.items[0].pkt->wire), KNOT_OPCODE_UPDATE, "opcode UPDATE");

	/* Same data: no UPDATE at all (Knot would bump the serial for an empty one). */
	zg_owner_state_t same[1] = { { .rrsets = msg.changes[1].rrsets, .count = 1, .complete = true } };
	zg_msg_t one;
	zg_msg_init(&one);
	parse(&one, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	      "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.2\"]}]}]}");
	is_int(zg_update_build(&list, &one, same, 0, 0), 0, "build unchanged");
	is_int(list.count, 0, "unchanged message: no UPDATE");

	/* TTL change: RRset replaced. */
	parse(&one, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	      "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":600,\"rdata\":[\"192.0.2.2\"]}]}]}");
	same[0].rrsets = cur.changes[1].rrsets;
	zg_update_build(&list, &one, same, 0, 0);
	is_int(list.count, 1, "TTL change: one UPDATE");
	count_ops(list.items[0].pkt, &dn, &dr, &ad);
	ok(dn == 0 && dr == 1 && ad == 1, "TTL change: delete RRset + add (%d %d %d)", dn, dr, ad);

	/* Blind mode: name deleted and re-added; apex by type only. */
	zg_update_build(&list, &msg, NULL, 0, 0);
	count_ops(list.items[0].pkt, &dn, &dr, &ad);
	ok(dn == 2 && dr == 0 && ad == 2, "blind: 2 name deletions (not the apex), 2 additions "
	   "(%d %d %d)", dn, dr, ad);

	/* Below a cut (incomplete view): equal -> nothing, else replace the name. */
	zg_owner_state_t glue[1] = { { .rrsets = cur.changes[1].rrsets, .count = 1, .complete = false } };
	parse(&one, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	      "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.2\"]}]}]}");
	zg_update_build(&list, &one, glue, 0, 0);
	is_int(list.count, 0, "glue as seen: no UPDATE");
	parse(&one, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	      "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.3\"]}]}]}");
	zg_update_build(&list, &one, glue, 0, 0);
	count_ops(list.items[0].pkt, &dn, &dr, &ad);
	ok(dn == 1 && dr == 0 && ad == 1, "glue changed: name replaced (%d %d %d)", dn, dr, ad);

	/* No type list (a zone without DNSSEC): even what looks unchanged is
	 * replaced whole, since unlisted types may be there. */
	zg_owner_state_t unknown[1] = { { .rrsets = cur.changes[1].rrsets, .count = 1, .complete = true } };
	unknown[0].types_unknown = true;
	parse(&one, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	      "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.2\"]}]}]}");
	zg_update_build(&list, &one, unknown, 0, 0);
	is_int(list.count, 1, "types unknown: one UPDATE");
	count_ops(list.items[0].pkt, &dn, &dr, &ad);
	ok(dn == 1 && dr == 0 && ad == 1, "types unknown: name replaced (%d %d %d)", dn, dr, ad);

	/* The plan, operation by operation (for a control transaction). */
	int ops[3] = { 0 };
	is_int(zg_update_plan(&msg, st, count_plan, ops), 0, "plan walked");
	ok(ops[ZG_UPDATE_DEL_NODE] == 0 && ops[ZG_UPDATE_DEL_RRSET] == 2 && ops[ZG_UPDATE_ADD] == 0,
	   "plan: the same operations as the UPDATE (%d %d %d)", ops[0], ops[1], ops[2]);

	zg_msg_deinit(&one);
	zg_msg_deinit(&msg);
	zg_msg_deinit(&cur);
	zg_update_list_deinit(&list);
}

static void test_packing(void)
{
	/* 5000 delegations with NS and DS: several UPDATEs, each <= 65535 bytes. */
	size_t cap = 5000 * 300 + 200, n = 0;
	char *json = malloc(cap);
	n += sprintf(json + n, "{\"version\":1,\"id\":\"big\",\"zone\":\"test.\",\"changes\":[");
	for (int i = 0; i < 5000; i++) {
		n += sprintf(json + n, "%s{\"owner\":\"d%05d.test.\",\"rrsets\":[{\"type\":\"NS\","
		             "\"ttl\":3600,\"rdata\":[\"ns1.provider.example.\",\"ns2.provider.example.\"]},"
		             "{\"type\":\"DS\",\"ttl\":3600,\"rdata\":[\"%d 13 2 "
		             "3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012\"]}]}",
		             i ? "," : "", i, i);
	}
	n += sprintf(json + n, "]}");
	zg_msg_t msg;
	zg_msg_init(&msg);
	is_int(parse(&msg, json), 0, "5000 owners parsed");
	zg_update_list_t list;
	zg_update_list_init(&list);
	is_int(zg_update_build(&list, &msg, NULL, 0, 100), 0, "built");
	ok(list.count >= 3, "split into %zu UPDATEs", list.count);
	size_t next = 0, adds = 0, biggest = 0;
	bool contiguous = true, fits = true;
	for (size_t i = 0; i < list.count; i++) {
		zg_update_t *u = &list.items[i];
		contiguous = contiguous && u->first_change == next;
		next = u->last_change + 1;
		fits = fits && u->pkt->size + 100 <= 65535;
		biggest = u->pkt->size > biggest ? u->pkt->size : biggest;
		int dn, dr, ad;
		count_ops(u->pkt, &dn, &dr, &ad);
		adds += (size_t)ad;
	}
	ok(contiguous && next == 5000, "owners in order, each in one UPDATE");
	ok(fits, "every UPDATE fits with the TSIG reserve (biggest %zu)", biggest);
	ok(biggest > 50000, "UPDATEs are well filled (biggest %zu)", biggest);
	is_int(adds, 15000, "every record added once");
	zg_msg_deinit(&msg);

	/* One owner bigger than an UPDATE: its records are spread over several. */
	n = 0;
	n += sprintf(json + n, "{\"version\":1,\"id\":\"huge\",\"zone\":\"test.\",\"changes\":"
	             "[{\"owner\":\"many.test.\",\"rrsets\":[{\"type\":\"TXT\",\"ttl\":60,\"rdata\":[");
	for (int i = 0; i < 3000; i++) {
		n += sprintf(json + n, "%s\"record number %d with some padding text\"", i ? "," : "", i);
	}
	n += sprintf(json + n, "]}]}]}");
	zg_msg_init(&msg);
	is_int(parse(&msg, json), 0, "owner with 3000 TXT records parsed");
	is_int(zg_update_build(&list, &msg, NULL, 0, 100), 0, "built");
	ok(list.count >= 2, "one owner split over %zu UPDATEs", list.count);
	adds = 0;
	int first_dn = 0;
	for (size_t i = 0; i < list.count; i++) {
		int dn, dr, ad;
		count_ops(list.items[i].pkt, &dn, &dr, &ad);
		adds += (size_t)ad;
		if (i == 0) {
			first_dn = dn;
		}
	}
	is_int(adds, 3000, "all 3000 records added");
	is_int(first_dn, 1, "the name deletion comes first");
	zg_msg_deinit(&msg);
	zg_update_list_deinit(&list);
	free(json);
}

/* The grouping rule: which messages may share a serial in a batch. */
static zg_msg_t group_msgs[8];
static int group_n;

static zg_msg_t *msg_of(const char *id, const char *changes)
{
	zg_msg_t *m = &group_msgs[group_n++];
	char json[1024];
	snprintf(json, sizeof(json), "{\"version\":1,\"id\":\"%s\",\"zone\":\"test.\","
	         "\"changes\":%s}", id, changes);
	zg_msg_init(m);
	if (parse(m, json) != 0) {
		printf("Bail out! cannot parse %s\n", id);
		exit(1);
	}
	return m;
}

static void test_group(void)
{
	/* Every owner of these is read as a zone cut or as ordinary data. */
	zg_owner_state_t cut[2] = { { .complete = true, .at_cut = true },
	                            { .complete = true, .at_cut = true } };
	zg_owner_state_t data[2] = { { .complete = true }, { .complete = true } };
	zg_msg_t *del = msg_of("del", "[{\"owner\":\"d2.test.\",\"rrsets\":[]}]");
	zg_msg_t *chg = msg_of("chg", "[{\"owner\":\"d2.test.\",\"rrsets\":[{\"type\":\"NS\","
	                       "\"ttl\":300,\"rdata\":[\"ns2.d2.test.\"]}]}]");
	zg_msg_t *glue = msg_of("glue", "[{\"owner\":\"x.test.\",\"rrsets\":[]},"
	                        "{\"owner\":\"ns1.d2.test.\",\"rrsets\":[{\"type\":\"A\","
	                        "\"ttl\":300,\"rdata\":[\"192.0.2.1\"]}]}]");
	zg_msg_t *deep = msg_of("deep", "[{\"owner\":\"a.b.d2.test.\",\"rrsets\":[]}]");
	zg_msg_t *other = msg_of("other", "[{\"owner\":\"xd2.test.\",\"rrsets\":[]},"
	                         "{\"owner\":\"d2.test2.test.\",\"rrsets\":[]}]");
	zg_msg_t *apex = msg_of("apex", "[{\"owner\":\"test.\",\"rrsets\":[]}]");
	zg_msg_t *del2 = msg_of("del2", "[{\"owner\":\"d3.test.\",\"rrsets\":[]},"
	                        "{\"owner\":\"d4.test.\",\"rrsets\":[{\"type\":\"NS\","
	                        "\"ttl\":300,\"rdata\":[\"ns.d4.test.\"]}]}]");

	ok(zg_update_removes_cut(&del->changes[0], &cut[0]), "a cut listed with no NS: removed");
	ok(!zg_update_removes_cut(&chg->changes[0], &cut[0]), "a cut listed with NS: kept");
	ok(!zg_update_removes_cut(&del->changes[0], &data[0]), "not a cut: no delegation removed");
	ok(!zg_update_removes_cut(&del->changes[0], NULL), "blind (no state): none known");
	ok(!zg_update_removes_cut(&apex->changes[0], &cut[0]), "the apex is never a removed cut");

	ok(zg_update_cut_conflict(del, cut, glue, data),
	   "removal then a message listing a name below the cut: separate serials");
	ok(zg_update_cut_conflict(glue, data, del, cut),
	   "a message listing a name below the cut then its removal: separate serials");
	ok(zg_update_cut_conflict(del, cut, deep, data), "a name two labels below the cut too");
	ok(zg_update_cut_conflict(del, cut, chg, cut), "the cut itself (at the cut) too");
	ok(!zg_update_cut_conflict(del, cut, other, data),
	   "names beside the cut (xd2.test., d2.test2.test.): one serial");
	ok(!zg_update_cut_conflict(chg, cut, glue, data),
	   "NS changed, not removed: a glue name may share the serial");
	ok(!zg_update_cut_conflict(del, cut, apex, data), "the apex above the cut: one serial");
	ok(!zg_update_cut_conflict(del, cut, del2, cut), "two removals of unrelated cuts: one serial");
	ok(zg_update_cut_conflict(del2, cut, deep, data) == false &&
	   zg_update_cut_conflict(del2, data, del, data) == false, "nothing removed: one serial");
	ok(!zg_update_cut_conflict(del, NULL, glue, NULL), "blind: nothing known, no conflict");
	ok(!zg_update_cut_conflict(del, data, glue, data), "d2.test. not a cut: no conflict");
	for (int i = 0; i < group_n; i++) {
		zg_msg_deinit(&group_msgs[i]);
	}
}

int main(void)
{
	plan_lazy();
	parser = zg_msg_parser_new(NULL);
	zg_arena_init(&pool, 0);
	test_diff();
	test_packing();
	test_group();
	zg_arena_deinit(&pool);
	zg_msg_parser_free(parser);
	return done_testing();
}

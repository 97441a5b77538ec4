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
	zg_owner_state_t same[1] = { { msg.changes[1].rrsets, 1, true } };
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
	zg_owner_state_t glue[1] = { { cur.changes[1].rrsets, 1, false } };
	parse(&one, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	      "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.2\"]}]}]}");
	zg_update_build(&list, &one, glue, 0, 0);
	is_int(list.count, 0, "glue as seen: no UPDATE");
	parse(&one, "{\"version\":1,\"id\":\"m\",\"zone\":\"test.\",\"changes\":["
	      "{\"owner\":\"b.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.3\"]}]}]}");
	zg_update_build(&list, &one, glue, 0, 0);
	count_ops(list.items[0].pkt, &dn, &dr, &ad);
	ok(dn == 1 && dr == 0 && ad == 1, "glue changed: name replaced (%d %d %d)", dn, dr, ad);

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

int main(void)
{
	plan_lazy();
	parser = zg_msg_parser_new(NULL);
	zg_arena_init(&pool, 0);
	test_diff();
	test_packing();
	zg_arena_deinit(&pool);
	zg_msg_parser_free(parser);
	return done_testing();
}

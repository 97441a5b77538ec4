/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mod-dsync parent mode pieces without the network: the ingest message a
 * scanner writes (it must pass the ingest parser as is), its id, and the
 * spool producer side. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libknot/libknot.h>

#include "dsync/cdscan.h"
#include "core/error.h"
#include "ingest/msg.h"
#include "ingest/spool.h"
#include "tap.h"

static void add_rdata(knot_rrset_t *rr, const char *text)
{
	/* Parse "TYPE RDATA" of one record with the rrset's owner. */
	uint8_t wire[1024];
	size_t len = 0;
	if (rr->type == KNOT_RRTYPE_NS) {
		knot_dname_t *n = knot_dname_from_str(wire, text, sizeof(wire));
		len = n != NULL ? knot_dname_size(n) : 0;
	} else {
		/* DS: tag alg digest-type hex */
		unsigned tag, alg, dt;
		char hex[200];
		if (sscanf(text, "%u %u %u %199s", &tag, &alg, &dt, hex) == 4) {
			wire[0] = tag >> 8; wire[1] = tag & 0xff; wire[2] = alg; wire[3] = dt;
			len = 4;
			for (size_t i = 0; hex[2 * i] != '\0' && hex[2 * i + 1] != '\0'; i++) {
				unsigned b;
				sscanf(hex + 2 * i, "%2x", &b);
				wire[len++] = (uint8_t)b;
			}
		}
	}
	knot_rrset_add_rdata(rr, wire, len, NULL);
}

static int parse(const char *json, zg_msg_t *msg, char *reason)
{
	zg_msg_limits_t lim;
	zg_msg_limits_default(&lim);
	zg_msg_parser_t *p = zg_msg_parser_new(&lim);
	knot_dname_t *zone = knot_dname_from_str_alloc("test.");
	int ret = zg_msg_parse(p, json, strlen(json), zone, msg, reason, ZG_MSG_REASON_MAX);
	knot_dname_free(zone, NULL);
	zg_msg_parser_free(p);
	return ret;
}

static void test_message(void)
{
	knot_dname_t *child = knot_dname_from_str_alloc("Child.test.");
	knot_rrset_t ns, ds;
	knot_rrset_init(&ns, child, KNOT_RRTYPE_NS, KNOT_CLASS_IN, 3600);
	knot_rrset_init(&ds, child, KNOT_RRTYPE_DS, KNOT_CLASS_IN, 300);
	add_rdata(&ns, "ns1.child.test.");
	add_rdata(&ns, "ns.provider.example.");
	add_rdata(&ds, "12345 13 2 3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012");

	char *json = zg_cdscan_message("20261123T082919Z-dsync-000002-child.test", "test.", &ns, &ds);
	ok(json != NULL, "message built");
	zg_msg_t msg;
	zg_msg_init(&msg);
	char reason[ZG_MSG_REASON_MAX] = "";
	int ret = parse(json, &msg, reason);
	is_int(ret, 0, "the ingest parser accepts it");
	if (ret != 0) {
		diag("%s: %s", reason, json);
	}
	is_int(msg.change_count, 1, "one owner");
	is_int(msg.rr_count, 3, "two NS and one DS");
	if (msg.change_count == 1) {
		zg_change_t *c = &msg.changes[0];
		char o[KNOT_DNAME_TXT_MAXLEN + 1];
		knot_dname_to_str(o, c->owner, sizeof(o));
		is_str(o, "child.test.", "owner is the child");
		is_int(c->rrset_count, 2, "NS and DS rrsets (full state)");
		bool seen_ds = false;
		for (uint16_t i = 0; i < c->rrset_count; i++) {
			if (c->rrsets[i].type == KNOT_RRTYPE_DS) {
				seen_ds = true;
				is_int(c->rrsets[i].ttl, 300, "DS TTL kept");
				ok(knot_rdataset_eq(&c->rrsets[i].rrs, &ds.rrs), "DS rdata round trip");
			} else {
				is_int(c->rrsets[i].type, KNOT_RRTYPE_NS, "other rrset is NS");
				ok(knot_rdataset_eq(&c->rrsets[i].rrs, &ns.rrs), "NS rdata round trip");
			}
		}
		ok(seen_ds, "DS present");
	}
	is_str(msg.id, "20261123T082919Z-dsync-000002-child.test", "id kept");
	free(json);

	/* An accepted delete: no DS rrset at all. */
	knot_rrset_t none;
	knot_rrset_init(&none, child, KNOT_RRTYPE_DS, KNOT_CLASS_IN, 300);
	json = zg_cdscan_message("x", "test.", &ns, &none);
	ret = parse(json, &msg, reason);
	is_int(ret, 0, "delete message accepted by the parser");
	is_int(msg.change_count == 1 ? msg.changes[0].rrset_count : -1, 1, "only NS: DS removed");
	free(json);

	/* Wrong zone: the parser refuses it (the scanner writes its own zone). */
	json = zg_cdscan_message("x", "other.", &ns, &ds);
	is_int(parse(json, &msg, reason), ZG_EOUTOFZONE, "message for another zone refused");
	free(json);

	zg_msg_deinit(&msg);
	knot_rdataset_clear(&ns.rrs, NULL);
	knot_rdataset_clear(&ds.rrs, NULL);
	knot_dname_free(child, NULL);
}

static void test_id(void)
{
	char id[128];
	knot_dname_t *c = knot_dname_from_str_alloc("Child.test.");
	zg_cdscan_message_id(id, sizeof(id), c, 2, 1795422559);
	is_str(id, "20261123T082919Z-dsync-000002-child.test", "id: time, sequence, child");
	knot_dname_free(c, NULL);
	c = knot_dname_from_str_alloc("a-very-long-label-that-goes-on-and-on.another-long-label.test.");
	zg_cdscan_message_id(id, sizeof(id), c, 1234567, 1795422559);
	ok(strlen(id) <= ZG_MSG_ID_MAX, "long child: id within the ingest limit (%zu)", strlen(id));
	ok(strncmp(id, "20261123T082919Z-dsync-234567-a-very-long", 41) == 0, "sequence wraps, name cut");
	knot_dname_free(c, NULL);
	c = knot_dname_from_str_alloc("we\\/ird\\032name.test.");
	zg_cdscan_message_id(id, sizeof(id), c, 3, 1795422559);
	ok(strchr(id, '/') == NULL && strchr(id, ' ') == NULL && strchr(id, '\\') == NULL,
	   "no slash, space or backslash in the id (%s)", id);
	knot_dname_free(c, NULL);
}

static void test_spool_put(void)
{
	char dir[] = "/tmp/zg-cdscan-XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp spool");
	zg_spool_t *sp = NULL;
	is_int(zg_spool_open(dir, &sp), 0, "spool opened");
	const char *m = "{\"version\":1}";
	is_int(zg_spool_put(sp, "a.json", m, strlen(m)), 0, "message put");
	is_int(zg_spool_put(sp, "a.json", "{}", 2), -EEXIST, "an existing message is not replaced");
	is_int(zg_spool_put(sp, "../a.json", m, strlen(m)), -EINVAL, "slash refused");
	is_int(zg_spool_put(sp, "a.txt", m, strlen(m)), -EINVAL, "not .json refused");
	is_int(zg_spool_put(sp, ".hidden.json", m, strlen(m)), -EINVAL, "hidden name refused");
	char name[ZG_SPOOL_NAME_MAX + 1];
	time_t t;
	is_int(zg_spool_next(sp, name, &t), 0, "consumer sees a message");
	is_str(name, "a.json", "by its name");
	char *data = NULL;
	size_t len = 0;
	if (zg_spool_read(sp, name, 1024, &data, &len) == 0) {
		is_int(len, strlen(m), "whole content");
		ok(memcmp(data, m, len) == 0, "same bytes");
		free(data);
	} else {
		ok(false, "read back");
	}
	/* No temporary file left. */
	char path[512];
	snprintf(path, sizeof(path), "%s/incoming", dir);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.';
		ok(strstr(e->d_name, ".tmp") == NULL, "no temporary file (%s)", e->d_name);
	}
	if (d != NULL) {
		closedir(d);
	}
	is_int(n, 1, "one file in incoming/");
	zg_spool_free(sp);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

int main(void)
{
	plan_lazy();
	test_message();
	test_id();
	test_spool_put();
	return done_testing();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Message parser: the version 1 schema and every refusal rule. */
#include <errno.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>

#include "core/error.h"
#include "ingest/msg.h"
#include "tap.h"

static zg_msg_parser_t *parser;
static zg_msg_t msg;
static char reason[ZG_MSG_REASON_MAX];
static knot_dname_storage_t zone;

static int parse(const char *json)
{
	return zg_msg_parse(parser, json, strlen(json), zone, &msg, reason, sizeof(reason));
}

/* A message with one change of the given owner and rrsets JSON. */
static int parse_change(const char *owner, const char *rrsets)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "{\"version\":1,\"id\":\"X\",\"zone\":\"test.\","
	         "\"changes\":[{\"owner\":\"%s\",\"rrsets\":%s}]}", owner, rrsets);
	return parse(buf);
}

static void refused(int got, int code, const char *want, const char *what)
{
	is_int(got, code, "%s: code", what);
	is_str(reason, want, "%s: reason", what);
}

static void test_valid(void)
{
	const char *ex =
	"{\n"
	"  \"version\": 1,\n"
	"  \"id\": \"20261123T052001Z-000042\",\n"
	"  \"zone\": \"test.\",\n"
	"  \"changes\": [\n"
	"    { \"owner\": \"Example.test.\", \"rrsets\": [\n"
	"        { \"type\": \"NS\", \"ttl\": 86400, \"rdata\": [\"ns1.example.test.\", \"ns.provider.example.\"] },\n"
	"        { \"type\": \"DS\", \"ttl\": 3600,  \"rdata\": [\"12345 13 2 3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012\"] } ] },\n"
	"    { \"owner\": \"ns1.example.test.\", \"rrsets\": [ { \"type\": \"a\", \"ttl\": 86400, \"rdata\": [\"192.0.2.1\"] } ] },\n"
	"    { \"owner\": \"gone.test.\", \"rrsets\": [] },\n"
	"    { \"owner\": \"test.\", \"rrsets\": [ { \"type\": \"TXT\", \"ttl\": 60, \"rdata\": [\"\\\"hello world\\\"\"] } ] }\n"
	"  ]\n"
	"}\n";
	int ret = parse(ex);
	is_int(ret, 0, "the CONTRACTS example parses");
	if (ret != 0) {
		diag("%s", reason);
		return;
	}
	is_str(msg.id, "20261123T052001Z-000042", "id");
	ok(knot_dname_is_equal(msg.zone, zone), "zone");
	is_int(msg.change_count, 4, "four owners");
	is_int(msg.rr_count, 5, "five records");
	char txt[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(txt, msg.changes[0].owner, sizeof(txt));
	is_str(txt, "example.test.", "owner in lower case");
	is_int(msg.changes[0].rrset_count, 2, "two rrsets at the delegation");
	is_int(msg.changes[0].rrsets[0].type, KNOT_RRTYPE_NS, "NS first");
	is_int(msg.changes[0].rrsets[0].rrs.count, 2, "two NS records");
	is_int(msg.changes[0].rrsets[0].ttl, 86400, "NS TTL");
	is_int(msg.changes[0].rrsets[1].type, KNOT_RRTYPE_DS, "then DS");
	is_int(msg.changes[1].rrsets[0].type, KNOT_RRTYPE_A, "lower-case type name");
	const uint8_t a[4] = { 192, 0, 2, 1 };
	ok(msg.changes[1].rrsets[0].rrs.rdata->len == 4 &&
	   memcmp(msg.changes[1].rrsets[0].rrs.rdata->data, a, 4) == 0, "A rdata in wire form");
	is_int(msg.changes[2].rrset_count, 0, "removal has no rrsets");
	ok(!msg.changes[2].apex && msg.changes[3].apex, "apex flagged");

	is_int(parse("{\"version\":1,\"id\":\"e\",\"zone\":\"test.\",\"changes\":[]}"), 0,
	       "an empty change list is fine");
	is_int(parse_change("*.wild.test.", "[{\"type\":\"TXT\",\"ttl\":0,\"rdata\":[\"a\",\"b\",\"a\"]}]"),
	       0, "wildcard owner, TTL 0");
	is_int(msg.changes[0].rrsets[0].rrs.count, 2, "duplicate rdata merged");
	is_int(parse_change("x.test.", "[{\"type\":\"TYPE65000\",\"ttl\":1,\"rdata\":[\"\\\\# 2 abcd\"]}]"),
	       0, "generic type and rdata");
	is_int(parse_change("x.test.", "[{\"type\":\"MX\",\"ttl\":1,\"rdata\":[\"10 mail\"]}]"), 0,
	       "relative name in rdata is relative to the zone");
	is_int(parse_change("x.test.", "[{\"type\":\"A\",\"ttl\":1,\"rdata\":[\"192.0.2.1 ; note\"]}]"), 0,
	       "a comment in rdata is ignored");
	is_int(parse_change("sub.test.", "[{\"type\":\"NS\",\"ttl\":1,\"rdata\":[\"ns.example.\"]}]"), 0,
	       "NS below the apex is a delegation");
}

static void test_zone_rules(void)
{
	refused(parse("{\"version\":1,\"id\":\"20261123T052001Z-000042\",\"zone\":\"test.\","
	              "\"changes\":[{\"owner\":\"www.other.\",\"rrsets\":[]}]}"),
	        ZG_EOUTOFZONE, "message 20261123T052001Z-000042: owner www.other. outside zone test.",
	        "owner outside the zone");
	refused(parse_change("test.", "[{\"type\":\"SOA\",\"ttl\":1,\"rdata\":[\"a. b. 1 2 3 4 5\"]}]"),
	        ZG_EINPUT, "message X: owner test. rrset SOA: SOA is maintained by the signer", "SOA");
	refused(parse_change("sub.test.", "[{\"type\":\"SOA\",\"ttl\":1,\"rdata\":[\"a. b. 1 2 3 4 5\"]}]"),
	        ZG_EINPUT, "message X: owner sub.test. rrset SOA: SOA is maintained by the signer",
	        "SOA below the apex");
	refused(parse_change("test.", "[{\"type\":\"NS\",\"ttl\":1,\"rdata\":[\"ns.example.\"]}]"),
	        ZG_EINPUT, "message X: owner test. rrset NS: apex NS is maintained by the operator, "
	        "not by ingest", "apex NS");
	const char *dnssec[] = { "DNSKEY", "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "CDS", "CDNSKEY" };
	for (size_t i = 0; i < sizeof(dnssec) / sizeof(dnssec[0]); i++) {
		char rs[256], want[256];
		snprintf(rs, sizeof(rs), "[{\"type\":\"%s\",\"ttl\":1,\"rdata\":[\"x\"]}]", dnssec[i]);
		snprintf(want, sizeof(want), "message X: owner a.test. rrset %s: DNSSEC records "
		         "are maintained by the signer", dnssec[i]);
		refused(parse_change("a.test.", rs), ZG_EINPUT, want, dnssec[i]);
	}
	refused(parse_change("a.test.", "[{\"type\":\"ANY\",\"ttl\":1,\"rdata\":[\"x\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset ANY: meta type not allowed", "ANY");
	refused(parse_change("a.test.", "[{\"type\":\"BOGUS\",\"ttl\":1,\"rdata\":[\"x\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset \"BOGUS\": unknown type", "unknown type");
	refused(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"other.\",\"changes\":[]}"),
	        ZG_EOUTOFZONE, "message X: zone other. is not test.", "message for another zone");
	refused(parse_change("www.test", "[]"), ZG_EINPUT,
	        "message X: owner \"www.test\": not absolute (must end with a dot)", "relative owner");
	refused(parse_change("a..test.", "[]"), ZG_EINPUT,
	        "message X: owner \"a..test.\": not a domain name", "bad owner");
}

static void test_rdata_rules(void)
{
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"300.1.1.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: bad rdata \"300.1.1.1\" "
	        "(invalid IPv4 address)", "bad IPv4 address");
	refused(parse_change("a.test.", "[{\"type\":\"AAAA\",\"ttl\":300,\"rdata\":[\"192.0.2.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset AAAA: bad rdata \"192.0.2.1\" "
	        "(invalid IPv6 address)", "IPv4 as AAAA");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.1\\n$INCLUDE /etc/passwd\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: bad rdata "
	        "\"192.0.2.1\\x0a$INCLUDE /etc/passwd\" (control character)", "newline injection");
	int ret = parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"( 192.0.2.1\"]}]");
	is_int(ret, ZG_EINPUT, "unclosed parenthesis refused");
	ret = parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.1 192.0.2.2\"]}]");
	is_int(ret, ZG_EINPUT, "two addresses in one string refused");
	ok(strstr(reason, "message X: owner a.test. rrset A: bad rdata \"192.0.2.1 192.0.2.2\"") == reason,
	   "reason quotes the rdata (%s)", reason);
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":300,\"rdata\":[]}]"), ZG_EINPUT,
	        "message X: owner a.test. rrset A: \"rdata\" is empty (leave the type out to remove it)",
	        "empty rdata list");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"\"]}]"), ZG_EINPUT,
	        "message X: owner a.test. rrset A: empty rdata", "empty rdata string");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":300,\"rdata\":[1]}]"), ZG_EINPUT,
	        "message X: owner a.test. rrset A: rdata must be strings", "number as rdata");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":1,\"rdata\":[\"192.0.2.1\"]},"
	                     "{\"type\":\"A\",\"ttl\":1,\"rdata\":[\"192.0.2.2\"]}]"), ZG_EINPUT,
	        "message X: owner a.test. rrset A: listed twice", "type listed twice");
	refused(parse_change("a.test.", "[{\"type\":\"CNAME\",\"ttl\":1,\"rdata\":[\"b.test.\"]},"
	                     "{\"type\":\"A\",\"ttl\":1,\"rdata\":[\"192.0.2.2\"]}]"), ZG_EINPUT,
	        "message X: owner a.test.: CNAME cannot coexist with other data", "CNAME and A");
	refused(parse_change("a.test.", "[{\"type\":\"CNAME\",\"ttl\":1,\"rdata\":[\"b.test.\",\"c.test.\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset CNAME: only one record allowed", "two CNAMEs");
	refused(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":["
	              "{\"owner\":\"a.test.\",\"rrsets\":[]},{\"owner\":\"A.test.\",\"rrsets\":[]}]}"),
	        ZG_EINPUT, "message X: owner a.test. listed twice", "owner listed twice");
}

static void test_ttl_rules(void)
{
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":-1,\"rdata\":[\"192.0.2.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: TTL -1 out of range 0..2147483647",
	        "negative TTL");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":2147483648,\"rdata\":[\"192.0.2.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: TTL 2147483648 out of range 0..2147483647",
	        "TTL over 2^31-1");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":3600.5,\"rdata\":[\"192.0.2.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: \"ttl\" must be an integer", "real TTL");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":\"3600\",\"rdata\":[\"192.0.2.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: \"ttl\" must be an integer", "string TTL");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"rdata\":[\"192.0.2.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: missing field \"ttl\"", "missing TTL");

	zg_msg_limits_t lim;
	zg_msg_limits_default(&lim);
	lim.ttl_min = 60;
	lim.ttl_max = 86400;
	zg_msg_parser_t *p2 = zg_msg_parser_new(&lim);
	const char *j = "{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":"
	                "\"a.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":86401,\"rdata\":[\"192.0.2.1\"]}]}]}";
	is_int(zg_msg_parse(p2, j, strlen(j), NULL, &msg, reason, sizeof(reason)), ZG_EINPUT,
	       "TTL over a configured maximum");
	is_str(reason, "message X: owner a.test. rrset A: TTL 86401 out of range 60..86400",
	       "configured range in the reason");
	zg_msg_parser_free(p2);
}

static void test_schema_rules(void)
{
	refused(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[],\"extra\":1}"),
	        ZG_EINPUT, "message X: unknown field \"extra\"", "unknown top-level field");
	refused(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":"
	              "\"a.test.\",\"rrsets\":[],\"ttl\":1}]}"),
	        ZG_EINPUT, "message X: owner a.test.: unknown field \"ttl\"", "unknown change field");
	refused(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":1,\"class\":\"IN\",\"rdata\":[\"192.0.2.1\"]}]"),
	        ZG_EINPUT, "message X: owner a.test. rrset A: unknown field \"class\"",
	        "unknown rrset field");
	refused(parse("{\"version\":2,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[]}"),
	        ZG_EINPUT, "message X: unsupported version (only 1 is known)", "version 2");
	refused(parse("{\"id\":\"X\",\"zone\":\"test.\",\"changes\":[]}"),
	        ZG_EINPUT, "message X: missing field \"version\"", "no version");
	refused(parse("{\"version\":1,\"zone\":\"test.\",\"changes\":[]}"),
	        ZG_EINPUT, "message (no id): missing field \"id\"", "no id");
	refused(parse("{\"version\":1,\"id\":\"a b\",\"zone\":\"test.\",\"changes\":[]}"),
	        ZG_EINPUT, "message (no id): bad id \"a b\" (1 to 64 characters of A-Z a-z 0-9 - _ . : +)",
	        "id with a space");
	refused(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\"}"),
	        ZG_EINPUT, "message X: missing field \"changes\"", "no changes");
	refused(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":{}}"),
	        ZG_EINPUT, "message X: \"changes\" must be an array", "changes not an array");
	refused(parse("[1]"), ZG_EINPUT, "message (no id): not a JSON object", "array message");
	refused(parse("{\"version\":1,\"id\":\"X\",\"id\":\"Y\",\"zone\":\"test.\",\"changes\":[]}"),
	        ZG_ESYNTAX, "message (no id): invalid JSON at line 1 column 26 (duplicate object key near '\"id\"')",
	        "duplicate key");
}

static void test_hostile(void)
{
	/* Deep nesting. */
	char deep[20000];
	size_t n = 0;
	n += sprintf(deep, "{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":");
	for (int i = 0; i < 5000; i++) {
		deep[n++] = '[';
	}
	for (int i = 0; i < 5000; i++) {
		deep[n++] = ']';
	}
	deep[n++] = '}';
	deep[n] = '\0';
	refused(parse(deep), ZG_EINPUT, "message (no id): JSON nested deeper than 8 levels "
	        "(at byte 54)", "deep nesting");
	is_int(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":\"a.test.\","
	             "\"rrsets\":[{\"type\":\"TXT\",\"ttl\":1,\"rdata\":[\"[[[[[[[[[[[[[[[{{{{{\"]}]}]}"), 0,
	       "brackets inside strings do not count");

	/* Huge strings. */
	size_t big = ZG_MSG_RDATA_TEXT_MAX + 10;
	char *huge = malloc(big + 200);
	int k = sprintf(huge, "{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":"
	                "\"a.test.\",\"rrsets\":[{\"type\":\"TXT\",\"ttl\":1,\"rdata\":[\"");
	memset(huge + k, 'a', big);
	strcpy(huge + k + big, "\"]}]}]}");
	refused(parse(huge), ZG_ETOOBIG, "message X: owner a.test. rrset TXT: rdata longer than "
	        "131072 characters", "huge rdata string");
	k = sprintf(huge, "{\"version\":1,\"id\":\"");
	memset(huge + k, 'a', 100000);
	strcpy(huge + k + 100000, "\",\"zone\":\"test.\",\"changes\":[]}");
	is_int(parse(huge), ZG_EINPUT, "huge id refused");
	ok(strlen(reason) < 300, "reason stays short (%zu)", strlen(reason));
	k = sprintf(huge, "{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":\"");
	memset(huge + k, 'a', 100000);
	strcpy(huge + k + 100000, ".test.\",\"rrsets\":[]}]}");
	is_int(parse(huge), ZG_EINPUT, "huge owner refused");
	ok(strlen(reason) < 300, "reason stays short (%zu)", strlen(reason));
	free(huge);

	/* Size limit. */
	zg_msg_limits_t lim;
	zg_msg_limits_default(&lim);
	lim.max_size = 100;
	zg_msg_parser_t *p2 = zg_msg_parser_new(&lim);
	const char *j = "{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":"
	                "\"a.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":1,\"rdata\":[\"192.0.2.1\"]}]}]}";
	is_int(zg_msg_parse(p2, j, strlen(j), NULL, &msg, reason, sizeof(reason)), ZG_ETOOBIG,
	       "message over the configured size");
	is_str(reason, "message (no id): 123 bytes, over the limit of 100", "size reason");
	lim.max_size = 1000;
	lim.max_changes = 1;
	zg_msg_parser_free(p2);
	p2 = zg_msg_parser_new(&lim);
	j = "{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":\"a.test.\","
	    "\"rrsets\":[]},{\"owner\":\"b.test.\",\"rrsets\":[]}]}";
	is_int(zg_msg_parse(p2, j, strlen(j), NULL, &msg, reason, sizeof(reason)), ZG_ETOOBIG,
	       "too many owners");
	is_str(reason, "message X: 2 owners, more than the limit of 1", "owner limit reason");
	zg_msg_parser_free(p2);

	/* Invalid UTF-8, NUL, numbers out of range. */
	refused(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":\"\xff.test.\",\"rrsets\":[]}]}"),
	        ZG_ESYNTAX, "message (no id): invalid JSON at line 1 column 58 (unable to decode byte 0xff near '\"')",
	        "invalid UTF-8");
	is_int(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[{\"owner\":\"a\\u0000.test.\",\"rrsets\":[]}]}"),
	       ZG_ESYNTAX, "NUL escape refused");
	is_int(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":99999999999999999999999,\"rdata\":[\"192.0.2.1\"]}]"),
	       ZG_ESYNTAX, "integer overflow refused");
	ok(strstr(reason, "too big integer") != NULL, "reason says too big integer (%s)", reason);
	is_int(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":1e400,\"rdata\":[\"192.0.2.1\"]}]"),
	       ZG_ESYNTAX, "real overflow refused");
	is_int(parse("{\"version\":1e400}"), ZG_ESYNTAX, "real overflow at the top");
	is_int(parse(""), ZG_ESYNTAX, "empty input");
	is_int(parse("{\"version\":1,\"id\":\"X\",\"zone\":\"test.\",\"changes\":[]} trailing"),
	       ZG_ESYNTAX, "trailing garbage");

	/* The parser still works after all that. */
	is_int(parse_change("a.test.", "[{\"type\":\"A\",\"ttl\":1,\"rdata\":[\"192.0.2.9\"]}]"), 0,
	       "parser reusable after refusals");
}

static void test_quote(void)
{
	char q[32];
	is_str(zg_quote(q, sizeof(q), "a\"b\\c\x01", 6, 80), "\"a\\\"b\\\\c\\x01\"", "quote escapes");
	is_str(zg_quote(q, sizeof(q), "0123456789", 10, 4), "\"0123\"...", "quote cuts");
	zg_quote(q, sizeof(q), "0123456789012345678901234567890123456789", 40, 80);
	ok(strlen(q) < sizeof(q), "quote fits its buffer (%s)", q);
}

static void test_escape(void)
{
	char e[64];
	is_str(zg_msg_escape("a\nb\x1b[31m\\ \"x\" \xc3\xa9", e, sizeof(e)),
	       "a\\x0ab\\x1b[31m\\\\ \"x\" \\xc3\\xa9", "escape: newline, ESC, backslash, non-ASCII");
	is_str(zg_msg_escape("applied ok", e, sizeof(e)), "applied ok", "escape: plain text unchanged");
	is_str(zg_msg_escape("abc\n", e, 6), "abc", "escape: never cut inside an escape");
	/* jansson quotes the offending input in its error text: the reason
	 * must stay one line of printable ASCII. */
	const char *bad = "{\"version\":1,\x1b[31m\n\"x\":1}";
	int ret = zg_msg_parse(parser, bad, strlen(bad), zone, &msg, reason, sizeof(reason));
	is_int(ret, ZG_ESYNTAX, "ESC in the JSON: syntax error");
	bool clean = true;
	for (const char *p = reason; *p != '\0'; p++) {
		clean = clean && *p >= 0x20 && *p < 0x7f;
	}
	ok(clean, "the reason holds no control character (%s)", reason);
	ok(strstr(reason, "\\x1b") != NULL, "the ESC shown escaped");
}

/* zg_msg_write(): what it writes parses back to the same message. */
static void test_write(void)
{
	const char *ex = "{\"version\":1,\"id\":\"w-1\",\"zone\":\"test.\",\"changes\":["
	        "{\"owner\":\"Example.test.\",\"rrsets\":["
	        "{\"type\":\"NS\",\"ttl\":86400,\"rdata\":[\"ns1.example.test.\",\"ns.provider.example.\"]},"
	        "{\"type\":\"DS\",\"ttl\":3600,\"rdata\":[\"12345 13 2 3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012\"]}]},"
	        "{\"owner\":\"ns1.example.test.\",\"rrsets\":[{\"type\":\"a\",\"ttl\":86400,\"rdata\":[\"192.0.2.1\"]}]},"
	        "{\"owner\":\"gone.test.\",\"rrsets\":[]},"
	        "{\"owner\":\"test.\",\"rrsets\":[{\"type\":\"TXT\",\"ttl\":60,\"rdata\":[\"\\\"hello world\\\"\"]}]}]}";
	int ret = parse(ex);
	is_int(ret, 0, "write: the input parses");
	if (ret != 0) {
		diag("%s", reason);
		return;
	}
	char *text = zg_msg_write(msg.id, "test.", msg.changes, msg.change_count);
	ok(text != NULL, "write: a message is written");
	if (text == NULL) {
		return;
	}
	is_str(text, "{\"version\":1,\"id\":\"w-1\",\"zone\":\"test.\",\"changes\":["
	       "{\"owner\":\"example.test.\",\"rrsets\":["
	       "{\"type\":\"NS\",\"ttl\":86400,\"rdata\":[\"ns.provider.example.\",\"ns1.example.test.\"]},"
	       "{\"type\":\"DS\",\"ttl\":3600,\"rdata\":[\"12345 13 2 3A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F90123A4B5C6D7E8F9012\"]}]},"
	       "{\"owner\":\"ns1.example.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":86400,\"rdata\":[\"192.0.2.1\"]}]},"
	       "{\"owner\":\"gone.test.\",\"rrsets\":[]},"
	       "{\"owner\":\"test.\",\"rrsets\":[{\"type\":\"TXT\",\"ttl\":60,\"rdata\":[\"\\\"hello world\\\"\"]}]}]}",
	       "write: owners lower case, types upper case, owners in order, records in "
	       "canonical order, a removal as no rrsets");
	zg_msg_t again;
	zg_msg_init(&again);
	ret = zg_msg_parse(parser, text, strlen(text), zone, &again, reason, sizeof(reason));
	is_int(ret, 0, "write: what is written parses");
	if (ret == 0) {
		is_int(again.change_count, 4, "write: 4 owners read back");
		is_int(again.rr_count, 5, "write: 5 records read back");
		char *text2 = zg_msg_write(again.id, "test.", again.changes, again.change_count);
		is_str(text2 != NULL ? text2 : "(null)", text, "write: parse and write is a fixed point");
		free(text2);
	}
	zg_msg_deinit(&again);
	free(text);
	ok(zg_msg_write(NULL, "test.", NULL, 0) == NULL, "write: no id, no message");
	text = zg_msg_write("empty", "test.", NULL, 0);
	is_str(text != NULL ? text : "(null)",
	       "{\"version\":1,\"id\":\"empty\",\"zone\":\"test.\",\"changes\":[]}",
	       "write: no changes");
	free(text);
}

int main(void)
{
	plan_lazy();
	parser = zg_msg_parser_new(NULL);
	zg_msg_init(&msg);
	knot_dname_from_str(zone, "test.", sizeof(zone));
	test_valid();
	test_zone_rules();
	test_rdata_rules();
	test_ttl_rules();
	test_schema_rules();
	test_hostile();
	test_quote();
	test_escape();
	test_write();
	zg_msg_deinit(&msg);
	zg_msg_parser_free(parser);
	return done_testing();
}

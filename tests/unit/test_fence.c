/* SPDX-License-Identifier: GPL-3.0-or-later */
/* signer/fence.h: the downstream fencing decision of mod-validate. */
#include <string.h>

#include "core/error.h"
#include "dns/dnsclient.h"
#include "signer/fence.h"
#include "tap.h"

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	zg_dns_addr_parse(text, 53, &ss);
	return ss;
}

int main(void)
{
	plan_lazy();
	struct sockaddr_storage a = addr("127.0.0.1@5301"), b = addr("127.0.0.2@5301");
	zg_lease_info_t l = { .exists = true, .token = 2, .remaining_ms = 5000 };
	strcpy(l.holder, "b");
	zg_fence_in_t in = { .lease = &l, .holder_addr = &b, .from = &b, .last_token = 1,
	                     .serial = 11, .have_last_serial = true, .last_serial = 10 };
	bool nt = false;
	char why[200];

	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_ACCEPT, "the holder's serial, next token");
	ok(nt, "a new token to record");
	in.last_token = 2;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_ACCEPT, "the holder's serial, same token");
	ok(!nt, "no new token");
	in.serial = 10;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_ACCEPT,
	       "same token: the serial rule is not the fence's (knotd's own)");

	in.from = &a;
	in.serial = 12;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_NOT_HOLDER, "a serial from another address");
	ok(!nt, "no token recorded");
	is_str(zg_fence_reason(ZG_FENCE_NOT_HOLDER, &in, why, sizeof(why)),
	       "signer lease held by b, token 2", "reason names holder and token");
	struct sockaddr_storage b53 = addr("127.0.0.2");
	in.from = &b53;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_NOT_HOLDER, "same host, other port: refused");
	in.from = &b;

	l.remaining_ms = 0;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_EXPIRED, "an expired lease: refused");
	is_str(zg_fence_reason(ZG_FENCE_EXPIRED, &in, why, sizeof(why)),
	       "signer lease of b, token 2, expired", "reason");
	l.remaining_ms = -100;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_EXPIRED, "long expired: refused");
	l.remaining_ms = 5000;
	l.exists = false;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_NO_LEASE, "no lease ever taken: refused");
	l.exists = true;
	in.holder_addr = NULL;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_NO_ADDRESS, "holder of no address: refused");
	in.holder_addr = &b;

	in.last_token = 3;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_TOKEN_BACK, "a token below one accepted: refused");
	is_str(zg_fence_reason(ZG_FENCE_TOKEN_BACK, &in, why, sizeof(why)),
	       "signer lease token 2 of b is below token 3 accepted before", "reason");

	/* A new token: the serial must be above the last accepted one. */
	in.last_token = 1;
	in.serial = 10;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_SERIAL_BACK, "new token, same serial: refused");
	ok(!nt, "no token recorded");
	in.serial = 9;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_SERIAL_BACK, "new token, lower serial: refused");
	is_str(zg_fence_reason(ZG_FENCE_SERIAL_BACK, &in, why, sizeof(why)),
	       "first serial of b under token 2 is not above the last accepted serial 10", "reason");
	in.last_serial = 0xfffffff0U;
	in.serial = 5;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_ACCEPT, "serial arithmetic: a wrap is above");
	in.last_serial = 5;
	in.serial = 5 + 0x80000000U;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_SERIAL_BACK, "half the space away: not above");
	in.have_last_serial = false;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_ACCEPT, "no serial accepted before: any serial");
	in.last_token = 0;
	is_int(zg_fence_decide(&in, &nt), ZG_FENCE_ACCEPT, "first token ever");
	ok(nt, "recorded");

	/* The holder map. */
	char holder[256];
	struct sockaddr_storage out;
	is_int(zg_fence_map_parse("signer-b@127.0.0.2@5301", holder, sizeof(holder), &out), 0,
	       "map item parsed");
	is_str(holder, "signer-b", "its holder");
	ok(zg_fence_addr_equal(&out, &b), "its address and port");
	is_int(zg_fence_map_parse("127.0.0.2", holder, sizeof(holder), &out), ZG_EINPUT,
	       "no holder: refused");
	is_int(zg_fence_map_parse("@127.0.0.2", holder, sizeof(holder), &out), ZG_EINPUT,
	       "empty holder: refused");
	is_int(zg_fence_map_parse("b@ns.example", holder, sizeof(holder), &out), ZG_EINPUT,
	       "a name, not an address: refused");
	const char *map[] = { "a@127.0.0.1@5301", "b@127.0.0.2@5301" };
	is_int(zg_fence_holder_addr(map, 2, "b", &out), 0, "holder b found");
	ok(zg_fence_addr_equal(&out, &b), "at its address");
	is_int(zg_fence_holder_addr(map, 2, "127.0.0.3@53", &out), 0, "a holder named by address");
	struct sockaddr_storage c = addr("127.0.0.3");
	ok(zg_fence_addr_equal(&out, &c), "is that address");
	is_int(zg_fence_holder_addr(map, 2, "c", &out), ZG_EINPUT, "unknown holder: no address");
	is_int(zg_fence_holder_addr(NULL, 0, "c", &out), ZG_EINPUT, "no map: no address");

	/* The configuration check (mod-validate's signer and lease items). */
	const char *lease = "postgresql://zonegate@127.0.0.1:1/zonegate";
	is_str(zg_fence_conf_check(NULL, 0, NULL), NULL, "no fencing: fine");
	is_str(zg_fence_conf_check(map, 2, lease), NULL, "a map and a postgresql:// lease: fine");
	is_str(zg_fence_conf_check(NULL, 0, "host=127.0.0.1 port=1 dbname=zonegate"), NULL,
	       "a lease alone, libpq key=value: fine (the store is not reached)");
	const char *many[ZG_FENCE_MAP_MAX + 1];
	for (size_t i = 0; i <= ZG_FENCE_MAP_MAX; i++) {
		many[i] = "a@127.0.0.1";
	}
	is_str(zg_fence_conf_check(many, ZG_FENCE_MAP_MAX, lease), NULL, "16 map items: fine");
	is_str(zg_fence_conf_check(many, ZG_FENCE_MAP_MAX + 1, lease), "at most 16 signer items",
	       "17 map items: refused");
	const char *bad[] = { "a@127.0.0.1", "b@ns.example" };
	is_str(zg_fence_conf_check(bad, 2, lease),
	       "signer must be HOLDER@ADDRESS (the lease holder's name, an IP address, "
	       "optionally with @port)", "a map item that is not HOLDER@ADDR: refused");
	is_str(zg_fence_conf_check(map, 2, NULL), "signer needs lease", "a map without a lease");
	is_str(zg_fence_conf_check(bad, 2, NULL), "signer must be HOLDER@ADDRESS (the lease "
	       "holder's name, an IP address, optionally with @port)",
	       "a bad map item is named before the missing lease");
	is_str(zg_fence_conf_check(map, 2, "etcd://127.0.0.1:2379"),
	       "lease must be a postgresql:// URI or a libpq key=value string",
	       "a lease of an unknown store: refused");
	is_str(zg_fence_conf_check(NULL, 0, ""),
	       "lease must be a postgresql:// URI or a libpq key=value string", "an empty lease: refused");
	return done_testing();
}

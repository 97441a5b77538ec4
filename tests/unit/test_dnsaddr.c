/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dns/dnsclient.h: the address helpers every client shares. */
#include <string.h>
#include <sys/un.h>

#include "core/error.h"
#include "dns/dnsclient.h"
#include "tap.h"

static const char *roundtrip(const char *text, uint16_t port, bool local, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	if (zg_dns_addr_parse(text, port, &ss) != 0) {
		return "(parse error)";
	}
	if (local && zg_dns_addr_local(&ss) != 0) {
		return "(not local)";
	}
	return zg_dns_addr_str(&ss, buf, len);
}

int main(void)
{
	plan_lazy();
	char b[64];
	struct sockaddr_storage ss;
	is_str(roundtrip("192.0.2.1", 53, false, b, sizeof(b)), "192.0.2.1@53", "default port");
	is_str(roundtrip("192.0.2.1@5353", 53, false, b, sizeof(b)), "192.0.2.1@5353", "ADDR@PORT");
	is_str(roundtrip("2001:db8::1#853", 53, false, b, sizeof(b)), "2001:db8::1@853", "ADDR#PORT, IPv6");
	is_int(zg_dns_addr_parse("ns1.example", 53, &ss), ZG_EINPUT, "a name is not an address");
	is_int(zg_dns_addr_parse("192.0.2.1@0", 53, &ss), ZG_EINPUT, "port 0 refused");
	is_int(zg_dns_addr_parse("192.0.2.1@65536", 53, &ss), ZG_EINPUT, "port above 65535 refused");
	is_int(zg_dns_addr_parse("192.0.2.1@53x", 53, &ss), ZG_EINPUT, "trailing text after the port refused");
	is_int(zg_dns_addr_parse(NULL, 53, &ss), ZG_EINPUT, "NULL refused");

	is_str(roundtrip("0.0.0.0@5300", 53, true, b, sizeof(b)), "127.0.0.1@5300",
	       "IPv4 wildcard reached over loopback, port kept");
	is_str(roundtrip("::@5300", 53, true, b, sizeof(b)), "::1@5300",
	       "IPv6 wildcard reached over loopback, port kept");
	is_str(roundtrip("127.0.0.2@5300", 53, true, b, sizeof(b)), "127.0.0.2@5300",
	       "a specific address is kept");
	is_str(roundtrip("2001:db8::2", 53, true, b, sizeof(b)), "2001:db8::2@53",
	       "a specific IPv6 address is kept");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	is_int(zg_dns_addr_local(&ss), ZG_EINPUT, "a UNIX socket is not a DNS listener");

	/* A remote's id or a mistyped address (mod-validate's source). */
	ok(zg_dns_id_like("signers"), "a word is an id");
	ok(zg_dns_id_like("signer-a_2.example"), "letters, digits, '-', '_' and '.' make an id");
	ok(zg_dns_id_like("_"), "'_' alone is an id");
	ok(!zg_dns_id_like("192.0.2.300"), "digits and dots only: a mistyped address, not an id");
	ok(!zg_dns_id_like("192.0.2.1@53"), "an address with a port is not an id");
	ok(!zg_dns_id_like("2001:db8::1"), "an IPv6 address is not an id");
	ok(!zg_dns_id_like("sig ners"), "a space: not an id");
	ok(!zg_dns_id_like(""), "empty: not an id");
	return done_testing();
}

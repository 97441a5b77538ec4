#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Regenerates the pre-signed fixtures of the verify unit tests (run by hand, the
# results are committed). Signatures are valid 2024-01-01 .. 2030-01-01; tests
# validate as of 2025-01-01 (1735689600).
set -e
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
times="-i 20240101000000 -e 20300101000000"

cat > "$tmp/base.zone" <<'ZONE'
$ORIGIN example.test.
$TTL 300
@ SOA ns1 Hostmaster.Example.test. 2024010101 3600 900 604800 300
@ NS ns1
@ NS NS2.Other.Example.
@ MX 10 Mail.Example.test.
ns1 A 192.0.2.1
mail A 192.0.2.2
*.wild TXT "wildcard"
a.b.c.ent A 192.0.2.3
www CNAME Mail
sub NS ns.sub
ns.sub A 192.0.2.4
insecure NS ns.elsewhere.example.
secure NS ns.elsewhere.example.
secure DS 12345 13 2 0000000000000000000000000000000000000000000000000000000000000000
_sip._tcp SRV 0 5 5060 SIP.Example.test.
txt TXT "hello" "world"
ZONE

cat > "$tmp/tiny.zone" <<'ZONE'
$ORIGIN alg.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
ZONE

(
	cd "$tmp"
	ksk=$(ldns-keygen -a ECDSAP256SHA256 -k example.test)
	zsk=$(ldns-keygen -a ECDSAP256SHA256 example.test)
	ldns-signzone $times -z 1:1 -z 1:2 -o example.test. -f nsec.zone base.zone "$ksk" "$zsk"
	ldns-signzone $times -n -p -s 0A0B -t 1 -o example.test. -f nsec3.zone base.zone "$ksk" "$zsk"
	cp "$ksk.ds" example.ds
	for alg in RSASHA1 RSASHA1-NSEC3-SHA1 RSASHA256 RSASHA512 ECDSAP256SHA256 ECDSAP384SHA384 ED25519 ED448; do
		k=$(ldns-keygen -a $alg -b 1024 -k alg.test 2>/dev/null || ldns-keygen -a $alg -k alg.test)
		ldns-signzone $times -o alg.test. -f "alg-$alg.zone" tiny.zone "$k"
		rm -f K*
	done
)
cp "$tmp"/nsec.zone "$tmp"/nsec3.zone "$tmp"/example.ds "$tmp"/alg-*.zone .

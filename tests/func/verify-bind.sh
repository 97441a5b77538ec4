#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify against zones signed by BIND's dnssec-signzone: ECDSAP256SHA256
# with NSEC3 opt-out and RSASHA256 with NSEC, valid and with one fault each
# (see tests/verify/corpus.sh), checked with dnssec-verify and kzonecheck too.
# Also: --format json and nagios, --ds with the matching and a wrong DS.
. "${ZG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/verify/corpus.sh"
zg_init
[ -x "$ZG_VERIFY" ] || zg_diag "$ZG_VERIFY is not built: every zg-verify assertion fails"

zgv_unsigned "$ZG_TMP"
E=$ZG_TMP/ecdsa-nsec3 R=$ZG_TMP/rsa-nsec
zgv_corpus bind ECDSAP256SHA256 NSEC3 "$E" || zg_bail "signing with dnssec-signzone failed"
zgv_corpus bind RSASHA256 NSEC "$R" || zg_bail "signing with dnssec-signzone failed"
zgv_check_corpus "$E" "bind ECDSAP256SHA256 NSEC3"
zgv_check_corpus "$R" "bind RSASHA256 NSEC"

# Two algorithms (ED25519 and ECDSAP256SHA256 keys, NSEC): every RRset needs
# a signature of each (RFC 4035 2.2, RFC 6840 5.11). Removing the ED25519
# RRSIG over www A leaves a valid ECDSA one. Peer blind spot: kzonecheck 3.2.6
# and ldns-verify-zone 1.8.3 both accept this zone; only dnssec-verify sees it.
M=$ZG_TMP/two-alg
mkdir -p "$M/keys"
for a in ED25519 ECDSAP256SHA256; do
	dnssec-keygen -q -K "$M/keys" -a $a -f KSK test. >/dev/null &&
		dnssec-keygen -q -K "$M/keys" -a $a test. >/dev/null || zg_bail "dnssec-keygen failed"
done
zgv_sign bind ECDSAP256SHA256 NSEC "$M/keys" "$ZG_TMP/unsigned.zone" "$M/valid.zone" ||
	zg_bail "signing with two algorithms failed"
zgv_rr "$M/valid.zone" >"$M/valid-rr.zone"
$ZGV_INJECT drop-rrsig "$M/valid-rr.zone" "$M/onealg.zone" www.test. A 15 >/dev/null ||
	zg_bail "removing the ED25519 RRSIG failed"
is "$(zgv_peer dnssec-verify "$M/valid.zone")" 0 "two algorithms, valid: dnssec-verify verdict"
is "$(zgv_peer kzonecheck "$M/valid.zone")" 0 "two algorithms, valid: kzonecheck verdict"
zgv_run -o test. "$M/valid.zone"
is "$ZGV_RC" 0 "two algorithms, valid: zg-verify exit 0"
is "$(zgv_peer dnssec-verify "$M/onealg.zone")" 1 "two algorithms, www A signed by one: dnssec-verify verdict"
zg_diag "two algorithms, www A signed by one: kzonecheck exit $(zgv_peer kzonecheck "$M/onealg.zone"), ldns-verify-zone exit $(zgv_peer ldns-verify-zone "$M/onealg.zone") (blind spot, not asserted)"
zgv_run -o test. "$M/onealg.zone"
is "$ZGV_RC" 1 "two algorithms, www A signed by one: zg-verify exit 1"
zgv_names "$ZGV_OUT" www.test. 'A|RRSIG' "" "two algorithms, www A signed by one: names www.test. A"
like "$ZGV_OUT" '(15|ED25519)' "two algorithms, www A signed by one: names the missing algorithm"

# --format json: one object with zone, serial, valid, errors[], warnings[], stats{}.
json_check() {
	printf '%s' "$1" | "$PYTHON3" -c '
import json, sys
o = json.load(sys.stdin)
want_valid = sys.argv[1] == "1"
assert isinstance(o, dict), "not an object"
for k, t in (("zone", str), ("valid", bool), ("errors", list), ("warnings", list), ("stats", dict)):
    assert k in o, "missing " + k
    assert isinstance(o[k], t), k + " has the wrong type"
assert "serial" in o, "missing serial"
assert int(o["serial"]) == 1, "serial %r" % o["serial"]
assert o["zone"].rstrip(".").lower() == "test", "zone %r" % o["zone"]
assert o["valid"] == want_valid, "valid %r" % o["valid"]
assert (len(o["errors"]) == 0) == want_valid, "errors %r" % o["errors"][:3]
print("ok")' "$2"
}
zgv_run -o test. --format json "$E/valid.zone"
is "$ZGV_RC" 0 "json: valid zone exit 0"
is "$(json_check "$ZGV_OUT" 1 2>&1 | tail -n 1)" ok "json: valid zone object has the fields, valid true"
zgv_run -o test. --format json "$R/corrupt.zone"
is "$ZGV_RC" 1 "json: corrupt zone exit 1"
is "$(json_check "$ZGV_OUT" 0 2>&1 | tail -n 1)" ok "json: corrupt zone object has the fields, valid false"
like "$ZGV_OUT" 'www\.test' "json: the error names www.test."
zgv_run -o test. --format json --horizon 2d "$E/horizon.zone"
is "$ZGV_RC" 0 "json: horizon zone exit 0"
is "$(printf '%s' "$ZGV_OUT" | "$PYTHON3" -c 'import json,sys; o=json.load(sys.stdin); print(o["valid"], len(o["warnings"]) > 0)' 2>&1)" \
	"True True" "json: horizon zone valid with warnings"

# --format nagios: status line first; 0 OK, 1 WARNING, 2 CRITICAL.
zgv_run -o test. --format nagios "$E/valid.zone"
is "$ZGV_RC" 0 "nagios: valid zone exit 0"
like "$(printf '%s\n' "$ZGV_OUT" | head -n 1)" '^ZONEGATE OK - zone test\.? serial 1, [0-9]+ signatures, earliest expiry [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' \
	"nagios: OK status line"
zgv_run -o test. --format nagios "$E/norrsig.zone"
is "$ZGV_RC" 2 "nagios: faulty zone exit 2"
like "$(printf '%s\n' "$ZGV_OUT" | head -n 1)" '^ZONEGATE CRITICAL' "nagios: CRITICAL status line"
zgv_run -o test. --format nagios "$ZG_TMP/does-not-exist.zone"
is "$ZGV_RC" 3 "nagios: missing file exit 3"
like "$(printf '%s\n' "$ZGV_OUT" | head -n 1)" '^ZONEGATE UNKNOWN' "nagios: UNKNOWN status line"
zgv_run -o test. --format bogus "$E/valid.zone"
is "$ZGV_RC" 2 "unknown --format value: exit 2"

# --ds: the KSK's DS authenticates the DNSKEY RRset; a wrong DS does not.
dnssec-dsfromkey -2 -f "$E/valid.zone" test. >"$ZG_TMP/ds.ok" 2>/dev/null
like "$(cat "$ZG_TMP/ds.ok")" '^test\.[[:space:]]+(IN[[:space:]]+)?DS[[:space:]]' "dnssec-dsfromkey made a DS"
sed -E 's/([0-9A-F])([0-9A-F]{6})$/\1000000/' "$ZG_TMP/ds.ok" >"$ZG_TMP/ds.wrong"
zgv_run -o test. --ds "$ZG_TMP/ds.ok" "$E/valid.zone"
is "$ZGV_RC" 0 "--ds matching DS: exit 0"
zgv_run -o test. --ds "$ZG_TMP/ds.wrong" "$E/valid.zone"
is "$ZGV_RC" 1 "--ds wrong DS: exit 1"
zgv_names "$ZGV_OUT" test. 'DNSKEY|DS' "" "--ds wrong DS: names test. DNSKEY"
# The DS of the ZSK authenticates a DNSKEY RRset the ZSK alone signs.
dnssec-dsfromkey -2 -A -f "$E/valid.zone" test. 2>/dev/null | grep -v -F -f "$ZG_TMP/ds.ok" >"$ZG_TMP/ds.zsk"
zgv_run -o test. --ds "$ZG_TMP/ds.zsk" "$E/noksksig.zone"
is "$ZGV_RC" 0 "--ds of the ZSK, DNSKEY signed by the ZSK only: exit 0"
zgv_run -o test. --ds "$ZG_TMP/does-not-exist.ds" "$E/valid.zone"
is "$ZGV_RC" 2 "--ds missing file: exit 2"

zg_done

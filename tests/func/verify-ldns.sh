#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify against zones signed by ldns-signzone: ED25519 with NSEC and
# RSASHA256 with NSEC3 opt-out (salt, 0 iterations: RFC 9276), valid and with one fault
# each (see tests/verify/corpus.sh), checked with dnssec-verify and kzonecheck
# too. Also: -t moves the validation time in and out of the signature window,
# and agrees with kzonecheck -t and ldns-verify-zone -t.
. "${ZG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/verify/corpus.sh"
zg_init
[ -x "$ZG_VERIFY" ] || zg_diag "$ZG_VERIFY is not built: every zg-verify assertion fails"

zgv_unsigned "$ZG_TMP"
D=$ZG_TMP/ed25519-nsec R=$ZG_TMP/rsa-nsec3
zgv_corpus ldns ED25519 NSEC "$D" || zg_bail "signing with ldns-signzone failed"
zgv_corpus ldns RSASHA256 NSEC3 "$R" || zg_bail "signing with ldns-signzone failed"
zgv_check_corpus "$D" "ldns ED25519 NSEC"
zgv_check_corpus "$R" "ldns RSASHA256 NSEC3"

# ZONEMD (RFC 8976): ldns-signzone -z 1:1 adds a signed SHA-384 ZONEMD. Changing
# a glue address (glue is not signed) then breaks only the digest. Peer blind
# spot: dnssec-verify 9.18 and kzonecheck 3.2.6 do not check ZONEMD;
# ldns-verify-zone does.
Z=$ZG_TMP/zonemd
mkdir -p "$Z"
ldns-signzone -z 1:1 -o test. -f "$Z/native.zone" "$ZG_TMP/unsigned.zone" \
	$(ls "$D/keys"/K*.private | sed 's/\.private$//') || zg_bail "ldns-signzone -z failed"
zgv_rr "$Z/native.zone" >"$Z/valid.zone"
glue=$(awk '$4 == "A" && $1 ~ /^ns1\./ { print $1; exit }' "$Z/valid.zone")
awk -v g="$glue" 'BEGIN { OFS = "\t" } $1 == g && $4 == "A" { $5 = "203.0.113.7" } { print }' \
	"$Z/valid.zone" >"$Z/glue.zone"
is "$(zgv_peer ldns-verify-zone "$Z/valid.zone")" 0 "ZONEMD valid: ldns-verify-zone verdict"
isnt_zero "$(zgv_peer ldns-verify-zone "$Z/glue.zone")" "ZONEMD, glue changed: ldns-verify-zone verdict"
zgv_run -o test. "$Z/valid.zone"
is "$ZGV_RC" 0 "ZONEMD valid: zg-verify exit 0"
zgv_run -o test. "$Z/glue.zone"
is "$ZGV_RC" 1 "ZONEMD, glue $glue changed: zg-verify exit 1"
zgv_names "$ZGV_OUT" test. ZONEMD "" "ZONEMD, glue changed: names test. ZONEMD"
zg_diag "ZONEMD, glue changed: dnssec-verify exit $(zgv_peer dnssec-verify "$Z/glue.zone"), kzonecheck exit $(zgv_peer kzonecheck "$Z/glue.zone") (blind spot, not asserted)"

# An RRset TTL above its RRSIG's original TTL (RFC 4035 5.3.3): www A at 7200.
awk 'BEGIN { OFS = "\t" } $1 == "www.test." && $4 == "A" { $2 = "7200" } { print }' \
	"$D/valid-rr.zone" >"$ZG_TMP/ttl.zone"
is "$(zgv_peer dnssec-verify "$ZG_TMP/ttl.zone")" 1 "TTL above original TTL: dnssec-verify verdict"
is "$(zgv_peer kzonecheck "$ZG_TMP/ttl.zone")" 1 "TTL above original TTL: kzonecheck verdict"
zgv_run -o test. "$ZG_TMP/ttl.zone"
is "$ZGV_RC" 1 "TTL above original TTL: zg-verify exit 1"
zgv_names "$ZGV_OUT" www.test. 'A|RRSIG' "" "TTL above original TTL: names www.test. A"

# Occluded data below a secure delegation is not authoritative: no RRSIG or
# NSEC needed, the zone stays valid (a warning is fine).
sd=$(zgv_secure_delegation "$ZG_TMP/unsigned.zone")
{ cat "$D/valid-rr.zone"; printf 'below.%s\t3600\tIN\tTXT\t"occluded"\n' "$sd"; } >"$ZG_TMP/occluded.zone"
is "$(zgv_peer dnssec-verify "$ZG_TMP/occluded.zone")" 0 "occluded data: dnssec-verify verdict"
is "$(zgv_peer kzonecheck "$ZG_TMP/occluded.zone")" 0 "occluded data: kzonecheck verdict"
zgv_run -o test. "$ZG_TMP/occluded.zone"
is "$ZGV_RC" 0 "occluded data below $sd: zg-verify exit 0"

# -t: the valid zone's signatures run from now-1h to now+30d, the expired
# zone's from now-60d to now-30d.
check_time() {
	local zf=$1 t=$2 want=$3 name=$4
	zgv_run -o test. -t "$t" "$zf"
	is "$ZGV_RC" "$want" "$name: zg-verify -t exit $want"
	is "$(zgv_peer kzonecheck "$zf" -t "$t")" "$want" "$name: kzonecheck -t agrees"
	is "$([ "$(zgv_peer ldns-verify-zone "$zf" -t "$(zgv_stamp "$t")")" -eq 0 ] && echo 0 || echo 1)" \
		"$want" "$name: ldns-verify-zone -t agrees"
}
check_time "$D/valid.zone" $((ZGV_NOW + 60 * 86400)) 1 "valid zone, 60 days later (expired)"
check_time "$D/valid.zone" $((ZGV_NOW - 2 * 86400)) 1 "valid zone, 2 days earlier (not yet valid)"
check_time "$D/valid.zone" $((ZGV_NOW + 20 * 86400)) 0 "valid zone, 20 days later"
check_time "$R/expired.zone" $((ZGV_NOW - 45 * 86400)) 0 "expired zone, 45 days earlier"
check_time "$R/expired.zone" $((ZGV_NOW - 90 * 86400)) 1 "expired zone, 90 days earlier (not yet valid)"
zgv_run -o test. -t "$((ZGV_NOW - 45 * 86400))" "$R/corrupt.zone"
is "$ZGV_RC" 1 "a corrupt signature stays an error at any time"
zgv_run -o test. -t "$((ZGV_NOW + 60 * 86400))" "$D/valid.zone"
like "$ZGV_OUT" '^([^ ]+\.)?test\. [A-Z0-9]+: .*[Ee]xpir' "-t later: reports expired signatures"
zgv_run -o test. -t "$((ZGV_NOW - 2 * 86400))" "$D/valid.zone"
like "$ZGV_OUT" '^([^ ]+\.)?test\. [A-Z0-9]+: .*([Ii]ncept|not yet|future)' "-t earlier: reports signatures not yet valid"
zgv_run -o test. -t yesterday "$D/valid.zone"
is "$ZGV_RC" 2 "-t with a non-numeric time: exit 2"
# --horizon with -t: the valid zone expires within 2 days of now+29d.
zgv_run -o test. -t "$((ZGV_NOW + 29 * 86400))" --horizon 2d "$D/valid.zone"
is "$ZGV_RC" 0 "-t now+29d --horizon 2d: exit 0"
like "$ZGV_OUT" '^[^ ]+ [A-Z0-9]+: .*(expir|horizon)' "-t now+29d --horizon 2d: prints a warning line"
zgv_run -o test. --horizon 2x "$D/valid.zone"
is "$ZGV_RC" 2 "--horizon with a bad unit: exit 2"

zg_done

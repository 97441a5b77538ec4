#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify against zones signed by ldns-signzone: ED25519 with NSEC and
# RSASHA256 with NSEC3 opt-out (salt, 2 iterations), valid and with one fault
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
like "$ZGV_OUT" '(^|[^a-z])(expir|horizon)' "-t now+29d --horizon 2d: warns"
zgv_run -o test. --horizon 2x "$D/valid.zone"
is "$ZGV_RC" 2 "--horizon with a bad unit: exit 2"

zg_done

#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify's rules from the RFCs (issue 12), each on zones signed by BIND
# (dnssec-signzone) and ldns (ldns-signzone), and by Knot (kzonesign) where
# it can produce the case. Where a case needs a change no signer makes, the
# change is made to the signer's output and the RRsets it touched are signed
# again with the signer's own keys (tests/verify/resign.py), so that the rule
# under test is the only thing wrong with the zone, or nothing is.
#
# Errors:  two SOA records at the apex; an RRSIG covering RRSIG; an empty
#          non-terminal without its NSEC3 above a secure delegation or
#          authoritative data under opt-out; NSEC3 with algorithm 5 keys; more
#          than 2 zone keys sharing a key tag; NSEC3 iterations above 150;
#          an incomplete second NSEC3 chain; NSEC/NSEC3 outside the zone.
# Valid (with the warnings said): data below a DNAME (also at the apex);
#          an NSEC3PARAM with flags 1 (beside one with flags 0, and alone);
#          two complete NSEC3 chains; an RRset with one valid and one expired
#          (or not yet valid) signature; records outside the zone; NSEC3
#          iterations 1 to 150; two keys sharing a key tag; an empty
#          non-terminal above insecure delegations only, without NSEC3.
# Peers' verdicts are printed as diagnostics (not asserted).
. "${ZG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/verify/corpus.sh"
zg_init
[ -x "$ZG_VERIFY" ] || zg_diag "$ZG_VERIFY is not built: every zg-verify assertion fails"
"$PYTHON3" -c 'import cryptography' 2>/dev/null ||
	zg_bail "python3-cryptography is missing (scripts/deps.sh installs it)"
RESIGN="$PYTHON3 $ZG_SRCDIR/tests/verify/resign.py"

# The corpus zone plus delegations below empty non-terminals: dlg (secure and
# insecure), idlg (insecure only), and a DNAME with data below it.
zgv_unsigned "$ZG_TMP"
U=$ZG_TMP/rfc-unsigned.zone
{
	cat "$ZG_TMP/unsigned.zone"
	cat <<'EOF'
a.dlg NS ns.provider.example.
b.dlg NS ns.provider.example.
b.dlg DS 4242 13 2 0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1F0
a.idlg NS ns.provider.example.
c.idlg NS ns.provider.example.
EOF
} >"$U"
{ cat "$U"; printf 'dn DNAME target.example.\nx.dn A 192.0.2.90\ny.x.dn TXT "occluded"\n'; } >"$ZG_TMP/dname.zone"
{ cat "$U"; printf '@ DNAME target.example.\n'; } >"$ZG_TMP/apex-dname.zone"

# zsk KEYDIR: basename of the zone-signing key (flags 256) of a key directory.
zsk() { grep -l 'DNSKEY[[:space:]]*256 ' "$1"/K*.key | head -n 1 | sed 's/\.key$//'; }

# check NAME FILE RC [REGEX...]: zg-verify exits RC and prints a line matching each REGEX.
check() {
	local name=$1 f=$2 rc=$3 re; shift 3
	zgv_run -o test. "$f"
	is "$ZGV_RC" "$rc" "$name: zg-verify exit $rc"
	for re in "$@"; do
		like "$ZGV_OUT" "$re" "$name: $re"
	done
	unlike "$ZGV_OUT" '(Segmentation|Aborted|AddressSanitizer)' "$name: no crash"
	zg_diag "$name: dnssec-verify $(zgv_peer dnssec-verify "$f"), kzonecheck $(zgv_peer kzonecheck "$f"), ldns-verify-zone $(zgv_peer ldns-verify-zone "$f")"
}

# errors_only NAME N: the last run reported exactly N errors.
errors_only() {
	like "$ZGV_OUT" "INVALID, $2 errors?," "$1: exactly $2 error(s)"
}

for S in bind ldns; do
	D=$ZG_TMP/$S
	mkdir -p "$D"
	K=$D/keys
	zgv_sign $S ECDSAP256SHA256 NSEC "$K" "$U" "$D/nsec.native" &&
		zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$U" "$D/nsec3.native" &&
		zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$U" "$D/expired.native" expired &&
		zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$U" "$D/future.native" future ||
		zg_bail "signing with $S failed"
	for z in nsec nsec3 expired future; do
		zgv_rr "$D/$z.native" >"$D/$z.zone" || zg_bail "ldns-read-zone failed"
	done
	N=$D/nsec.zone N3=$D/nsec3.zone Z=$(zsk "$K")
	check "$S NSEC base" "$N" 0
	check "$S NSEC3 base" "$N3" 0
	unlike "$ZGV_OUT" 'iterations' "$S NSEC3 base: 0 iterations, no warning"

	# Two SOA records at the apex (RFC 1035 5.2), both signed.
	awk 'BEGIN { OFS = "\t" } $4 == "SOA" { print; $7 = $7 + 1 } { print }' "$N" >"$D/soa2.tmp"
	$RESIGN sign "$D/soa2.tmp" "$D/soa2.zone" "$Z" test. SOA || zg_bail "resign failed"
	check "$S two SOA" "$D/soa2.zone" 1 '^test\. SOA: 2 SOA records at the apex, expected one \(RFC 1035 5\.2\)'
	errors_only "$S two SOA" 1

	# An RRSIG covering type RRSIG (RFC 4035 2.2).
	awk 'BEGIN { OFS = "\t" } $1 == "www.test." && $4 == "RRSIG" && $5 == "A" { print; $5 = "RRSIG" } { print }' \
		"$N3" >"$D/rrsig-rrsig.zone"
	check "$S RRSIG over RRSIG" "$D/rrsig-rrsig.zone" 1 '^www\.test\. RRSIG: RRSIG covering type RRSIG \(RFC 4035 2\.2'
	errors_only "$S RRSIG over RRSIG" 1

	# Empty non-terminals under opt-out (RFC 5155 7.1): the chain linked past
	# the NSEC3 of dlg (a secure delegation below), of sub.ent (data below),
	# of idlg (only insecure delegations below: may lack it).
	# (BIND leaves the NSEC3 of idlg out itself.)
	for ent in dlg sub.ent idlg; do
		if pred=$($RESIGN unlink-nsec3 "$N3" "$D/ent-$ent.tmp" "$ent.test." 2>/dev/null); then
			$RESIGN sign "$D/ent-$ent.tmp" "$D/ent-$ent.zone" "$Z" "$pred" NSEC3 || zg_bail "resign failed"
		elif [ $ent = idlg ]; then
			zg_diag "$S signs no NSEC3 for idlg.test. itself"
			cp "$N3" "$D/ent-$ent.zone"
		else
			zg_bail "$S signed no NSEC3 for $ent.test."
		fi
	done
	check "$S ENT above a secure delegation" "$D/ent-dlg.zone" 1 \
		'^dlg\.test\. NSEC3: missing NSEC3 \(hash [0-9A-V]+\) for the empty non-terminal'
	errors_only "$S ENT above a secure delegation" 1
	check "$S ENT above data" "$D/ent-sub.ent.zone" 1 \
		'^sub\.ent\.test\. NSEC3: missing NSEC3 \(hash [0-9A-V]+\) for the empty non-terminal'
	errors_only "$S ENT above data" 1
	check "$S ENT above insecure delegations only" "$D/ent-idlg.zone" 0

	# NSEC3PARAM flags other than 0 are ignored (RFC 5155 4.1.2).
	param=$(awk '$4 == "NSEC3PARAM" { print $5, $6, $7, $8; exit }' "$N3")
	set -- $param
	awk -v p="$1 1 $3 $4" 'BEGIN { OFS = "\t" } $4 == "NSEC3PARAM" { print; $5 = p; NF = 5 } { print }' \
		"$N3" >"$D/flags-both.tmp"
	$RESIGN sign "$D/flags-both.tmp" "$D/flags-both.zone" "$Z" test. NSEC3PARAM || zg_bail "resign failed"
	check "$S NSEC3PARAM flags 1 beside flags 0" "$D/flags-both.zone" 0 \
		'^test\. NSEC3PARAM: warning: NSEC3PARAM with flags 1 is ignored \(RFC 5155 4\.1\.2\)'
	awk -v p="$1 1 $3 $4" 'BEGIN { OFS = "\t" } $4 == "NSEC3PARAM" { $5 = p; NF = 5 } { print }' \
		"$N3" >"$D/flags-only.tmp"
	$RESIGN sign "$D/flags-only.tmp" "$D/flags-only.zone" "$Z" test. NSEC3PARAM || zg_bail "resign failed"
	check "$S NSEC3PARAM flags 1 alone" "$D/flags-only.zone" 0 \
		'^test\. NSEC3PARAM: warning: NSEC3PARAM with flags 1 is ignored' \
		'^test\. NSEC3PARAM: warning: no NSEC3PARAM with flags 0'

	# Two NSEC3 chains (another salt, same keys): both complete pass, the
	# second without the NSEC3 of www fails naming www.
	ZGV_N3SALT=BEEF zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$U" "$D/chain2.native" ||
		zg_bail "signing with $S failed"
	zgv_rr "$D/chain2.native" >"$D/chain2.zone"
	{
		cat "$N3"
		awk '$4 == "NSEC3" || ($4 == "RRSIG" && $5 == "NSEC3") || $4 == "NSEC3PARAM"' "$D/chain2.zone"
	} >"$D/chains.tmp"
	$RESIGN sign "$D/chains.tmp" "$D/chains.zone" "$Z" test. NSEC3PARAM || zg_bail "resign failed"
	check "$S two complete chains" "$D/chains.zone" 0
	www2=$($PYTHON3 -c "import sys; sys.path.insert(0, '$ZG_SRCDIR/tests/verify'); from inject import nsec3_hash; print(nsec3_hash('www.test.', 'BEEF', 0))")
	grep -vi "^$www2\.test\." "$D/chains.zone" >"$D/chains-incomplete.zone"
	check "$S second chain without www" "$D/chains-incomplete.zone" 1 '^www\.test\. NSEC3: missing NSEC3 \(hash '

	# One valid and one expired (or not yet valid) signature over www A.
	{ cat "$N3"; awk '$1 == "www.test." && $4 == "RRSIG" && $5 == "A"' "$D/expired.zone"; } >"$D/expired-sig.zone"
	check "$S valid and expired signature" "$D/expired-sig.zone" 0 \
		'^www\.test\. A: warning: signature expired .*another signature of the algorithm validates'
	{ cat "$N3"; awk '$1 == "www.test." && $4 == "RRSIG" && $5 == "A"' "$D/future.zone"; } >"$D/future-sig.zone"
	check "$S valid and future signature" "$D/future-sig.zone" 0 \
		'^www\.test\. A: warning: signature not yet valid, inception .*another signature of the algorithm validates'
	{ grep -v -P '^www\.test\.\t.*\tRRSIG\tA ' "$N3"; awk '$1 == "www.test." && $4 == "RRSIG" && $5 == "A"' "$D/expired.zone"; } \
		>"$D/expired-only.zone"
	check "$S only an expired signature" "$D/expired-only.zone" 1 '^www\.test\. A: signature expired '

	# Data below a DNAME is occluded (RFC 6672 2.3), also below an apex DNAME.
	zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$ZG_TMP/dname.zone" "$D/dname.native" &&
		zgv_sign $S ECDSAP256SHA256 NSEC "$K" "$ZG_TMP/apex-dname.zone" "$D/apex-dname.native" ||
		zg_bail "signing with $S failed"
	check "$S data below a DNAME" "$D/dname.native" 0 \
		'^x\.dn\.test\. A: warning: occluded by a DNAME, not authoritative' \
		'^y\.x\.dn\.test\. TXT: warning: occluded by a DNAME'
	check "$S apex DNAME" "$D/apex-dname.native" 0 '^www\.test\. A: warning: occluded by a DNAME'

	# Records outside the zone: a warning; an NSEC or NSEC3 there: an error.
	{ cat "$N"; printf 'www.other.\t3600\tIN\tA\t192.0.2.1\n'; } >"$D/outside.zone"
	check "$S record outside the zone" "$D/outside.zone" 0 '^www\.other\. A: warning: outside the zone test\., ignored'
	{ cat "$N"; printf 'x.other.\t3600\tIN\tNSEC\ttest. A RRSIG NSEC\n'; } >"$D/outside-nsec.zone"
	check "$S NSEC outside the zone" "$D/outside-nsec.zone" 1 '^x\.other\. NSEC: NSEC record outside the zone test\.'
	errors_only "$S NSEC outside the zone" 1
	awk '$4 == "NSEC3" { sub(/\.test\.$/, ".other.", $1); print; exit }' OFS='\t' "$N3" |
		cat "$N3" - >"$D/outside-nsec3.zone"
	check "$S NSEC3 outside the zone" "$D/outside-nsec3.zone" 1 '^[0-9a-v]+\.other\. NSEC3: NSEC3 record outside the zone test\.'

	# NSEC3 iterations (RFC 9276): 1 warns, 150 warns, 151 fails.
	ZGV_N3ITER=1 zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$U" "$D/iter1.zone" || zg_bail "signing failed"
	check "$S NSEC3 iterations 1" "$D/iter1.zone" 0 '^test\. NSEC3PARAM: warning: NSEC3 iterations 1, RFC 9276 recommends 0'
	# BIND 9.20 signs at most 50 iterations ("Maximum iterations allowed
	# 50"), 9.18 at most 150: test each signer at its own limit; ldns and
	# Knot below cover 150 and 151 on every series.
	hi=150
	if ! ZGV_N3ITER=$hi zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$U" "$D/iter$hi.zone" 2>"$D/iter.err"; then
		hi=$(sed -n 's/.*Maximum iterations allowed \([0-9][0-9]*\).*/\1/p' "$D/iter.err" | head -n 1)
		[ "$S" = bind ] && [ -n "$hi" ] && [ "$hi" -ge 1 ] && [ "$hi" -lt 150 ] ||
			{ cat "$D/iter.err" >&2; zg_bail "signing failed"; }
		zg_diag "$S signs at most $hi NSEC3 iterations"
		ZGV_N3ITER=$hi zgv_sign $S ECDSAP256SHA256 NSEC3 "$K" "$U" "$D/iter$hi.zone" || zg_bail "signing failed"
	fi
	[ "$S" = bind ] && bind_iter_max=$hi
	check "$S NSEC3 iterations $hi" "$D/iter$hi.zone" 0 "^test\\. NSEC3PARAM: warning: NSEC3 iterations $hi, RFC 9276 recommends 0"
done

# 151 iterations: ldns and Knot sign them, BIND refuses (its limit is 150,
# 50 from 9.20 on).
D=$ZG_TMP/ldns
ZGV_N3ITER=151 zgv_sign ldns ECDSAP256SHA256 NSEC3 "$D/keys" "$U" "$D/iter151.zone" 2>/dev/null || zg_bail "signing failed"
check "ldns NSEC3 iterations 151" "$D/iter151.zone" 1 '^test\. NSEC3PARAM: NSEC3 iterations 151, more than 150'
errors_only "ldns NSEC3 iterations 151" 1
if ZGV_N3ITER=$((bind_iter_max + 1)) zgv_sign bind ECDSAP256SHA256 NSEC3 "$ZG_TMP/bind/keys" "$U" "$ZG_TMP/bind/iter151.zone" 2>/dev/null; then
	fail "bind refuses $((bind_iter_max + 1)) iterations" "dnssec-signzone signed it"
else
	pass "bind refuses $((bind_iter_max + 1)) iterations (dnssec-signzone's limit is $bind_iter_max)"
fi
D=$ZG_TMP/knot
mkdir -p "$D"
ZGV_N3ITER=151 zgv_sign knot ECDSAP256SHA256 NSEC3 "$D/keys151" "$U" "$D/iter151.zone" || zg_bail "signing with kzonesign failed"
check "knot NSEC3 iterations 151" "$D/iter151.zone" 1 '^test\. NSEC3PARAM: NSEC3 iterations 151, more than 150'
ZGV_N3ITER=1 zgv_sign knot ECDSAP256SHA256 NSEC3 "$D/keys1" "$U" "$D/iter1.zone" || zg_bail "signing with kzonesign failed"
check "knot NSEC3 iterations 1" "$D/iter1.zone" 0 '^test\. NSEC3PARAM: warning: NSEC3 iterations 1, RFC 9276 recommends 0'
zgv_sign knot ECDSAP256SHA256 NSEC3 "$D/keysd" "$ZG_TMP/dname.zone" "$D/dname.zone" || zg_bail "signing with kzonesign failed"
# kzonesign 3.2 signs the names below a DNAME and gives them NSEC3 records:
# signatures on occluded data are errors here as below a delegation (and
# kzonecheck refuses the zone too: records below a DNAME).
check "knot data below a DNAME" "$D/dname.zone" 1 \
	'^x\.dn\.test\. A: RRSIG on non-authoritative data below a DNAME'
isnt_zero "$(zgv_peer kzonecheck "$D/dname.zone")" "knot data below a DNAME: kzonecheck refuses it too"

# Algorithm 5 with NSEC3 (RFC 5155 2): ldns signs it, BIND and Knot refuse;
# BIND's own algorithm 5 NSEC zone given the NSEC3 chain of its algorithm 13
# signing (NSEC3 records signed again with its algorithm 5 key) fails too.
D=$ZG_TMP/alg5
mkdir -p "$D/ldns" "$D/bind"
(cd "$D/ldns" && ldns-keygen -a RSASHA1 -b 1024 -k test. >/dev/null && ldns-keygen -a RSASHA1 -b 1024 test. >/dev/null) ||
	zg_bail "ldns-keygen failed"
ldns-signzone -n -p -o test. -f "$D/ldns.zone" "$U" $(ls "$D/ldns"/K*.private | sed 's/\.private$//') ||
	zg_bail "ldns-signzone failed"
check "ldns algorithm 5 with NSEC3" "$D/ldns.zone" 1 \
	'^test\. DNSKEY: algorithm 5 \(RSASHA1\) must not sign an NSEC3 zone, its NSEC3 alias is 7 \(RFC 5155 section 2\)'
errors_only "ldns algorithm 5 with NSEC3" 1
dnssec-keygen -q -K "$D/bind" -a RSASHA1 -b 1024 -f KSK test. >/dev/null &&
	dnssec-keygen -q -K "$D/bind" -a RSASHA1 -b 1024 test. >/dev/null || zg_bail "dnssec-keygen failed"
if (cd "$D/bind" && dnssec-signzone -S -q -K "$D/bind" -o test. -3 - -A -f "$D/bind-refused.zone" "$U" >/dev/null 2>&1); then
	fail "bind refuses NSEC3 with algorithm 5" "dnssec-signzone signed it"
else
	pass "bind refuses NSEC3 with algorithm 5"
fi
(cd "$D/bind" && dnssec-signzone -S -q -K "$D/bind" -o test. -f "$D/bind-nsec.zone" "$U" >/dev/null) ||
	zg_bail "dnssec-signzone failed"
zgv_rr "$D/bind-nsec.zone" | awk '$4 != "NSEC" && !($4 == "RRSIG" && $5 == "NSEC")' >"$D/bind.tmp"
awk '$4 == "NSEC3" || $4 == "NSEC3PARAM"' "$ZG_TMP/bind/nsec3.zone" >>"$D/bind.tmp"
Z5=$(zsk "$D/bind")
$RESIGN sign-type "$D/bind.tmp" "$D/bind.tmp2" "$Z5" NSEC3 &&
	$RESIGN sign "$D/bind.tmp2" "$D/bind.zone" "$Z5" test. NSEC3PARAM || zg_bail "resign failed"
check "bind algorithm 5 with NSEC3" "$D/bind.zone" 1 \
	'^test\. DNSKEY: algorithm 5 \(RSASHA1\) must not sign an NSEC3 zone'
errors_only "bind algorithm 5 with NSEC3" 1

# Zone keys sharing a key tag (KeyTrap): the signer's zone-signing key and
# one or two more keys with its tag published beside it (as in a rollover),
# the DNSKEY RRset signed again with the signer's SEP key: 2 warn, 3 fail.
for S in bind ldns; do
	D=$ZG_TMP/$S
	K=$D/keys
	ksk=$(grep -l 'DNSKEY[[:space:]]*257 ' "$K"/K*.key | head -n 1 | sed 's/\.key$//')
	tag=$(sed 's/.*+0*\([0-9]*\)$/\1/' <<<"$(zsk "$K")")
	$RESIGN collide-dnskeys "$tag" 2 >"$D/collide.keys" || zg_bail "key generation failed"
	for n in 2 3; do
		{ cat "$D/nsec.zone"; head -n $((n - 1)) "$D/collide.keys" | sed 's/^/test.\t3600\tIN\tDNSKEY\t/'; } \
			>"$D/collide$n.tmp"
		$RESIGN sign "$D/collide$n.tmp" "$D/collide$n.zone" "$ksk" test. DNSKEY || zg_bail "resign failed"
	done
	check "$S 2 keys sharing tag $tag" "$D/collide2.zone" 0 \
		"^test\\. DNSKEY: warning: 2 keys share key tag $tag alg 13: validators must try each"
	check "$S 3 keys sharing tag $tag" "$D/collide3.zone" 1 \
		"^test\\. DNSKEY: 3 keys share key tag $tag alg 13, more than 2"
	errors_only "$S 3 keys sharing tag $tag" 1
done

zg_done

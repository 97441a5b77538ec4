#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-dsync child mode confirms a KSK submission only on authenticated
# answers. On loopback, without the real root:
#   R  a knotd serving a signed root zone "." and the signed parent zone test.
#      (the DS of test. in the root), also the resolver of the trust chain;
#   M  a knotd serving its own, self-signed test. with the child's DS (an
#      on-path attacker or a spoofed answer);
#   C  the child signer of child.test. with mod-dsync, its first KSK waiting
#      for submission.
# 1. No usable trust anchor (the default root anchor of dns-root-data, if
#    installed, does not match this root) and no TSIG: the parent serves the
#    right DS, yet nothing is confirmed (logged, parent-ds-unauthenticated).
# 2. The root of this test as trust anchor, the parent answers from M: the
#    self-signed DNSKEY of test. is not on the chain, nothing is confirmed.
# 3. The anchor and the real parent R: the chain root -> test. validates, the
#    submission is confirmed.
# zg-checkds follows the same chain with --trust-anchor (an ancestor's) and
# --resolver.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
for t in kdig keymgr dnssec-dsfromkey; do
	command -v $t >/dev/null || zg_skip_all "$t not installed"
done

R=$ZG_TMP/r M=$ZG_TMP/m C=$ZG_TMP/c
pr=$(zg_free_port) pm=$(zg_free_port) pc=$(zg_free_port)
mkdir -p "$R/zones" "$M/zones" "$C/zones"
CHECKDS=$ZG_BUILDDIR/tools/zg-checkds

policy() {
	cat <<CONF
policy:
  - id: fast
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
    dnskey-ttl: 2
    zone-max-ttl: 2
    propagation-delay: 1

CONF
}
dig_short() { kdig @127.0.0.1 -p "$1" +short +time=2 +retry=1 "$2" "$3" 2>/dev/null; }
# ds_of PORT ZONE: the SHA-256 DS of the zone's KSKs as served.
ds_of() {
	kdig @127.0.0.1 -p "$1" +time=2 +retry=1 "$2" DNSKEY 2>/dev/null | grep -v '^;' |
		awk '$4 == "DNSKEY" && $5 == 257' | dnssec-dsfromkey -2 -f - "$2" 2>/dev/null
}
# ds_rdata: "TAG ALG TYPE DIGEST" of each DS line on stdin (any DS presentation).
ds_rdata() { awk '{ for (i = 1; i < NF; i++) if ($i == "DS") { print $(i+1), $(i+2), $(i+3), $(i+4); break } }'; }
# set_ds DIR ZONE OWNER DS-LINES: the DS of OWNER in ZONE at the knotd in DIR.
set_ds() {
	local dir=$1 zone=$2 owner=$3
	zg_knotc "$dir" zone-begin "$zone" >/dev/null || return 1
	zg_knotc "$dir" zone-unset "$zone" "$owner" DS >/dev/null 2>&1
	while read -r tag alg dt digest; do
		[ -n "$digest" ] || continue
		zg_knotc "$dir" zone-set "$zone" "$owner" 2 DS "$tag" "$alg" "$dt" "$digest" >/dev/null || {
			zg_knotc "$dir" zone-abort "$zone" >/dev/null; return 1; }
	done < <(printf '%s\n' "$4" | ds_rdata)
	zg_knotc "$dir" zone-commit "$zone" >/dev/null
}

# --- R: the root and test.
printf '. 2 SOA a.root. h. 1 3600 600 86400 2\n. 2 NS a.root.\na.root. 2 A 127.0.0.1\n' \
	>"$R/zones/root.zone"
printf 'test. 2 NS ns.test.\nns.test. 2 A 127.0.0.1\n' >>"$R/zones/root.zone"
printf '$ORIGIN test.\n@ 2 SOA ns h 1 3600 600 86400 2\n@ 2 NS ns\nns 2 A 127.0.0.1\n' >"$R/zones/test.zone"
printf 'child 2 NS ns.child\nns.child 2 A 127.0.0.1\n' >>"$R/zones/test.zone"
cp "$R/zones/test.zone" "$M/zones/test.zone"
{
	zg_knot_conf_bare "$R" "$pr"
	policy
	cat <<CONF
zone:
  - domain: .
    storage: "$R/zones"
    file: root.zone
    dnssec-signing: on
    dnssec-policy: fast
  - domain: test
    storage: "$R/zones"
    dnssec-signing: on
    dnssec-policy: fast
CONF
} >"$R/knot.conf"
{
	zg_knot_conf_bare "$M" "$pm"
	policy
	cat <<CONF
zone:
  - domain: test
    storage: "$M/zones"
    dnssec-signing: on
    dnssec-policy: fast
CONF
} >"$M/knot.conf"
ok "R (root and test.) starts" zg_knotd_start "$R"
ok "M (its own test.) starts" zg_knotd_start "$M"
ok "R signs the root" zg_wait 30 zg_zone_signed "$R" .
ok "R signs test." zg_wait 30 zg_zone_signed "$R" test.
ok "M signs its test." zg_wait 30 zg_zone_signed "$M" test.
ok "the root delegates test. securely (DS)" set_ds "$R" . test. "$(ds_of "$pr" test.)"
ds_of "$pr" . >"$ZG_TMP/root.ds"
ok "trust anchor of this root written" grep -q '^\. IN DS ' "$ZG_TMP/root.ds"
ds_of "$pm" test. | sed 's/^test\././' >"$ZG_TMP/wrong-root.ds"

# --- C: the child, mod-dsync pointed at one parent server; resolver R.
cconf() { # cconf PARENT-PORT [TRUST-ANCHOR]
	zg_knot_conf "$C" "$pc"
	policy
	cat <<CONF
mod-dsync:
  - id: child
    mode: child
    check-interval: 1
    parent: "127.0.0.1@$1"
    resolver: 127.0.0.1@$pr
    overdue: 1h
CONF
	[ -n "${2:-}" ] && printf '    trust-anchor: "%s"\n' "$2"
	cat <<CONF

zone:
  - domain: child.test
    storage: "$C/zones"
    dnssec-signing: on
    dnssec-policy: fast
    module: mod-dsync/child
CONF
}
printf '$ORIGIN child.test.\n@ 2 SOA ns h 1 3600 600 86400 2\n@ 2 NS ns\nns 2 A 127.0.0.1\n' \
	>"$C/zones/child.test.zone"
cconf "$pr" >"$C/knot.conf"
ok "C (child signer, mod-dsync, no trust anchor configured) starts" zg_knotd_start "$C"
ok "C signs child.test." zg_wait 30 zg_zone_signed "$C" child.test.
has_cds() { [ -n "$(dig_short "$pc" child.test. CDS)" ]; }
ok "the first KSK waits for submission (CDS published)" zg_wait 30 has_cds
CHILD_DS=$(zg_keymgr -c "$C/knot.conf" child.test. ds 2>/dev/null | ds_rdata | awk '$3 == 2 {print "child.test. DS", $0}')
ok "the child's DS at R" set_ds "$R" test. child.test. "$CHILD_DS"
ok "the child's DS at M too" set_ds "$M" test. child.test. "$CHILD_DS"
TAG=$(echo "$CHILD_DS" | awk '{print $3; exit}')
ok "the child's KSK DS ($TAG)" test -n "$TAG"
clog_has() { grep -Eq "$1" "$C/knotd.log"; }
stats() { zg_knotc "$C" zone-stats child.test. mod-dsync 2>&1; }
stat_ge() { local v; v=$(stats | awk -v n="mod-dsync.$1" '$0 ~ n {print $NF}'); [ -n "$v" ] && [ "$v" -ge "$2" ]; }

# 1. The right DS, but nothing authenticates the parent's answers.
ok "not confirmed: the parent's keys are not authenticated" zg_wait 30 clog_has \
	"mod-dsync.*ds for key $TAG/13/2 not confirmed \(parent server 127\.0\.0\.1@$pr: dnskey of test\. not authenticated \((trust chain: dnskey of \. not authenticated by the trust anchor|no trust anchor, and the answers are not tsig-signed)\)\)"
ok "parent-ds-unauthenticated counted" zg_wait 10 stat_ge parent-ds-unauthenticated 2
sleep 4
ok "no zone-ksk-submitted sent" test "$(grep -c 'zone-ksk-submitted' "$C/knotd.log")" -eq 0
ok "knotd still waits for the submission" test "$(grep -c 'KSK submission, confirmed' "$C/knotd.log")" -eq 0
ok "the CDS is still published" has_cds

# 2. This root as anchor, the answers from M: its test. is not on the chain.
cconf "$pm" "$ZG_TMP/root.ds" >"$C/knot.conf"
ok "knotc reload (trust anchor, parent M)" zg_knotc "$C" reload
ok "the spoofed parent keys are refused" zg_wait 30 clog_has \
	"mod-dsync.*ds for key $TAG/13/2 not confirmed \(parent server 127\.0\.0\.1@$pm: dnskey of test\. not signed by a trust anchor key\)"
sleep 3
ok "still no zone-ksk-submitted" test "$(grep -c 'zone-ksk-submitted' "$C/knotd.log")" -eq 0

# 3. The anchor and the real parent: confirmed along the chain.
cconf "$pr" "$ZG_TMP/root.ds" >"$C/knot.conf"
ok "knotc reload (trust anchor, parent R)" zg_knotc "$C" reload
ok "the load names the anchor and the resolver" zg_wait 10 clog_has \
	"mod-dsync.*parent ds confirmation active \(1 parent server\(s\), 0 with a tsig key, trust anchor $ZG_TMP/root\.ds, resolver 127\.0\.0\.1@$pr"
ok "submission confirmed along the chain root -> test." zg_wait 30 clog_has \
	"mod-dsync.*ksk submission confirmed \(zone-ksk-submitted\), key $TAG/"
ok "knotd logs the submission confirmed" zg_wait 10 clog_has "KSK submission, confirmed"

# zg-checkds with an ancestor's anchor follows the same chain.
out=$("$CHECKDS" --parent "127.0.0.1@$pr" --child "127.0.0.1@$pc" --resolver "127.0.0.1@$pr" \
	--trust-anchor "$ZG_TMP/root.ds" --timeout 1000 child.test. 2>&1); rc=$?
is "$rc" 0 "zg-checkds, root anchor and resolver: in-sync ($out)"
unlike "$out" "not anchored" "the parent keys are anchored"
out=$("$CHECKDS" --parent "127.0.0.1@$pm" --child "127.0.0.1@$pc" --resolver "127.0.0.1@$pr" \
	--trust-anchor "$ZG_TMP/root.ds" --timeout 1000 child.test. 2>&1); rc=$?
is "$rc" 2 "zg-checkds against the spoofed parent M: broken"
like "$out" "dnskey of test\\. not signed by a trust anchor key" "it says why"
out=$("$CHECKDS" --parent "127.0.0.1@$pr" --child "127.0.0.1@$pc" --resolver "127.0.0.1@$pr" \
	--trust-anchor "$ZG_TMP/wrong-root.ds" --timeout 1000 child.test. 2>&1); rc=$?
is "$rc" 2 "zg-checkds with an anchor that is not this root's: broken"
like "$out" "not authenticated \\(trust chain: dnskey of \\. not authenticated by the trust anchor\\)" \
	"the broken link is named"

ok "C stops" zg_knotd_stop "$C"
ok "M stops" zg_knotd_stop "$M"
ok "R stops" zg_knotd_stop "$R"
zg_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-checkds against real knotd instances on loopback: the parent zone test.
# (signed, SoftHSM) on P1 with a secondary P2 (two parent servers), the child
# zone child.test. (signed, SoftHSM, CDS/CDNSKEY always published) on C1 with a
# secondary C2 (two child servers). Secondaries refresh only when told, which
# makes "one server lags" reproducible. The DS at the parent is edited with
# knotc zone-begin/zone-set/zone-commit.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
CHECKDS=$ZG_BUILDDIR/tools/zg-checkds
[ -x "$CHECKDS" ] || zg_bail "zg-checkds not built"
if [ -x "$ZG_BUILDDIR/tools/.libs/zg-checkds" ]; then
	mkdir -p "$ZG_TMP/bin"
	zg_snapshot "$ZG_BUILDDIR/tools/.libs/zg-checkds" "$ZG_TMP/bin/zg-checkds.bin" &&
	zg_snapshot "$ZG_BUILDDIR/lib/.libs/libzonegate.so.0" "$ZG_TMP/bin/libzonegate.so.0" ||
		zg_bail "zg-checkds not built"
	printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$ZG_TMP/bin" "$ZG_TMP/bin/zg-checkds.bin" \
		>"$ZG_TMP/bin/zg-checkds"
	chmod +x "$ZG_TMP/bin/zg-checkds"
	CHECKDS=$ZG_TMP/bin/zg-checkds
fi

ok "SoftHSM tokens initialised" zg_softhsm_init "$ZG_TMP/hsm" parent 1234
ok "second token" softhsm2-util --init-token --free --label child --pin 1234 --so-pin 12341234

P1=$ZG_TMP/p1 P2=$ZG_TMP/p2 C1=$ZG_TMP/c1 C2=$ZG_TMP/c2
pp1=$(zg_free_port) pp2=$(zg_free_port) pc1=$(zg_free_port) pc2=$(zg_free_port)
dead=$(zg_free_port)

mkdir -p "$P1/zones" "$C1/zones" "$P2" "$C2"
cat >"$P1/zones/test.zone" <<ZONE
\$ORIGIN test.
\$TTL 60
@ SOA ns.test. hostmaster.test. 1 3600 600 86400 60
@ NS ns.test.
ns A 127.0.0.1
child 60 NS ns.child.test.
ns.child A 127.0.0.1
ZONE
cat >"$C1/zones/child.test.zone" <<ZONE
\$ORIGIN child.test.
\$TTL 60
@ SOA ns.child.test. hostmaster.child.test. 1 3600 600 86400 60
@ NS ns.child.test.
ns A 127.0.0.1
www A 192.0.2.1
ZONE

# primary_conf DIR PORT ZONE TOKEN
primary_conf() {
	zg_knot_conf "$1" "$2"
	zg_signer_conf "$4" 1234 nsec
	# Still inside the policy item printed above (it ends with an empty line).
	cat <<CONF
policy:
  - id: sign
    keystore: hsm
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
    cds-cdnskey-publish: always
    rrsig-lifetime: 7d
    rrsig-refresh: 1d

CONF
	zg_conf_acls xfr 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: $3
    storage: "$1/zones"
    dnssec-signing: on
    dnssec-policy: sign
    acl: xfr
CONF
}

# secondary_conf DIR PORT ZONE PRIMARYPORT
secondary_conf() {
	zg_knot_conf "$1" "$2"
	zg_conf_remotes primary "127.0.0.1@$4"
	zg_conf_acls notify 127.0.0.1 notify
	cat <<CONF
zone:
  - domain: $3
    storage: "$1/zones"
    master: primary
    acl: notify
CONF
}

primary_conf "$P1" "$pp1" test parent >"$P1/knot.conf"
primary_conf "$C1" "$pc1" child.test child >"$C1/knot.conf"
secondary_conf "$P2" "$pp2" test "$pp1" >"$P2/knot.conf"
secondary_conf "$C2" "$pc2" child.test "$pc1" >"$C2/knot.conf"

ok "parent primary P1 starts" zg_knotd_start "$P1"
ok "child primary C1 starts" zg_knotd_start "$C1"
ok "parent signed" zg_wait 30 zg_zone_signed "$P1" test.
ok "child signed" zg_wait 30 zg_zone_signed "$C1" child.test.

# dig_short PORT NAME TYPE
dig_short() { kdig @127.0.0.1 -p "$1" +short +time=2 +retry=1 "$2" "$3" 2>/dev/null; }
serial() { dig_short "$1" "$2" SOA | awk '{print $3}'; }
has_cds() { [ -n "$(dig_short "$pc1" child.test. CDS)" ]; }
ok "child publishes CDS" zg_wait 20 has_cds

# set_ds RDATA...: replace the DS of child.test. at P1 (one transaction).
set_ds() {
	zg_knotc "$P1" zone-begin test. >/dev/null || return 1
	zg_knotc "$P1" zone-unset test. child.test. DS >/dev/null 2>&1
	local rd
	for rd in "$@"; do
		# shellcheck disable=SC2086
		zg_knotc "$P1" zone-set test. child.test. 60 DS $rd >/dev/null || {
			zg_knotc "$P1" zone-abort test. >/dev/null; return 1; }
	done
	zg_knotc "$P1" zone-commit test. >/dev/null
}
# ds_is PORT RDATA: the server serves exactly this DS set (sorted, one per line).
ds_now() { dig_short "$1" child.test. DS | tr 'a-f' 'A-F' | sed 's/ *$//' | sort; }
norm() { printf '%s\n' "$@" | tr 'a-f' 'A-F' | sort; }
ds_is() { local p=$1; shift; [ "$(ds_now "$p")" = "$(norm "$@")" ]; }
# refresh DIR ZONE PORT PRIMARYPORT: secondary catches up with its primary.
same_serial() { [ "$(serial "$1" "$3")" = "$(serial "$2" "$3")" ]; }
refresh() {
	zg_knotc "$1" zone-refresh "$2" >/dev/null && zg_wait 20 same_serial "$3" "$4" "$2"
}

mapfile -t CDS1 < <(dig_short "$pc1" child.test. CDS | sed 's/ *$//')
ok "parent DS set to the child's CDS (${CDS1[*]})" set_ds "${CDS1[@]}"
ok "P1 serves the DS" zg_wait 20 ds_is "$pp1" "${CDS1[@]}"
ok "parent secondary P2 starts" zg_knotd_start "$P2"
ok "child secondary C2 starts" zg_knotd_start "$C2"
ok "P2 has the parent zone" zg_wait 20 same_serial "$pp1" "$pp2" test.
ok "C2 has the child zone" zg_wait 20 same_serial "$pc1" "$pc2" child.test.

# Trust anchor: the parent's DS from its own KSK (what its parent would serve).
zg_keymgr -c "$P1/knot.conf" test. ds >"$ZG_TMP/ta.ds"
like "$(cat "$ZG_TMP/ta.ds")" "^test\. DS [0-9]+ 13 2 " "trust anchor for test. exported"

ALL=(--parent "127.0.0.1@$pp1" --parent "127.0.0.1@$pp2" --child "127.0.0.1@$pc1" --child "127.0.0.1@$pc2")
# checkds EXPECTED-EXIT ARGS...: runs zg-checkds, sets $out, checks the exit status.
checkds() {
	local want=$1; shift
	out=$("$CHECKDS" --timeout 1000 "$@" 2>&1)
	local rc=$?
	is "$rc" "$want" "zg-checkds $* exits $want"
	[ "$rc" = "$want" ] || zg_diag "$out"
}

# 1. in sync
checkds 0 "${ALL[@]}" --trust-anchor "$ZG_TMP/ta.ds" child.test.
like "$out" "^child\.test\. in-sync \(2 parent servers, 2 child servers" "in-sync summary"
unlike "$out" "not anchored" "parent keys anchored by the trust anchor"
checkds 0 "${ALL[@]}" --format json child.test
json_ok() { "$PYTHON3" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["state"]=="in-sync" and d["exit"]==0 and len(d["parents"])==2 and len(d["children"])==2 and d["anchored"] is False, d' "$out"; }
ok "json output is valid and complete" json_ok
checkds 0 "${ALL[@]}" --format nagios child.test
like "$(printf '%s\n' "$out" | head -n 1)" "^ZONEGATE CHECKDS OK - child\.test\. in-sync \| parents=2 children=2$" "nagios status line"

# 2. a wrong trust anchor: the parent's keys do not validate (spoofed parent)
zg_keymgr -c "$C1/knot.conf" child.test. ds | sed 's/^child\.test\./test./' >"$ZG_TMP/wrong-ta.ds"
checkds 2 "${ALL[@]}" --trust-anchor "$ZG_TMP/wrong-ta.ds" child.test.
like "$out" "broken: parent server 127\.0\.0\.1@$pp1: dnskey of test\. not authenticated by the trust anchor" \
	"a trust anchor that does not match the parent: broken"

# 3. broken DS at one parent server (wrong digest), the other still good
read -r tag alg dt digest <<<"${CDS1[0]}"
bad="$tag $alg $dt $(printf '%s' "$digest" | tr '0-9A-F' '1-9A-F0')"
ok "P1 DS replaced by a wrong digest" set_ds "$bad"
ok "P1 serves the wrong DS" zg_wait 20 ds_is "$pp1" "$bad"
checkds 2 "${ALL[@]}" child.test.
like "$out" "broken: parent server 127\.0\.0\.1@$pp1 serves ds $tag/$alg/$dt that authenticates no dnskey" \
	"wrong digest: broken, naming the server and the key tag"
unlike "$out" "broken: parent server 127\.0\.0\.1@$pp2" "the good parent server is not blamed"
checkds 2 "${ALL[@]}" --format nagios child.test.
like "$(printf '%s\n' "$out" | head -n 1)" "^ZONEGATE CHECKDS CRITICAL - child\.test\. broken: parent server 127\.0\.0\.1@$pp1 serves ds" \
	"nagios CRITICAL names the server"
checkds 2 "${ALL[@]}" --format json child.test.
json_broken() { "$PYTHON3" -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["state"]=="broken" and d["exit"]==2 and any(f["state"]=="broken" for f in d["findings"]), d' "$out"; }
ok "json: state broken with a broken finding" json_broken
ok "P1 DS restored" set_ds "${CDS1[@]}"
ok "P1 serves the right DS again" zg_wait 20 ds_is "$pp1" "${CDS1[@]}"
ok "P2 refreshed" refresh "$P2" test. "$pp1" "$pp2"

# 4. a new KSK: the child announces it through CDS
# Ready (waiting for the DS at the parent) now, active in ten days: Knot signs
# the DNSKEY RRset with it and publishes its CDS/CDNSKEY.
t=$(date +%s)
ok "new KSK generated in the token" keymgr -c "$C1/knot.conf" child.test. generate \
	algorithm=ecdsap256sha256 ksk=yes publish="$t" ready="$t" active=$((t + 864000))
ok "knotd loads the new key" zg_knotc "$C1" zone-keys-load child.test.
two_cds() { [ "$(dig_short "$pc1" child.test. CDS | wc -l)" -eq 2 ]; }
ok "child publishes CDS for both KSKs" zg_wait 30 two_cds
mapfile -t CDS2 < <(dig_short "$pc1" child.test. CDS | sed 's/ *$//')

# 4a. C2 has not transferred the change yet: child servers disagree
checkds 2 "${ALL[@]}" child.test.
like "$out" "inconsistent: child servers disagree \(127\.0\.0\.1@$pc1: dnskey .*; 127\.0\.0\.1@$pc2: dnskey" \
	"child servers disagree: inconsistent, naming both"
ok "C2 refreshed" refresh "$C2" child.test. "$pc1" "$pc2"

# 4b. both child servers announce, no parent server has the new DS: pending
checkds 1 "${ALL[@]}" --trust-anchor "$ZG_TMP/ta.ds" child.test.
like "$out" "pending: parent server 127\.0\.0\.1@$pp1 serves ds $tag/$alg/$dt, child announces cds" "pending names P1"
like "$out" "pending: parent server 127\.0\.0\.1@$pp2 serves ds" "pending names P2"
checkds 1 "${ALL[@]}" --format nagios child.test.
like "$(printf '%s\n' "$out" | head -n 1)" "^ZONEGATE CHECKDS WARNING - child\.test\. pending: " "nagios WARNING"

# 4c. P1 publishes the new DS set, P2 lags: still pending, only P2 named
ok "P1 DS set to the announced CDS" set_ds "${CDS2[@]}"
ok "P1 serves the new DS set" zg_wait 20 ds_is "$pp1" "${CDS2[@]}"
checkds 1 "${ALL[@]}" child.test.
like "$out" "pending: parent server 127\.0\.0\.1@$pp2 serves ds $tag/$alg/$dt, child announces" "lagging P2 named"
unlike "$out" "pending: parent server 127\.0\.0\.1@$pp1" "P1 not pending"

# 4d. P2 catches up: in sync
ok "P2 refreshed" refresh "$P2" test. "$pp1" "$pp2"
checkds 0 "${ALL[@]}" --trust-anchor "$ZG_TMP/ta.ds" child.test.
like "$out" "in-sync" "both parent servers serve the new DS set: in-sync"

# 5. unreachable server, usage errors
checkds 3 --parent "127.0.0.1@$dead" --child "127.0.0.1@$pc1" child.test.
like "$out" "parent server 127\.0\.0\.1@$dead: " "unreachable server named"
checkds 3 --parent "127.0.0.1@$pp1" --child "127.0.0.1@$pc1" --format nagios --timeout 300 --child "127.0.0.1@$dead" child.test.
like "$out" "^ZONEGATE CHECKDS UNKNOWN - " "nagios UNKNOWN for an unreachable child"
checkds 3 --parent 300.1.1.1 --child "127.0.0.1@$pc1" child.test.
like "$out" "invalid --parent address" "bad address is a usage error"
checkds 3 --parent "127.0.0.1@$pp1" --child "127.0.0.1@$pc1"
checkds 3 --parent "127.0.0.1@$pp1" --child "127.0.0.1@$pc1" --trust-anchor /nonexistent child.test.
checkds 0 --help

zg_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-dsync child mode, CDS guard, in a real knotd: the zone child.test. is
# signed outside knotd (dnssec-signzone) so that each version can publish a
# chosen CDS/CDNSKEY set; knotd serves it with mod-dsync (check-interval 1s).
# Unsafe sets (a CDS for a key that does not sign the DNSKEY RRset, CDS and
# CDNSKEY that disagree, a delete form without allow-delete) must be answered
# with SERVFAIL, logged with the reason and counted; safe ones are served.
# Transfers of the zone (AXFR, IXFR) are refused while it publishes a set
# that is unsafe or not checked yet (right after a reload too), so no
# secondary receives an unsafe set either.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
zg_snapshot_modules
for t in dnssec-keygen dnssec-signzone dnssec-dsfromkey kdig; do
	command -v $t >/dev/null || zg_skip_all "$t not installed"
done

d=$ZG_TMP/knot kd=$ZG_TMP/keys
mkdir -p "$d/zones" "$kd"
port=$(zg_free_port)
Z=child.test.

key() { dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 "$@" $Z; }
K1=$(key -f KSK) K2=$(key -f KSK) K3=$(key -f KSK) ZK=$(key)
# K3 is published but cannot sign: no private key.
rm -f "$kd/$K3.private"
tag() { echo "$1" | sed 's/.*+0*\([0-9][0-9]*\)$/\1/'; }
dnskey() { grep -v '^;' "$kd/$1.key"; }
cds() { dnssec-dsfromkey -2 -C "$kd/$1.key"; }
cdnskey() { dnskey "$1" | sed 's/ DNSKEY / CDNSKEY /'; }

# version SERIAL SIGNING-KSKS EXTRA-RECORDS: writes and signs a zone version
# into the zone file served by knotd.
version() {
	local serial=$1 ksks=$2 extra=$3 k args=()
	{
		printf '$ORIGIN %s\n$TTL 60\n' $Z
		printf '@ SOA ns hostmaster %s 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n' "$serial"
		for k in $ksks $ZK; do dnskey "$k"; done
		printf '%s\n' "$extra"
	} >"$ZG_TMP/unsigned.zone"
	for k in $ksks; do args+=(-k "$k"); done
	(cd "$kd" && dnssec-signzone -q -K "$kd" -o $Z -f "$d/zones/child.test.zone" \
		"${args[@]}" "$ZG_TMP/unsigned.zone" "$ZK") >/dev/null
}

status() { kdig @127.0.0.1 -p "$port" +time=2 +retry=1 $Z "$1" 2>/dev/null | grep -o 'status: [A-Z]*' | cut -d' ' -f2; }
status_is() { [ "$(status "$1")" = "$2" ]; }
log_has() { grep -Eq -- "$1" "$d/knotd.log"; }
reload_zone() { zg_knotc "$d" zone-reload $Z >/dev/null && zg_wait 10 sh -c \
	"kdig @127.0.0.1 -p $port +short $Z SOA | grep -q ' $1 '"; }

write_conf() {
	{
		zg_knot_conf "$d" "$port"
		cat <<CONF
mod-dsync:
  - id: guard
    mode: child
    check-interval: 1
    allow-delete: $1

CONF
		zg_conf_acls xfr 127.0.0.1 transfer
		cat <<CONF
zone:
  - domain: $Z
    storage: "$d/zones"
    zonefile-load: whole
    journal-content: none
    acl: xfr
    module: mod-dsync/guard
CONF
	} >"$d/knot.conf"
}

# 1. A safe set is served.
ok "zone v1 signed (CDS/CDNSKEY of the signing KSK)" version 1 "$K1" "$(cds "$K1"; cdnskey "$K1")"
write_conf off
ok "knotd with mod-dsync child starts" zg_knotd_start "$d"
ok "zone loaded" zg_wait 20 zg_zone_loaded "$d" $Z
like "$(cat "$d/knotd.log")" "mod-dsync.*cds/cdnskey guard active \(server 127\.0\.0\.1@$port, interval 1s, allow-delete off\)" \
	"guard announces itself at load"
ok "safe CDS served (NOERROR)" zg_wait 10 status_is CDS NOERROR
ok "safe CDNSKEY served" zg_wait 10 status_is CDNSKEY NOERROR
like "$(kdig @127.0.0.1 -p "$port" +short $Z CDS)" "^$(tag "$K1") 13 2 " "the CDS is the KSK's"
ok "checked set logged" log_has "mod-dsync.*cds/cdnskey checked, serving them"
axfr() { kdig @127.0.0.1 -p "$port" +time=2 +retry=0 $Z AXFR 2>&1; }
axfr_ok() { axfr | grep -q "CDS"; }
ok "a secondary's AXFR gets the safe set" zg_wait 10 axfr_ok

# 2. A CDS for a published key that does not sign the DNSKEY RRset.
ok "zone v2 signed (CDS/CDNSKEY also for a non-signing key)" version 2 "$K1" \
	"$(dnskey "$K3"; cds "$K1"; cds "$K3"; cdnskey "$K1"; cdnskey "$K3")"
ok "v2 loaded" reload_zone 2
out=$(axfr)
like "$out" "REFUSED" "AXFR right after the reload, before any check: refused"
unlike "$out" "CDS" "the unchecked set is not sent"
ok "unsafe CDS answered with SERVFAIL" zg_wait 10 status_is CDS SERVFAIL
out=$(axfr)
like "$out" "REFUSED" "AXFR while the set is unsafe: refused"
like "$(kdig @127.0.0.1 -p "$port" +time=2 +retry=0 $Z IXFR=1 2>&1)" "REFUSED" "IXFR too"
ok "the refusal is logged" log_has \
	"warning: .*mod-dsync.*AXFR, outgoing, remote 127\.0\.0\.1@[0-9]+, refused \(cds/cdnskey (unsafe|not checked yet), [0-9]+ more refused since the last message\)"
is "$(status CDNSKEY)" SERVFAIL "unsafe CDNSKEY answered with SERVFAIL"
is "$(status DNSKEY)" NOERROR "DNSKEY still served"
is "$(status SOA)" NOERROR "SOA still served"
ok "reason logged at error level" zg_wait 10 log_has \
	"error: .*mod-dsync.*unsafe cds/cdnskey, answering servfail \(cds for key $(tag "$K3")/13 that does not sign the dnskey rrset\)"
stats=$(zg_knotc "$d" zone-stats $Z mod-dsync 2>&1)
like "$stats" "cds-servfail[^0-9]*[1-9]" "cds-servfail counted"
like "$stats" "cds-unsafe[^0-9]*[1-9]" "cds-unsafe counted"
like "$stats" "transfers-refused[^0-9]*[1-9]" "transfers-refused counted"

# 3. CDS and CDNSKEY that disagree (both keys sign).
ok "zone v3 signed (CDS for K1, CDNSKEY for K1 and K2)" version 3 "$K1 $K2" \
	"$(dnskey "$K2"; cds "$K1"; cdnskey "$K1"; cdnskey "$K2")"
ok "v3 loaded" reload_zone 3
ok "disagreement logged" zg_wait 10 log_has \
	"mod-dsync.*unsafe cds/cdnskey, answering servfail \(cds and cdnskey disagree \(cdnskey $(tag "$K2")/13 has no cds\)\)"
is "$(status CDS)" SERVFAIL "CDS withheld while CDS and CDNSKEY disagree"

# 4. Delete form without permission.
ok "zone v4 signed (delete form)" version 4 "$K1" "$(printf '@ CDS 0 0 0 00\n@ CDNSKEY 0 3 0 AA==\n')"
ok "v4 loaded" reload_zone 4
ok "delete without permission logged" zg_wait 10 log_has \
	"mod-dsync.*unsafe cds/cdnskey, answering servfail \(delete form published without permission \(allow-delete not set\)\)"
is "$(status CDS)" SERVFAIL "delete form withheld"

# 5. Safe again.
ok "zone v5 signed (safe set again)" version 5 "$K1" "$(cds "$K1"; cdnskey "$K1")"
ok "v5 loaded" reload_zone 5
ok "CDS served again" zg_wait 10 status_is CDS NOERROR
ok "transfers served again" zg_wait 10 axfr_ok
ok "recovery logged" log_has "notice: .*mod-dsync.*cds/cdnskey safe again, serving them"

# 5b. A DNSKEY answer too big for UDP (4 extra RSA keys): the worker's check
# must fall back to TCP to see the unsafe CDS for one of them.
BIG=""
for i in 1 2 3 4; do BIG="$BIG $(dnssec-keygen -q -K "$kd" -a RSASHA256 -b 2048 $Z)"; done
big_extra() { local k; for k in $BIG; do dnskey "$k"; done; cds "$K1"; cdnskey "$K1"; }
ok "zone v7 signed (big DNSKEY RRset, safe CDS)" version 7 "$K1" "$(big_extra)"
ok "v7 loaded" reload_zone 7
tc=$(kdig @127.0.0.1 -p "$port" +notcp +ignore +bufsize=1232 +dnssec $Z DNSKEY 2>/dev/null)
like "$tc" "Flags: qr aa tc" "the DNSKEY answer is truncated over UDP"
set -- $BIG
ok "zone v8 signed (big DNSKEY RRset, CDS for a non-signing RSA key)" version 8 "$K1" \
	"$(big_extra; cds "$1")"
ok "v8 loaded" reload_zone 8
ok "unsafe CDS found through TCP, SERVFAIL" zg_wait 10 status_is CDS SERVFAIL
ok "reason names the RSA key" log_has "does not sign the dnskey rrset|not signed"
ok "zone v9 (safe set again)" version 9 "$K1" "$(cds "$K1"; cdnskey "$K1")"
ok "v9 loaded" reload_zone 9
ok "CDS served again" zg_wait 10 status_is CDS NOERROR

# 6. With allow-delete the delete form is served (config reload restarts the module).
ok "zone v10 signed (delete form)" version 10 "$K1" "$(printf '@ CDS 0 0 0 00\n@ CDNSKEY 0 3 0 AA==\n')"
write_conf on
ok "knotc reload with allow-delete: on" zg_knotc "$d" reload
ok "v10 loaded" reload_zone 10
ok "delete form served with permission" zg_wait 10 status_is CDS NOERROR
like "$(kdig @127.0.0.1 -p "$port" +short $Z CDS)" "^0 0 0 00" "the CDS is the delete form"

# 7. Configuration errors.
mkdir -p "$ZG_TMP/bad"
# (allow-delete is valid in both modes: in parent mode it permits accepting a
# child's delete request, see dsync-parent.sh; child-only items are refused.)
printf 'mod-dsync:\n  - id: p\n    mode: parent\n    dry-run: on\n    allow-delete: on\n    trust-anchor: /etc/ta\n' >"$ZG_TMP/bad.conf"
{ zg_knot_conf "$ZG_TMP/bad" "$port"; cat "$ZG_TMP/bad.conf"; } >"$ZG_TMP/bad/knot.conf"
out=$("$KNOTC" -c "$ZG_TMP/bad/knot.conf" conf-check 2>&1)
like "$out" "trust-anchor, overdue, alarm, alarm-timeout and control apply to child mode only" \
	"a child-mode item in parent mode refused by conf-check"
printf 'mod-dsync:\n  - id: p\n    check-interval: 0\n' >"$ZG_TMP/bad.conf"
{ zg_knot_conf "$ZG_TMP/bad" "$port"; cat "$ZG_TMP/bad.conf"; } >"$ZG_TMP/bad/knot.conf"
ok "check-interval 0 refused" sh -c "! '$KNOTC' -c '$ZG_TMP/bad/knot.conf' conf-check"

ok "knotd stops cleanly (worker joined)" zg_knotd_stop "$d"
zg_done

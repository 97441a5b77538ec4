#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Knot's own signer against a PKCS#11 keystore: a fresh SoftHSMv2 token, knotd
# generates the zone's keys inside it, signs a generated zone, and the zone
# it serves validates (kzonecheck and dnssec-verify on an AXFR of it).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"

d=$ZG_TMP/signer
mkdir -p "$d"
ok "SoftHSM token initialised" zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234
port=$(zg_free_port)
zg_genzone test. 1000 >"$d/zones.in"
mkdir -p "$d/zones" && mv "$d/zones.in" "$d/zones/test.zone"
{
	zg_knot_conf "$d" "$port"
	zg_signer_conf zonegate 1234 nsec3
	zg_conf_acls xfr 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$d/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    acl: xfr
CONF
} >"$d/knot.conf"

ok "knotd (pkcs11 keystore) starts" zg_knotd_start "$d"
ok "zone signed within 60 s" zg_wait 60 zg_zone_signed "$d" test.

keys=$(zg_keymgr -c "$d/knot.conf" test. list)
like "$keys" "^[0-9a-f]{40} +[0-9]+ KSK ECDSAP256SHA256" "keymgr lists a P-256 KSK"
like "$keys" "^[0-9a-f]{40} +[0-9]+ ZSK ECDSAP256SHA256" "keymgr lists a P-256 ZSK"
objs=$(pkcs11-tool --module "$ZG_SOFTHSM_LIB" --token-label zonegate --login --pin 1234 \
	--list-objects --type privkey 2>&1)
# OpenSC 0.26 (Debian unstable) prints the IDs with colons (d8:f5:...).
objs=$(printf '%s\n' "$objs" | sed -E '/ID:/s/([0-9a-f]{2}):/\1/g')
nobj=$(printf '%s\n' "$objs" | grep -c 'Private Key Object')
is "$nobj" 2 "the token holds 2 private keys (KSK and ZSK)"
for id in $(printf '%s\n' "$keys" | grep -oE '^[0-9a-f]{40}'); do
	like "$objs" "ID: *$id" "key $id from keymgr is an object in the token"
done
unlike "$(ls "$d/db" 2>/dev/null; find "$d" -name '*.pem')" '\.pem' "no key material on disk outside the token"

zg_axfr 127.0.0.1 "$port" test. >"$d/axfr.zone"
n=$(grep -c 'RRSIG' "$d/axfr.zone")
ok "AXFR of the signed zone has RRSIGs ($n)" test "$n" -gt 1000
like "$(cat "$d/axfr.zone")" "NSEC3PARAM" "NSEC3 chain published"
ok "kzonecheck -d on accepts the served zone" kzonecheck -o test. -d on "$d/axfr.zone"
ok "dnssec-verify accepts the served zone" dnssec-verify -q -o test. "$d/axfr.zone"

# A change made through the control socket is signed too (keys stay in the token).
zg_knotc "$d" zone-begin test. >/dev/null
zg_knotc "$d" zone-set test. added-by-test 3600 TXT '"hello"' >/dev/null
ok "zone-commit of a change" zg_knotc "$d" zone-commit test.
ok "the new TXT is signed" zg_wait 20 sh -c "kdig @127.0.0.1 -p $port +dnssec added-by-test.test. TXT | grep -q 'RRSIG.*TXT'"

ok "knotd stops cleanly" zg_knotd_stop "$d"
zg_done

#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify --axfr against a real knotd on 127.0.0.1 serving pre-signed
# zones (dnssec-signing: off): open. (transfer allowed to anyone), bad.
# (one corrupted signature) and test. (transfer only with the TSIG key zgkey).
. "${ZG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/verify/corpus.sh"
zg_init
[ -x "$ZG_VERIFY" ] || zg_diag "$ZG_VERIFY is not built: every zg-verify assertion fails"
ZGV_TIMEOUT=60

K=$ZG_TMP/knot
mkdir -p "$K/zones"
for z in open bad test; do
	ZGV_ORIGIN=$z.
	zgv_unsigned "$ZG_TMP/$z"
	zgv_sign bind ECDSAP256SHA256 NSEC3 "$ZG_TMP/$z/keys" "$ZG_TMP/$z/unsigned.zone" \
		"$ZG_TMP/$z/signed.zone" || zg_bail "signing $z. failed"
done
ZGV_ORIGIN=test.
cp "$ZG_TMP/open/signed.zone" "$K/zones/open.zone"
cp "$ZG_TMP/test/signed.zone" "$K/zones/test.zone"
zgv_rr "$ZG_TMP/bad/signed.zone" >"$ZG_TMP/bad/rr.zone" &&
	$ZGV_INJECT corrupt-sig "$ZG_TMP/bad/rr.zone" "$K/zones/bad.zone" www.bad. A >/dev/null ||
	zg_bail "injecting the fault into bad. failed"

SECRET=$(head -c 32 /dev/urandom | base64)
OTHER=$(head -c 32 /dev/urandom | base64)
PORT=$(zg_free_port)
{
	ZG_MODULES_INSTALLED=1 zg_knot_conf "$K" "$PORT"
	zg_conf_key zgkey "$SECRET"
	zg_conf_acls xfr-key "127.0.0.1 key:zgkey" transfer xfr-open 127.0.0.1 transfer
	cat <<CONF
template:
  - id: default
    storage: "$K/zones"
    file: "%s.zone"
    dnssec-signing: off
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none

zone:
  - domain: open.
    acl: xfr-open
  - domain: bad.
    acl: xfr-open
  - domain: test.
    acl: xfr-key
CONF
} >"$K/knot.conf"
zg_knotd_start "$K" || zg_bail "knotd did not start"
for z in open. bad. test.; do
	zg_wait 30 zg_zone_loaded "$K" "$z" || zg_bail "knotd did not load $z"
done
A=127.0.0.1@$PORT

# Sanity: what knotd serves is what the peers call valid.
zg_axfr 127.0.0.1 "$PORT" open. >"$ZG_TMP/open.axfr"
is "$(ZGV_ORIGIN=open. zgv_peer dnssec-verify "$ZG_TMP/open.axfr")" 0 "dnssec-verify: open. as served is valid"

zgv_run --axfr "$A" open.
is "$ZGV_RC" 0 "--axfr open.: exit 0"
like "$ZGV_OUT" 'open\.' "--axfr open.: the summary names the zone"
zgv_run --axfr "$A" --format json open.
is "$(printf '%s' "$ZGV_OUT" | "$PYTHON3" -c 'import json,sys; o=json.load(sys.stdin); print(o["zone"].rstrip("."), o["serial"], o["valid"])' 2>&1)" \
	"open 1 True" "--axfr open. --format json: zone, serial, valid"
zgv_run --axfr "$A" -j 1 open.
is "$ZGV_RC" 0 "--axfr open. -j 1: exit 0"

zgv_run --axfr "$A" bad.
is "$ZGV_RC" 1 "--axfr bad.: exit 1"
zgv_names "$ZGV_OUT" www.bad. 'A|RRSIG' "" "--axfr bad.: names www.bad. A"
zgv_run --axfr "$A" --format nagios bad.
is "$ZGV_RC" 2 "--axfr bad. --format nagios: exit 2"

zgv_run --axfr "$A" -y "hmac-sha256:zgkey:$SECRET" test.
is "$ZGV_RC" 0 "--axfr test. with the TSIG key: exit 0"
zgv_run --axfr "$A" -y "hmac-sha256:zgkey.:$SECRET" test.
is "$ZGV_RC" 0 "--axfr test. with the TSIG key name written absolute: exit 0"
zgv_run --axfr "$A" test.
is "$ZGV_RC" 2 "--axfr test. without TSIG (refused): exit 2"
like "$ZGV_OUT" '([Rr]efused|REFUSED|NOTAUTH|[Nn]ot authori[sz]ed|TSIG)' "--axfr test. without TSIG: says why"
zgv_run --axfr "$A" -y "hmac-sha256:zgkey:$OTHER" test.
is "$ZGV_RC" 2 "--axfr test. with a wrong TSIG secret: exit 2"
like "$ZGV_OUT" '([Bb]ad|BAD|NOTAUTH|TSIG|[Rr]efused)' "--axfr test. with a wrong TSIG secret: says why"
zgv_run --axfr "$A" -y "hmac-sha256:otherkey:$SECRET" test.
is "$ZGV_RC" 2 "--axfr test. with an unknown TSIG key name: exit 2"
zgv_run --axfr "$A" -y "hmac-sha256:zgkey:not*base64" test.
is "$ZGV_RC" 2 "-y with a secret that is not base64: exit 2"
zgv_run --axfr "$A" -y "hmac-nope:zgkey:$SECRET" test.
is "$ZGV_RC" 2 "-y with an unknown algorithm: exit 2"
zgv_run --axfr "$A" --format nagios test.
is "$ZGV_RC" 3 "--axfr refused with --format nagios: exit 3 (UNKNOWN)"

zgv_run --axfr "$A" nosuchzone.
is "$ZGV_RC" 2 "--axfr of a zone the server does not serve: exit 2"
DEAD=$(zg_free_port)
t0=$SECONDS
zgv_run --axfr "127.0.0.1@$DEAD" open.
is "$ZGV_RC" 2 "--axfr to a port nobody listens on: exit 2"
ok "--axfr to a closed port fails within 30 s" [ $((SECONDS - t0)) -le 30 ]
zgv_run --axfr "127.0.0.1@notaport" open.
is "$ZGV_RC" 2 "--axfr with a bad port: exit 2"

zg_knotd_stop "$K" || fail "knotd stopped cleanly"
zg_done

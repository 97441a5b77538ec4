#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The demo pipeline on 127.0.0.1, from a built tree: a knotd signer whose keys
# live in a fresh SoftHSMv2 token signs a generated TLD-like zone "demo." of
# 10,000 delegations (NSEC3 opt-out, ECDSA P-256), with the zonegate modules
# configured on the zone. Prints where it listens and how to query it; stops
# cleanly on Ctrl-C (or after --seconds N).
#   scripts/demo-run.sh [--port N] [--delegations N] [--seconds N]
set -u
cd "$(dirname "$0")/.." || exit 2
port= n=10000 seconds=0
while [ $# -gt 0 ]; do
	case $1 in
	--port) port=$2; shift 2 ;;
	--delegations) n=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	*) echo "usage: $0 [--port N] [--delegations N] [--seconds N]" >&2; exit 2 ;;
	esac
done
# A VPATH build (make distcheck) passes its build dir in ZG_BUILDDIR.
export ZG_SRCDIR=$PWD
export ZG_BUILDDIR=${ZG_BUILDDIR:-$PWD}
. tests/func/lib.sh
zg_init
[ -n "$port" ] || port=$(zg_free_port)
d=$ZG_TMP/signer
mkdir -p "$d/zones" "$d/spool/incoming" "$d/spool/done" "$d/spool/failed"

echo "== SoftHSM token 'zonegate' in $ZG_TMP/hsm"
zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234 || zg_bail "cannot initialise the SoftHSM token"
echo "== generating zone demo. with $n delegations"
zg_genzone demo. "$n" >"$d/zones/demo.zone"
{
	zg_knot_conf "$d" "$port"
	zg_signer_conf zonegate 1234 nsec3
	cat <<CONF
acl:
  - id: local
    address: 127.0.0.0/8
    action: [transfer, notify, update]

mod-ingest:
  - id: registry
    source: spool:$d/spool

mod-validate:
  - id: gate

mod-dsync:
  - id: child

zone:
  - domain: demo
    storage: "$d/zones"
    dnssec-signing: on
    dnssec-policy: hsm
    acl: local
    module: [mod-ingest/registry, mod-validate/gate, mod-dsync/child]
CONF
} >"$d/knot.conf"

t0=$SECONDS
echo "== starting knotd (config $d/knot.conf, log $d/knotd.log)"
zg_knotd_start "$d" || zg_bail "knotd did not start"
zg_wait 300 zg_zone_signed "$d" demo. || zg_bail "zone not signed within 300 s"
echo "== signed in $((SECONDS - t0)) s; keys in the token:"
pkcs11-tool --module "$ZG_SOFTHSM_LIB" --token-label zonegate --login --pin 1234 \
	--list-objects --type privkey 2>/dev/null | grep -E 'Private Key|ID:' | sed 's/^/   /'
zg_knotc "$d" zone-status demo. | sed 's/^/   /'
cat <<MSG

zonegate demo signer listening on 127.0.0.1@$port (UDP and TCP), zone demo.
  kdig @127.0.0.1 -p $port demo. SOA +dnssec
  kdig @127.0.0.1 -p $port demo. DNSKEY +dnssec +multiline
  kdig @127.0.0.1 -p $port demo. AXFR | head
  SOFTHSM2_CONF=$SOFTHSM2_CONF knotc -c $d/knot.conf -f zone-stats demo.

mod-ingest consumes the spool $d/spool; add a delegation:
  printf '%s' '{"version":1,"id":"demo-1","zone":"demo.","changes":[{"owner":"new.demo.","rrsets":[{"type":"NS","ttl":3600,"rdata":["ns1.example."]}]}]}' > $d/spool/demo-1.json.tmp && mv $d/spool/demo-1.json.tmp $d/spool/incoming/demo-1.json
  kdig @127.0.0.1 -p $port +dnssec new.demo. NS      # signed within seconds; see $d/spool/done
mod-validate validates every serial the server serves (log: $d/knotd.log):
  $(command -v zg-verify >/dev/null 2>&1 && echo zg-verify || echo "$ZG_BUILDDIR/tools/zg-verify") --axfr 127.0.0.1@$port demo.
Press Ctrl-C to stop.
MSG

stop=0
trap 'stop=1' INT TERM
deadline=$((SECONDS + seconds))
while [ $stop -eq 0 ] && zg_alive "$ZG_KNOTD_PID"; do
	[ "$seconds" -gt 0 ] && [ $SECONDS -ge $deadline ] && break
	sleep 0.5
done
trap - INT TERM
echo
if zg_knotd_stop "$d"; then
	echo "knotd stopped cleanly"
else
	echo "knotd had to be killed"
	exit 1
fi

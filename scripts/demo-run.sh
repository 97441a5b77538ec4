#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The demo pipeline on loopback, from a built tree: the reference deployment
# of doc/hidden-primary.md, its three knotd configured from that page's
# blocks (tests/func/hidden-primary-lib.sh, the substitutions the page lists):
#   127.0.0.1  the signer: mod-ingest consumes a spool (the queue), keys in a
#              fresh SoftHSMv2 token, a generated TLD-like zone "example." of
#              10,000 delegations (NSEC3 opt-out, ECDSA P-256);
#   127.0.0.2  the hidden primary: mod-validate, the gate; its alarm writes
#              into the demo's alarm.log;
#   127.0.0.3  a public secondary.
# Prints the pipeline's status and the ready-to-paste commands (DEMO/zg-demo,
# scripts/demo-ctl.sh): drop a registry message, publish a corrupted serial
# upstream and recover, status, stop. Stops every knotd by its pid on Ctrl-C,
# `zg-demo stop` (SIGTERM) or after --seconds N.
#   scripts/demo-run.sh [--port N] [--delegations N] [--seconds N]
# --port is the public secondary's port (the others are free ports).
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
. tests/func/hidden-primary-lib.sh
zg_snapshot_modules
HP_PORT[1]=$(zg_free_port)
HP_PORT[2]=$(zg_free_port)
HP_PORT[3]=${port:-$(zg_free_port)}
for i in 1 2 3; do HP_DIR[$i]=$ZG_TMP/${HP_NAMES[$i]}; done
S=${HP_DIR[1]} D=${HP_DIR[2]} C=${HP_DIR[3]}

# The page's alarm command, here: one line per call in alarm.log.
HP_ALARM=$ZG_TMP/page-dns-oncall
cat >"$HP_ALARM" <<ALARM
#!/bin/sh
echo "\$(date -u +%H:%M:%S) \$*" >>"$ZG_TMP/alarm.log"
ALARM
chmod 755 "$HP_ALARM"

for i in 1 2 3; do
	hp_conf "$i" || zg_bail "doc/hidden-primary.md has no knot.conf block for the ${HP_NAMES[$i]}"
done
echo "== SoftHSM token 'zonegate' in $ZG_TMP/hsm"
hp_token "$ZG_TMP/hsm" || zg_bail "cannot initialise the SoftHSM token"
echo "== generating zone example. with $n delegations"
mkdir -p "$S/lib/ingest"
zg_genzone example. "$n" >"$S/lib/example.zone"

# What scripts/demo-ctl.sh needs, and the command that calls it.
{
	declare -p ZG_SRCDIR ZG_BUILDDIR ZG_MODULE_LIBDIR SOFTHSM2_CONF HP_PORT HP_DIR | sed 's/^declare -[-aAx]* //'
	[ -n "${ZG_MODULES_INSTALLED:-}" ] && echo "ZG_MODULES_INSTALLED=$ZG_MODULES_INSTALLED"
	echo "export SOFTHSM2_CONF"
	echo "DEMO_PID=$$"
} >"$ZG_TMP/demo.env"
echo $$ >"$ZG_TMP/demo.pid"
ctl=$ZG_TMP/zg-demo
printf '#!/bin/sh\nexec bash "%s/scripts/demo-ctl.sh" "%s" "$@"\n' "$ZG_SRCDIR" "$ZG_TMP" >"$ctl"
chmod 755 "$ctl"

t0=$SECONDS
echo "== starting the signer (127.0.0.1@${HP_PORT[1]}, config $S/knot.conf, log $S/knotd.log)"
zg_knotd_start "$S" || zg_bail "the signer did not start"
zg_wait 300 zg_zone_signed "$S" example. || zg_bail "zone not signed within 300 s"
echo "== signed in $((SECONDS - t0)) s; keys in the token:"
pkcs11-tool --module "$ZG_SOFTHSM_LIB" --token-label zonegate --login --pin 1234 \
	--list-objects --type privkey 2>/dev/null | grep -E 'Private Key|ID:' | sed 's/^/   /'
echo "== starting the hidden primary (127.0.0.2@${HP_PORT[2]}, log $D/knotd.log)"
zg_knotd_start "$D" || zg_bail "the hidden primary did not start"
echo "== starting the public secondary (127.0.0.3@${HP_PORT[3]}, log $C/knotd.log)"
zg_knotd_start "$C" || zg_bail "the public secondary did not start"
same_serial() { local a b; a=$(hp_serial 1); b=$(hp_serial 3); [ -n "$a" ] && [ "$a" = "$b" ]; }
zg_wait 300 same_serial || zg_bail "the secondary does not serve the signer's serial within 300 s"
echo "== the public secondary serves serial $(hp_serial 3), validated by the hidden primary ($((SECONDS - t0)) s)"
"$ctl" status

P3=${HP_PORT[3]}
cat <<MSG

zonegate demo pipeline: signer 127.0.0.1@${HP_PORT[1]} -> hidden primary 127.0.0.2@${HP_PORT[2]} -> public secondary 127.0.0.3@$P3, zone example.
  kdig @127.0.0.3 -p $P3 example. SOA +dnssec
  kdig @127.0.0.3 -p $P3 example. DNSKEY +dnssec +multiline
  knotc -c $D/knot.conf -f zone-stats example. mod-validate

(a) a registry message: dropped into the signer's spool ($S/lib/ingest, as
    NAME.json.tmp renamed into incoming/), applied and signed by the signer,
    validated by the hidden primary, served by the secondary:
  $ctl message newdomain
  kdig @127.0.0.3 -p $P3 newdomain.example. DS +dnssec

(b) a corrupted serial upstream: the signer's zone with a higher serial and
    one broken DS RRSIG, served on the signer's address. The gate holds (the
    secondary keeps the last good serial, the alarm runs, the status says
    why); recover brings the signer back and rolls forward with a new serial:
  $ctl corrupt
  kdig @127.0.0.3 -p $P3 example. SOA +short
  $ctl recover

  $ctl status
  $ctl stop          (or Ctrl-C here)
Press Ctrl-C to stop.
MSG

stop=0
trap 'stop=1' INT TERM
deadline=$((SECONDS + seconds))
while [ $stop -eq 0 ]; do
	[ "$seconds" -gt 0 ] && [ $SECONDS -ge $deadline ] && break
	sleep 0.5
done
trap - INT TERM
echo
clean=1
for dir in "$C" "$D" "$ZG_TMP/upstream" "$S"; do
	[ -f "$dir/knotd.pid" ] || continue
	zg_knotd_stop "$dir" || { echo "knotd of $dir had to be killed"; clean=0; }
	rm -f "$dir/knotd.pid"
done
if [ $clean -eq 1 ]; then
	echo "knotd stopped cleanly"
else
	exit 1
fi

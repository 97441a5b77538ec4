#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The demo pipeline on loopback, from a built tree: the reference deployment
# of doc/hidden-primary.md, its three knotd configured from that page's
# knot.conf blocks (tests/func/topology-lib.sh, the substitutions the page
# lists; the alarm command becomes the demo's):
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
. tests/func/topology-lib.sh
zg_snapshot_modules
declare -a TOPO_ADDR TOPO_PORT TOPO_DIR
for i in 1 2 3; do
	TOPO_ADDR[$i]=127.0.0.$i
	TOPO_DIR[$i]=$ZG_TMP/${TOPO_NAMES[$i]}
	TOPO_PORT[$i]=$(zg_free_port)
done
[ -n "$port" ] && TOPO_PORT[3]=$port
S=${TOPO_DIR[1]} D=${TOPO_DIR[2]} C=${TOPO_DIR[3]}

# serial_at N: the serial host N serves (empty if none).
serial_at() {
	kdig @"${TOPO_ADDR[$1]}" -p "${TOPO_PORT[$1]}" example. SOA +short +time=2 +retry=0 2>/dev/null |
		awk '{print $3}'
}

# The page's alarm command, here: one line per call in alarm.log.
alarm=$ZG_TMP/page-dns-oncall
cat >"$alarm" <<ALARM
#!/bin/sh
echo "\$(date -u +%H:%M:%S) \$*" >>"$ZG_TMP/alarm.log"
ALARM
chmod 755 "$alarm"

for i in 1 2 3; do
	topo_conf "$i" >"$ZG_TMP/${TOPO_NAMES[$i]}.conf" ||
		zg_bail "doc/hidden-primary.md has no knot.conf block for the ${TOPO_NAMES[$i]}"
	sed "s|^\\(    alarm: \\)/usr/local/sbin/page-dns-oncall\$|\\1$alarm|" \
		"$ZG_TMP/${TOPO_NAMES[$i]}.conf" >"${TOPO_DIR[$i]}/knot.conf"
done
grep -q "^    alarm: $alarm\$" "$D/knot.conf" ||
	zg_bail "the distribution's block of doc/hidden-primary.md has no alarm: /usr/local/sbin/page-dns-oncall"
# The page's token, made with the page's command.
echo "== SoftHSM token 'zonegate' in $ZG_TMP/hsm"
mkdir -p "$ZG_TMP/hsm/tokens"
printf 'directories.tokendir = %s/hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$ZG_TMP" >"$ZG_TMP/hsm/softhsm2.conf"
export SOFTHSM2_CONF=$ZG_TMP/hsm/softhsm2.conf
$(grep -m 1 '^    softhsm2-util --init-token' "$TOPO_DOC" | sed 's/^ *//') >/dev/null ||
	zg_bail "cannot initialise the SoftHSM token with the page's command"
echo "== generating zone example. with $n delegations"
mkdir -p "$S/lib/ingest"
zg_genzone example. "$n" >"$S/lib/example.zone"

# What scripts/demo-ctl.sh needs, and the command that calls it.
{
	declare -p ZG_SRCDIR ZG_BUILDDIR ZG_MODULE_LIBDIR SOFTHSM2_CONF TOPO_ADDR TOPO_PORT TOPO_DIR | sed 's/^declare -[-aAx]* //'
	[ -n "${ZG_MODULES_INSTALLED:-}" ] && echo "ZG_MODULES_INSTALLED=$ZG_MODULES_INSTALLED"
	echo "export SOFTHSM2_CONF"
	echo "DEMO_PID=$$"
} >"$ZG_TMP/demo.env"
echo $$ >"$ZG_TMP/demo.pid"
ctl=$ZG_TMP/zg-demo
printf '#!/bin/sh\nexec bash "%s/scripts/demo-ctl.sh" "%s" "$@"\n' "$ZG_SRCDIR" "$ZG_TMP" >"$ctl"
chmod 755 "$ctl"

t0=$SECONDS
echo "== starting the signer (127.0.0.1@${TOPO_PORT[1]}, config $S/knot.conf, log $S/knotd.log)"
zg_knotd_start "$S" || zg_bail "the signer did not start"
zg_wait 300 zg_zone_signed "$S" example. || zg_bail "zone not signed within 300 s"
echo "== signed in $((SECONDS - t0)) s; keys in the token:"
pkcs11-tool --module "$ZG_SOFTHSM_LIB" --token-label zonegate --login --pin 1234 \
	--list-objects --type privkey 2>/dev/null | grep -E 'Private Key|ID:' | sed 's/^/   /'
echo "== starting the hidden primary (127.0.0.2@${TOPO_PORT[2]}, log $D/knotd.log)"
zg_knotd_start "$D" || zg_bail "the hidden primary did not start"
echo "== starting the public secondary (127.0.0.3@${TOPO_PORT[3]}, log $C/knotd.log)"
zg_knotd_start "$C" || zg_bail "the public secondary did not start"
same_serial() { local a b; a=$(serial_at 1); b=$(serial_at 3); [ -n "$a" ] && [ "$a" = "$b" ]; }
zg_wait 300 same_serial || zg_bail "the secondary does not serve the signer's serial within 300 s"
echo "== the public secondary serves serial $(serial_at 3), validated by the hidden primary ($((SECONDS - t0)) s)"
"$ctl" status

P3=${TOPO_PORT[3]}
cat <<MSG

zonegate demo pipeline: signer 127.0.0.1@${TOPO_PORT[1]} -> hidden primary 127.0.0.2@${TOPO_PORT[2]} -> public secondary 127.0.0.3@$P3, zone example.
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

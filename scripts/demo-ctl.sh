#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The commands of a running demo pipeline (scripts/demo-run.sh writes
# DEMO/zg-demo, which calls this with its directory):
#   zg-demo status          the pipeline at a glance
#   zg-demo message [NAME]  a registry message adding NAME.example. (NS and
#                           DS) dropped into the signer's spool; waits until
#                           the public secondary serves it signed
#   zg-demo corrupt         publishes a corrupted serial upstream: the signer
#                           is replaced on its address by a knotd serving its
#                           zone with a higher serial and one broken DS RRSIG;
#                           waits until the hidden primary judged it
#   zg-demo recover         the signer comes back and signs a newer serial (a
#                           message); waits until the secondary serves it
#   zg-demo stop            stops the demo (every knotd by its pid)
# Every wait is bounded; a non-zero exit says what did not happen.
set -u
[ $# -ge 2 ] && [ -f "$1/demo.env" ] || {
	echo "usage: $0 DEMO-DIR status|message [NAME]|corrupt|recover|stop" >&2
	exit 2
}
DEMO=$1 cmd=$2
shift 2
declare -a TOPO_ADDR TOPO_PORT TOPO_DIR
. "$DEMO/demo.env"
# lib.sh without zg_init: the demo's directory and its cleanup belong to
# demo-run.sh; knotd started here is recorded in DEMO/.pids for it.
. "$ZG_SRCDIR/tests/func/lib.sh"
ZG_TMP=$DEMO
S=${TOPO_DIR[1]} D=${TOPO_DIR[2]}
U=$DEMO/upstream   # the knotd serving the corrupted serial
ZONE=example.

# serial_at N: the serial host N serves (empty if none).
serial_at() {
	kdig @"${TOPO_ADDR[$1]}" -p "${TOPO_PORT[$1]}" "$ZONE" SOA +short +time=2 +retry=0 2>/dev/null |
		awk '{print $3}'
}

say() { printf '%s\n' "$*"; }
die() { printf 'zg-demo: %s\n' "$*" >&2; exit 1; }

# vstat NAME: mod-validate's counter NAME at the hidden primary.
vstat() {
	zg_knotc "$D" zone-stats "$ZONE" mod-validate 2>/dev/null |
		awk -v n="mod-validate.$1" '$0 ~ n { print $NF; exit }'
}

# verdict: the hidden primary's last verdict line (and, for a failed
# serial, its first problems), from its log.
verdict() {
	local line serial
	line=$(grep -E "mod-validate.*, serial [0-9]+, (validated|validation failed|validation aborted)" \
		"$D/knotd.log" 2>/dev/null | tail -n 1)
	[ -n "$line" ] || { say "  no verdict yet"; return 0; }
	say "  $(printf '%s\n' "$line" | sed 's/.*mod-validate[^,]*, //')"
	case $line in
	*"validation failed"* | *"validation aborted"*)
		serial=$(printf '%s\n' "$line" | sed -E 's/.*, serial ([0-9]+), .*/\1/')
		grep -E "mod-validate.*, serial $serial, " "$D/knotd.log" |
			grep -vE ", serial $serial, (validated|validation failed|validation aborted)" |
			head -n 3 | sed 's/.*mod-validate[^,]*, serial [0-9]*, /    /'
		;;
	esac
}

# zg_status_bin: the zg-status to run (ZG_STATUS, else the build tree's,
# else the installed one); empty when there is none.
zg_status_bin() {
	if [ -n "${ZG_STATUS:-}" ]; then
		echo "$ZG_STATUS"
	elif [ -x "$ZG_BUILDDIR/tools/zg-status" ]; then
		echo "$ZG_BUILDDIR/tools/zg-status"
	else
		command -v zg-status 2>/dev/null
	fi
}

# status_servers: what the servers expose, read directly (spool
# directories, knotc zone-status and zone-stats, SOA queries): the status
# without zg-status.
status_servers() {
	local spool=$S/lib/ingest n
	say "queue (spool $spool):"
	for n in incoming done failed; do
		printf '  %-9s %s messages\n' "$n" "$(find "$spool/$n" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l)"
	done
	say "signer ${TOPO_ADDR[1]}@${TOPO_PORT[1]}: serial $(serial_at 1)"
	if [ -f "$U/knotd.pid" ]; then
		say "  REPLACED by the corrupted upstream (zg-demo recover)"
	else
		zg_knotc "$S" zone-status "$ZONE" 2>&1 | sed 's/^/  /'
		zg_knotc "$S" zone-stats "$ZONE" mod-ingest 2>/dev/null | grep -v ' 0$' | sed 's/^/  /'
	fi
	say "hidden primary ${TOPO_ADDR[2]}@${TOPO_PORT[2]} (mod-validate): serial $(serial_at 2)"
	zg_knotc "$D" zone-status "$ZONE" 2>&1 | sed 's/^/  /'
	for n in last-validated-serial serials-validated serials-failed transfers-refused earliest-expiry-seconds; do
		printf '  %-24s %s\n' "$n" "$(vstat "$n")"
	done
	say "public secondary ${TOPO_ADDR[3]}@${TOPO_PORT[3]}: serial $(serial_at 3) (SOA query)"
}

# ZG-STATUS CALL SITE: the pipeline's status is zg-status's (tools/zg-status,
# issue 18) when there is one; without it, status_servers prints what the
# servers expose. Either way the hidden primary's last verdict with its
# reasons (its log) and the alarm's last call follow.
status() {
	local zgs sock=$S/run/knot.sock
	say "== pipeline status, zone $ZONE"
	zgs=$(zg_status_bin)
	if [ -n "$zgs" ]; then
		# While the corrupted upstream replaces the signer, it is the signer.
		[ -f "$U/knotd.pid" ] && sock=$U/run/knot.sock
		"$zgs" --queue "spool:$S/lib/ingest" --signer-ctl "$sock" --gate-ctl "$D/run/knot.sock" \
			--secondary "${TOPO_ADDR[3]}@${TOPO_PORT[3]}" "$ZONE"
		[ $? -le 3 ] || say "zg-status failed"
		[ -f "$U/knotd.pid" ] && say "(the signer is replaced by the corrupted upstream: zg-demo recover)"
	else
		status_servers
	fi
	say "last verdict of the hidden primary (its log):"
	verdict
	if [ -s "$DEMO/alarm.log" ]; then
		say "alarm ($DEMO/alarm.log), last call:"
		tail -n 1 "$DEMO/alarm.log" | sed 's/^/  /'
	else
		say "alarm: never called"
	fi
}

# drop NAME: a registry message adding NAME.example. into the signer's spool
# (written as .tmp, renamed into incoming/: the spool's protocol).
drop() {
	local name=$1 id spool=$S/lib/ingest
	id=demo-$(date -u +%Y%m%dT%H%M%SZ)-$name
	printf '{"version": 1, "id": "%s", "zone": "%s", "changes": [{"owner": "%s.%s", "rrsets": [%s, %s]}]}\n' \
		"$id" "$ZONE" "$name" "$ZONE" \
		'{"type": "NS", "ttl": 86400, "rdata": ["ns1.provider.test.", "ns2.provider.test."]}' \
		'{"type": "DS", "ttl": 3600, "rdata": ["12345 13 2 3A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6071829"]}' \
		>"$spool/$id.json.tmp" || die "cannot write into $spool"
	mv "$spool/$id.json.tmp" "$spool/incoming/$id.json" || die "cannot move the message into $spool/incoming"
	say "message $id dropped into $spool/incoming"
}

# served_signed NAME: the secondary answers NAME.example. DS with its RRSIG.
served_signed() {
	kdig @"${TOPO_ADDR[3]}" -p "${TOPO_PORT[3]}" "$1.$ZONE" DS +dnssec +norec +time=2 +retry=0 2>/dev/null |
		grep -Eq "IN[[:space:]]+RRSIG[[:space:]]+DS "
}

# wait_served NAME SECONDS: until the secondary serves NAME signed.
wait_served() {
	zg_wait "$2" served_signed "$1" ||
		die "the secondary does not serve $1.$ZONE signed after $2 s (zg-demo status)"
	say "the public secondary serves $1.$ZONE at serial $(serial_at 3), signed:"
	kdig @"${TOPO_ADDR[3]}" -p "${TOPO_PORT[3]}" "$1.$ZONE" DS +dnssec +norec +short 2>/dev/null | sed 's/^/  /'
}

message() {
	local name=${1:-newdomain}
	case $name in
	*[!a-z0-9-]* | "") die "NAME: letters, digits and hyphens only" ;;
	esac
	[ -f "$U/knotd.pid" ] && die "the signer is replaced by the corrupted upstream: zg-demo recover first"
	drop "$name"
	wait_served "$name" 120
}

# signer_secret: the TSIG secret of signer-key (the ingest acl's key).
signer_secret() {
	awk '/- id: signer-key/ { f = 1 } f && /secret:/ { print $2; exit }' "$S/knot.conf"
}

# upstream_conf: the signer's configuration for a knotd that serves a
# pre-signed zone file as it is (same address, keys and acls; no signing, no
# module, no journal), in U.
upstream_conf() {
	mkdir -p "$U/lib" "$U/run"
	sed -e "s|$S/|$U/|g" \
		-e 's/^\(    dnssec-signing: \)on$/\1off/' \
		-e '/^    dnssec-policy: /d' \
		-e '/^    serial-policy: /d' \
		-e '/^    module: mod-ingest\/registry$/d' \
		-e 's/^    zonefile-sync: -1$/    zonefile-load: whole/' \
		-e 's/^    journal-content: all$/    journal-content: none/' \
		"$S/knot.conf" >"$U/knot.conf"
}

corrupt() {
	local s1 sbad failed0 owner
	[ -f "$U/knotd.pid" ] && die "a corrupted serial is already published: zg-demo recover first"
	s1=$(serial_at 1)
	[ -n "$s1" ] || die "the signer does not answer"
	failed0=$(vstat serials-failed)
	kdig @"${TOPO_ADDR[1]}" -p "${TOPO_PORT[1]}" -y "hmac-sha256:signer-key:$(signer_secret)" "$ZONE" AXFR \
		+nocomments +nostats +noheader +time=10 2>/dev/null |
		awk '!/^;/ && NF && $4 != "TSIG" && !seen[$0]++' >"$DEMO/signed.zone"
	grep -q ' SOA ' "$DEMO/signed.zone" || die "cannot transfer the zone from the signer"
	sbad=$((s1 + 1))
	# A higher serial (the SOA's RRSIG no longer matches either) and one DS
	# RRSIG with a flipped signature byte.
	mkdir -p "$U/lib"
	owner=$(awk -v s="$sbad" -v out="$U/lib/example.zone" '
		$4 == "SOA" && !soa { $7 = s; soa = 1 }
		$4 == "RRSIG" && $5 == "DS" && !bad {
			sig = $NF; c = substr(sig, 1, 1); $NF = (c == "A" ? "B" : "A") substr(sig, 2)
			bad = 1; owner = $1
		}
		{ print > out }
		END { print owner }' "$DEMO/signed.zone")
	[ -n "$owner" ] || die "the zone has no signed DS to corrupt"
	echo "$sbad" >"$DEMO/bad.serial"
	say "serial $sbad: the signer's zone (serial $s1) with the RRSIG of $owner DS broken"
	upstream_conf
	say "stopping the signer (pid $(cat "$S/knotd.pid")), starting the corrupted upstream on its address"
	zg_knotd_stop "$S" || say "the signer had to be killed"
	rm -f "$S/knotd.pid"
	zg_knotd_start "$U" 2>&1 || die "the corrupted upstream did not start (log $U/knotd.log)"
	zg_wait 30 eval '[ "$(serial_at 1)" = "$sbad" ]' || die "the upstream does not serve serial $sbad"
	say "upstream serves serial $sbad; the hidden primary transfers it and validates it ..."
	zg_wait 120 eval '[ "$(vstat serials-failed)" -gt "${failed0:-0}" ]' ||
		die "mod-validate did not fail serial $sbad within 120 s (zg-demo status)"
	zg_wait 30 grep -q " $sbad " "$DEMO/alarm.log" || die "the alarm did not run for serial $sbad"
	say "the gate holds: serial $sbad failed validation, the alarm ran, the secondary keeps serial $(serial_at 3)"
	status
}

recover() {
	local sbad name
	sbad=$(cat "$DEMO/bad.serial" 2>/dev/null)
	if [ -f "$U/knotd.pid" ]; then
		say "stopping the corrupted upstream (pid $(cat "$U/knotd.pid"))"
		zg_knotd_stop "$U" || say "the corrupted upstream had to be killed"
		rm -f "$U/knotd.pid"
	fi
	if [ ! -f "$S/knotd.pid" ]; then
		say "starting the signer again"
		zg_knotd_start "$S" 2>&1 || die "the signer did not start (log $S/knotd.log)"
	fi
	zg_wait 60 eval '[ -n "$(serial_at 1)" ]' || die "the signer does not serve the zone"
	# unixtime serials: the next one must be above the corrupted one.
	[ -n "$sbad" ] && { zg_wait 10 eval '[ "$(date +%s)" -gt "$sbad" ]' || die "the clock is behind serial $sbad"; }
	name=rollforward-$(date +%s)
	drop "$name"
	wait_served "$name" 180
	[ "$(vstat last-validated-serial)" = "$(serial_at 3)" ] ||
		die "the secondary's serial $(serial_at 3) is not the last validated one ($(vstat last-validated-serial))"
	say "rolled forward: the hidden primary validated serial $(serial_at 3), the secondary serves it"
}

stop() {
	local pid
	pid=$(cat "$DEMO/demo.pid" 2>/dev/null) || die "no demo.pid in $DEMO"
	zg_alive "$pid" || die "the demo (pid $pid) is not running"
	kill -TERM "$pid"
	say "waiting for the demo (pid $pid) to stop"
	zg_wait 120 eval '! zg_alive "$pid"' || die "the demo (pid $pid) is still running after 120 s"
	say "demo stopped"
}

case $cmd in
status) status ;;
message) message "$@" ;;
corrupt) corrupt ;;
recover) recover ;;
stop) stop ;;
*) echo "usage: zg-demo status|message [NAME]|corrupt|recover|stop" >&2; exit 2 ;;
esac

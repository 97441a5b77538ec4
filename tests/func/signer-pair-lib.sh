# SPDX-License-Identifier: GPL-3.0-or-later
# A redundant signer pair on loopback (doc/redundant-signers.md), for
# tests/func/signer-pair.sh (source after lib.sh and ingest-lib.sh):
# PostgreSQL (queue + lease), ONE SoftHSM token, signer knotds a and b each
# with its zg-signer controller running tools/zg-signer-knot as active and
# standby command (zg-ingest as the active's queue consumer), the hidden
# primary p (mod-validate) following both signers, the public secondary s.
# A monitor records the serials each knotd serves; sp_check checks the five
# properties of issue 17 over the records.
#
# After sp_setup: SP_DIR[a|b|p|s], SP_PORT[...], SP_EV (role events: TIME
# NAME active|standby|dead TOKEN), SP_MON (TIME HOST SERIAL), SP_LEASE.

SP_LEASE=${SP_LEASE:-15}
SP_DNSKEY_TTL=${SP_DNSKEY_TTL:-25}
# bound (s) of the setup's waits: bootstrap signing, first transfer (bench/failover.sh raises it for big zones)
SP_WAIT=${SP_WAIT:-60}
# bound (s) of each wait in the hooks (zg-signer-knot -t); the controller
# gives the active command twice that (bench/failover.sh raises it for big zones)
SP_HOOK_T=${SP_HOOK_T:-30}
# the key-state watcher's period (zg-signer-knot -w, s): a key event on the
# active reaches the shared key state within it
SP_STATE_INTERVAL=${SP_STATE_INTERVAL:-2}
# SP_TAKEOVER: bound (s) from the death of the active (or the start of the
# controllers) to the new active signing, from the configured limits: the
# lease expires (at most SP_LEASE after the active's last renewal), the
# standby's next tick (SP_LEASE/6), its active command (killed by the
# controller after 2 * SP_HOOK_T), and 10 s for a loaded host.
SP_TAKEOVER=$((SP_LEASE + SP_LEASE / 6 + 1 + 2 * SP_HOOK_T + 10))
: "${ZG_VERIFY:=$ZG_BUILDDIR/tools/zg-verify}"
SP_SIGNER=$ZG_BUILDDIR/tools/zg-signer
SP_KNOT=$ZG_SRCDIR/tools/zg-signer-knot
SP_CHECK=$ZG_SRCDIR/tests/func/signer-pair-check.py
declare -A SP_DIR SP_PORT SP_CTL
# Signer b and the hidden primary have their own addresses, as separate
# hosts would: Knot 3.4+ matches a NOTIFY to a master by address alone and
# refreshes from that master. With both signers on one address the hidden
# primary refreshed from the standby (behind) when the active notified; with
# signer a and the hidden primary on one address a standby b took a's NOTIFY
# for the hidden primary's, asked the hidden primary (which serves a serial
# only once it has validated it: "up-to-date") and stayed behind a until the
# next NOTIFY (doc/redundant-signers.md, "Downstream fencing").
declare -A SP_ADDR=([a]=127.0.0.1 [b]=127.0.0.2 [p]=127.0.0.3 [s]=127.0.0.1)

sp_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }

# sp_signer_conf NAME PEER: knot.conf of signer NAME in its standby state
# (signing off, following PEER then the hidden primary; the commands turn it
# around with conf transactions). SP_BOOT=1: the first signer's bootstrap
# (signing on, the zone file loaded, no master).
sp_signer_conf() {
	local n=$1 peer=$2 dir=${SP_DIR[$1]}
	zg_knot_conf_bare "$dir" "${SP_PORT[$n]}" |
		sed "s/listen: 127\.0\.0\.1@${SP_PORT[$n]}\$/listen: ${SP_ADDR[$n]}@${SP_PORT[$n]}/"
	# key timing short enough for a ZSK rollover within the test (case 6):
	# the new ZSK signs SP_DNSKEY_TTL + 2 s after it is published, and the
	# old one goes 12 s later
	zg_signer_conf zonegate 1234 nsec3 | sed "s/^    zsk-lifetime: 0\$/&\n    propagation-delay: 2\n    dnskey-ttl: $SP_DNSKEY_TTL\n    zone-max-ttl: 10/"
	zg_conf_key ingest "$SP_SECRET"
	zg_conf_remotes "$peer" "${SP_ADDR[$peer]}@${SP_PORT[$peer]} via:${SP_ADDR[$n]}" \
		primary "${SP_ADDR[p]}@${SP_PORT[p]} via:${SP_ADDR[$n]}"
	zg_conf_acls ingest "127.0.0.0/8 key:ingest" "[update, transfer]" \
		local 127.0.0.0/8 "[transfer, notify]"
	cat <<CONF
zone:
  - domain: test
    storage: "$dir/zones"
    dnssec-policy: hsm
    zonefile-sync: -1
    journal-content: all
    notify: [primary, $peer]
    acl: [ingest, local]
CONF
	if [ "${SP_BOOT:-0}" = 1 ]; then
		printf '    dnssec-signing: on\n    zonefile-load: whole\n'
	else
		printf '    dnssec-signing: off\n    zonefile-load: none\n    master: [%s, primary]\n' "$peer"
	fi
}

# sp_knotd_start DIR: zg_knotd_start, then up to SP_WAIT s more for the
# control socket of the running knotd (Knot 3.2 may answer it only once a big
# zone is loaded and signed).
sp_knotd_start() {
	rm -f "$1/knotd.pid"
	zg_knotd_start "$1" && return 0
	[ -s "$1/knotd.pid" ] && zg_alive "$(cat "$1/knotd.pid")" && zg_wait "$SP_WAIT" zg_knotc "$1" status
}

# sp_setup ZONE_RECORDS: everything up to two knotds serving the signed zone,
# the primary and the secondary following; controllers not started.
sp_setup() {
	command -v softhsm2-util >/dev/null || zg_skip_all "softhsm2-util not installed"
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || zg_skip_all "postgresql server not installed"
	zg_pg_start "$ZG_TMP/pg" || zg_bail "PostgreSQL"
	zg_softhsm_init "$ZG_TMP/hsm" zonegate 1234 || zg_bail "SoftHSM token"
	local h
	for h in a b p s; do
		SP_DIR[$h]=$ZG_TMP/$h
		SP_PORT[$h]=$(zg_free_port)
		mkdir -p "${SP_DIR[$h]}/zones"
	done
	SP_SECRET=$(head -c 32 /dev/urandom | base64)
	SP_VKEY=$(head -c 32 /dev/urandom | base64)
	SP_KEYS=$ZG_TMP/kasp
	SP_EV=$ZG_TMP/events SP_MON=$ZG_TMP/monitor
	mkdir -p "$SP_KEYS" "$ZG_TMP/sec"
	# the key-state watchers run in their own sessions: stopped by pid
	zg_on_exit "for f in $ZG_TMP/a/keystate.pid $ZG_TMP/b/keystate.pid; do [ -s \$f ] && kill \$(cat \$f) 2>/dev/null; done; true"
	: >"$SP_EV"; : >"$SP_MON"
	# bootstrap: a signs the zone once, writes its key state, stops.
	zg_genzone test. "${1:-50}" >"${SP_DIR[a]}/zones/test.zone"
	cp "${SP_DIR[a]}/zones/test.zone" "$ZG_TMP/unsigned.zone"
	SP_BOOT=1 sp_signer_conf a b >"${SP_DIR[a]}/knot.conf"
	sp_knotd_start "${SP_DIR[a]}" || zg_bail "signer a (bootstrap)"
	zg_wait "$SP_WAIT" zg_zone_signed "${SP_DIR[a]}" test. || zg_bail "bootstrap signing"
	"$SP_KNOT" -c "${SP_DIR[a]}/knot.conf" -z test. -b "$SP_KEYS" backup 2>>"$ZG_TMP/hooks.log" ||
		zg_bail "bootstrap key-state backup"
	zg_knotd_stop "${SP_DIR[a]}"
	rm -f "${SP_DIR[a]}/zones/test.zone"
	sp_signer_conf a b >"${SP_DIR[a]}/knot.conf"
	sp_signer_conf b a >"${SP_DIR[b]}/knot.conf"
	{
		vconf "${SP_DIR[p]}" "${SP_PORT[p]}" |
			sed "s/listen: 127\.0\.0\.1@${SP_PORT[p]}\$/listen: ${SP_ADDR[p]}@${SP_PORT[p]}/"
		zg_conf_key validator "$SP_VKEY"
		zg_conf_remotes a "${SP_ADDR[a]}@${SP_PORT[a]} via:${SP_ADDR[p]}" \
			b "${SP_ADDR[b]}@${SP_PORT[b]} via:${SP_ADDR[p]}" \
			s "${SP_ADDR[s]}@${SP_PORT[s]} via:${SP_ADDR[p]}"
		# xfr-out: the secondary and both signers (b on its own address): a new
		# active catches up from the hidden primary when its dead peer has
		# nothing to give
		zg_conf_acls notify-in 127.0.0.0/8 notify xfr-validator key:validator transfer \
			xfr-out "127.0.0.1 ${SP_ADDR[b]}" transfer
		cat <<CONF
mod-validate:
  - id: gate
    key: validator
    poll-interval: 2s
    horizon: 1d

zone:
  - domain: test
    storage: "${SP_DIR[p]}/zones"
    master: [a, b]
    notify: s
    acl: [notify-in, xfr-validator, xfr-out]
    module: mod-validate/gate
CONF
	} >"${SP_DIR[p]}/knot.conf"
	{
		zg_knot_conf_bare "${SP_DIR[s]}" "${SP_PORT[s]}"
		zg_conf_remotes p "${SP_ADDR[p]}@${SP_PORT[p]} via:${SP_ADDR[s]}"
		zg_conf_acls notify-in "${SP_ADDR[p]} 127.0.0.1" "[notify, transfer]"
		cat <<CONF
zone:
  - domain: test
    storage: "${SP_DIR[s]}/zones"
    master: p
    acl: notify-in
CONF
	} >"${SP_DIR[s]}/knot.conf"
	for h in a b p s; do
		sp_knotd_start "${SP_DIR[$h]}" || zg_bail "knotd $h"
	done
	zg_wait "$SP_WAIT" has_serial "${SP_PORT[s]}" || zg_bail "the secondary got no serial"
}

# sp_hook NAME ROLE: the controller's command for ROLE at signer NAME; the
# event is recorded before an active command and after a standby command
# (so that the recorded active intervals cover all signing).
sp_hook() {
	local n=$1 peer
	peer=$([ "$1" = a ] && echo b || echo a)
	local knot="$SP_KNOT -c ${SP_DIR[$n]}/knot.conf -t $SP_HOOK_T -m '$peer primary' -p ${SP_ADDR[p]}@${SP_PORT[p]} -b $SP_KEYS -d \"$ZG_PG_URI\""
	knot="$knot -w $SP_STATE_INTERVAL -W ${SP_DIR[$n]}/keystate.pid"
	knot="$knot -P ${SP_DIR[$n]}/ingest.pid -L ${SP_DIR[$n]}/ingest.log"
	knot="$knot -i '$ZG_INGEST run --consumer $n --source \"$ZG_PG_URI\" -z test. -s ${SP_ADDR[$n]}@${SP_PORT[$n]} -y hmac-sha256:ingest:$SP_SECRET --lease $SP_LEASE --interval 0.2'"
	local rec="echo \"\$(date +%s.%N) $n $2 \$ZG_SIGNER_TOKEN\" >>$SP_EV"
	if [ "$2" = active ]; then
		echo "$rec; $knot active 2>>$ZG_TMP/hooks.log"
	else
		echo "$knot standby 2>>$ZG_TMP/hooks.log; rc=\$?; $rec; exit \$rc"
	fi
}

# sp_ctl_start NAME: its controller (pid in SP_CTL[NAME]).
sp_ctl_start() {
	"$SP_SIGNER" -d "$ZG_PG_URI" -z test. -n "$1" -l "$SP_LEASE" --timeout $((SP_HOOK_T * 2)) --state "$ZG_TMP/state.$1" \
		--on-active "$(sp_hook "$1" active)" --on-standby "$(sp_hook "$1" standby)" run \
		2>>"$ZG_TMP/ctl.$1.log" &
	SP_CTL[$1]=$!
	zg_track_pid "$!"
}
sp_role() { sed -n 's/.*"role": "\([a-z]*\)".*/\1/p' "$ZG_TMP/state.$1" 2>/dev/null; }
sp_token() { sed -n 's/.*"token": \([0-9]*\).*/\1/p' "$ZG_TMP/state.$1" 2>/dev/null; }
# sp_active: the one signer whose controller runs and is active and whose knotd signs.
sp_active() {
	local n=0 who= h
	for h in a b; do
		zg_alive "${SP_CTL[$h]:-0}" && [ "$(sp_role $h)" = active ] && { n=$((n + 1)); who=$h; }
	done
	[ "$n" -eq 1 ] && zg_knotc "${SP_DIR[$who]}" conf-read 'zone[test.].dnssec-signing' 2>/dev/null | grep -q on &&
		echo "$who"
}

# sp_monitor_start: records every change of the serial served by a, b and s
# (bounded: stops when $ZG_TMP/monitor.stop exists or after 900 s); each new
# serial of s is kept as $ZG_TMP/sec/SERIAL.zone for zg-verify.
sp_monitor_start() {
	(
		declare -A last
		local end=$((SECONDS + 900)) h s
		while [ ! -e "$ZG_TMP/monitor.stop" ] && [ $SECONDS -lt $end ]; do
			for h in a b s; do
				s=$(serial_of "${SP_PORT[$h]}" "${SP_ADDR[$h]}")
				[ -n "$s" ] && [ "$s" != "${last[$h]:-}" ] || continue
				last[$h]=$s
				echo "$(date +%s.%N) $h $s" >>"$SP_MON"
				[ "$h" = s ] && zg_axfr 127.0.0.1 "${SP_PORT[s]}" test. >"$ZG_TMP/sec/$s.zone"
			done
			sleep 0.2
		done
	) &
	SP_MONPID=$!
	zg_track_pid "$!"
}
sp_monitor_stop() { touch "$ZG_TMP/monitor.stop"; zg_wait 10 eval "! zg_alive $SP_MONPID"; }

# sp_enqueue ID: one message: owner ID.test. gets A 192.0.2.N and TXT "ID".
SP_N=0
sp_enqueue() {
	SP_N=$((SP_N + 1))
	local m="[{\"owner\":\"$1.test.\",\"rrsets\":[{\"type\":\"A\",\"ttl\":300,\"rdata\":[\"192.0.2.$((SP_N % 250 + 1))\"]},{\"type\":\"TXT\",\"ttl\":300,\"rdata\":[\"\\\"$1\\\"\"]}]}]"
	sp_q "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', \$\$$(ingest_msg "$1" "$m")\$\$)" >/dev/null &&
		printf '%s.test. 300 IN A 192.0.2.%s\n%s.test. 300 IN TXT "%s"\n' "$1" $((SP_N % 250 + 1)) "$1" "$1" >>"$ZG_TMP/expected.add"
}
sp_pending() { sp_q "SELECT count(*) FROM zonegate_queue WHERE zone = 'test.' AND state = 'pending'"; }
sp_drained() { [ "$(sp_pending)" = 0 ]; }

# sp_content FILE: the zone without DNSSEC records and SOA, normalised.
sp_content() {
	awk '$4 !~ /^(RRSIG|NSEC|NSEC3|NSEC3PARAM|DNSKEY|CDS|CDNSKEY|SOA)$/ && NF >= 5 {
		$1 = tolower($1); $3 = ""; r = $0; gsub(/[ \t]+/, " ", r); print r }' "$1" | sort -u
}

# sp_check LABEL: the five properties over the records so far.
sp_check() {
	local l=$1
	# 1. at most one signer active, and every new serial a signer served
	#    came while its controller was active (signers sign nothing else).
	ok "$l: at most one signer active at any moment" "$PYTHON3" "$ZG_SRCDIR/tests/func/signer-roles.py" "$SP_EV"
	local out
	# (the bootstrap's serial, in base.zone, was signed before any controller)
	out=$("$PYTHON3" "$SP_CHECK" serials "$SP_EV" "$SP_MON" "$(awk '$4 == "SOA" { print $7; exit }' "$ZG_TMP/base.zone")")
	is "$out" "" "$l: every new serial came from the active signer"
	# 2. exactly once
	is "$(sp_q "SELECT count(*) FROM zonegate_queue WHERE zone = 'test.' AND state <> 'applied'")" 0 \
		"$l: every queued row applied"
	is "$(sp_q "SELECT count(*) - count(DISTINCT message->>'id') FROM zonegate_queue WHERE zone = 'test.'")" 0 \
		"$l: one row per message id"
	is "$("$PYTHON3" "$SP_CHECK" once "$ZG_TMP/hooks.log" "${SP_DIR[a]}/ingest.log" "${SP_DIR[b]}/ingest.log")" "" \
		"$l: no message applied twice (requeues of never-published serials aside)"
	# 3. the final zone
	local last
	last=$(serial_of "${SP_PORT[s]}")
	zg_axfr 127.0.0.1 "${SP_PORT[s]}" test. >"$ZG_TMP/final.zone"
	sort -u "$ZG_TMP/expected.add" >"$ZG_TMP/expected.sorted"
	{ sp_content "$ZG_TMP/base.zone"; sp_content "$ZG_TMP/expected.sorted"; } | sort -u >"$ZG_TMP/expected.zone"
	sp_content "$ZG_TMP/final.zone" >"$ZG_TMP/final.content"
	ok "$l: the final zone (serial $last) equals the expected zone" cmp -s "$ZG_TMP/expected.zone" "$ZG_TMP/final.content"
	# 4. every serial the secondary got validates, serials only grew
	local f bad=
	for f in "$ZG_TMP"/sec/*.zone; do
		[ -e "$f.ok" ] && continue
		if [ -s "$f" ] && "$ZG_VERIFY" -o test. "$f" >/dev/null 2>&1; then touch "$f.ok"; else bad="$bad ${f##*/}"; fi
	done
	is "$bad" "" "$l: every serial the secondary received validates (zg-verify)"
	is "$(awk '$2 == "s" { if (n++ && ($3 - p + 4294967296) % 4294967296 >= 2147483648) print $3; p = $3 }' "$SP_MON")" "" \
		"$l: the secondary's serials only grew"
	# 5. DNSKEY RRset unchanged
	is "$(awk '$4 == "DNSKEY"' "$ZG_TMP/final.zone" | sp_content_keys)" "$SP_DNSKEY" "$l: the DNSKEY RRset did not change"
}
sp_content_keys() { awk '{ $1 = tolower($1); $2 = ""; print }' | sort; }
# sp_keys_at NAME: the DNSKEY RRset knotd NAME serves (sp_content_keys form).
sp_keys_at() { zg_axfr "${SP_ADDR[$1]}" "${SP_PORT[$1]}" test. | awk '$4 == "DNSKEY"' | sp_content_keys; }

# sp_diag_takeover NAME: what the hooks, NAME's controller and NAME's knotd
# said, for a takeover that did not finish.
sp_diag_takeover() {
	zg_diag "hooks.log: $(tail -30 "$ZG_TMP/hooks.log")"
	zg_diag "ctl.$1.log: $(tail -15 "$ZG_TMP/ctl.$1.log")"
	zg_diag "knotd $1 (transfers, errors): $(grep -i -e refresh -e xfr -e error -e warning "${SP_DIR[$1]}/knotd.log" 2>/dev/null | tail -20)"
	# the shared SoftHSM token (a kill -9 during its rewrite at a login is
	# the suspected cause of "PKCS #11 token not available": sizes, times,
	# and whether a fresh process can still open it)
	zg_diag "SoftHSM token files: $(ls -la --time-style=+%T.%N "$ZG_TMP"/hsm/tokens/*/ 2>&1 | tail -12)"
	zg_diag "softhsm2-util --show-slots: $(timeout 20 softhsm2-util --show-slots 2>&1 | grep -E 'Slot|Label|initialized|ERROR' | head -8)"
}

# sp_kill NAME: kill -9 of signer NAME's knotd, controller and queue
# consumer, recorded as an event.
sp_kill() {
	local kpid ipid wpid
	kpid=$(cat "${SP_DIR[$1]}/knotd.pid") ipid=$(cat "${SP_DIR[$1]}/ingest.pid" 2>/dev/null)
	wpid=$(cat "${SP_DIR[$1]}/keystate.pid" 2>/dev/null)
	kill -KILL "$kpid" "${SP_CTL[$1]}" $ipid $wpid
	echo "$(date +%s.%N) $1 dead" >>"$SP_EV"
}

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Prometheus side of zonegate (doc/status.md):
#  1. contrib/prometheus/zonegate-rules.yml passes `promtool check rules` and
#     `promtool test rules` on the synthetic series of zonegate-rules.test.yml
#     (skipped, with the reason, without promtool: Debian's prometheus package);
#  2. knot-exporter (Debian 13 and later; skipped, with the reason, where it is
#     not installed; ZG_KNOT_EXPORTER may name another command) scrapes real
#     knotd with the zonegate modules loaded: a signer S (mod-ingest on
#     PostgreSQL, mod-dsync child mode whose parent never confirms, mod-keys),
#     a gate G (mod-validate) following S, and a gate G2 following F, an
#     upstream serving a corrupted serial. Every zonegate counter that
#     `knotc -f zone-stats` shows non-zero comes out as
#     knot_zone_stats_<counter>{zone, module} (or, from Knot 3.4's exporter,
#     knot_<counter>{zone, section}, which the rules map) with its value; the names are
#     unique per module; every metric the rules and contrib/grafana/zonegate.json
#     name is one the scrapes (or zg-status --format prometheus, with --keystate
#     from a real key-state watcher on the signer) exported.
. "$ZG_SRCDIR/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/func/ingest-lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

RULES=$ZG_SRCDIR/contrib/prometheus/zonegate-rules.yml
DASH=$ZG_SRCDIR/contrib/grafana/zonegate.json
skip() { pass "$1 # SKIP $2"; }

# --- 1. promtool.
if command -v promtool >/dev/null; then
	ok "promtool check rules" promtool check rules "$RULES"
	ok "promtool test rules on synthetic series" \
		bash -c "cd '$ZG_SRCDIR/contrib/prometheus' && promtool test rules zonegate-rules.test.yml"
	# The unit tests cover every alert of the rules.
	for a in $(sed -n 's/^ *- alert: //p' "$RULES"); do
		like "$(cat "$ZG_SRCDIR/contrib/prometheus/zonegate-rules.test.yml")" "alertname: $a\$" \
			"the rule tests cover $a"
	done
else
	skip "promtool check rules" "promtool not installed (apt-get install prometheus)"
	skip "promtool test rules" "promtool not installed (apt-get install prometheus)"
fi
ok "the dashboard is JSON" "$PYTHON3" -c 'import json, sys; json.load(open(sys.argv[1]))' "$DASH"

# --- 2. knot-exporter against real knotd.
EXPORTER=()
if [ -n "${ZG_KNOT_EXPORTER:-}" ]; then
	read -r -a EXPORTER <<<"$ZG_KNOT_EXPORTER"
elif command -v knot-exporter >/dev/null; then
	EXPORTER=(knot-exporter)
elif "$PYTHON3" -c 'import knot_exporter.knot_exporter' 2>/dev/null; then
	# Debian's package (3.4.6) installs the module without a command.
	EXPORTER=("$PYTHON3" -m knot_exporter.knot_exporter)
fi
if [ ${#EXPORTER[@]} -eq 0 ]; then
	skip "knot-exporter scrape of the zonegate counters" \
		"knot-exporter not installed (Debian 13 and later: apt-get install knot-exporter); the Debian 13 root runs this part"
	zg_done
fi
command -v kdig >/dev/null || zg_skip_all "kdig not installed"
command -v psql >/dev/null || zg_skip_all "psql not installed"
zg_snapshot_modules
ingest_setup
export INGEST_KEYSTORE=pem
ok "PostgreSQL cluster starts" zg_pg_start "$ZG_TMP/pg"
psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
S=$d PS=$port
G=$ZG_TMP/g G2=$ZG_TMP/g2 F=$ZG_TMP/f
PG_=$(zg_free_port) PG2=$(zg_free_port) PF=$(zg_free_port) DEAD=$(zg_free_port)
mkdir -p "$G" "$G2" "$F/zones"

zg_genzone test. 30 >"$ZG_TMP/test.zone"
ingest_signer_conf "$S" "$PS" "$secret" "$ZG_TMP/test.zone" \
	"    serial-policy: unixtime
    notify: g
    module: [mod-ingest/registry, mod-dsync/child, mod-keys/interlock]" \
	"remote:
  - id: g
    address: 127.0.0.1@$PG_
  - id: parent
    address: 127.0.0.1@$DEAD

mod-ingest:
  - id: registry
    source: $ZG_PG_URI
    key: ingest
    poll-interval: 1s

mod-dsync:
  - id: child
    mode: child
    check-interval: 1
    parent: parent
    overdue: 2

mod-keys:
  - id: interlock
    check-interval: 1
    register: $S/keys.register
    recovery-time: 7d
    alarm: /bin/true
" | awk -v m="$(zg_module_file dsync)" -v k="$(zg_module_file keys)" '
	{ print }
	/^module:$/ && !done { printf "  - id: mod-dsync\n    file: \"%s\"\n  - id: mod-keys\n    file: \"%s\"\n", m, k; done = 1 }' \
	>"$S/knot.conf"
ok "S (signer: mod-ingest, mod-dsync, mod-keys) starts" zg_knotd_start "$S"
ok "S signs the zone" zg_wait 60 zg_zone_signed "$S" test.
tables() { [ "$(psql_q "SELECT to_regclass('zonegate_queue') IS NOT NULL")" = t ]; }
ok "the queue tables exist" zg_wait 30 tables
good=$(ingest_msg p-1 '[{"owner":"a.test.","rrsets":[{"type":"A","ttl":300,"rdata":["192.0.2.1"]}]}]')
bad=$(ingest_msg p-2 '[{"owner":"www.other.","rrsets":[]}]')
psql_q "INSERT INTO zonegate_queue (zone, message) VALUES ('test.', \$\$$good\$\$), ('test.', \$\$$bad\$\$)" >/dev/null
done_() { [ "$(psql_q "SELECT count(*) FROM zonegate_queue WHERE state <> 'pending'")" = 2 ]; }
ok "mod-ingest applies one message and refuses one" zg_wait 30 done_
overdue() { zg_knotc "$S" zone-stats test. mod-dsync 2>/dev/null | grep -Eq 'syncs-overdue = [1-9]'; }
ok "mod-dsync reports the DS sync overdue" zg_wait 30 overdue
# mod-keys' first check may come before Knot generated the keys (Knot 3.5):
# the scrape waits for a check that saw them.
unbacked() { zg_knotc "$S" zone-stats test. mod-keys 2>/dev/null | grep -Eq 'keys-without-backup = [1-9]'; }
ok "mod-keys counts the keys without a backup" zg_wait 30 unbacked

gate_conf() { # DIR PORT UPSTREAM-PORT
	vconf "$1" "$2" | awk '
		/^  - id: mod-(keys)$/ { skip = 1; next }
		skip && /^    file:/ { skip = 0; next }
		{ skip = 0; print }'
	zg_conf_remotes up "127.0.0.1@$3"
	zg_conf_acls notify-in 127.0.0.1 notify xfr-out 127.0.0.1 transfer
	cat <<CONF
mod-validate:
  - id: gate
    poll-interval: 1s

zone:
  - domain: test
    storage: "$1/zones"
    master: up
    acl: [notify-in, xfr-out]
    module: mod-validate/gate
CONF
}
gate_conf "$G" "$PG_" "$PS" >"$G/knot.conf"
ok "G (gate following S) starts" zg_knotd_start "$G"
VL_DIR=$G
ok "G validates S's serial" zg_wait 60 stat_ge serials-validated 1

zg_axfr 127.0.0.1 "$PS" test. | awk '
	$4 == "SOA" && !soa { $7 = $7 + 1; soa = 1 }
	$4 == "RRSIG" && $5 == "NS" && !bad && $1 != "test." {
		c = substr($NF, 1, 1); $NF = (c == "A" ? "B" : "A") substr($NF, 2); bad = 1 }
	{ print }' >"$F/zones/test.zone"
{
	zg_knot_conf_bare "$F" "$PF"
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: test
    storage: "$F/zones"
    zonefile-load: whole
    journal-content: none
    acl: local
CONF
} >"$F/knot.conf"
ok "F (upstream serving a corrupted serial) starts" zg_knotd_start "$F"
gate_conf "$G2" "$PG2" "$PF" >"$G2/knot.conf"
ok "G2 (gate following F) starts" zg_knotd_start "$G2"
VL_DIR=$G2
ok "G2 fails the serial" zg_wait 60 stat_ge serials-failed 1
kdig @127.0.0.1 -p "$PG2" test. AXFR +time=2 +retry=0 >/dev/null 2>&1
ok "G2 refused a transfer" zg_wait 10 stat_ge transfers-refused 1

# scrape DIR: knot-exporter on DIR's control socket, one scrape, stopped.
scrape() {
	local p pid out
	p=$(zg_free_port)
	"${EXPORTER[@]}" --knot-socket-path "$1/knot.sock" --web-listen-addr 127.0.0.1 \
		--web-listen-port "$p" >"$1/exporter.log" 2>&1 &
	pid=$!
	zg_track_pid "$pid"
	get() { "$PYTHON3" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "http://127.0.0.1:$p/metrics"; }
	zg_wait 30 get || { echo "knot-exporter did not answer: $(tail -n 5 "$1/exporter.log")" >&2; zg_stop_pid "$pid"; return 1; }
	get >"$1/metrics.txt"
	zg_stop_pid "$pid"
}
names=$ZG_TMP/names
: >"$names"
for x in S G G2; do
	dir=${!x}
	# Counters first: those mod-dsync counts every check-interval may only
	# have grown by the scrape.
	zg_knotc "$dir" zone-stats test. >"$dir/stats.txt" 2>&1
	ok "knot-exporter scrapes $x" scrape "$dir"
	# [test.] mod-validate.serials-failed = 1
	while read -r zone ctr eq val; do
		mod=${ctr%%.*} c=${ctr#*.}
		case $mod in mod-ingest | mod-validate | mod-dsync | mod-keys) ;; *) continue ;; esac
		# knot_zone_stats_<counter>{module=...} (knot-exporter after 3.4) or
		# knot_<counter>{section=...} (3.4, Debian 13; the rules map it).
		m= got=
		for try in "knot_zone_stats_${c//-/_} module" "knot_${c//-/_} section"; do
			set -- $try
			got=$(awk -v m="$1" -v l="$2=\"$mod\"" '
				index($0, m "{") == 1 && index($0, l) && index($0, "zone=\"test.\"") { print $NF; exit }' \
				"$dir/metrics.txt")
			m=$1
			[ -n "$got" ] && break
		done
		m="$m{$2=\"$mod\"}"
		if [ "$val" != 0 ]; then
			case $c in
			parent-ds-checks-ok | parent-ds-checks-failed | syncs-overdue)
				[ -n "$got" ] && got=$(awk -v v="$got" 'BEGIN { printf "%.0f", v }')
				ok "$x: $mod $c comes out as $m with its value or more ($val, scraped ${got:-none})" \
					test -n "$got" -a "${got:-0}" -ge "$val" ;;
			last-poll-time | earliest-expiry-seconds | queue-lag-seconds | runway-seconds | scan-pass-seconds)
				# Time-dependent: present, non-zero.
				ok "$x: $mod $c comes out as $m" test -n "$got" -a "${got:-0}" != 0 -a "${got:-0}" != 0.0 ;;
			*)
				# Python's exposition writes floats (1.796542723e+09).
				[ -n "$got" ] && got=$(awk -v v="$got" 'BEGIN { printf "%.0f", v }')
				is "$got" "$val" "$x: $mod $c comes out as $m with its value" ;;
			esac
			echo "${m%%\{*}" >>"$names"
		else
			# knot-exporter asks without the force flag: knotd leaves zero counters out.
			ok "$x: $mod $c is zero: absent or zero in the scrape" test -z "$got" -o "${got%.0}" = 0
		fi
	done <"$dir/stats.txt"
	grep -oE '^knot_zone_serial\{' "$dir/metrics.txt" | head -n 1 | tr -d '{' >>"$names"
done
# Every counter name of each module maps to its own metric name.
for mod in ingest validate dsync keys; do
	ctrs=$(sed -n "s/.*\[CTR_[A-Z_]*\] *= \"\\([a-z-]*\\)\".*/\\1/p" "$ZG_SRCDIR/modules/$mod/$mod.c" | tr - _ | sort)
	is "$(printf '%s\n' "$ctrs" | uniq -d)" "" "mod-$mod: every counter has its own metric name"
	like "$ctrs" "^[a-z_]+" "mod-$mod: counter names read from the module"
done
# A name of Knot 3.4's knot-exporter stands for the later one where the
# rules record it so.
for n in $(sed -n 's/^knot_\([a-z_]*\)$/\1/p' "$names"); do
	grep -q "^      - record: knot_zone_stats_$n\$" "$RULES" && echo "knot_zone_stats_$n" >>"$names"
done
# The counters the rules and the dashboard need were non-zero, hence scraped.
for c in serials_failed serials_validated last_validated_serial transfers_refused earliest_expiry_seconds \
	validation_latency_ms messages_applied messages_refused lease_held consumer_connected last_poll_time \
	syncs_overdue keys_without_backup runway_seconds; do
	like "$(cat "$names")" "^knot_zone_stats_$c\$" "knot_zone_stats_$c was exported by a scrape"
done

# zg-status --format prometheus: the zonegate_* gauges.
run_status() { "$ZG_BUILDDIR/libtool" --mode=execute "$ZG_BUILDDIR/tools/zg-status" "$@"; }
# The key-state gauges come from a real key-state watcher's status file
# (zg-signer-knot watch on S, one round, then stopped).
mkdir -p "$ZG_TMP/ks" "$ZG_TMP/kasp"
ZG_SIGNER_TOKEN=1 "$ZG_SRCDIR/tools/zg-signer-knot" -c "$S/knot.conf" -z test. -b "$ZG_TMP/kasp" -w 1 \
	-W "$ZG_TMP/ks/keystate-test.pid" -t 20 watch 2>"$ZG_TMP/ks/watch.log" &
kspid=$!
zg_track_pid "$kspid"
ok "a key-state watcher on S reports" zg_wait 30 test -s "$ZG_TMP/ks/keystate-test.json"
zg_stop_pid "$kspid"
run_status --format prometheus --queue "$ZG_PG_URI" --signer-ctl "$S/knot.sock" --gate-ctl "$G/knot.sock" \
	--secondary "127.0.0.1@$PG_" --keystate "$ZG_TMP/ks" test >"$ZG_TMP/zg-status.prom"
grep -oE '^zonegate_[a-z_]+' "$ZG_TMP/zg-status.prom" | sort -u >>"$names"
for g in zonegate_status zonegate_freshness_seconds zonegate_queue_pending zonegate_queue_oldest_seconds \
	zonegate_lease_token zonegate_secondary_serial zonegate_runway_seconds zonegate_keystate_errors_in_a_row; do
	like "$(cat "$names")" "^$g\$" "zg-status exports $g"
done

# Every metric a dashboard query or a rule names was exported above.
dash=$("$PYTHON3" - "$DASH" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
names = set()
for p in d["panels"]:
    for t in p.get("targets", []):
        names.update(re.findall(r"\b((?:knot|zonegate)_[a-z_]+)\b", t["expr"]))
for v in d["templating"]["list"]:
    names.update(re.findall(r"\b((?:knot|zonegate)_[a-z_]+)\b", v.get("query", "") if isinstance(v.get("query"), str) else ""))
print("\n".join(sorted(names)))
PY
)
like "$dash" "^zonegate_freshness_seconds\$" "the dashboard shows the freshness"
for n in $dash; do
	like "$(cat "$names")" "^$n\$" "dashboard metric $n was exported"
done
# (the metric names of the rules' expressions: expr lines up to labels:)
for n in $(awk '/^  - name: / { grp = ($3 == "zonegate") } /^ *expr:/ { on = grp } /^ *labels:/ { on = 0 } on' "$RULES" |
	grep -oE '\b(knot|zonegate)_[a-z_]+' | sort -u); do
	like "$(cat "$names")" "^$n\$" "rule metric $n was exported"
done

for x in "$G2" "$F" "$G" "$S"; do ok "knotd $(basename "$x") stops" zg_knotd_stop "$x"; done
zg_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Real data for the dashboard preview (doc/status.md, "The dashboard"): from a
# built tree, on a machine with knot-exporter (Debian 13 and later) and
# Debian's prometheus, runs the demo pipeline (scripts/demo-run.sh), scrapes
# its three knotd with knot-exporter and zg-status --format prometheus (a
# file served over HTTP, as node-exporter's textfile collector would) into a
# Prometheus of its own, drops a registry message, publishes a corrupted
# serial and recovers, then saves every panel query's series:
#   contrib/grafana/preview-run.sh OUT.json
# Draw them with: contrib/grafana/render-preview.py draw DASHBOARD OUT.json PNG
set -u
cd "$(dirname "$0")/../.." || exit 2
[ $# -eq 1 ] || { echo "usage: $0 OUT.json" >&2; exit 2; }
out=$1
export ZG_SRCDIR=$PWD ZG_BUILDDIR=${ZG_BUILDDIR:-$PWD}
. tests/func/lib.sh
zg_init
PY=${PYTHON3:-python3}
command -v prometheus >/dev/null || zg_bail "prometheus not installed (apt-get install prometheus)"
"$PY" -c 'import knot_exporter.knot_exporter' 2>/dev/null || zg_bail "knot-exporter not installed"

bash scripts/demo-run.sh --delegations 500 >"$ZG_TMP/demo.out" 2>&1 &
zg_track_pid $!
zg_wait 300 grep -q 'Press Ctrl-C' "$ZG_TMP/demo.out" || zg_bail "the demo did not start: $(tail -n 5 "$ZG_TMP/demo.out")"
ctl=$(grep -oE '/[^ ]*/zg-demo message newdomain' "$ZG_TMP/demo.out" | head -n 1)
ctl=${ctl% message newdomain}
DEMO=$(dirname "$ctl")
declare -a TOPO_ADDR TOPO_PORT TOPO_DIR
. "$DEMO/demo.env"
W=$ZG_TMP/preview
mkdir -p "$W/www" "$W/prom"

names=(- signer hidden-primary secondary)
knot=
for i in 1 2 3; do
	p=$(zg_free_port)
	"$PY" -m knot_exporter.knot_exporter --knot-socket-path "${TOPO_DIR[$i]}/run/knot.sock" \
		--web-listen-addr 127.0.0.1 --web-listen-port "$p" >"$W/exporter$i.log" 2>&1 &
	zg_track_pid $!
	knot="$knot      - targets: ['127.0.0.1:$p']
        labels: {instance: ${names[$i]}}
"
done
# zg-status every 5 s into a file, served over HTTP.
(
	for _ in $(seq 1 400); do
		sock=${TOPO_DIR[1]}/run/knot.sock
		[ -f "$DEMO/upstream/knotd.pid" ] && sock=$DEMO/upstream/run/knot.sock
		"$ZG_BUILDDIR/tools/zg-status" --format prometheus --queue "spool:${TOPO_DIR[1]}/lib/ingest" \
			--signer-ctl "$sock" --gate-ctl "${TOPO_DIR[2]}/run/knot.sock" \
			--secondary "${TOPO_ADDR[3]}@${TOPO_PORT[3]}" example. >"$W/www/metrics.tmp" 2>/dev/null
		mv "$W/www/metrics.tmp" "$W/www/metrics"
		sleep 5
	done
) &
zg_track_pid $!
hp=$(zg_free_port)
(cd "$W/www" && exec "$PY" -m http.server --bind 127.0.0.1 "$hp" >"$W/http.log" 2>&1) &
zg_track_pid $!
pp=$(zg_free_port)
# The rules map Knot 3.4's exporter names (knot_<counter>{section}) onto
# the ones the dashboard queries, as in a deployment.
cat >"$W/prometheus.yml" <<CONF
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files: ['$ZG_SRCDIR/contrib/prometheus/zonegate-rules.yml']
scrape_configs:
  - job_name: knot
    static_configs:
$knot  - job_name: zg-status
    static_configs:
      - targets: ['127.0.0.1:$hp']
        labels: {instance: zg-status}
CONF
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/prom" \
	--web.listen-address="127.0.0.1:$pp" >"$W/prometheus.log" 2>&1 &
zg_track_pid $!
up() { "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "http://127.0.0.1:$pp/-/ready" 2>/dev/null; }
zg_wait 60 up || zg_bail "prometheus did not start: $(tail -n 5 "$W/prometheus.log")"
start=$(date +%s)
echo "== scraping; the scenario: message at 1 min, corrupt at 2 min, recover at 3.5 min (each after the previous step is done)"
sleep 60
"$ctl" message newdomain || zg_bail "zg-demo message failed"
sleep 60
"$ctl" corrupt || zg_bail "zg-demo corrupt failed"
sleep 90
"$ctl" recover || zg_bail "zg-demo recover failed"
sleep 60
"$PY" contrib/grafana/render-preview.py fetch contrib/grafana/zonegate.json "http://127.0.0.1:$pp" \
	"$start" "$(date +%s)" 5 "$out" || zg_bail "fetch failed"
"$ctl" stop
echo "== saved $out"

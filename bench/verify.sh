#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark: zg-verify against kzonecheck -d on, dnssec-verify and
# ldns-verify-zone, on the same signed zones, in one run.
#
#   ZG_BENCH_SIZES="200000 1000000"  delegations per zone (bench/genzone.py)
#   ZG_BENCH_SIGNERS="bind ldns"     bind: dnssec-signzone -3 - -A, ECDSA P-256,
#                                    NSEC3 opt-out, no salt; ldns: ldns-signzone,
#                                    RSA-SHA256 2048, NSEC
#   ZG_BENCH_PREPARE_ONLY=1          only generate and sign (fills the cache)
#   ZG_BENCH_PEERS="kzonecheck dnssec-verify ldns-verify-zone"
# On the P-256 zones zg-verify also runs with --p256-openssl (its OpenSSL
# path, "zg-verify-openssl"), and its JSON stats give the table cache.
#
# Signed zones are cached in bench/out/verify/ (gitignored): a re-run skips
# signing unless the signatures expire within 60 days. Prints, per zone, a
# table of wall time, CPU time (user+sys) and peak RSS (/usr/bin/time), the
# wall-time ratio against the fastest peer, every tool's verdict (all must be
# "valid"), and the signature rate against `openssl speed -multi 2 -seconds 3`
# for the zone's algorithm, measured just before that zone's runs (on a
# loaded machine the CPU column is the steadier figure).
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYTHON3:=python3}"
SIZES=${ZG_BENCH_SIZES:-"200000 1000000"}
SIGNERS=${ZG_BENCH_SIGNERS:-"bind ldns"}
PEERS=${ZG_BENCH_PEERS:-"kzonecheck dnssec-verify ldns-verify-zone"}
OUT=${ZG_BENCH_OUT:-$top_srcdir/bench/out/verify}
ZGV=${ZG_VERIFY:-$top_builddir/tools/zg-verify}
ORIGIN=test.
# kzonecheck checks signatures on several threads since Knot 3.4.7 (-j):
# give it every CPU, as zg-verify takes them.
KZC_JOBS=
kzonecheck --help 2>&1 | grep -q -- '--jobs' && KZC_JOBS="-j $(nproc)"
TIME=/usr/bin/time
status=0

[ -x "$TIME" ] || { echo "verify.sh: $TIME missing (apt-get install time)" >&2; exit 2; }
mkdir -p "$OUT" || exit 2

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# still_fresh FILE: the signed zone exists and was signed less than 300 days
# ago (signatures are made for 365 days).
still_fresh() {
	[ -s "$1" ] && [ -n "$(find "$1" -mtime -300 2>/dev/null)" ]
}

# prepare SIZE SIGNER: prints the path of the signed zone, signing if needed.
prepare() {
	local n=$1 signer=$2 dir=$OUT/$n
	local unsigned=$dir/unsigned.zone signed=$dir/$signer.signed
	mkdir -p "$dir"
	if [ ! -s "$unsigned" ]; then
		log "generating $n delegations"
		"$PYTHON3" "$top_srcdir/bench/genzone.py" "$ORIGIN" "$n" >"$unsigned.tmp" &&
			mv "$unsigned.tmp" "$unsigned" || return 1
	fi
	if still_fresh "$signed"; then
		echo "$signed"
		return 0
	fi
	local kd=$dir/keys-$signer t0=$SECONDS
	rm -rf "$kd" && mkdir -p "$kd" || return 1
	case $signer in
	bind)
		dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 -f KSK "$ORIGIN" >/dev/null &&
			dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 "$ORIGIN" >/dev/null || return 1
		log "signing $n with dnssec-signzone (ECDSAP256SHA256, NSEC3 opt-out)"
		# in the key directory: dnssec-signzone writes dsset-test. to the cwd
		(cd "$kd" && dnssec-signzone -S -q -P -3 - -A -o "$ORIGIN" -K "$kd" -e now+31536000 \
			-f "$signed.tmp" "$unsigned" >/dev/null) || return 1
		;;
	ldns)
		(cd "$kd" && ldns-keygen -a RSASHA256 -b 2048 -k "$ORIGIN" >/dev/null &&
			ldns-keygen -a RSASHA256 -b 2048 "$ORIGIN" >/dev/null) || return 1
		log "signing $n with ldns-signzone (RSASHA256, NSEC)"
		ldns-signzone -e "$(date -u -d '+365 days' +%Y%m%d%H%M%S)" -o "$ORIGIN" \
			-f "$signed.tmp" "$unsigned" $(ls "$kd"/K*.private | sed 's/\.private$//') ||
			return 1
		;;
	*) echo "unknown signer $signer" >&2; return 1 ;;
	esac
	mv "$signed.tmp" "$signed" || return 1
	log "signed $n with $signer in $((SECONDS - t0)) s"
	echo "$signed"
}

# run_tool NAME ZONEFILE: prints "NAME WALL RSS_KB CPU_S RC".
run_tool() {
	local name=$1 zf=$2 rc tf
	tf=$(mktemp)
	case $name in
	zg-verify) $TIME -o "$tf" -f '%e %M %U %S' "$ZGV" -o "$ORIGIN" "$zf" >"$tf.out" 2>&1 ;;
	zg-verify-openssl)
		$TIME -o "$tf" -f '%e %M %U %S' "$ZGV" --p256-openssl -o "$ORIGIN" "$zf" >"$tf.out" 2>&1 ;;
	kzonecheck) $TIME -o "$tf" -f '%e %M %U %S' kzonecheck -d on $KZC_JOBS -o "$ORIGIN" "$zf" >"$tf.out" 2>&1 ;;
	dnssec-verify) $TIME -o "$tf" -f '%e %M %U %S' dnssec-verify -q -o "$ORIGIN" "$zf" >"$tf.out" 2>&1 ;;
	ldns-verify-zone) $TIME -o "$tf" -f '%e %M %U %S' ldns-verify-zone -V1 "$zf" >"$tf.out" 2>&1 ;;
	esac
	rc=$?
	if [ $rc -ne 0 ]; then
		log "$name on $zf exited $rc:"
		tail -n 5 "$tf.out" >&2
	fi
	# time(1) prints "Command exited with non-zero status N" first on failure.
	echo "$name $(tail -n 1 "$tf" | awk '{ printf "%s %s %.2f", $1, $2, $3 + $4 }') $rc"
	rm -f "$tf" "$tf.out"
}

# openssl_rate ALG: verify/s of `openssl speed -multi 2 -seconds 3 ALG`.
openssl_rate() {
	openssl speed -multi 2 -seconds 3 "$1" 2>/dev/null | awk -v a="$1" '
		a == "ecdsap256" && /nistp256/ { print $NF; exit }
		a == "rsa2048" && /^rsa 2048 bits/ { print $NF; exit }'
}

echo "# zg-verify benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), RAM $(free -g | awk '/^Mem:/ { print $2 }') GiB"
echo "# versions: $(kzonecheck -V 2>&1 | head -n 1)${KZC_JOBS:+ ($KZC_JOBS)}; $(dnssec-verify -V 2>&1 | head -n 1); $(ldns-verify-zone -v 2>&1 | head -n 1)"

zones=()
for n in $SIZES; do
	for s in $SIGNERS; do
		z=$(prepare "$n" "$s") || { log "preparing $n/$s failed"; exit 2; }
		zones+=("$z")
	done
done
[ -n "${ZG_BENCH_PREPARE_ONLY:-}" ] && exit 0

if [ ! -x "$ZGV" ]; then
	log "$ZGV not built: timing the peers only"
	tools=$PEERS
else
	tools="zg-verify $PEERS"
fi


for z in "${zones[@]}"; do
	n=$(basename "$(dirname "$z")")
	signer=$(basename "$z" .signed)
	sigs=$(grep -Ec 'RRSIG[[:space:]]+[A-Z0-9]+[[:space:]]+[0-9]+[[:space:]]+[0-9]+' "$z")
	[ "$signer" = bind ] && alg=ecdsap256 || alg=rsa2048
	rate=$(openssl_rate $alg)
	echo
	echo "## $n delegations, $signer ($([ "$signer" = bind ] && echo 'ECDSAP256SHA256, NSEC3 opt-out' || echo 'RSASHA256, NSEC')), $(du -m "$z" | cut -f1) MB, $sigs RRSIGs"
	echo "# openssl speed -multi 2 -seconds 3 $alg: $rate verify/s"
	results=()
	ztools=$tools
	# P-256 zones: zg-verify with OpenSSL for algorithm 13 in the same run.
	[ "$signer" = bind ] && [ -x "$ZGV" ] && ztools="zg-verify zg-verify-openssl $PEERS"
	for t in $ztools; do
		results+=("$(run_tool "$t" "$z")")
	done
	fastest=$(printf '%s\n' "${results[@]}" | awk '$1 !~ /^zg-verify/ && $5 == 0 { print $2 }' | sort -g | head -n 1)
	printf '%-18s %9s %9s %10s %8s %10s %10s  %s\n' tool wall_s cpu_s peak_MB vs_best sigs/s of_openssl verdict
	for r in "${results[@]}"; do
		set -- $r
		verdict=valid
		[ "$5" -ne 0 ] && { verdict="INVALID (exit $5)"; status=1; }
		awk -v t="$1" -v w="$2" -v m="$3" -v c="$4" -v f="${fastest:-0}" -v s="$sigs" -v r="${rate:-0}" -v v="$verdict" 'BEGIN {
			ratio = (f > 0) ? sprintf("%.2fx", w / f) : "-"
			sps = (w > 0) ? s / w : 0
			pct = (r > 0) ? sprintf("%.0f%%", 100 * sps / r) : "-"
			printf "%-18s %9.2f %9.2f %10.0f %8s %10.0f %10s  %s\n", t, w, c, m / 1024, ratio, sps, pct, v
		}'
	done
	if [ "$signer" = bind ] && [ -x "$ZGV" ]; then
		"$ZGV" -o "$ORIGIN" --format json "$z" 2>/dev/null | "$PYTHON3" -c '
import json, sys
p = json.load(sys.stdin)["stats"].get("p256", {})
print("# zg-verify P-256: engine %s, table cache %s keys, %s tables (%.0f KiB with G\x27s), %s built, %s evictions, %s fallbacks" % (
    p.get("engine"), p.get("table_cache_keys"), p.get("tables"), p.get("table_bytes", 0) / 1024,
    p.get("table_builds"), p.get("table_evictions"), p.get("fallbacks")))' || true
	fi
done
exit $status

#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark: the native P-256 verifier against OpenSSL, in one run.
#
#   1. `openssl speed -multi 2 -seconds S ecdsap256` (verify/s);
#   2. bench/p256-speed with 2 threads and one key, then four keys: the
#      native verifier in batches (as zg-verify and mod-validate use it) and
#      one signature at a time, and OpenSSL's EVP_PKEY_verify on the same
#      signatures (the library's OpenSSL path);
#   3. the differential test against OpenSSL on more signatures than in
#      `make check` (tests/unit/test_p256_diff, another seed).
#
#   ZG_BENCH_P256_SECONDS=5          seconds per measurement
#   ZG_BENCH_P256_DIFF=10000000      signatures of the differential run (0: skip)
#   ZG_BENCH_P256_SEED=0x...         its seed
# Target: native batch >= 2x `openssl speed -multi 2` with one key.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SECS=${ZG_BENCH_P256_SECONDS:-5}
DIFF=${ZG_BENCH_P256_DIFF:-10000000}
SEED=${ZG_BENCH_P256_SEED:-0xbe4c4256d1ff0002}
SPEED=$top_builddir/bench/p256-speed
status=0

[ -x "$SPEED" ] || { echo "p256.sh: $SPEED not built (make bench builds it)" >&2; exit 2; }
echo "# P-256 verification benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
ossl=$(openssl speed -multi 2 -seconds "$SECS" ecdsap256 2>/dev/null | awk '/nistp256/ { v = $NF } END { print v }')
echo "openssl speed -multi 2 -seconds $SECS ecdsap256: ${ossl:-?} verify/s"
for keys in 1 4; do
	out=$("$SPEED" -t 2 -s "$SECS" -k $keys) || status=1
	printf '%s\n' "$out" | awk -v k=$keys -v o="${ossl:-0}" '{
		r = (o > 0) ? sprintf("%.2fx", $2 / o) : "-"
		printf "p256-speed -t 2 -k %d: %-14s %9.0f signatures/s  %s of openssl speed\n", k, $1, $2, r
	}'
	if [ $keys = 1 ]; then
		batch=$(printf '%s\n' "$out" | awk '$1 == "native-batch" { print $2 }')
		inrun=$(printf '%s\n' "$out" | awk '$1 == "openssl" { print $2 }')
	fi
done
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "target:"
awk -v b="${batch:-0}" -v o="${ossl:-0}" -v i="${inrun:-0}" 'BEGIN {
	if (o > 0) printf "  native batch, one key: %.2fx openssl speed -multi 2 (>= 2x: %s); %.2fx the library OpenSSL path\n",
		b / o, (b >= 2 * o ? "met" : "NOT met"), (i > 0 ? b / i : 0)
}'
if [ "$DIFF" -gt 0 ]; then
	echo
	echo "differential test, $DIFF signatures, seed $SEED:"
	t0=$SECONDS
	"$top_builddir/tests/unit/test_p256_diff" "$DIFF" "$SEED" | sed 's/^/  /' || status=1
	echo "  ($((SECONDS - t0)) s)"
fi
exit $status

#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify's P-256 engines: on every case of the ECDSAP256SHA256 corpus
# (BIND, NSEC and NSEC3; valid and with one fault each, see
# tests/verify/corpus.sh) the native verifier, --p256-openssl, ZG_P256=openssl
# and a table cache too small for the zone's keys give the same output and
# exit status; the JSON stats report the engine and the table cache; bad
# option and environment values are usage errors.
. "${ZG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/verify/corpus.sh"
zg_init
[ -x "$ZG_VERIFY" ] || zg_diag "$ZG_VERIFY is not built: every zg-verify assertion fails"

# json_stat FILE EXPR: a field of stats.p256 (python expression on p).
json_stat() {
	"$PYTHON3" -c 'import json, sys
d = json.load(open(sys.argv[1])); p = d["stats"].get("p256") or {}
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

zgv_unsigned "$ZG_TMP"
for denial in NSEC NSEC3; do
	D=$ZG_TMP/$denial
	zgv_corpus bind ECDSAP256SHA256 $denial "$D" || zg_bail "signing with dnssec-signzone failed"
	for f in "$D"/*.zone; do
		c="$denial $(basename "$f" .zone)"
		zgv_run -o test. -t "$ZGV_NOW" "$f"
		native_rc=$ZGV_RC native_out=$ZGV_OUT
		zgv_run -o test. -t "$ZGV_NOW" --p256-openssl "$f"
		is "$ZGV_RC" "$native_rc" "$c: --p256-openssl, same exit status ($native_rc)"
		is "$ZGV_OUT" "$native_out" "$c: --p256-openssl, same output"
		ZGV_OUT=$(ZG_P256=openssl timeout -k 5 120 "$ZG_VERIFY" -o test. -t "$ZGV_NOW" "$f" 2>&1)
		is "$ZGV_OUT" "$native_out" "$c: ZG_P256=openssl, same output"
		zgv_run -o test. -t "$ZGV_NOW" -j 2 --p256-cache 1 "$f"
		is "$ZGV_OUT" "$native_out" "$c: a table cache of 1 key (2 threads), same output"
		zgv_run -o test. -t "$ZGV_NOW" --p256-cache 0 "$f"
		is "$ZGV_OUT" "$native_out" "$c: no table cache (all to OpenSSL), same output"
	done
done
like "$(cat "$ZG_TMP/NSEC3/corrupt.expect")" '^www\.test\. A' "the corpus has a corrupted signature"

# JSON stats.
V=$ZG_TMP/NSEC3/valid.zone J=$ZG_TMP/out.json
"$ZG_VERIFY" -o test. --format json "$V" >"$J"
is "$(json_stat "$J" 'p["engine"]')" native "json: engine native by default"
is "$(json_stat "$J" 'p["table_cache_keys"]')" 16 "json: table cache of 16 keys by default"
is "$(json_stat "$J" 'p["tables"]')" 2 "json: two tables (KSK and ZSK)"
is "$(json_stat "$J" 'p["table_builds"]')" 2 "json: built once each"
is "$(json_stat "$J" 'p["table_bytes"]')" $((3 * 4097 * 64)) "json: table bytes (2 keys and G)"
is "$(json_stat "$J" 'p["fallbacks"]')" 0 "json: no fallback"
"$ZG_VERIFY" -o test. --format json --p256-openssl "$V" >"$J"
is "$(json_stat "$J" 'p["engine"]')" openssl "json: --p256-openssl reported"
is "$(json_stat "$J" 'p["tables"]')" 0 "json: --p256-openssl builds no key table"
ZG_P256=openssl "$ZG_VERIFY" -o test. --format json "$V" >"$J"
is "$(json_stat "$J" 'p["engine"]')" openssl "json: ZG_P256=openssl reported"
ZG_P256=native "$ZG_VERIFY" -o test. --format json "$V" >"$J"
is "$(json_stat "$J" 'p["engine"]')" native "json: ZG_P256=native reported"
"$ZG_VERIFY" -o test. --format json -j 1 --p256-cache 1 "$V" >"$J"
is "$(json_stat "$J" 'p["table_cache_keys"]')" 1 "json: --p256-cache 1 reported"
is "$(json_stat "$J" 'p["tables"]')" 1 "json: cache of 1: one table held"
# The second key's signatures went to OpenSSL while the first key's table
# was in use, or took its place.
ok "json: cache of 1, two keys: the second key had no table of its own meanwhile" \
	test "$(json_stat "$J" 'p["table_builds"] + p["fallbacks"]')" -ge 2
"$ZG_VERIFY" -o test. --format json --p256-cache 0 "$V" >"$J"
ok "json: cache of 0: verifications left to OpenSSL" test "$(json_stat "$J" 'p["fallbacks"]')" -gt 0

# Usage errors.
zgv_run --p256-cache 4097 "$V"
is "$ZGV_RC" 2 "--p256-cache 4097: exit 2"
like "$ZGV_OUT" 'cache size' "--p256-cache 4097: says why"
zgv_run --p256-cache x "$V"
is "$ZGV_RC" 2 "--p256-cache x: exit 2"
ZGV_OUT=$(ZG_P256=fast "$ZG_VERIFY" "$V" 2>&1)
is "$?" 2 "ZG_P256=fast: exit 2"
like "$ZGV_OUT" 'ZG_P256' "ZG_P256=fast: names the variable"
zg_done

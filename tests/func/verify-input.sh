#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify on bad input: every case exits 2 with a message naming the file
# (and the line where there is one), quickly, without crashing.
. "${ZG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/verify/corpus.sh"
zg_init
[ -x "$ZG_VERIFY" ] || zg_diag "$ZG_VERIFY is not built: every zg-verify assertion fails"
ZGV_TIMEOUT=60

zgv_unsigned "$ZG_TMP"
B=$ZG_TMP/base
mkdir -p "$B"
zgv_sign bind ECDSAP256SHA256 NSEC "$B/keys" "$ZG_TMP/unsigned.zone" "$B/native.zone" ||
	zg_bail "signing with dnssec-signzone failed"
zgv_rr "$B/native.zone" >"$B/rr.zone" || zg_bail "ldns-read-zone failed"
zgv_run -o test. "$B/rr.zone"
is "$ZGV_RC" 0 "the base zone is valid"

# bad_input NAME FILE [LINE] [ARGS...]: exit 2, the file named, the line named.
bad_input() {
	local name=$1 f=$2 line=$3; shift 3
	zgv_run -o test. "$@" "$f"
	is "$ZGV_RC" 2 "$name: exit 2"
	like "$ZGV_OUT" "$(basename "$f" | sed 's/[.]/\\./g')" "$name: names the file"
	if [ -n "$line" ]; then
		like "$ZGV_OUT" "(:$line([^0-9]|\$)|line $line([^0-9]|\$))" "$name: names line $line"
	fi
	unlike "$ZGV_OUT" '(Segmentation|Aborted|AddressSanitizer|core dumped)' "$name: no crash"
}

# insert_line FILE N TEXT > OUT: TEXT becomes line N.
insert_line() {
	awk -v n="$2" -v t="$3" 'NR == n { print t } { print }' "$1"
}

# 1. Syntax error on line 10.
insert_line "$B/rr.zone" 10 'www.test.	3600	IN	A	300.1.2.3' >"$ZG_TMP/syntax.zone"
bad_input "syntax error" "$ZG_TMP/syntax.zone" 10
isnt_zero "$(zgv_peer kzonecheck "$ZG_TMP/syntax.zone")" "syntax error: kzonecheck refuses it too"
insert_line "$B/rr.zone" 25 'www.test.	3600	IN	BOGUSTYPE	1' >"$ZG_TMP/badtype.zone"
bad_input "unknown type" "$ZG_TMP/badtype.zone" 25

# 2. Wrong origin: every owner is out of the zone other.
bad_input "wrong origin (-o other.)" "$B/native.zone" "" -o other.

# 3. Truncated files: the native layout cut inside a multi-line record's
# parentheses, and the one-RR-per-line layout cut after an owner, TTL and class.
n=$(grep -n 'RRSIG.*($' "$B/native.zone" | sed -n '20p' | cut -d: -f1)
head -n "$((n + 1))" "$B/native.zone" >"$ZG_TMP/truncated-native.zone"
bad_input "truncated inside parentheses" "$ZG_TMP/truncated-native.zone" ""
{ head -n 200 "$B/rr.zone"; sed -n '201p' "$B/rr.zone" | cut -f1-3 | tr -d '\n'; } >"$ZG_TMP/truncated.zone"
bad_input "truncated in a record" "$ZG_TMP/truncated.zone" 201

# 4. Binary garbage (with NUL bytes), and an empty file.
"$PYTHON3" -c 'import random, sys; r = random.Random(42); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(4096)))' \
	>"$ZG_TMP/garbage.zone"
bad_input "binary garbage" "$ZG_TMP/garbage.zone" ""
: >"$ZG_TMP/empty.zone"
bad_input "empty file (no SOA)" "$ZG_TMP/empty.zone" ""

# 5. An RR over 64 KiB: a TXT of 300 strings of 255 bytes on line 12.
big=$("$PYTHON3" -c 'print(" ".join(["\"" + "x" * 255 + "\""] * 300))')
insert_line "$B/rr.zone" 12 "www.test.	3600	IN	TXT	$big" >"$ZG_TMP/big-rr.zone"
bad_input "RR over 64 KiB" "$ZG_TMP/big-rr.zone" 12

# 6. A 10 MB owner name on line 15.
"$PYTHON3" - "$B/rr.zone" "$ZG_TMP/long-owner.zone" <<'PY'
import sys
lines = open(sys.argv[1]).read().split('\n')
lines.insert(14, 'a' * (10 * 1024 * 1024) + '.test.\t3600\tIN\tA\t192.0.2.99')
open(sys.argv[2], 'w').write('\n'.join(lines))
PY
t0=$SECONDS
bad_input "10 MB owner name" "$ZG_TMP/long-owner.zone" 15
ok "10 MB owner name: done within 30 s" [ $((SECONDS - t0)) -le 30 ]

# 7. A file that does not exist, a directory.
bad_input "nonexistent file" "$ZG_TMP/no-such-file.zone" ""
mkdir -p "$ZG_TMP/a-directory.zone"
bad_input "a directory" "$ZG_TMP/a-directory.zone" ""

# 7b. A FIFO without a writer fails at once (it is not opened for reading
# and waited on); a 2 GiB sparse file (NUL bytes, no line end) fails without
# being read whole, with the line of the first NUL byte.
mkfifo "$ZG_TMP/a-fifo.zone"
t0=$SECONDS
bad_input "a FIFO" "$ZG_TMP/a-fifo.zone" ""
like "$ZGV_OUT" 'not a regular file \(a FIFO\)' "a FIFO: says what it is"
{ head -n 3 "$B/rr.zone"; } >"$ZG_TMP/sparse.zone"
truncate -s 2G "$ZG_TMP/sparse.zone"
bad_input "2 GiB sparse file" "$ZG_TMP/sparse.zone" 4
like "$ZGV_OUT" 'binary data \(a NUL byte at offset [0-9]+\), not a zone file' "sparse file: says why"
zgv_run "$ZG_TMP/sparse.zone"
is "$ZGV_RC" 2 "2 GiB sparse file without -o: exit 2"
ok "FIFO and sparse file: done within 10 s" [ $((SECONDS - t0)) -le 10 ]
rm -f "$ZG_TMP/sparse.zone"

# 8. Usage errors.
zgv_run
is "$ZGV_RC" 2 "usage: no zone file: exit 2"
zgv_run --no-such-option "$B/rr.zone"
is "$ZGV_RC" 2 "usage: unknown option: exit 2"
zgv_run -o test. "$B/rr.zone" "$B/rr.zone"
is "$ZGV_RC" 2 "usage: two zone files: exit 2"
zgv_run --axfr 127.0.0.1
is "$ZGV_RC" 2 "usage: --axfr without a zone: exit 2"
zgv_run -y hmac-sha256:k:AAAA -o test. "$B/rr.zone"
is "$ZGV_RC" 2 "usage: -y without --axfr: exit 2"

zg_done

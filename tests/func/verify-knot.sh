#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# zg-verify against zones signed by Knot's kzonesign: ECDSAP256SHA256 with
# NSEC and ED25519 with NSEC3 opt-out (Knot adds CDS/CDNSKEY), valid and with
# one fault each (see tests/verify/corpus.sh), checked with dnssec-verify and
# kzonecheck too. Knot signs DNSKEY with the KSK only, so its `noksksig` case
# leaves the DNSKEY RRset with no signature at all (bind and ldns cover the
# "ZSK signature remains" form). Also: -j gives the same verdict and the same
# problems with 1 and 2 threads.
. "${ZG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/func/lib.sh"
. "$ZG_SRCDIR/tests/verify/corpus.sh"
zg_init
[ -x "$ZG_VERIFY" ] || zg_diag "$ZG_VERIFY is not built: every zg-verify assertion fails"

zgv_unsigned "$ZG_TMP"
E=$ZG_TMP/ecdsa-nsec D=$ZG_TMP/ed25519-nsec3
zgv_corpus knot ECDSAP256SHA256 NSEC "$E" || zg_bail "signing with kzonesign failed"
zgv_corpus knot ED25519 NSEC3 "$D" || zg_bail "signing with kzonesign failed"
like "$(cat "$E/valid.zone")" '[[:space:]]CDNSKEY[[:space:]]' "kzonesign published CDNSKEY"
zgv_check_corpus "$E" "knot ECDSAP256SHA256 NSEC"
zgv_check_corpus "$D" "knot ED25519 NSEC3"

# -j: same verdict and same problem lines whatever the thread count.
for c in valid corrupt nodenial; do
	zgv_run -o test. -j 1 "$D/$c.zone"
	rc1=$ZGV_RC out1=$(printf '%s\n' "$ZGV_OUT" | sort)
	zgv_run -o test. -j 2 "$D/$c.zone"
	is "$ZGV_RC" "$rc1" "-j 1 and -j 2 agree on the exit status ($c)"
	is "$(printf '%s\n' "$ZGV_OUT" | sort)" "$out1" "-j 1 and -j 2 print the same lines ($c)"
done
zgv_run -o test. -j 0 "$D/valid.zone"
is "$ZGV_RC" 2 "-j 0: exit 2"
zgv_run -o test. -j many "$D/valid.zone"
is "$ZGV_RC" 2 "-j many: exit 2"

zg_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# configure reads the module ABI from knot/module.h and finds each API
# difference between the Knot series by compile tests. It refuses, naming
# what is missing: an ABI it does not know (a copy of the installed header
# with the number changed to 700), a header whose API does not match its ABI
# number (the installed header declaring the other known ABI), and a header
# without a function the modules use. Against the installed headers it
# succeeds and writes the ABI and the feature macros into config.h.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
hdr=$(echo '#include <knot/module.h>' | cpp -H $(pkg-config --cflags knotd) 2>&1 >/dev/null |
	grep -m1 'knot/module.h' | awk '{print $2}')
[ -f "$hdr" ] || zg_skip_all "knot/module.h not found"
abi=$(sed -n 's/^#define[[:space:]]*KNOTD_MOD_ABI_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$hdr")
[ -n "$abi" ] || zg_bail "no KNOTD_MOD_ABI_VERSION in $hdr"

mkdir -p "$ZG_TMP/inc/knot" "$ZG_TMP/build/lib/core"
# configure runs in a copy of the configure-time files (the source tree may
# itself be configured, which forbids a VPATH build from it).
for f in configure Makefile.in config.h.in build-aux lib/core/error.h; do
	cp -a "$ZG_SRCDIR/$f" "$ZG_TMP/build/$f" || zg_bail "cannot copy $f (run autoreconf first)"
done
cd "$ZG_TMP/build" || zg_bail "no build dir"

# fake SED-SCRIPT: the installed header edited by SED-SCRIPT.
fake() { sed "$1" "$hdr" >"$ZG_TMP/inc/knot/module.h"; }
with_fake() { ./configure -q CPPFLAGS="-I$ZG_TMP/inc" 2>&1; }

# 1. An ABI number no series zonegate knows.
fake 's/^#define KNOTD_MOD_ABI_VERSION.*/#define KNOTD_MOD_ABI_VERSION\t700/'
ok "fake header declares ABI 700" grep -q 'KNOTD_MOD_ABI_VERSION.*700' "$ZG_TMP/inc/knot/module.h"
out=$(with_fake)
rc=$?
ok "configure fails against ABI 700" test "$rc" -ne 0
like "$out" "error: module ABI 700 is unknown to zonegate \(it knows 400: Knot 3.2, 500: 3.3, 600: 3.4 and 3.5\); missing: support for the knotd of ABI 700" \
	"error names the unknown ABI, the known ones and what is missing"
ok "no Makefile was generated" test ! -f Makefile

# 2. A known number whose API shape is another series'.
case $abi in
400) other=600 want="missing: ZG_KNOTD_LOCAL_ADDR_PARAM ZG_KNOTD_CONST_MOD ZG_KNOTD_PROTO_STAGES ZG_KNOTD_ZONE_RRSET; unexpected: ZG_KNOTD_LOCAL_ADDR_BUF" ;;
*) other=400 want="missing: ZG_KNOTD_LOCAL_ADDR_BUF; unexpected: ZG_KNOTD_LOCAL_ADDR_PARAM ZG_KNOTD_CONST_MOD" ;;
esac
fake "s/^#define KNOTD_MOD_ABI_VERSION.*/#define KNOTD_MOD_ABI_VERSION\t$other/"
out=$(with_fake)
rc=$?
ok "configure fails against the ABI $abi API declared as ABI $other" test "$rc" -ne 0
like "$out" "error: knot/module.h declares module ABI $other but its API does not match that ABI \($want" \
	"error names the features missing for ABI $other"
ok "no Makefile was generated" test ! -f Makefile

# 3. A function the modules use is gone.
fake 's/^int knotd_mod_hook(/int knotd_mod_hook_gone(/'
ok "fake header lacks knotd_mod_hook" test "$(grep -c '^int knotd_mod_hook(' "$ZG_TMP/inc/knot/module.h")" -eq 0
out=$(with_fake)
rc=$?
ok "configure fails without knotd_mod_hook" test "$rc" -ne 0
like "$out" "error: knot/module.h \(module ABI $abi\) lacks what zonegate's modules use: knotd_mod_hook$" \
	"error names the missing function"

# 4. The installed headers.
out=$(./configure -q 2>&1)
rc=$?
is "$rc" 0 "configure succeeds against the installed headers (module ABI $abi)"
like "$(cat config.h)" "^#define ZG_KNOTD_MOD_ABI $abi$" "config.h records module ABI $abi"
case $abi in
400) feat=ZG_KNOTD_LOCAL_ADDR_BUF ;;
500) feat=ZG_KNOTD_CONST_MOD ;;
*) feat=ZG_KNOTD_PROTO_STAGES ;;
esac
like "$(cat config.h)" "^#define $feat 1$" "config.h has $feat for ABI $abi"
zg_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# configure refuses a knot/module.h with another module ABI (here a copy of
# the installed header with the ABI number changed), naming both numbers.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
hdr=$(echo '#include <knot/module.h>' | cpp -H $(pkg-config --cflags knotd) 2>&1 >/dev/null |
	grep -m1 'knot/module.h' | awk '{print $2}')
[ -f "$hdr" ] || zg_skip_all "knot/module.h not found"

mkdir -p "$ZG_TMP/inc/knot" "$ZG_TMP/build/lib/core"
# configure runs in a copy of the configure-time files (the source tree may
# itself be configured, which forbids a VPATH build from it).
for f in configure Makefile.in config.h.in build-aux lib/core/error.h; do
	cp -a "$ZG_SRCDIR/$f" "$ZG_TMP/build/$f" || zg_bail "cannot copy $f (run autoreconf first)"
done
sed 's/^#define KNOTD_MOD_ABI_VERSION.*/#define KNOTD_MOD_ABI_VERSION\t500/' "$hdr" >"$ZG_TMP/inc/knot/module.h"
ok "fake header declares ABI 500" grep -q 'KNOTD_MOD_ABI_VERSION.*500' "$ZG_TMP/inc/knot/module.h"

cd "$ZG_TMP/build" || zg_bail "no build dir"
out=$(./configure -q CPPFLAGS="-I$ZG_TMP/inc" 2>&1)
rc=$?
ok "configure fails against ABI 500" test "$rc" -ne 0
like "$out" "module ABI '500' but zonegate supports only ABI 400" "error names both ABIs"
ok "no Makefile was generated" test ! -f Makefile

out=$(./configure -q 2>&1)
rc=$?
is "$rc" 0 "configure succeeds against the installed Knot 3.2 headers"
zg_done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The operator documentation agrees with the tools and the tree: each tool's
# --help and manual page name the same long options (the usage lines too),
# the manual pages share one footer, every doc/ file is installed by make
# install, each module example is its .rst's, the log catalogue lists every
# module log line, systemd accepts the
# zg-ingest unit, and the user docs point into the repository, not at the design
# directory outside it.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init

opts() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' '; }
footer=
for t in zg-verify zg-ingest zg-checkds zg-keys zg-signer zg-status; do
	help=$("$ZG_BUILDDIR/libtool" --mode=execute "$ZG_BUILDDIR/tools/$t" --help 2>&1)
	man=$(sed 's/\\-/-/g' "$ZG_SRCDIR/tools/$t.1")
	is "$(printf '%s\n' "$help" | opts)" "$(printf '%s\n' "$man" | opts)" \
		"$t: --help and the manual page name the same long options"
	# The usage lines (up to the first empty line) against the options list.
	usage=$(printf '%s\n' "$help" | sed '/^$/q' | opts)
	for o in $(printf '%s\n' "$help" | sed '1,/^$/d' | grep -E '^ +(-[a-z], )?--' | opts); do
		case "$o" in --help|--version) continue ;; esac
		case " $usage " in
		*" $o "*) ;;
		*) [ "$t" = zg-checkds ] && ok "zg-checkds usage lines name $o" false ;;
		esac
	done
	th=$(grep -m 1 '^\.TH ' "$ZG_SRCDIR/tools/$t.1" | cut -d' ' -f4-)
	if [ -z "$footer" ]; then
		footer=$th
	else
		is "$th" "$footer" "$t.1: the same date, source and manual as the other pages"
	fi
done
usage=$("$ZG_BUILDDIR/libtool" --mode=execute "$ZG_BUILDDIR/tools/zg-checkds" --help 2>&1 | sed '/^$/q')
like "$usage" "\[--timeout MS\]" "zg-checkds usage names --timeout MS"
like "$usage" "\[--time UNIXTIME\]" "zg-checkds usage names --time UNIXTIME"

# make install puts every doc/ file where the docs say.
dest=$ZG_TMP/inst
# (Only the data targets: a full install relinks programs in the build tree
# other tests run from.)
ok "make install of the documents into a staging directory" \
	make -C "$ZG_BUILDDIR" -s install-dist_docDATA install-dist_pkgdataDATA DESTDIR="$dest"
prefix=$(sed -n 's/^prefix = //p' "$ZG_BUILDDIR/Makefile")
for f in "$ZG_SRCDIR"/doc/*.md; do
	b=$(basename "$f")
	ok "doc/$b installed in the doc directory" test -f "$dest$prefix/share/doc/zonegate/$b"
done
ok "zonegate-queue.sql installed in the data directory" test -f "$dest$prefix/share/zonegate/zonegate-queue.sql"
like "$(cat "$ZG_SRCDIR/doc/postgresql.md")" "/usr/share/zonegate/zonegate-queue.sql" \
	"doc/postgresql.md names the installed DDL's path"

# Each module's shipped example is its .rst's Example section, verbatim
# (modules-load.sh loads that into knotd); installed with the docs.
ok "make install of the module examples" \
	make -C "$ZG_BUILDDIR" -s install-dist_zgmoduleexampleDATA DESTDIR="$dest"
for m in ingest validate dsync keys; do
	is "$(sed '/^#/d' "$ZG_SRCDIR/modules/$m/$m.conf" | sed '/./,$!d')" \
		"$("$PYTHON3" "$ZG_SRCDIR/tests/func/rst-example.py" "$ZG_SRCDIR/modules/$m/$m.rst")" \
		"modules/$m/$m.conf is $m.rst's example (else regenerate it from the .rst with tests/func/rst-example.py)"
	ok "$m.conf installed in the examples directory" test -f "$dest$prefix/share/doc/zonegate/examples/$m.conf"
done

# The systemd unit of zg-ingest run: systemd accepts it as it is (an
# instance of the template, the program of the build tree in its place).
unit=$ZG_SRCDIR/tools/zg-ingest@.service
ok "debian/ links the unit the package installs" \
	test "$(readlink -f "$ZG_SRCDIR/debian/zonegate-tools.zg-ingest@.service")" = "$(readlink -f "$unit")"
like "$(grep '^ExecStart=' "$unit")" "^ExecStart=/usr/bin/zg-ingest run " "the unit runs /usr/bin/zg-ingest run"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$ZG_TMP/unit"
	sed "s|/usr/bin/zg-ingest|$ZG_BUILDDIR/tools/zg-ingest|" "$unit" >"$ZG_TMP/unit/zg-ingest@example.service"
	out=$(systemd-analyze verify --man=no "$ZG_TMP/unit/zg-ingest@example.service" 2>&1); rc=$?
	is "$rc:$out" "0:" "systemd-analyze verify accepts zg-ingest@example.service without a warning"
	# The check can fail: an unknown key is a warning it reports.
	sed 's/^UMask=/UMaks=/' "$ZG_TMP/unit/zg-ingest@example.service" >"$ZG_TMP/unit/zg-ingest@typo.service"
	like "$(systemd-analyze verify --man=no "$ZG_TMP/unit/zg-ingest@typo.service" 2>&1)" "Unknown key" \
		"systemd-analyze verify reports a misspelt key (the check above can fail)"
	unit=$ZG_SRCDIR/tools/zg-signer@.service
	ok "debian/ links the zg-signer unit the package installs" \
		test "$(readlink -f "$ZG_SRCDIR/debian/zonegate-tools.zg-signer@.service")" = "$(readlink -f "$unit")"
	sed "s|/usr/bin/zg-signer|$ZG_BUILDDIR/tools/zg-signer|" "$unit" >"$ZG_TMP/unit/zg-signer@example.service"
	out=$(systemd-analyze verify --man=no "$ZG_TMP/unit/zg-signer@example.service" 2>&1); rc=$?
	is "$rc:$out" "0:" "systemd-analyze verify accepts zg-signer@example.service without a warning"
else
	zg_diag "systemd-analyze not installed: the unit is not verified"
fi

# doc/architecture.md names every file of lib/, every module and tool, and
# nothing that is gone (tests/func/arch-map.py); the check can fail both ways.
arch_py=$ZG_SRCDIR/tests/func/arch-map.py
out=$("$PYTHON3" "$arch_py" "$ZG_SRCDIR" 2>&1); rc=$?
is "$rc:$out" "0:" "doc/architecture.md names every file of lib/, modules/ and tools/ (arch-map.py)"
mkdir -p "$ZG_TMP/arch"
for f in "$ZG_SRCDIR"/*; do ln -s "$f" "$ZG_TMP/arch/"; done
rm "$ZG_TMP/arch/lib" && cp -r "$ZG_SRCDIR/lib" "$ZG_TMP/arch/lib"
: >"$ZG_TMP/arch/lib/core/newpart.c"
out=$("$PYTHON3" "$arch_py" "$ZG_TMP/arch" 2>&1); rc=$?
is "$rc:$out" "1:missing lib/core/newpart.c" "a new library file the page does not name fails the check"
rm -f "$ZG_TMP/arch/lib/core/newpart.c" "$ZG_TMP/arch/lib/dsync/scansched.c" "$ZG_TMP/arch/lib/dsync/scansched.h"
out=$("$PYTHON3" "$arch_py" "$ZG_TMP/arch" 2>&1); rc=$?
is "$rc:$out" "1:stale lib/dsync/scansched" "a file the page names that is gone fails the check"
rm -rf "$ZG_TMP/arch"

# The log catalogue lists every module log line of the sources, and nothing
# else; the check fails for a new line without an entry and for a stale entry.
cat_py=$ZG_SRCDIR/tests/func/log-catalogue.py
out=$("$PYTHON3" "$cat_py" "$ZG_SRCDIR" "$ZG_SRCDIR/doc/log-messages.md" 2>&1); rc=$?
is "$rc:$out" "0:" "doc/log-messages.md lists each module's log lines (tests/func/log-catalogue.py)"
n=$("$PYTHON3" "$cat_py" "$ZG_SRCDIR" | wc -l)
ok "the catalogue check reads the sources ($n formats)" test "$n" -ge 100
mkdir -p "$ZG_TMP/cat/modules" "$ZG_TMP/cat/lib"
cp -r "$ZG_SRCDIR/modules/." "$ZG_TMP/cat/modules/"
cp -r "$ZG_SRCDIR/lib/." "$ZG_TMP/cat/lib/"
printf 'static void x(knotd_mod_t *mod)\n{\n\tknotd_mod_log(mod, LOG_INFO, "uncatalogued %%s line", "new");\n}\n' \
	>>"$ZG_TMP/cat/modules/keys/keys.c"
out=$("$PYTHON3" "$cat_py" "$ZG_TMP/cat" "$ZG_SRCDIR/doc/log-messages.md" 2>&1); rc=$?
is "$rc:$out" "1:missing	mod-keys	uncatalogued %s line" "a new log line without an entry fails the check"
grep -v '^- `spool %s locked, consuming it`' "$ZG_SRCDIR/doc/log-messages.md" >"$ZG_TMP/cat/less.md"
out=$("$PYTHON3" "$cat_py" "$ZG_SRCDIR" "$ZG_TMP/cat/less.md" 2>&1); rc=$?
is "$rc:$out" "1:missing	mod-ingest	spool %s locked, consuming it" "a line of a library run by the module (lib/ingest) is checked too"
sed 's/^- `consuming %s`/- `consuming %s now`/' "$ZG_SRCDIR/doc/log-messages.md" >"$ZG_TMP/cat/stale.md"
like "$("$PYTHON3" "$cat_py" "$ZG_SRCDIR" "$ZG_TMP/cat/stale.md" 2>&1)" "^stale	mod-ingest	consuming %s now" \
	"an entry whose line is gone fails the check"

# Every panel query of the dashboard is one its preview script
# (contrib/grafana/render-preview.py) evaluates; one it does not is named.
preview=$ZG_SRCDIR/contrib/grafana/render-preview.py
ok "render-preview.py understands every query of contrib/grafana/zonegate.json" \
	"$PYTHON3" "$preview" check "$ZG_SRCDIR/contrib/grafana/zonegate.json"
sed 's/"expr": "zonegate_freshness_seconds{zone=~\\"$zone\\"}"/"expr": "rate(zonegate_freshness_seconds[5m])"/' \
	"$ZG_SRCDIR/contrib/grafana/zonegate.json" >"$ZG_TMP/dash.json"
out=$("$PYTHON3" "$preview" check "$ZG_TMP/dash.json" 2>&1); rc=$?
is "$rc:$out" '1:panel "Freshness (zg-status)": query not understood: rate(zonegate_freshness_seconds[5m])' \
	"a query render-preview.py cannot evaluate fails the check"
ok "doc/status.md shows the dashboard's preview" grep -q '](figures/dashboard.png)' "$ZG_SRCDIR/doc/status.md"
ok "doc/figures/dashboard.png is a PNG" \
	"$PYTHON3" -c 'import sys; sys.exit(open(sys.argv[1], "rb").read(8) != b"\x89PNG\r\n\x1a\n")' "$ZG_SRCDIR/doc/figures/dashboard.png"

# The user docs stand alone.
for f in $(cd "$ZG_SRCDIR" && echo README modules/*/*.rst tools/*.1 doc/*.md); do
	unlike "$(cat "$ZG_SRCDIR/$f")" "shared/design|CONTRACTS\.md" "$f does not send the reader outside the repository"
done
# Every doc/ file a README line points at exists.
for d in $(grep -o 'doc/[a-z-]*\.\(md\|sql\)' "$ZG_SRCDIR/README" | sort -u); do
	ok "README's $d exists" test -f "$ZG_SRCDIR/$d"
done
zg_done

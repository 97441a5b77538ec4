#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Debian packaging test (issue 7): builds the .deb packages from the tree with
# dpkg-buildpackage, checks their contents and lintian, installs them with
# dpkg, then does what an operator does on an existing Knot server: a running
# Debian knotd, the packages installed, a config stanza referencing
# mod-ingest, mod-validate, mod-dsync and mod-keys by name only (no `module: file:`),
# `knotc reload`; then a cold start with that config. Finally purges the
# packages and checks that nothing is left behind. Also: the module docs and
# examples ship readable (not .gz), and systemd accepts the zg-ingest unit.
#
# Serial test (scripts/test.sh runs tests/serial/*.sh after `make check`):
# installed modules are auto-loaded by every knotd of the machine and would
# clash with tests that load the build tree's modules by `file:`.
# To keep even that window closed, by default the test runs in a private
# mount namespace where /usr, /etc and /var are overlays whose changes are
# thrown away at exit: dpkg really installs and purges, knotd really loads
# the modules from its own module directory, and the machine is untouched.
# Where that sandbox is not possible (no unshare/overlayfs, or
# ZG_PKG_SANDBOX=0) the packages are installed on the machine itself and
# purged at exit, also when the test fails.
#
#   ZG_PKG_SANDBOX=0     install on the machine instead of in the sandbox
#   ZG_PKG_FROM=HEAD     build from the last commit (git archive) instead of
#                        the working tree's tracked and new, not ignored files
#   ZG_PKG_NOCHECK=1     skip the unit tests inside the package build
#                        (DEB_BUILD_OPTIONS=nocheck)

: "${ZG_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)}"

command -v dpkg-buildpackage >/dev/null 2>&1 || {
	echo "1..0 # SKIP dpkg-buildpackage not installed"; exit 0; }

# Re-run this script in a private mount namespace (see above).
if [ -z "${ZG_PKG_IN_SANDBOX:-}" ] && [ "${ZG_PKG_SANDBOX:-1}" != 0 ] &&
   [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
	export ZG_PKG_IN_SANDBOX=1 ZG_SRCDIR
	exec unshare -m --propagation private bash "${BASH_SOURCE[0]:-$0}" "$@"
fi

. "$ZG_SRCDIR/tests/func/lib.sh"

[ "$(id -u)" -eq 0 ] || zg_skip_all "installing packages with dpkg -i needs root"
command -v lintian >/dev/null 2>&1 || zg_skip_all "lintian not installed"
git -C "$ZG_SRCDIR" rev-parse --git-dir >/dev/null 2>&1 ||
	zg_skip_all "$ZG_SRCDIR is not a git checkout (the packages are built from its files)"
[ -x "$KNOTD" ] || zg_skip_all "knotd not installed"

zg_init

PKGS="knot-module-ingest knot-module-validate knot-module-dsync knot-module-keys zonegate-tools libzonegate0 libzonegate-dev"
MODULES="ingest validate dsync keys"
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
MODDIR=$($PKG_CONFIG --variable=module_instdir knotd)
KNOT_VERSION=$($PKG_CONFIG --modversion knotd)
KNOT_SERIES=$(echo "$KNOT_VERSION" | cut -d. -f1,2)
KNOT_NEXT=$(echo "$KNOT_VERSION" | awk -F. '{ print $1 "." $2 + 1 }')
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
[ -n "$MODDIR" ] && [ -n "$KNOT_SERIES" ] || zg_bail "pkg-config knotd not usable (install libknot-dev)"

# --- the source tree -------------------------------------------------------

src=$ZG_TMP/build/zonegate
mkdir -p "$src"
if [ "${ZG_PKG_FROM:-}" = HEAD ]; then
	git -C "$ZG_SRCDIR" archive --format=tar HEAD | tar -C "$src" -xf -
else
	# What a commit of the working tree would hold: tracked files as they
	# are now plus new files that are not ignored (no build products).
	(cd "$ZG_SRCDIR" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done | tar --null --no-recursion -T - -cf -) | tar -C "$src" -xf -
fi
[ -x "$src/debian/rules" ] || zg_bail "no executable debian/rules in the copied tree"
[ ! -e "$src/configure" ] || zg_bail "the copied tree holds build products (configure)"

deb_version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream_version=${deb_version%-*}
ac_version=$(sed -n 's/^AC_INIT(\[zonegate\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
is "$upstream_version" "$ac_version" "debian/changelog version $deb_version matches configure.ac ($ac_version)"

# --- build -----------------------------------------------------------------

opts="parallel=2 noautodbgsym"
[ -n "${ZG_PKG_NOCHECK:-}" ] && opts="$opts nocheck"
zg_diag "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=$opts)"
if (cd "$src" && DEB_BUILD_OPTIONS="$opts" timeout -k 10 480 \
	dpkg-buildpackage -us -uc -b) >"$ZG_TMP/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b (${SECONDS}s)"
else
	fail "dpkg-buildpackage -us -uc -b" "$(tail -n 40 "$ZG_TMP/build.log")"
	cp "$ZG_TMP/build.log" "$ZG_SRCDIR/tests/serial/debian-package.build.log" 2>/dev/null &&
		zg_diag "build log: tests/serial/debian-package.build.log"
	zg_done
fi

if [ -z "${ZG_PKG_NOCHECK:-}" ]; then
	units=$(grep -c '^PASS: tests/unit/' "$ZG_TMP/build.log")
	if [ "$units" -gt 0 ] && ! grep -Eq '^(FAIL|ERROR): ' "$ZG_TMP/build.log"; then
		pass "dh_auto_test ran the unit tests ($units points passed)"
	else
		fail "dh_auto_test ran the unit tests" "$(grep -E '^(PASS|FAIL|ERROR|SKIP): ' "$ZG_TMP/build.log" | tail -n 10)"
	fi
	unlike "$(grep -E '^(PASS|FAIL|ERROR|SKIP): ' "$ZG_TMP/build.log")" "tests/func/" \
		"dh_auto_test ran no functional test (no knotd, no PostgreSQL)"
fi

debdir=$ZG_TMP/build
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
debs=()
for p in $PKGS; do
	deb=$debdir/${p}_${deb_version}_${arch}.deb
	if [ -f "$deb" ]; then
		pass "$p package built"
		debs+=("$deb")
	else
		fail "$p package built" "no $deb; built: $(ls "$debdir"/*.deb 2>/dev/null | xargs -n1 basename)"
	fi
done
[ ${#debs[@]} -eq 7 ] || zg_done

deb_of() { echo "$debdir/${1}_${deb_version}_${arch}.deb"; }
deb_files() { dpkg-deb -c "$(deb_of "$1")" | awk '{ print $6 }' | sed 's|^\./|/|'; }

# --- contents --------------------------------------------------------------

knot_dep="knot (>= $KNOT_SERIES), knot (<< $KNOT_NEXT~)"
for m in $MODULES; do
	p=knot-module-$m
	files=$(deb_files "$p")
	like "$files" "^$MODDIR/$m\.so\$" "$p ships $m.so in knotd's module directory"
	is "$(printf '%s\n' "$files" | grep -c '\.so$')" 1 "$p ships no other shared object"
	like "$files" "^/usr/share/doc/$p/$m\.rst\$" "$p ships the $m.rst reference, readable (not compressed)"
	like "$files" "^/usr/share/doc/$p/examples/$m\.conf\$" "$p ships the example stanza examples/$m.conf"
	like "$files" "^/usr/share/doc/$p/log-messages\.md\$" "$p ships the log catalogue log-messages.md, readable"
	like "$files" "^/usr/share/doc/$p/README(\.gz)?\$" "$p ships the README (how to install)"
	depends=$(dpkg-deb -f "$(deb_of "$p")" Depends)
	like "$depends" "(^|, )knot \\(>= $KNOT_SERIES\\), knot \\(<< $KNOT_NEXT~\\)(,|\$)" \
		"$p depends on the Knot series it was built for: $knot_dep"
	ctrl=$(dpkg-deb --ctrl-tarfile "$(deb_of "$p")" | tar -t)
	unlike "$ctrl" "(pre|post)(inst|rm)\$" \
		"$p has no maintainer scripts (installing starts nothing)"
	# The module must export knotd_mod_api and nothing else.
	mkdir -p "$ZG_TMP/x/$p"
	dpkg-deb -x "$(deb_of "$p")" "$ZG_TMP/x/$p"
	syms=$(nm -D --defined-only "$ZG_TMP/x/$p$MODDIR/$m.so" 2>&1 | awk '{ print $3 }' | sort -u)
	is "$syms" knotd_mod_api "$m.so exports only knotd_mod_api"
	ok "$p: examples/$m.conf is the tree's modules/$m/$m.conf (the .rst's example)" \
		cmp "$ZG_TMP/x/$p/usr/share/doc/$p/examples/$m.conf" "$ZG_SRCDIR/modules/$m/$m.conf"
done

# The operator documents beside the module and tool references.
files=$(deb_files knot-module-ingest)
for d in message-schema.md postgresql.md; do
	like "$files" "^/usr/share/doc/knot-module-ingest/${d//./\\.}\$" "knot-module-ingest ships $d, readable"
done

files=$(deb_files libzonegate0)
like "$files" "^/usr/lib/$MULTIARCH/libzonegate\.so\.0\$" "libzonegate0 ships libzonegate.so.0"
unlike "$files" "\.la\$|^/usr/include/|libzonegate\.so\$" "libzonegate0 ships no development files"
files=$(deb_files libzonegate-dev)
like "$files" "^/usr/lib/$MULTIARCH/libzonegate\.so\$" "libzonegate-dev ships the link library"
like "$files" "^/usr/include/zonegate/core/error\.h\$" "libzonegate-dev ships the headers (by capability: core/error.h)"

# zonegate-tools carries whatever `make install` put into /usr/bin (the tools
# land one by one), each with its manual page.
files=$(deb_files zonegate-tools)
tools=$(printf '%s\n' "$files" | sed -n 's|^/usr/bin/\([^/]\{1,\}\)$|\1|p' | tr '\n' ' ')
tools=${tools% }
built_tools=$(cd "$src/debian/tmp/usr/bin" 2>/dev/null && echo *)
[ "$built_tools" = "*" ] && built_tools=
is "$tools" "$built_tools" "zonegate-tools ships every installed program (${tools:-none yet})"
for t in $tools; do
	like "$files" "^/usr/share/man/man1/$t\.1(\.gz)?\$" "zonegate-tools ships the manual page of $t"
done
# Every operator document of doc/ (the source tree's list, so a new one
# cannot be forgotten), and the queue's DDL where the docs say it is.
for d in $(cd "$ZG_SRCDIR/doc" && echo *.md); do
	like "$files" "^/usr/share/doc/zonegate-tools/${d//./\\.}\$" "zonegate-tools ships doc/$d, readable (not compressed)"
done
like "$files" "^/usr/share/zonegate/zonegate-queue\.sql\$" \
	"zonegate-tools ships the queue DDL as /usr/share/zonegate/zonegate-queue.sql (uncompressed)"
# zg-ingest run under systemd: the template unit, nothing enabled or started.
like "$files" "^(/usr)?/lib/systemd/system/zg-ingest@\.service\$" "zonegate-tools ships the unit zg-ingest@.service"
unit_path=$(printf '%s\n' "$files" | grep -m 1 '/lib/systemd/system/zg-ingest@\.service$')
ctrl=$(dpkg-deb -I "$(deb_of zonegate-tools)" postinst 2>/dev/null)
unlike "$ctrl" "deb-systemd-invoke.*start|systemctl.*start" "zonegate-tools starts no zg-ingest unit at installation"

# --- lintian (in the background while the packages are tried out) ----------

changes=$debdir/zonegate_${deb_version}_${arch}.changes
timeout -k 10 240 lintian --fail-on error --display-info "$changes" >"$ZG_TMP/lintian.out" 2>&1 &
lintian_pid=$!
_zg_pids+=("$lintian_pid")
lintian_result() {
	local rc lint
	wait "$lintian_pid"
	rc=$?
	lint=$(grep -v 'running with root privileges' "$ZG_TMP/lintian.out")
	if [ $rc -eq 0 ]; then
		pass "lintian: no errors"
	else
		fail "lintian: no errors (exit $rc)" "$(printf '%s\n' "$lint" | grep -E '^E: ' || printf '%s\n' "$lint" | tail -n 5)"
	fi
	[ -n "$lint" ] && zg_diag "lintian (debian/README.source explains the warnings):
$lint"
	lintian_pid=
}

# --- the sandbox -----------------------------------------------------------

if [ -n "${ZG_PKG_IN_SANDBOX:-}" ]; then
	sandboxed=1
	for d in usr etc var; do
		mkdir -p "$ZG_TMP/overlay/$d/upper" "$ZG_TMP/overlay/$d/work"
		if ! mount -t overlay zg-pkg-test -o "lowerdir=/$d,upperdir=$ZG_TMP/overlay/$d/upper,workdir=$ZG_TMP/overlay/$d/work" "/$d" 2>"$ZG_TMP/mount.err"; then
			zg_diag "no overlay for /$d ($(cat "$ZG_TMP/mount.err")): installing on this machine"
			sandboxed=
			break
		fi
		zg_on_exit "umount -l /$d"
	done
	if [ -z "$sandboxed" ]; then
		for d in var etc usr; do umount "/$d" 2>/dev/null; done
	fi
fi
if [ -n "${sandboxed:-}" ]; then
	zg_diag "installing in a private mount namespace (/usr, /etc, /var are throwaway overlays)"
else
	zg_diag "installing on this machine; the packages are purged at exit"
fi

# --- an existing Knot server, before the packages --------------------------

dir=$ZG_TMP/knot
port=$(zg_free_port)
ZG_MODULES_INSTALLED=1 zg_knot_conf "$dir" "$port" >"$dir.base.conf"
zg_genzone test. 30 1 >"$dir/zones/test.zone"
mkdir -p "$dir/spool/incoming" "$dir/spool/done" "$dir/spool/failed"

zone_conf() {  # zone_conf [MODULES]
	cat "$dir.base.conf"
	if [ -n "${1:-}" ]; then
		cat <<CONF
key:
  - id: signer-key
    algorithm: hmac-sha256
    secret: Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=

mod-ingest:
  - id: registry
    source: spool:$dir/spool
    key: signer-key
    server: 127.0.0.1@$port

mod-validate:
  - id: gate
    source: 127.0.0.1@$port

mod-dsync:
  - id: child
    mode: child

mod-keys:
  - id: interlock
    register: $dir/keys.register

CONF
	fi
	cat <<CONF
zone:
  - domain: test.
    file: "$dir/zones/test.zone"
    zonefile-sync: -1
CONF
	[ -n "${1:-}" ] && echo "    module: [mod-ingest/registry, mod-validate/gate, mod-dsync/child, mod-keys/interlock]"
}

zone_conf >"$dir/knot.conf"
for m in $MODULES; do
	[ -e "$MODDIR/$m.so" ] && zg_bail "$MODDIR/$m.so exists before the packages are installed (remove it first)"
done
if zg_knotd_start "$dir" 2>"$ZG_TMP/start.err" && zg_wait 30 zg_zone_loaded "$dir" test.; then
	pass "stock knotd serves zone test. before the packages are installed"
else
	zg_bail "stock knotd did not start: $(cat "$ZG_TMP/start.err")"
fi
zone_conf modules >"$ZG_TMP/with-modules.conf"
if "$KNOTC" -c "$ZG_TMP/with-modules.conf" conf-check >"$ZG_TMP/cc.out" 2>&1; then
	fail "without the packages, a config naming mod-ingest is refused"
else
	pass "without the packages, a config naming mod-ingest is refused"
fi

# --- install ---------------------------------------------------------------

purge_all() {
	dpkg --purge $PKGS knot-module-ingest-dbgsym knot-module-validate-dbgsym \
		knot-module-dsync-dbgsym knot-module-keys-dbgsym libzonegate0-dbgsym zonegate-tools-dbgsym
}
zg_on_exit "purge_all"
ok "dpkg -i installs the packages" timeout -k 10 120 dpkg -i "${debs[@]}"
for p in $PKGS; do
	st=$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null)
	is "${st% }" ii "$p is installed"
done
for m in $MODULES; do
	ok "$m.so is in $MODDIR" test -f "$MODDIR/$m.so"
done

# The installed unit, as systemd sees an instance of it (the program and its
# manual page are installed now: verify checks both).
if command -v systemd-analyze >/dev/null 2>&1 && [ -n "$unit_path" ]; then
	mkdir -p "$ZG_TMP/unit"
	cp "$unit_path" "$ZG_TMP/unit/zg-ingest@example.service"
	man_opt=--man=no
	command -v man >/dev/null 2>&1 && man_opt=--man=yes
	out=$(systemd-analyze verify "$man_opt" "$ZG_TMP/unit/zg-ingest@example.service" 2>&1); rc=$?
	is "$rc:$out" "0:" "systemd-analyze verify ($man_opt) accepts the installed zg-ingest@.service"
else
	zg_diag "systemd-analyze not installed (or no unit): the installed unit is not verified"
fi

check_modules() {  # check_modules WHAT: knotd of $dir runs the four modules
	local what=$1 m out log
	log=$(cat "$dir/knotd.log" 2>/dev/null)
	for m in $MODULES; do
		like "$log" "mod-$m" "$what: knotd log mentions mod-$m"
	done
	unlike "$log" "failed to open|duplicate module|incompatible version|module name mismatch|failed to load" \
		"$what: no module load errors in the log"
	for m in $MODULES; do
		out=$(zg_knotc "$dir" -f zone-stats test. "mod-$m" 2>&1)
		like "$out" "^\\[test\\.\\] mod-$m\\.[a-z0-9-]+ = [0-9]+" \
			"$what: knotc zone-stats test. mod-$m shows its counters"
	done
	ok "$what: knotd is running" kill -0 "$(cat "$dir/knotd.pid")"
}

# --- the three operator steps: package, config stanza, knotc reload --------

cp "$ZG_TMP/with-modules.conf" "$dir/knot.conf"
unlike "$(cat "$dir/knot.conf")" "^module:|\\.so\"?\$" "the config has no module: section and no .so path"
ok "knotc conf-check accepts mod-ingest, mod-validate, mod-dsync and mod-keys by name" \
	zg_knotc "$dir" conf-check
ok "knotc reload" zg_knotc "$dir" reload
zg_wait 30 sh -c "grep -q 'mod-dsync' '$dir/knotd.log'" || zg_diag "no mod-dsync log line within 30 s"
check_modules "after knotc reload"
ok "knotd stops" zg_knotd_stop "$dir"

# --- a cold start with the modules configured ------------------------------

mv "$dir/knotd.log" "$dir/knotd.log.1"
if zg_knotd_start "$dir" 2>"$ZG_TMP/start.err" && zg_wait 30 zg_zone_loaded "$dir" test.; then
	pass "knotd starts with the modules by name and loads zone test."
	zg_wait 30 sh -c "grep -q 'mod-dsync' '$dir/knotd.log'"
	check_modules "cold start"
else
	fail "knotd starts with the modules by name and loads zone test." "$(cat "$ZG_TMP/start.err")"
fi
ok "knotd stops" zg_knotd_stop "$dir"

lintian_result

# --- purge: nothing left behind --------------------------------------------

ok "dpkg --purge removes the packages" timeout -k 10 120 dpkg --purge $PKGS
for p in $PKGS; do
	if dpkg -L "$p" >/dev/null 2>&1; then
		fail "$p is gone (dpkg -L fails)" "$(dpkg -L "$p" | head -n 5)"
	else
		pass "$p is gone (dpkg -L fails)"
	fi
done
left=$(ls -d "$MODDIR"/ingest.* "$MODDIR"/validate.* "$MODDIR"/dsync.* "$MODDIR"/keys.* \
	/usr/share/doc/knot-module-* /usr/share/doc/zonegate-tools /usr/share/doc/libzonegate* \
	/usr/include/zonegate "/usr/lib/$MULTIARCH"/libzonegate.* 2>/dev/null)
is "$left" "" "nothing of the packages is left behind"
ok "Debian's knot is still installed" dpkg-query -W knot

zg_done

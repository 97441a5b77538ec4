# SPDX-License-Identifier: GPL-3.0-or-later
# Functional test harness: TAP output, temp dirs, real knotd / SoftHSM /
# PostgreSQL instances on loopback. Source it from a test script:
#
#   . "$ZG_SRCDIR/tests/func/lib.sh"
#   zg_init            # temp dir in $ZG_TMP, cleanup trap
#   ok CMD... ; is GOT WANT NAME ; like TEXT REGEX NAME
#   zg_done            # prints the plan, exit status
#
# Everything started here is recorded and stopped by pid at exit, also when
# the test fails or is interrupted. Every wait is bounded. Set ZG_KEEP=1 to
# keep the temp dir for inspection.

: "${ZG_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)}"
: "${ZG_BUILDDIR:=$ZG_SRCDIR}"
: "${KNOTD:=$(command -v knotd || echo /usr/sbin/knotd)}"
: "${KNOTC:=$(command -v knotc || echo /usr/sbin/knotc)}"
: "${PYTHON3:=python3}"
ZG_SOFTHSM_LIB=${ZG_SOFTHSM_LIB:-/usr/lib/softhsm/libsofthsm2.so}
ZG_MODULE_LIBDIR=${ZG_MODULE_LIBDIR:-}

_zg_n=0
_zg_failed=0
_zg_pids=()
_zg_cleanups=()

zg_diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /'; }

# ok NAME CMD... : runs CMD, one test point named NAME.
ok() {
	local name=$1; shift
	_zg_n=$((_zg_n + 1))
	# Run in this shell (not a subshell), so what CMD sets or starts stays known.
	local outf=${ZG_TMP:-/tmp}/.ok.$$.out
	if "$@" >"$outf" 2>&1; then
		echo "ok $_zg_n - $name"
	else
		echo "not ok $_zg_n - $name"
		_zg_failed=$((_zg_failed + 1))
		zg_diag "command: $*"
		[ -s "$outf" ] && zg_diag "$(tail -n 15 "$outf")"
	fi
	rm -f "$outf"
	return 0
}

# pass/fail NAME: record a test point decided by the caller.
pass() { _zg_n=$((_zg_n + 1)); echo "ok $_zg_n - $1"; }
fail() {
	_zg_n=$((_zg_n + 1)); _zg_failed=$((_zg_failed + 1))
	echo "not ok $_zg_n - $1"; shift; [ $# -gt 0 ] && zg_diag "$*"
	return 0
}

# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got '$1', expected '$2'"; fi
}

# like TEXT EXTENDED-REGEX NAME
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3" "no match for /$2/ in: $(printf '%s\n' "$1" | tail -n 10)"
	fi
}

# unlike TEXT EXTENDED-REGEX NAME
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		fail "$3" "unexpected match for /$2/ in: $(printf '%s\n' "$1" | grep -E -- "$2" | head -n 5)"
	else
		pass "$3"
	fi
}

zg_skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# bail REASON: abort the test (counts as failure), cleanup still runs.
zg_bail() { echo "Bail out! $*"; exit 1; }

zg_done() {
	echo "1..$_zg_n"
	if [ "$_zg_n" -eq 0 ]; then
		zg_diag "no test ran"
		exit 1
	fi
	[ "$_zg_failed" -eq 0 ]
	exit $?
}

_zg_cleanup() {
	local i
	for ((i = ${#_zg_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_zg_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	local pids=("${_zg_pids[@]}")
	[ -f "${ZG_TMP:-}/.pids" ] && pids+=($(cat "$ZG_TMP/.pids"))
	for pid in "${pids[@]}"; do
		zg_stop_pid "$pid" >/dev/null 2>&1 || true
	done
	if [ -n "${ZG_TMP:-}" ] && [ -d "$ZG_TMP" ]; then
		if [ -n "${ZG_KEEP:-}" ]; then
			echo "# kept $ZG_TMP" >&2
		else
			rm -rf "$ZG_TMP"
		fi
	fi
}

# zg_on_exit CMD: run CMD (a string) at exit, before pids are stopped.
zg_on_exit() { _zg_cleanups+=("$1"); }

zg_init() {
	ZG_TMP=$(mktemp -d /tmp/zg.XXXXXX) || zg_bail "cannot create temp dir"
	chmod 755 "$ZG_TMP"
	trap _zg_cleanup EXIT
	trap 'exit 130' INT TERM
}

# zg_track_pid PID: stop PID at exit (also when recorded from a subshell).
zg_track_pid() {
	_zg_pids+=("$1")
	[ -n "${ZG_TMP:-}" ] && echo "$1" >>"$ZG_TMP/.pids"
	return 0
}

# zg_wait SECONDS CMD...: retry CMD every 0.1 s until it succeeds or time runs out.
zg_wait() {
	local deadline=$((SECONDS + $1)); shift
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
	return 0
}

# zg_keymgr ARGS...: keymgr's output, asked again (bounded, 30 s) while it
# fails or says nothing. keymgr next to a knotd that is signing can find no
# key for a moment (Knot 3.5 under CI load: exit 0, no output, no error); what
# it said last goes to stderr as a diagnostic if it never answers.
zg_keymgr() {
	local out err deadline=$((SECONDS + 30))
	err=$(mktemp "$ZG_TMP/keymgr.XXXXXX") || return 2
	until out=$(keymgr "$@" 2>"$err") && [ -n "$out" ]; do
		if [ $SECONDS -ge $deadline ]; then
			zg_diag "keymgr $*: no answer in 30 s (last: $(cat "$err"))" >&2
			rm -f "$err"
			return 1
		fi
		sleep 0.2
	done
	rm -f "$err"
	printf '%s\n' "$out"
}

# zg_alive PID: the process exists and is not a zombie (in a container
# nothing may reap daemons that were reparented to pid 1).
zg_alive() {
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# zg_stop_pid PID [SECONDS]: TERM, wait bounded, then KILL.
zg_stop_pid() {
	local pid=$1 t=${2:-15}
	zg_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	local deadline=$((SECONDS + t))
	while zg_alive "$pid"; do
		if [ $SECONDS -ge $deadline ]; then
			kill -KILL "$pid" 2>/dev/null
			sleep 0.2
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# zg_free_port: a TCP+UDP port free on 127.0.0.1 right now, and not one
# handed out in the last 10 minutes (on this host, to any test): a script
# takes its ports first and binds them later, and the kernel may give the
# same free port to two calls in a row (dsync-checkds.sh once got one port
# for two servers). The ports handed out are kept in $ZG_PORTS (flock).
zg_free_port() {
	local reg=${ZG_PORTS:-${TMPDIR:-/tmp}/zg-ports}
	{
		flock -w 30 9 || true
		"$PYTHON3" - "$reg" <<'PY'
import os, socket, sys, time
reg, now, recent = sys.argv[1], time.time(), {}
try:
    with open(reg) as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0].isdigit():
                try:
                    if now - float(w[1]) < 600:
                        recent[int(w[0])] = w[1]
                except ValueError:
                    pass
except OSError:
    pass
for _ in range(200):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); continue
    t.close(); u.close()
    if port in recent:
        continue
    recent[port] = "%.0f" % now
    try:
        with open(reg + ".new", "w") as f:
            f.writelines("%d %s\n" % kv for kv in recent.items())
        os.replace(reg + ".new", reg)
    except OSError:
        pass
    print(port)
    break
PY
	} 9>>"$reg.lock"
}

# zg_module_file NAME: path of a module .so built in this tree.
zg_module_file() {
	local d=${ZG_MODULE_LIBDIR:-$ZG_BUILDDIR/modules/$1/.libs}
	echo "$d/$1.so"
}

# zg_snapshot SRC DST: copies a built file (retrying while a concurrent
# relink replaces it, bounded to 10 s) and checks it is a loadable object.
zg_snapshot() {
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		cp -L "$1" "$2" 2>/dev/null && nm -D "$2" >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}

# zg_snapshot_modules: unless ZG_MODULE_LIBDIR or ZG_MODULES_INSTALLED is set,
# runs the test on copies of the built modules (another build in the same
# tree may relink them meanwhile) by pointing ZG_MODULE_LIBDIR at them.
zg_snapshot_modules() {
	[ -z "${ZG_MODULE_LIBDIR:-}" ] && [ -z "${ZG_MODULES_INSTALLED:-}" ] || return 0
	mkdir -p "$ZG_TMP/modules"
	local m
	for m in ingest validate dsync keys; do
		zg_snapshot "$ZG_BUILDDIR/modules/$m/.libs/$m.so" "$ZG_TMP/modules/$m.so" ||
			zg_bail "module $m not built"
	done
	export ZG_MODULE_LIBDIR=$ZG_TMP/modules
}

# zg_knot_conf DIR PORT: writes the common part of a knotd config to stdout:
# listen on 127.0.0.1@PORT, rundir/storage/log inside DIR, control socket
# DIR/knot.sock, and the zonegate modules loaded from the build tree
# (unless ZG_MODULES_INSTALLED=1: then knotd loads them from its module dir).
zg_knot_conf() {
	local dir=$1 port=$2
	mkdir -p "$dir/db" "$dir/zones"
	cat <<CONF
server:
    rundir: "$dir"
    listen: 127.0.0.1@$port
    udp-workers: 2
    tcp-workers: 2
    background-workers: 2

database:
    storage: "$dir/db"

control:
    listen: "$dir/knot.sock"
    timeout: 30

log:
  - target: "$dir/knotd.log"
    any: info

CONF
	if [ -z "${ZG_MODULES_INSTALLED:-}" ]; then
		echo "module:"
		local m
		for m in ingest validate dsync keys; do
			printf '  - id: mod-%s\n    file: "%s"\n' "$m" "$(zg_module_file "$m")"
		done
		echo
	fi
}

# zg_knot_conf_bare DIR PORT: zg_knot_conf without the zonegate modules (for
# signers and secondaries; knotd loads every configured module file, which
# other work in the same tree may be rebuilding).
zg_knot_conf_bare() {
	zg_knot_conf "$@" | awk '/^module:$/ { skip = 1; next } skip && /^$/ { skip = 0; next } !skip'
}

# knot.conf sections for the scripts to put together (each ends with an
# empty line):
# zg_conf_key ID SECRET [ID SECRET]...: a key: section, hmac-sha256 keys.
zg_conf_key() {
	echo "key:"
	while [ $# -ge 2 ]; do
		printf '  - id: %s\n    algorithm: hmac-sha256\n    secret: %s\n' "$1" "$2"
		shift 2
	done
	echo
}

# _zg_conf_who WORD...: the address:, via: and key: lines of a remote or acl
# entry, from words: key:NAME, via:IP, or an address (several addresses or
# keys become a list).
_zg_conf_who() {
	local w addrs=() keys=() via=()
	for w in "$@"; do
		case $w in
		key:*) keys+=("${w#key:}") ;;
		via:*) via+=("${w#via:}") ;;
		*) addrs+=("$w") ;;
		esac
	done
	_zg_conf_item address "${addrs[@]}"
	_zg_conf_item via "${via[@]}"
	_zg_conf_item key "${keys[@]}"
}

# _zg_conf_item NAME VALUE...: "    NAME: VALUE", or "[V1, V2]" for several,
# nothing for none.
_zg_conf_item() {
	local name=$1; shift
	case $# in
	0) ;;
	1) printf '    %s: %s\n' "$name" "$1" ;;
	*)
		local list=$1 v; shift
		for v in "$@"; do list+=", $v"; done
		printf '    %s: [%s]\n' "$name" "$list"
		;;
	esac
}

# zg_conf_remotes ID WHO [ID WHO]...: a remote: section. WHO is one word or
# several separated by spaces: an address (IP@PORT; several make a list),
# via:IP (the source address), key:NAME (a TSIG key).
zg_conf_remotes() {
	local who
	echo "remote:"
	while [ $# -ge 2 ]; do
		printf '  - id: %s\n' "$1"
		read -ra who <<<"$2"
		_zg_conf_who "${who[@]}"
		shift 2
	done
	echo
}

# zg_conf_acls ID WHO ACTION [ID WHO ACTION]...: an acl: section; WHO is an
# address (or a network), key:NAME for a TSIG key, or several of them
# separated by spaces ("127.0.0.1 key:ingest", "127.0.0.1 127.0.0.2");
# ACTION as knot.conf has it ("notify", "[transfer, update]").
zg_conf_acls() {
	local who
	echo "acl:"
	while [ $# -ge 3 ]; do
		printf '  - id: %s\n' "$1"
		read -ra who <<<"$2"
		_zg_conf_who "${who[@]}"
		printf '    action: %s\n' "$3"
		shift 3
	done
	echo
}

# zg_knotc DIR ARGS...: knotc against the instance in DIR. stats and
# zone-stats get -f: since Knot 3.3 knotc hides zero counters without it
# (3.2 shows them either way).
zg_knotc() {
	local dir=$1; shift
	case ${1:-} in
	stats | zone-stats) set -- -f "$@" ;;
	esac
	"$KNOTC" -c "$dir/knot.conf" -t 30 "$@"
}

# zg_knot_at_least MAJOR.MINOR: the knotd under test is of that series or a
# later one (for behaviour that differs between series). `knotd -V` prints
# "knotd (Knot DNS), version 3.2.6" up to 3.4 and "knotd, Knot DNS 3.5.8"
# since 3.5: the first MAJOR.MINOR is taken. An unreadable version is an error.
zg_knot_at_least() {
	local have
	have=$("$KNOTD" -V 2>/dev/null | grep -oE '[0-9]+\.[0-9]+' | head -n 1 | tr . ' ')
	[ -n "$have" ] || zg_bail "cannot read the version of $KNOTD"
	set -- ${1/./ } $have
	[ "$3" -gt "$1" ] || { [ "$3" -eq "$1" ] && [ "$4" -ge "$2" ]; }
}

# zg_knotd_start DIR: checks DIR/knot.conf with `knotc conf-check`, starts
# knotd in the foreground of a background job, waits (bounded) until its
# control socket answers. Sets ZG_KNOTD_PID. Returns non-zero on failure,
# with the reason on stderr.
zg_knotd_start() {
	local dir=$1
	local out
	if ! out=$("$KNOTC" -c "$dir/knot.conf" conf-check 2>&1); then
		echo "conf-check failed: $out" >&2
		return 1
	fi
	"$KNOTD" -c "$dir/knot.conf" >>"$dir/knotd.stderr" 2>&1 &
	ZG_KNOTD_PID=$!
	zg_track_pid "$ZG_KNOTD_PID"
	echo "$ZG_KNOTD_PID" >"$dir/knotd.pid"
	if ! zg_wait 30 zg_knotc "$dir" status; then
		echo "knotd did not answer on its control socket within 30 s" >&2
		tail -n 20 "$dir/knotd.log" "$dir/knotd.stderr" >&2 2>/dev/null
		return 1
	fi
	return 0
}

# zg_knotd_stop DIR: stops the knotd of DIR by pid; non-zero if it had to be killed.
zg_knotd_stop() {
	local pid
	pid=$(cat "$1/knotd.pid" 2>/dev/null) || return 0
	zg_stop_pid "$pid" 30
}

# zg_zone_loaded DIR ZONE: the zone is loaded (has a serial) in the instance.
zg_zone_loaded() {
	zg_knotc "$1" zone-status "$2" 2>/dev/null | grep -Eq 'serial: [0-9]+'
}

# zg_softhsm_init DIR LABEL PIN: a fresh SoftHSMv2 token in DIR; exports SOFTHSM2_CONF.
zg_softhsm_init() {
	local dir=$1 label=$2 pin=$3
	mkdir -p "$dir/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$dir" >"$dir/softhsm2.conf"
	export SOFTHSM2_CONF=$dir/softhsm2.conf
	softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$pin$pin" >/dev/null
}

# zg_pkcs11_uri LABEL PIN: Knot's pkcs11 keystore config string for the token.
zg_pkcs11_uri() {
	echo "pkcs11:token=$1;pin-value=$2 $ZG_SOFTHSM_LIB"
}

# zg_pg_start DIR: a throwaway PostgreSQL cluster in DIR (unix socket only,
# socket in DIR), run by an unprivileged user when we are root. Exports
# PGHOST, PGPORT, PGUSER, PGDATABASE (database "zonegate") and ZG_PG_URI.
zg_pg_start() {
	local dir=$1 bindir
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -x "$bindir/initdb" ] || { echo "postgresql server binaries not found" >&2; return 1; }
	local asuser=()
	local pguser
	pguser=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		pguser=postgres
		id postgres >/dev/null 2>&1 || { echo "no 'postgres' user to run the cluster" >&2; return 1; }
		asuser=(runuser -u postgres --)
	fi
	mkdir -p "$dir"
	chown "$pguser" "$dir"
	local port
	port=$(zg_free_port)
	"${asuser[@]}" "$bindir/initdb" -D "$dir/data" -U "$pguser" -A trust -E UTF8 \
		--no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
	"${asuser[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
		-o "-k $dir -c listen_addresses='' -p $port -c fsync=off" start \
		>/dev/null 2>&1 || { cat "$dir/pg.log" >&2; return 1; }
	ZG_PG_DIR=$dir ZG_PG_BINDIR=$bindir ZG_PG_ASUSER="${asuser[*]}"
	zg_on_exit "zg_pg_stop '$dir'"
	export PGHOST=$dir PGPORT=$port PGUSER=$pguser PGDATABASE=zonegate
	export ZG_PG_URI="postgresql://$pguser@/zonegate?host=$dir&port=$port"
	zg_wait 30 "$bindir/pg_isready" -q || { echo "postgresql not ready" >&2; return 1; }
	"$bindir/createdb" zonegate
}

# zg_pg_stop DIR: fast shutdown, bounded.
zg_pg_stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	$ZG_PG_ASUSER "$ZG_PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 && return 0
	local pid
	pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) && kill -KILL "$pid" 2>/dev/null
	return 1
}

# zg_genzone ORIGIN N [SEED]: an unsigned TLD-like zone on stdout.
zg_genzone() { "$PYTHON3" "$ZG_SRCDIR/bench/genzone.py" "$@"; }

# zg_axfr ADDR PORT ZONE: the zone by AXFR, one RR per line, closing SOA removed.
zg_axfr() {
	kdig @"$1" -p "$2" "$3" AXFR +nocomments +nostats +noheader 2>/dev/null |
		awk '!/^;/ && NF && !seen[$0]++'
}

# zg_signer_conf LABEL PIN [NSEC3]: keystore + policy sections for a knotd
# that signs with keys generated inside the SoftHSM token LABEL (ECDSA P-256,
# KSK+ZSK; NSEC3 opt-out without salt/iterations when NSEC3=nsec3, else NSEC).
# Zones use it with `dnssec-signing: on` and `dnssec-policy: hsm`.
zg_signer_conf() {
	local label=$1 pin=$2 nsec3=${3:-nsec3}
	cat <<CONF
keystore:
  - id: hsm
    backend: pkcs11
    config: "$(zg_pkcs11_uri "$label" "$pin")"

policy:
  - id: hsm
    keystore: hsm
    algorithm: ecdsap256sha256
    ksk-lifetime: 0
    zsk-lifetime: 0
CONF
	# ZG_SIGNING_THREADS (benchmarks): Knot's signing-threads, which also
	# spread the check of every signature when a zone is loaded for signing.
	[ -z "${ZG_SIGNING_THREADS:-}" ] || echo "    signing-threads: $ZG_SIGNING_THREADS"
	if [ "$nsec3" = nsec3 ]; then
		cat <<CONF
    nsec3: on
    nsec3-opt-out: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
CONF
	fi
	echo
}

# zg_conf_fast_policy [KSK-LIFETIME]: a policy: section "fast" for zg_signer_conf's
# keystore "hsm" (ECDSA P-256, short TTLs and delays for key rolls in tests;
# the KSK lifetime 0 unless given, no ZSK roll).
zg_conf_fast_policy() {
	cat <<CONF
policy:
  - id: fast
    keystore: hsm
    algorithm: ecdsap256sha256
    ksk-lifetime: ${1:-0}
    zsk-lifetime: 0
    dnskey-ttl: 2
    zone-max-ttl: 2
    propagation-delay: 1
    rrsig-lifetime: 7d
    rrsig-refresh: 1d

CONF
}

# zg_zone_signed DIR ZONE: the zone in the instance has been signed (DNSKEY present).
zg_zone_signed() {
	zg_knotc "$1" zone-read "$2" @ DNSKEY 2>/dev/null | grep -q DNSKEY
}

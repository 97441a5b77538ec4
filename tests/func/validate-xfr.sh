#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# mod-validate against a misbehaving source: a TCP proxy in front of a real
# knotd (K, serving the signed NSEC3 fixture) that, depending on a mode file,
# passes transfers through, cuts them in the middle (source disappears),
# answers with a malformed message, or hangs. G is a knotd, secondary of K,
# with mod-validate following the proxy. Also: knotc reload of G while the
# module's transfer hangs returns within the transfer bound.
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
. "$ZG_SRCDIR/tests/func/validate-lib.sh"

command -v kdig >/dev/null || zg_skip_all "kdig not installed"

PK=$(zg_free_port)
PG=$(zg_free_port)
PP=$(zg_free_port)
K=$ZG_TMP/k G=$ZG_TMP/g
mkdir -p "$K/zones" "$G/zones"
MODE=$ZG_TMP/mode
echo cut >"$MODE"
VL_ZONE=example.test. VL_DIR=$G   # stat_of: the counters of mod-validate at G

cat >"$ZG_TMP/proxy.py" <<'PY'
import os, select, socket, struct, sys, threading, time
port, upstream, modefile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b

def recv_msg(s):
    h = recv_exact(s, 2)
    if h is None:
        return None
    return recv_exact(s, struct.unpack("!H", h)[0])

def qtype_of(q):
    i = 12
    while q[i]:
        i += q[i] + 1
    return struct.unpack("!H", q[i + 1:i + 3])[0]

def relay(c, u):
    deadline = time.time() + 30
    socks = [c, u]
    while time.time() < deadline:
        r, _, _ = select.select(socks, [], [], 1)
        for s in r:
            d = s.recv(65536)
            if not d:
                return
            (u if s is c else c).sendall(d)

def handle(c):
    try:
        c.settimeout(30)
        q = recv_msg(c)
        if q is None:
            return
        mode = open(modefile).read().strip()
        xfr = qtype_of(q) in (251, 252)
        if xfr and mode == "hang":
            time.sleep(40)
            return
        if xfr and mode == "garbage":
            body = q[:2] + b"\x84\x00\x00\x01\x00\x05\x00\x00\x00\x00" + bytes(range(7, 67))
            c.sendall(struct.pack("!H", len(body)) + body)
            time.sleep(1)
            return
        u = socket.create_connection(("127.0.0.1", upstream), timeout=10)
        u.sendall(struct.pack("!H", len(q)) + q)
        if xfr and mode == "cut":
            m = recv_msg(u)
            half = m[: len(m) // 2]
            c.sendall(struct.pack("!H", len(m)) + half)
            u.close()
            return
        relay(c, u)
        u.close()
    except Exception as e:
        print("proxy:", e, file=sys.stderr)
    finally:
        c.close()

l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(16)
print("ready", flush=True)
end = time.time() + 600   # bounded lifetime
l.settimeout(1)
while time.time() < end:
    try:
        c, _ = l.accept()
    except socket.timeout:
        continue
    threading.Thread(target=handle, args=(c,), daemon=True).start()
PY

vl_alarm_script

# K: the signed fixture, served as is.
cp "$ZG_SRCDIR/tests/data/verify/nsec3.zone" "$K/zones/example.test.zone"
{
	vconf "$K" "$PK"
	zg_conf_acls local 127.0.0.1 transfer
	cat <<CONF
zone:
  - domain: example.test
    storage: "$K/zones"
    dnssec-signing: off
    acl: local
CONF
} >"$K/knot.conf"
ok "K (source knotd) starts" zg_knotd_start "$K"
ok "K loads the fixture" zg_wait 20 zg_zone_loaded "$K" example.test.

"$PYTHON3" "$ZG_TMP/proxy.py" "$PP" "$PK" "$MODE" >"$ZG_TMP/proxy.log" 2>&1 &
zg_track_pid $!
ok "proxy starts" zg_wait 10 grep -q ready "$ZG_TMP/proxy.log"

{
	vconf "$G" "$PG"
	zg_conf_remotes k "127.0.0.1@$PK"
	zg_conf_acls xfr-out 127.0.0.1 transfer
	cat <<CONF
mod-validate:
  - id: gate
    source: 127.0.0.1@$PP
    poll-interval: 1s
    horizon: 1500d
    alarm: $ZG_TMP/alarm.sh

zone:
  - domain: example.test
    storage: "$G/zones"
    master: k
    acl: xfr-out
    module: mod-validate/gate
CONF
} >"$G/knot.conf"
ok "G (mod-validate behind the proxy) starts" zg_knotd_start "$G"
ok "G loads the zone from K" zg_wait 20 zg_zone_loaded "$G" example.test.

log_has() { grep -Eq -- "$1" "$G/knotd.log"; }
axfr_g() { kdig @127.0.0.1 -p "$PG" example.test. AXFR +time=5 +retry=0 2>&1; }

# 1. The source disappears in the middle of the transfer.
ok "cut transfer logged" zg_wait 30 log_has \
	"mod-validate.*AXFR, incoming, remote 127\\.0\\.0\\.1@$PP, failed \\(receive: connection closed before the end of the transfer\\)"
like "$(axfr_g)" "REFUSED" "nothing validated: G refuses transfers"
ok "the refusal is counted" zg_wait 10 stat_ge transfers-refused 1
is "$(stat_of serials-validated)" "0" "no serial validated"

# 2. A malformed transfer message.
echo garbage >"$MODE"
ok "malformed transfer logged" zg_wait 30 log_has \
	"mod-validate.*AXFR, incoming, remote 127\\.0\\.0\\.1@$PP, failed \\(malformed answer\\)"
like "$(axfr_g)" "REFUSED" "G still refuses transfers"

# 3. The source recovers: the serial validates and transfers are allowed.
echo good >"$MODE"
ok "the serial validates once the source behaves" zg_wait 30 stat_ge serials-validated 1
is "$(stat_of last-validated-serial)" "2024010101" "last-validated-serial is the fixture's"
ok "signatures within the horizon (they expire 2030-01-01) logged" zg_wait 10 log_has \
	"mod-validate.*serial 2024010101, signatures expire within the horizon \\(earliest at 2030-01-01T00:00:00Z\\)"
ok "the alarm ran for the horizon" zg_wait 10 grep -q "^example\\.test\\. 2024010101 signatures expire within the horizon" "$ZG_TMP/alarm.out"
unlike "$(axfr_g)" "REFUSED" "G allows transfers of the validated serial"
like "$(axfr_g)" "NSEC3PARAM" "the AXFR of G carries the zone"

# 4. knotc reload while the module's transfer hangs: bounded.
echo hang >"$MODE"
pid=$(cat "$G/knotd.pid")
ok "reload of G (the new module instance starts a hanging AXFR)" zg_knotc "$G" reload
sleep 2
t0=$SECONDS
ok "second reload of G, during the hanging transfer" zg_knotc "$G" reload
dt=$((SECONDS - t0))
ok "the reload returned within the transfer bound (${dt}s)" test "$dt" -le 15
ok "G survived" zg_alive "$pid"
n=$(grep -c "mod-validate.*validating transfers from" "$G/knotd.log")
ok "the module was loaded three times ($n)" test "$n" -ge 3
echo good >"$MODE"
nval() { [ "$(grep -c 'mod-validate.*serial 2024010101, validated' "$G/knotd.log")" -ge 2 ]; }
ok "after the reloads the serial validates again" zg_wait 40 nval

ok "G stops cleanly" zg_knotd_stop "$G"
ok "K stops cleanly" zg_knotd_stop "$K"
unlike "$(cat "$G/knotd.log" "$G/knotd.stderr" 2>/dev/null)" \
	"(fatal|critical|segfault|double free|invalid module)" "no fatal line in G's log"

zg_done

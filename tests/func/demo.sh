#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The README's demo pipeline (scripts/demo-run.sh, a smaller zone): it says
# where it listens, answers signed queries there, and stops cleanly on SIGINT
# (what Ctrl-C sends).
. "$ZG_SRCDIR/tests/func/lib.sh"
zg_init
port=$(zg_free_port)
out=$ZG_TMP/demo.out
# Background jobs of a script ignore SIGINT; restore the default so the demo
# sees SIGINT as it would from a terminal.
"$PYTHON3" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
	bash "$ZG_SRCDIR/scripts/demo-run.sh" --port "$port" --delegations 500 >"$out" 2>&1 &
demo=$!
zg_track_pid "$demo"
ok "demo says it listens within 120 s" zg_wait 120 grep -q 'Press Ctrl-C' "$out"
like "$(cat "$out")" "listening on 127.0.0.1@$port" "demo prints its address and port"
like "$(cat "$out")" "kdig @127.0.0.1 -p $port demo. SOA" "demo prints how to query it"
ans=$(kdig @127.0.0.1 -p "$port" +dnssec demo. SOA 2>&1)
like "$ans" "RRSIG[[:space:]]+SOA 13 " "signed SOA answer (ECDSA P-256)"
ans=$(kdig @127.0.0.1 -p "$port" +dnssec nonexistent.demo. A 2>&1)
like "$ans" "NSEC3" "NXDOMAIN proven with NSEC3"
kill -INT "$demo"
ok "demo exits within 30 s of SIGINT" zg_wait 30 eval "! zg_alive $demo"
wait "$demo"
is "$?" 0 "demo exit status 0"
like "$(cat "$out")" "knotd stopped cleanly" "demo reports a clean stop"
ok "nothing listens on the port any more" sh -c "! kdig @127.0.0.1 -p $port +tcp +timeout=1 +retry=0 demo. SOA >/dev/null"
zg_done

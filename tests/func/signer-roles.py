#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks the role events of tests/func/signer-lease.sh: at most one signer
active at any moment. Lines: TIME NAME EVENT [TOKEN]; EVENT is active,
standby (the controller's commands), dead (killed by the test), paused and
resumed (SIGSTOP/SIGCONT by the test). A paused signer signs nothing; when
resumed it counts as active again until its standby command ran.
Prints one line per violation and exits 1 if there is any."""
import sys

events = []
with open(sys.argv[1]) as f:
    for line in f:
        p = line.split()
        if len(p) >= 3:
            events.append((float(p[0]), p[1], p[2], p[3] if len(p) > 3 else ""))
events.sort(key=lambda e: e[0])
active, paused, bad = {}, set(), 0
for t, name, ev, tok in events:
    if ev == "active":
        others = [n for n in active if n != name and n not in paused]
        if others:
            print(f"{t:.3f} {name} active (token {tok}) while {others} active")
            bad += 1
        active[name] = tok
    elif ev in ("standby", "dead"):
        active.pop(name, None)
        paused.discard(name)
    elif ev == "paused":
        paused.add(name)
    elif ev == "resumed":
        paused.discard(name)
        others = [n for n in active if n != name and n not in paused]
        if name in active and others:
            # Allowed only until its standby command (checked by the test's
            # bound on the step-down time); reported for the record.
            print(f"# {t:.3f} {name} resumed while {others} active", file=sys.stderr)
sys.exit(1 if bad else 0)

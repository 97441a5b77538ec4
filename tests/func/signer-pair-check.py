#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of tests/func/signer-pair.sh over its records. Prints one line per
violation, exits 1 if there is any.

  serials EVENTS MONITOR BASE: every new serial a signer served was made
    while its controller was active, or followed (IXFR) the other signer
    that was active and had served that serial or a higher one by then
    (1 s of slack, or up to the other's next record: the monitor polls one
    host after the other, and under load a cycle takes seconds), or that
    had been active until less than 10 s before or 2 s after (its last
    serial, which the monitor may have missed, reaches the standby right
    before or after it died or stepped down). BASE, the
    bootstrap's serial, was signed before any controller ran.
  once HOOKLOG INGESTLOG...: every message applied exactly once: each row's
    applications minus the requeues of zg-signer-knot (an application in a
    serial the old active never published, put back to pending) is one, and
    every requeue matches an application in a serial above the new
    active's starting serial."""
import re
import sys
from collections import defaultdict


def ser_lt(a, b):
    return a != b and (b - a) % 4294967296 < 2147483648


def serials(evfile, monfile, base):
    ev = sorted((float(p[0]), p[1], p[2]) for p in (l.split() for l in open(evfile)) if len(p) >= 3)

    def active_at(h, t):
        last = None
        for te, n, e in ev:
            if te > t:
                break
            if n == h:
                last = e
        return last == "active"

    mon = [(float(t), h, int(s)) for t, h, s in (l.split() for l in open(monfile) if l.strip())]
    mon = sorted(m for m in mon if m[1] in ("a", "b"))

    def seen_until(o, t):
        # by t, give or take one monitor cycle: 1 s, or o's next record
        # after t (a loaded host may take seconds for a cycle)
        nxt = [t2 for t2, o2, _ in mon if o2 == o and t2 > t]
        return max(t + 1.0, nxt[0] if nxt else t)
    bad = 0
    for t, h, s in mon:
        if str(s) == base or active_at(h, t):
            continue
        if any(o != h and t2 <= seen_until(o, t) and not ser_lt(s2, s) and active_at(o, t2)
               for t2, o, s2 in mon):
            continue
        # the old active's last serial, made right before it died or
        # stepped down, may reach the standby only after that; or reach it
        # right before (2 s), with the monitor's next poll of the old active
        # coming after its death (kill -9 right after a new serial)
        if any(o != h and active_at(o, min(t, te) - 1e-6) and e in ("dead", "standby")
               and -2.0 <= t - te <= 10.0 for te, o, e in ev):
            continue
        print(f"serial {s} served by {h} at {t:.3f}: {h} not active, and no active signer had it")
        bad += 1
    return bad


def once(hooklog, ingestlogs):
    apps, reqs = defaultdict(list), defaultdict(list)
    for f in ingestlogs:
        try:
            for l in open(f):
                m = re.match(r"applied row (\d+) .*serial (\d+)$", l.strip())
                if m:
                    apps[m[1]].append(int(m[2]))
        except FileNotFoundError:
            pass
    for l in open(hooklog):
        m = re.search(r"requeued row (\d+) .*applied in a serial above (\d+)", l)
        if m:
            reqs[m[1]].append(int(m[2]))
    bad = 0
    for row in sorted(set(apps) | set(reqs), key=int):
        if len(apps[row]) - len(reqs[row]) != 1:
            print(f"row {row}: applied {len(apps[row])} times (serials {apps[row]}), "
                  f"requeued {len(reqs[row])} times")
            bad += 1
            continue
        left = list(apps[row])
        for p in reqs[row]:
            above = [s for s in left if ser_lt(p, s)]
            if not above:
                print(f"row {row}: requeued above serial {p}, but applied in {apps[row]}")
                bad += 1
                break
            left.remove(above[0])
    return bad


if __name__ == "__main__":
    if sys.argv[1] == "serials":
        n = serials(*sys.argv[2:5])
    else:
        n = once(sys.argv[2], sys.argv[3:])
    sys.exit(1 if n else 0)

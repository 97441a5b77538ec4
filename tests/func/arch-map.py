#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""doc/architecture.md against the tree: every file of lib/, every module,
shared module header and tool is named on the page, and everything the page
names exists. Prints one line per problem ("missing PATH" or "stale NAME")
and exits 1 if there is any.

Usage: arch-map.py SRCDIR [PAGE]   (PAGE defaults to SRCDIR/doc/architecture.md)

How the page names files: under a heading "### lib/X", a backticked word
`stem` names lib/X/stem.c and lib/X/stem.h (`name.c` names that file only);
modules and shared headers by their path (`modules/NAME`,
`modules/NAME.h`); tools by their name (`zg-NAME`). Any backticked token
with a slash and no placeholder (capitals, '...') must exist in the tree.
"""
import os
import re
import sys

src = sys.argv[1]
page = sys.argv[2] if len(sys.argv) > 2 else os.path.join(src, "doc", "architecture.md")
text = open(page, encoding="utf-8").read()

problems = []
named = set()
section = None
for line in text.splitlines():
    m = re.match(r"^###\s+(\S+)", line)
    if m:
        section = m.group(1)
        continue
    if line.startswith("## "):
        section = None
    for tok in re.findall(r"`([^`\s]+)`", line):
        if section and re.fullmatch(r"lib/[a-z]+", section) and re.fullmatch(r"[a-z0-9_]+(\.[ch])?", tok):
            folder = os.path.join(src, section)
            stems = [tok] if tok.endswith((".c", ".h")) else [tok + ".c", tok + ".h"]
            found = [s for s in stems if os.path.exists(os.path.join(folder, s))]
            if not found:
                problems.append("stale %s/%s" % (section, tok))
            named.update(os.path.join(section, s) for s in found)
        elif "/" in tok and not re.search(r"[A-Z]|\.\.\.|\*", tok.replace("RESULTS.md", "")):
            path = tok.rstrip("/")
            if path.startswith(("/", "knot/", "libknot/")):
                continue  # absolute, or a system header
            if not os.path.exists(os.path.join(src, path)):
                problems.append("stale %s" % path)
            named.add(path)
        elif re.fullmatch(r"zg-[a-z]+", tok):
            named.add("tools/%s.c" % tok)

want = []
for d in sorted(os.listdir(os.path.join(src, "lib"))):
    full = os.path.join(src, "lib", d)
    if os.path.isdir(full):
        want += ["lib/%s/%s" % (d, f) for f in sorted(os.listdir(full)) if f.endswith((".c", ".h"))]
for d in sorted(os.listdir(os.path.join(src, "modules"))):
    full = os.path.join(src, "modules", d)
    if os.path.isdir(full):
        want.append("modules/%s" % d)
    elif d.endswith(".h"):
        want.append("modules/%s" % d)
want += ["tools/%s" % f for f in sorted(os.listdir(os.path.join(src, "tools"))) if f.endswith(".c")]
for w in want:
    if w not in named:
        problems.append("missing %s" % w)
for p in problems:
    print(p)
sys.exit(1 if problems else 0)

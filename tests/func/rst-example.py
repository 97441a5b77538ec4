#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the literal blocks (after a '::' line) of the Example section of a
module .rst page, dedented and joined, so tests load the documented stanzas
exactly as written."""
import sys
import textwrap

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
out, in_example, i = [], False, 0
while i < len(lines):
    line = lines[i]
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if nxt and set(nxt) <= set("-=~.") and len(nxt) >= len(line) > 0:
        in_example = line.strip() == "Example"
        i += 2
        continue
    if in_example and line.rstrip().endswith("::"):
        i += 1
        block = []
        while i < len(lines) and (lines[i].strip() == "" or lines[i].startswith((" ", "\t"))):
            block.append(lines[i])
            i += 1
        out.append(textwrap.dedent("\n".join(block)).strip("\n"))
        continue
    i += 1
if not out:
    sys.exit("no example block found in " + sys.argv[1])
print("\n\n".join(out))

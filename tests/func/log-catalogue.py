#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The log lines of each module, read from the C sources: the format string
of every knotd_mod_log(), wlog(), zg_worker_log(), xfr_failed() and
(libraries run by a module) logf_() and qlog() call, of snprintf() calls into the
buffers named text, msg or reason (or a member of that name, out->text), in which lines (or the reasons inside
them) are built before they are logged with "%s", and the strings that
zg_pgqueue_notice() returns (logged by the consumer). A format of "%s" alone
is left out: what it writes is one of those built lines, or a line relayed
from a library whose own formats are listed.

Usage: log-catalogue.py SRCDIR          print "module<TAB>format" lines
       log-catalogue.py SRCDIR DOC.md   compare with the catalogue: every
                                        format in its module's section and
                                        nothing there that the sources lack
"""
import re
import sys

# Each module's sources: its own files and the library code that logs
# through it (zg_ingest_conf_t.on_log, zg_queue_env_t.log, zg_cdscan_log_t, zg_interlock_out_t,
# zg_guard_out_t, zg_follow_ops_t, zg_childsync_ops_t.log, zg_scanrun_t.log).
SOURCES = {
    "mod-ingest": ["modules/ingest/ingest.c", "lib/ingest/ingest.c", "lib/ingest/queue.c",
                   "lib/ingest/pgqueue.c"],
    "mod-validate": ["modules/validate/validate.c", "modules/validate/gate.c",
                     "lib/validate/follow.c"],
    "mod-dsync": ["modules/dsync/dsync.c", "lib/dsync/cdscan.c", "lib/dsync/interlock.c",
                  "lib/dsync/guard.c", "lib/dsync/childsync.c", "lib/dsync/scanrun.c"],
    "mod-keys": ["modules/keys/keys.c"],
}
CALLS = re.compile(r"\b(knotd_mod_log|wlog|zg_worker_log|logf_|qlog|xfr_failed|snprintf)\s*\(")
# Functions returning a line their caller logs with "%s".
RELAYED = re.compile(r"^const char \*(zg_pgqueue_notice)\(.*?\n\{(.*?)\n\}", re.S | re.M)
# The buffers lines are built in before they are logged with "%s".
BUFFERS = ("text", "msg", "reason")
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def args_of(src, start):
    """The top-level arguments of the call whose '(' ends at start."""
    args, depth, i, cur = [], 1, start, []
    while i < len(src) and depth:
        c = src[i]
        if c in "\"'":  # a string or character literal, kept whole
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == "\\" else 1
            cur.append(src[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if not depth:
                break
        if c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    args.append("".join(cur).strip())
    return args


def formats(path):
    src = open(path, encoding="utf-8").read()
    # Comments out, string and character literals kept as they are.
    src = re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|/\*.*?\*/|//[^\n]*',
                 lambda m: m.group(0) if m.group(0)[0] in "\"'" else
                 "\n" * m.group(0).count("\n"), src, flags=re.S)
    out = []
    for m in RELAYED.finditer(src):
        for r in re.finditer(r"\breturn\s+((?:" + LITERAL.pattern + r"\s*)+);", m.group(2)):
            out.append("".join(LITERAL.findall(r.group(1))).encode().decode("unicode_escape"))
    for m in CALLS.finditer(src):
        if src[:m.start()].rstrip().endswith(("define", "void", "static void")):
            continue  # a definition, not a call
        args = args_of(src, m.end())
        if m.group(1) == "snprintf" and re.sub(r"^.*(->|\.)", "", args[0]) not in BUFFERS:
            continue
        for a in args:
            # The format: the first argument made of string literals only.
            if a.startswith('"') and LITERAL.sub("", a).strip() == "":
                fmt = "".join(LITERAL.findall(a)).encode().decode("unicode_escape")
                if fmt != "%s":
                    out.append(fmt)
                break
    return out


def from_sources(srcdir):
    seen = {}
    for mod, files in SOURCES.items():
        lst = seen.setdefault(mod, [])
        for f in files:
            for fmt in formats(f"{srcdir}/{f}"):
                if fmt not in lst:
                    lst.append(fmt)
    return seen


def from_doc(path):
    """Entries: '- `FORMAT`' lines under '## mod-X' headings."""
    doc, mod = {}, None
    for line in open(path, encoding="utf-8"):
        h = re.match(r"^## (mod-[a-z]+)\s*$", line)
        if h:
            mod = h.group(1)
            doc.setdefault(mod, [])
            continue
        if line.startswith("## "):
            mod = None
        e = re.match(r"^- `(.*?)`( \(|$| —)", line)
        if mod and e:
            doc[mod].append(e.group(1).replace("\\`", "`"))
    return doc


def main():
    srcdir = sys.argv[1]
    src = from_sources(srcdir)
    if len(sys.argv) == 2:
        for mod, lst in src.items():
            for fmt in lst:
                print(f"{mod}\t{fmt}")
        return 0
    doc = from_doc(sys.argv[2])
    bad = 0
    for mod, lst in src.items():
        for fmt in lst:
            if fmt not in doc.get(mod, []):
                print(f"missing\t{mod}\t{fmt}")
                bad += 1
        for fmt in doc.get(mod, []):
            if fmt not in lst:
                print(f"stale\t{mod}\t{fmt}")
                bad += 1
    return 1 if bad else 0


sys.exit(main())

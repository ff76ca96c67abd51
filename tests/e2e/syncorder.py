#!/usr/bin/env python3
"""syncorder.py LOG ROOT [SLOT...]: the durability oracle for tests/shim/syncorder.c's log, written apart from base/outfile.c.

Every file renamed into place under ROOT must have been flushed (fsync) before the rename, and
its directory flushed after it, before anything else is renamed. For each SLOT given (an upgrade
that wrote it), the slot's bytes must have been flushed before the last replacement of its record,
after the one before it (which marked the slot as being written): a record never vouches for bytes
still in the page cache.
"""
import os
import sys

log, root = sys.argv[1], os.path.realpath(sys.argv[2])
slots = sys.argv[3:]
ev = []
for line in open(log):
    parts = line.split()
    if len(parts) >= 3 and parts[1] in ("sync", "rename", "eio"):
        ev.append((parts[1], parts[2:]))
bad = []
renames = [i for i, (op, a) in enumerate(ev) if op == "rename" and a[1].startswith(root + "/")]
if not renames:
    bad.append("no rename under %s: nothing was checked" % root)
for n, i in enumerate(renames):
    src, dst = ev[i][1]
    if ("sync", [src]) not in ev[:i]:
        bad.append("%s renamed onto %s without an fsync of it before" % (src, dst))
    end = renames[n + 1] if n + 1 < len(renames) else len(ev)
    if ("sync", [os.path.dirname(dst)]) not in ev[i + 1:end]:
        bad.append("%s: its directory not flushed after the rename (before the next one)" % dst)
for s in slots:
    rec = os.path.join(root, "records", s + ".json")
    r = [i for i in renames if ev[i][1][1] == rec]
    if len(r) < 2:
        bad.append("%s: replaced %d times, expected twice (writing, then written)" % (rec, len(r)))
        continue
    if not any(op == "sync" and a[0].startswith(root + "/slots/" + s) for op, a in ev[r[-2]:r[-1]]):
        bad.append("%s: the slot's bytes not flushed before its record said they are there" % s)
if bad:
    sys.exit("\n".join(bad))
print("%d renames checked" % len(renames))

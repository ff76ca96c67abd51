#!/usr/bin/env python3
"""craft.py: make malicious or odd variants of a .pkg for the end-to-end tests.

Usage: craft.py OP ARGS...   (an entry INDEX counts from 0; -1 means the end)

Reading a package:
  list PKG                          entry names, one per line
  offset PKG NAME WHERE             byte offset in PKG of an entry's data byte
                                    (WHERE: first, middle, last or a number) or
                                    of its header (WHERE: header)
  end PKG                           byte offset of the end-of-archive marker
  headers PKG                       every raw header, one line each: name,
                                    typeflag, magic+version, mode, uid, gid,
                                    uname, gname, mtime (separated by |); then
                                    "end OFFSET FILESIZE ZEROBLOCKS"

Re-packing (entries unpacked with tarfile, written back as plain ustar):
  same IN OUT                       identical entries, re-packed (a control)
  drop IN OUT NAME                  leave an entry out
  dup IN OUT NAME                   write an entry twice in a row
  swap IN OUT NAME1 NAME2           exchange two entries' places
  move IN OUT NAME INDEX            move an entry to another place
  add IN OUT NAME INDEX [TEXT]      insert a regular file
  insert IN OUT INDEX FILE...       insert files as entries named by their
                                    base names, in the order given
  rename IN OUT OLD NEW             rename an entry (NEW takes \\xNN escapes)
  replace IN OUT OLD NEW FILE       replace an entry by NEW holding FILE's bytes
  settype IN OUT NAME KIND [LINK]   turn an entry into dir, symlink, hardlink,
                                    fifo or chardev, keeping its name
  special IN OUT INDEX TYPE NAME [TEXT] [MAGIC]
                                    insert a header of any typeflag (x, g, L, K,
                                    S, ...) with TEXT as its data; MAGIC is
                                    posix (default) or gnu
  chmod IN OUT NAME OCTAL           set the mode field of an entry's header
  resize IN OUT NAME DELTA          grow (DELTA > 0, random bytes) or shrink an
                                    entry, manifest untouched
  pax IN OUT NAME KEY=VALUE...      give an entry a pax extended header
  paxglobal IN OUT KEY=VALUE...     start the archive with a pax global header
  gnulong IN OUT NAME               GNU format, the entry renamed to a name over
                                    100 characters (a GNU long-name record)
  sparse IN OUT NAME [MAGIC]        turn an entry into an old GNU sparse ('S')
                                    entry holding the same bytes in one extent
  magic IN OUT NAME HEX             rewrite the 8 magic+version bytes of an
                                    entry's header (e.g. 0000000000000000 for
                                    an old V7 header, 7573746172202000 GNU)
  bigmanifest IN OUT SIZE           replace manifest.json by a valid JSON
                                    document of exactly SIZE bytes

Raw bytes:
  flip IN OUT OFFSET                change one byte (xor 0x01)
  flipentry IN OUT NAME WHERE       change one data byte of an entry (see offset);
                                    in a .minisig, WHERE=sig|keyid|comment|global
                                    picks a character of the signature, the key id
                                    in the signature line, the trusted comment or
                                    the global signature (base64 characters are
                                    swapped for another valid one)
  cut IN OUT LENGTH                 keep the first LENGTH bytes
  append IN OUT HEX|@FILE           add bytes after the end
  gzip IN OUT                       gzip-compress
"""
import gzip as gz
import io
import json
import os
import sys
import tarfile

BLOCK = 512
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def die(msg):
    sys.stderr.write("craft.py: %s\n" % msg)
    sys.exit(2)


def read_entries(path):
    """[(TarInfo, bytes)] in archive order."""
    out = []
    with tarfile.open(path, "r:") as tf:
        for ti in tf:
            data = tf.extractfile(ti).read() if ti.isreg() else b""
            out.append((ti, data))
    return out


def find(entries, name):
    for i, (ti, _) in enumerate(entries):
        if ti.name == name:
            return i
    die("no entry %r" % name)


def regular(name, data, like=None):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    ti.mtime = like.mtime if like is not None else 1700000000
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def write_entries(path, entries, fmt=tarfile.USTAR_FORMAT, pax_headers=None):
    buf = io.BytesIO()
    kw = {"format": fmt}
    if pax_headers is not None:
        kw["pax_headers"] = pax_headers
    with tarfile.open(fileobj=buf, mode="w:", **kw) as tf:
        for ti, data in entries:
            tf.addfile(ti, io.BytesIO(data) if ti.isreg() or ti.type not in (
                tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE,
                tarfile.FIFOTYPE, tarfile.CHRTYPE) else None)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def raw_header(name, size, typeflag, magic="posix", mtime=1700000000, extra=None):
    """One 512-byte ustar header with a valid checksum; extra maps offsets to bytes."""
    h = bytearray(BLOCK)

    def put(off, width, value):
        h[off:off + len(value)] = value
        assert len(value) <= width

    put(0, 100, name.encode())
    put(100, 8, b"0000644\0")
    put(108, 8, b"0000000\0")
    put(116, 8, b"0000000\0")
    put(124, 12, b"%011o\0" % size)
    put(136, 12, b"%011o\0" % mtime)
    h[156] = ord(typeflag)
    if magic == "gnu":
        put(257, 8, b"ustar  \0")
    else:
        put(257, 8, b"ustar\x0000")
    for off, value in (extra or {}).items():
        h[off:off + len(value)] = value
    h[148:156] = b"        "
    put(148, 8, b"%06o\0 " % sum(h))
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % BLOCK)


def layout(path):
    """[(name, header_offset, data_offset, size)] by walking the raw headers."""
    with open(path, "rb") as f:
        raw = f.read()
    out, off = [], 0
    with tarfile.open(path, "r:") as tf:
        for ti in tf:
            out.append((ti.name, ti.offset, ti.offset_data, ti.size))
    return raw, out


def where_offset(path, name, where):
    raw, lay = layout(path)
    for n, hoff, doff, size in lay:
        if n == name:
            if where == "header":
                return hoff
            if where == "first":
                return doff
            if where == "last":
                return doff + size - 1
            if where == "middle":
                return doff + size // 2
            return doff + int(where)
    die("no entry %r" % name)


def end_offset(path):
    raw, lay = layout(path)
    n, hoff, doff, size = lay[-1]
    return doff + size + (-size % BLOCK)


def headers(path):
    with open(path, "rb") as f:
        raw = f.read()
    off = 0

    def field(h, a, b):
        return h[a:b].split(b"\0", 1)[0].decode("latin-1")

    while off + BLOCK <= len(raw) and raw[off:off + BLOCK] != bytes(BLOCK):
        h = raw[off:off + BLOCK]
        size = int(field(h, 124, 136).strip() or "0", 8)
        print("|".join([field(h, 0, 100), chr(h[156]) if h[156] else "NUL",
                         repr(h[257:265]), field(h, 100, 108), field(h, 108, 116),
                         field(h, 116, 124), field(h, 265, 297), field(h, 297, 329),
                         str(int(field(h, 136, 148).strip() or "0", 8))]))
        off += BLOCK + size + (-size % BLOCK)
    zeros = 0
    while raw[off + zeros * BLOCK:off + (zeros + 1) * BLOCK] == bytes(BLOCK):
        zeros += 1
    print("end %d %d %d" % (off, len(raw), zeros))


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape")


def main(argv):
    if len(argv) < 2:
        die("usage: see the top of this file")
    op, a = argv[1], argv[2:]

    if op == "list":
        for ti, _ in read_entries(a[0]):
            print(ti.name)
        return
    if op == "offset":
        print(where_offset(a[0], a[1], a[2]))
        return
    if op == "end":
        print(end_offset(a[0]))
        return
    if op == "headers":
        headers(a[0])
        return

    src, dst = a[0], a[1]
    rest = a[2:]

    if op in ("flip", "flipentry", "cut", "append", "gzip"):
        with open(src, "rb") as f:
            raw = bytearray(f.read())
        if op == "flip":
            raw[int(rest[0])] ^= 0x01
        elif op == "flipentry":
            name, where = rest[0], rest[1]
            if where in ("sig", "keyid", "comment", "global"):
                _, lay = layout(src)
                doff, size = [(d, s) for n, h, d, s in lay if n == name][0]
                lines = bytes(raw[doff:doff + size]).split(b"\n")
                # line 1: signature, 2: trusted comment, 3: global signature
                line = {"sig": 1, "keyid": 1, "comment": 2, "global": 3}[where]
                col = {"sig": 40, "keyid": 6, "comment": len("trusted comment: ") + 3, "global": 40}[where]
                off = doff + sum(len(l) + 1 for l in lines[:line]) + col
                if where == "comment":
                    raw[off] ^= 0x01
                else:
                    c = chr(raw[off])
                    raw[off] = ord(B64[(B64.index(c) + 1) % 64])
            else:
                raw[where_offset(src, name, where)] ^= 0x01
        elif op == "cut":
            raw = raw[:int(rest[0])]
        elif op == "append":
            if rest[0].startswith("@"):
                with open(rest[0][1:], "rb") as f:
                    raw += f.read()
            else:
                raw += bytes.fromhex(rest[0])
        elif op == "gzip":
            raw = bytearray(gz.compress(bytes(raw), mtime=0))
        with open(dst, "wb") as f:
            f.write(raw)
        return

    entries = read_entries(src)
    fmt = tarfile.USTAR_FORMAT
    global_pax = None

    if op == "same":
        pass
    elif op == "drop":
        del entries[find(entries, rest[0])]
    elif op == "dup":
        i = find(entries, rest[0])
        ti, data = entries[i]
        entries.insert(i + 1, (regular(ti.name, data, ti), data))
    elif op == "swap":
        i, j = find(entries, rest[0]), find(entries, rest[1])
        entries[i], entries[j] = entries[j], entries[i]
    elif op == "move":
        e = entries.pop(find(entries, rest[0]))
        idx = int(rest[1])
        entries.insert(len(entries) if idx < 0 else idx, e)
    elif op == "add":
        data = (rest[2] if len(rest) > 2 else "extra\n").encode()
        idx = int(rest[1])
        entries.insert(len(entries) if idx < 0 else idx, (regular(rest[0], data), data))
    elif op == "insert":
        idx = int(rest[0])
        for k, path in enumerate(rest[1:]):
            with open(path, "rb") as f:
                data = f.read()
            entries.insert(idx + k, (regular(os.path.basename(path), data), data))
    elif op == "rename":
        i = find(entries, rest[0])
        ti, data = entries[i]
        entries[i] = (regular(unescape(rest[1]), data, ti), data)
    elif op == "replace":
        i = find(entries, rest[0])
        ti, _ = entries[i]
        with open(rest[2], "rb") as f:
            data = f.read()
        entries[i] = (regular(rest[1], data, ti), data)
    elif op == "settype":
        i = find(entries, rest[0])
        ti, data = entries[i]
        kind = rest[1]
        nt = tarfile.TarInfo(ti.name)
        nt.mtime, nt.mode = ti.mtime, 0o755 if kind == "dir" else 0o644
        nt.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                   "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE,
                   "chardev": tarfile.CHRTYPE}[kind]
        if kind in ("symlink", "hardlink"):
            nt.linkname = rest[2]
        entries[i] = (nt, b"")
    elif op == "chmod":
        i = find(entries, rest[0])
        ti, data = entries[i]
        ti = regular(ti.name, data, ti)
        ti.mode = int(rest[1], 8)
        entries[i] = (ti, data)
    elif op == "resize":
        i = find(entries, rest[0])
        ti, data = entries[i]
        delta = int(rest[1])
        data = data + os.urandom(delta) if delta > 0 else data[:len(data) + delta]
        entries[i] = (regular(ti.name, data, ti), data)
    elif op == "pax":
        i = find(entries, rest[0])
        ti, data = entries[i]
        ti = regular(ti.name, data, ti)
        ti.pax_headers = dict(kv.split("=", 1) for kv in rest[1:])
        entries[i] = (ti, data)
        fmt = tarfile.PAX_FORMAT
    elif op == "paxglobal":
        fmt = tarfile.PAX_FORMAT
        global_pax = dict(kv.split("=", 1) for kv in rest)
    elif op == "gnulong":
        i = find(entries, rest[0])
        ti, data = entries[i]
        entries[i] = (regular("L" * 120 + ti.name, data, ti), data)
        fmt = tarfile.GNU_FORMAT
    elif op == "bigmanifest":
        size = int(rest[0])
        i = find(entries, "manifest.json")
        ti, data = entries[i]
        doc = json.loads(data)
        body = json.dumps(doc, sort_keys=True).encode()
        if size < len(body):
            die("bigmanifest: %d bytes is smaller than the manifest" % size)
        data = body[:-1] + b" " * (size - len(body)) + b"}"
        entries[i] = (regular(ti.name, data, ti), data)
    elif op in ("special", "sparse", "magic"):
        pass
    else:
        die("unknown operation %r" % op)

    if op == "special":
        idx, typeflag, name = int(rest[0]), rest[1], rest[2]
        text = unescape(rest[3]).encode("latin-1") if len(rest) > 3 else b""
        magic = rest[4] if len(rest) > 4 else "posix"
        write_entries(dst, entries)
        with open(dst, "rb") as f:
            raw = f.read()
        lay = layout(dst)[1]
        cut = end_offset(dst) if idx < 0 or idx >= len(lay) else lay[idx][1]
        block = raw_header(name, len(text), typeflag, magic) + pad(text)
        with open(dst, "wb") as f:
            f.write(raw[:cut] + block + raw[cut:])
        return
    if op == "magic":
        write_entries(dst, entries)
        with open(dst, "rb") as f:
            raw = bytearray(f.read())
        hoff = [x for x in layout(dst)[1] if x[0] == rest[0]][0][1]
        h = raw[hoff:hoff + BLOCK]
        h[257:265] = bytes.fromhex(rest[1])
        h[148:156] = b"        "
        h[148:156] = b"%06o\0 " % sum(h)
        raw[hoff:hoff + BLOCK] = h
        with open(dst, "wb") as f:
            f.write(raw)
        return
    if op == "sparse":
        name = rest[0]
        magic = rest[1] if len(rest) > 1 else "gnu"
        write_entries(dst, entries)
        with open(dst, "rb") as f:
            raw = f.read()
        _, lay = layout(dst)
        n, hoff, doff, size = [x for x in lay if x[0] == name][0]
        # Old GNU sparse header: one extent (offset 0, numbytes size) at 386,
        # isextended 0 at 482, realsize at 483.
        extra = {386: b"%011o\0" % 0, 398: b"%011o\0" % size, 482: b"\0",
                 483: b"%011o\0" % size}
        hdr = raw_header(name, size, "S", magic, extra=extra)
        with open(dst, "wb") as f:
            f.write(raw[:hoff] + hdr + raw[hoff + BLOCK:])
        return
    write_entries(dst, entries, fmt, global_pax)


if __name__ == "__main__":
    main(sys.argv)

#!/usr/bin/env python3
"""zcraft.py: a compressed package whose payload carries other compressed bytes, re-signed by a key the device trusts.

Usage: zcraft.py IN OUT KEY NAME ZFILE [FIELD=N]...

Payload NAME of IN (a package mkpkg --compress made) gets the bytes of ZFILE as
its compressed data; its compressed chunk list, the manifest's "compression"
size and digest follow, and the manifest is signed again with minisign's KEY
(no passphrase). So every digest and the signature are right, and only the
decoder's own bounds stand between the bytes and a slot: the signer's mistake
or a stolen key, which the reader must survive with bounded memory.
Each FIELD=N sets an integer of the payload's "compression" object as well
(frame_size, window_log, base.margin, ...), so the manifest may say what the
signer's mistake says.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import craft  # noqa: E402


def main(argv):
    if len(argv) < 6:
        craft.die("usage: zcraft.py IN OUT KEY NAME ZFILE [FIELD=N]...")
    src, out, key, name, zfile = argv[1:6]
    entries = craft.read_entries(src)
    with open(zfile, "rb") as f:
        z = f.read()
    m = json.loads(entries[0][1])
    payloads = m.get("images", m.get("files"))
    p = [x for x in payloads if x.get("file", x.get("entry")) == name][0]
    c = p["compression"]
    piece = c["chunk_size"]
    zlist = b"".join(hashlib.sha256(z[i:i + piece]).digest() for i in range(0, len(z), piece))
    for field in argv[6:]:
        path, value = field.split("=", 1)
        obj, keys = c, path.split(".")
        for k in keys[:-1]:
            obj = obj[k]
        obj[keys[-1]] = int(value)
    c["size"] = len(z)
    c["digest"] = hashlib.sha256(zlist).hexdigest()
    manifest = (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()
    n_image = 32 * ((p["size"] + p["chunk_size"] - 1) // p["chunk_size"])
    with tempfile.TemporaryDirectory() as d:
        mpath = os.path.join(d, "manifest.json")
        with open(mpath, "wb") as f:
            f.write(manifest)
        subprocess.run(["minisign", "-S", "-s", key, "-m", mpath, "-x", mpath + ".sig", "-t", "zcraft"],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        with open(mpath + ".sig", "rb") as f:
            sig = f.read()
    new = []
    for ti, data in entries:
        if ti.name == "manifest.json":
            data = manifest
        elif ti.name.endswith(".minisig"):
            data = sig
        elif ti.name == name + ".chunks":
            data = data[:n_image] + zlist
        elif ti.name == name:
            data = z
        new.append((craft.regular(ti.name, data, ti), data))
    craft.write_entries(out, new)


if __name__ == "__main__":
    main(sys.argv)

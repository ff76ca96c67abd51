#!/usr/bin/env python3
"""faultproxy: a TCP proxy for transport tests that cuts or stalls connections at chosen byte offsets.

usage: faultproxy.py [--http | --ftp] PLAN UPSTREAM_PORT PORT_FILE
       faultproxy.py --http --random-cut PERCENT[:SEED] - UPSTREAM_PORT PORT_FILE

Listens on a free loopback port (written to PORT_FILE once listening) and
forwards each connection to 127.0.0.1:UPSTREAM_PORT. Before each faultable
connection it takes the first line off the PLAN file (rewriting the file):
  cut N     forward N bytes from the server, then close both sides
  stall N   forward N bytes from the server, then forward nothing more (hold the connection)
  dribble N forward N bytes from the server, then one byte a second (a slow-retrieval attack)
  pass      (or no line left) forward everything
N counts the server's bytes after the end of the HTTP response header with
--http, from the first byte otherwise.
With --ftp, the control connection is forwarded as is except that EPSV and
PASV replies are rewritten to point at a proxied data port; the plan applies
to the data connections, so an FTP download is cut or stalled, not its login.
With --random-cut (HTTP only, no plan file: "-"), each connection is cut with
the given probability at a byte offset drawn uniformly from its body
(Content-Length); a count of the cuts goes to PORT_FILE.cuts. For the fleet
simulation (scripts/fleet).
"""
import os
import random
import re
import socket
import sys
import threading
import time

lock = threading.Lock()
random_cut = None   # (probability, random.Random) with --random-cut
cuts = 0
cuts_file = None


def next_step(plan):
    if random_cut is not None:
        with lock:
            return ("randcut", 0) if random_cut[1].random() < random_cut[0] else ("pass", 0)
    with lock:
        try:
            with open(plan) as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
        except FileNotFoundError:
            return ("pass", 0)
        if not lines:
            return ("pass", 0)
        with open(plan + ".tmp", "w") as f:
            f.write("".join(l + "\n" for l in lines[1:]))
        os.replace(plan + ".tmp", plan)
        word, _, n = lines[0].partition(" ")
        return (word, int(n or 0))


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def pump_up(client, server):
    """Client to server, untouched."""
    try:
        while True:
            b = client.recv(65536)
            if not b:
                break
            server.sendall(b)
        server.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def pump_down(server, client, step, http):
    """Server to client, applying the step: returns when done."""
    word, limit = step
    header = b"" if http else None
    sent = 0
    try:
        while True:
            b = server.recv(65536)
            if not b:
                break
            if header is not None:
                header += b
                end = header.find(b"\r\n\r\n")
                if end < 0:
                    continue
                client.sendall(header[:end + 4])
                if word == "randcut":
                    m = re.search(rb"\r\ncontent-length: *(\d+)", header[:end], re.I)
                    size = int(m.group(1)) if m else 0
                    if size > 0:
                        with lock:
                            limit = random_cut[1].randrange(size)
                        word = "cut"
                        count_cut()
                    else:
                        word = "pass"
                b = header[end + 4:]
                header = None
            if word == "dribble" and sent + len(b) >= limit:
                client.sendall(b[:limit - sent])
                rest = b[limit - sent:]
                while True:
                    while not rest:
                        rest = server.recv(65536)
                        if not rest:
                            client.shutdown(socket.SHUT_WR)
                            return
                    client.sendall(rest[:1])
                    rest = rest[1:]
                    time.sleep(1)
            if word in ("cut", "stall") and sent + len(b) >= limit:
                client.sendall(b[:limit - sent])
                if word == "stall":
                    client.recv(1)   # hold until the client gives up
                return
            client.sendall(b)
            sent += len(b)
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def count_cut():
    global cuts
    with lock:
        cuts += 1
        with open(cuts_file + ".tmp", "w") as f:
            f.write("%d\n" % cuts)
        os.replace(cuts_file + ".tmp", cuts_file)


def relay(client, upstream_port, step, http):
    try:
        server = socket.socket()
        if random_cut is not None:
            # Read little ahead of the client, so a cut connection's bytes were mostly delivered (fleet's count).
            server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        server.connect(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    up = threading.Thread(target=pump_up, args=(client, server), daemon=True)
    up.start()
    pump_down(server, client, step, http)
    close(client, server)


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    return s


def data_proxy(upstream_port, plan):
    """One proxied FTP data connection; returns the port to announce."""
    s = listener()

    def run():
        try:
            s.settimeout(30)
            c, _ = s.accept()
        except OSError:
            return
        finally:
            s.close()
        relay(c, upstream_port, next_step(plan), False)

    threading.Thread(target=run, daemon=True).start()
    return s.getsockname()[1]


def ftp_control(client, upstream_port, plan):
    try:
        server = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    threading.Thread(target=pump_up, args=(client, server), daemon=True).start()
    buf = b""
    try:
        while True:
            b = server.recv(65536)
            if not b:
                break
            buf += b
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                m = re.match(rb"229 (.*)\(\|\|\|(\d+)\|\)", line)
                if m:
                    port = data_proxy(int(m.group(2)), plan)
                    line = b"229 " + m.group(1) + b"(|||%d|)" % port
                m = re.match(rb"227 .*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", line)
                if m:
                    port = data_proxy(int(m.group(5)) * 256 + int(m.group(6)), plan)
                    line = b"227 Entering Passive Mode (127,0,0,1,%d,%d)." % (port // 256, port % 256)
                client.sendall(line + b"\r\n")
    except OSError:
        pass
    close(client, server)


def main():
    global random_cut, cuts_file
    args = sys.argv[1:]
    mode = "raw"
    if args and args[0] in ("--http", "--ftp"):
        mode = args.pop(0)[2:]
    if args and args[0] == "--random-cut":
        pct, _, seed = args[1].partition(":")
        random_cut = (float(pct) / 100.0, random.Random(int(seed or 1)))
        args = args[2:]
    plan, upstream_port, port_file = args[0], int(args[1]), args[2]
    cuts_file = port_file + ".cuts"
    s = listener()
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.replace(port_file + ".tmp", port_file)
    while True:
        c, _ = s.accept()
        if mode == "ftp":
            t = threading.Thread(target=ftp_control, args=(c, upstream_port, plan), daemon=True)
        else:
            t = threading.Thread(target=relay, args=(c, upstream_port, next_step(plan), mode == "http"),
                                 daemon=True)
        t.start()


if __name__ == "__main__":
    main()

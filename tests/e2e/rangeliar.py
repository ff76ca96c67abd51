#!/usr/bin/env python3
"""rangeliar: an HTTP server for attack tests whose answers to Range requests cannot be trusted.

usage: rangeliar.py MODE ROOT PORT_FILE

Serves the files of ROOT over HTTP/1.1 on a free loopback port (written to
PORT_FILE once listening), with Accept-Ranges: bytes, a fixed ETag and
Last-Modified per file, and answers a request without Range as any server
does (200, the whole file). A request with Range "bytes=A-[B]" is answered by
MODE:
  ignore      200 and the whole file from byte 0 (it said it serves ranges)
  wrong:NAME  206 with the Content-Range asked for, but the bytes at those
              offsets of ROOT/NAME instead (a server answering with other bytes)
Each request is logged to PORT_FILE.log as "RANGE BYTES_SENT".
"""
import http.server
import os
import re
import sys

mode, root, port_file = sys.argv[1], sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def head(self, send_body):
        path = os.path.join(root, os.path.basename(self.path.split("?")[0]))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        st = os.stat(path)
        rng = self.headers.get("Range")
        m = re.match(r"bytes=(\d+)-(\d*)$", rng or "")
        code, body, extra = 200, data, {}
        if m and mode.startswith("wrong:"):
            other = open(os.path.join(root, mode[6:]), "rb").read()
            a = int(m.group(1))
            b = int(m.group(2)) if m.group(2) else len(data) - 1
            body = other[a:b + 1]
            code, extra = 206, {"Content-Range": "bytes %d-%d/%d" % (a, a + len(body) - 1, len(data))}
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", '"%x-%x"' % (int(st.st_mtime), st.st_size))
        self.send_header("Last-Modified", self.date_time_string(int(st.st_mtime)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        sent = 0
        if send_body:
            try:
                self.wfile.write(body)
                sent = len(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        with open(port_file + ".log", "a") as log:
            log.write("%s %d\n" % (rng or "-", sent))

    def do_GET(self):
        self.head(True)

    def do_HEAD(self):
        self.head(False)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()

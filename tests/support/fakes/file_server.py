#!/usr/bin/python3
"""A static HTTPS file server on 127.0.0.1 for the cloud image path: serves ci/make-test-cloudimg's
directory (the qcow2, SHA256SUMS, SHA256SUMS.gpg, keyring.gpg) like cloud-images.ubuntu.com
serves a release directory, with the test CA's server certificate.

  file_server.py --root DIR --tls-cert F --tls-key F [--port 0] [--prefix /releases/noble/release-20260926]

Prints `PORT <n>` as its first stdout line, then serves GET/HEAD (with `Range: bytes=N-` for
resumed downloads) until killed. Paths outside --prefix or missing files are 404.
"""
import argparse
import http.server
import os
import ssl
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--tls-cert", required=True)
    ap.add_argument("--tls-key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--prefix", default="")
    a = ap.parse_args()
    root = os.path.realpath(a.root)
    prefix = a.prefix.rstrip("/")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _file(self):
            path = self.path.split("?", 1)[0]
            if prefix and not path.startswith(prefix + "/"):
                return None
            rel = path[len(prefix):].lstrip("/")
            full = os.path.realpath(os.path.join(root, rel))
            if not full.startswith(root + os.sep) or not os.path.isfile(full):
                return None
            return full

        def _serve(self, body):
            full = self._file()
            if full is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            size = os.path.getsize(full)
            start = 0
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % size)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(size - start))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if not body:
                return
            with open(full, "rb") as f:
                f.seek(start)
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    self.wfile.write(chunk)

        def do_GET(self):
            self._serve(True)

        def do_HEAD(self):
            self._serve(False)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.tls_cert, a.tls_key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# Test server for builder/common/http_test.cpp: a small HTTP/1.1 server on 127.0.0.1 (TLS when
# --cert/--key are given, client certificates required with --client-ca) whose paths exercise
# the client's framing, retries, timeouts and resumable downloads. Prints the port on stdout.
#   /hello                    200 "hello" (Content-Length)
#   /chunked                  200, chunked body "chunk-one|chunk-two"
#   /eof                      200, no length, body until close
#   /echo                     200, JSON {method, path, headers, body}
#   /status/N                 status N
#   /flaky/KEY/N[/ra]         503 (with Retry-After: ra; "date" = HTTP-date 1 s ahead) N times, then 200
#   /drop/KEY/N               closes without answering N times, then 200 "ok"
#   /slow/MS                  sleeps MS before answering
#   /file                     256 KiB deterministic body, honours Range (206)
#   /file-cut/KEY/N           like /file, but the first N answers stop after 100 KiB and close
#   /noresume                 like /file but ignores Range (always 200)
#   /redirect                 302 to /file
import argparse
import email.utils
import http.server
import json
import socket
import ssl
import sys
import time

FILE = bytes((i * 7 + i // 256) % 251 for i in range(256 * 1024))
counts = {}


def bump(key):
    counts[key] = counts.get(key, 0) + 1
    return counts[key]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def serve_file(self, honour_range=True, cut=False):
        start = 0
        rng = self.headers.get("Range")
        if honour_range and rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
        if start >= len(FILE):
            self.send(416, b"", {"Content-Range": "bytes */%d" % len(FILE)})
            return
        body = FILE[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(FILE) - 1, len(FILE)))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if cut:
            self.wfile.write(body[: 100 * 1024])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        self.do_GET()

    def do_PUT(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        name = parts[0]
        if name == "hello":
            self.send(200, b"hello", {"Content-Type": "text/plain"})
        elif name == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in (b"chunk-one|", b"chunk-two"):
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        elif name == "eof":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the end")
            self.close_connection = True
        elif name == "echo":
            out = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body.decode()}
            self.send(200, json.dumps(out).encode(), {"Content-Type": "application/json"})
        elif name == "status":
            self.send(int(parts[1]), b"status body")
        elif name == "flaky":
            if bump(self.path) <= int(parts[2]):
                headers = {}
                if len(parts) > 3:
                    headers["Retry-After"] = (email.utils.formatdate(time.time() + 1, usegmt=True)
                                              if parts[3] == "date" else parts[3])
                self.send(429 if len(parts) > 3 else 503, b"busy", headers)
            else:
                self.send(200, b"finally")
        elif name == "drop":
            if bump(self.path) <= int(parts[2]):
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send(200, b"ok")
        elif name == "slow":
            time.sleep(int(parts[1]) / 1000)
            self.send(200, b"slow")
        elif name == "file":
            self.serve_file()
        elif name == "file-cut":
            self.serve_file(cut=bump("cut/" + parts[1]) <= int(parts[2]))
        elif name == "noresume":
            self.serve_file(honour_range=False)
        elif name == "redirect":
            self.send(302, b"", {"Location": "/file"})
        elif name == "count":
            self.send(200, str(counts.get(parts[1], 0)).encode())
        else:
            self.send(404, b"no such path")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    args = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()

"""Shared machinery of the fake vendor servers: a threading HTTP/1.1 server with TLS (optionally
verifying client certificates), request parsing, the request log, the violations list, fault
injection and the control API under /__fake__/.

A fake (cloudflare.py, harbor.py, kube.py) subclasses Fake and implements handle(req) -> Response,
error(status, message) (the vendor's error envelope), initial_state() and snapshot(). Every
request goes through Fake.dispatch: control routes first, then injected faults, then the fake.
All state changes happen under Fake.lock; after each mutating request the state, violations
and request log are written to --state-dir (state.json is reloaded on start).
"""
import json
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    def __init__(self, method, raw_path, headers, body, peer_cert):
        self.method = method
        url = urllib.parse.urlsplit(raw_path)
        self.raw_path = raw_path
        self.path = urllib.parse.unquote(url.path)
        self.encoded_path = url.path
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.peer_cert = peer_cert
        self.content_type = (headers.get("Content-Type") or "").split(";")[0].strip()

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class Response:
    def __init__(self, status=200, body=None, headers=None, content_type="application/json"):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.content_type = content_type
        self.drop = False

    def payload(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Fake:
    kind = "fake"

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.started = time.time()
        self.violations = []
        self.requests = []
        self.faults = []
        self.state = self.initial_state()
        self._load()

    # --- to implement -------------------------------------------------------------------------
    def initial_state(self):
        return {}

    def handle(self, req):
        raise NotImplementedError

    def error(self, status, message):
        return Response(status, {"error": message})

    def snapshot(self):
        return self.state

    def configure(self, settings):
        """POST /__fake__/config: change run-time settings (delays etc.)."""
        for k, v in settings.items():
            setattr(self.args, k, v)

    # --- shared ------------------------------------------------------------------------------
    def violation(self, req, message):
        with self.lock:
            self.violations.append({"method": req.method, "path": req.raw_path,
                                    "message": message, "time": now_iso()})

    def _load(self):
        d = getattr(self.args, "state_dir", None)
        if d and os.path.exists(os.path.join(d, "state.json")):
            with open(os.path.join(d, "state.json")) as f:
                self.state = json.load(f)

    def persist(self):
        d = getattr(self.args, "state_dir", None)
        if not d:
            return
        os.makedirs(d, exist_ok=True)
        for name, value in (("state.json", self.state), ("violations.json", self.violations),
                            ("requests.json", self.requests)):
            tmp = os.path.join(d, name + ".tmp")
            with open(tmp, "w") as f:
                json.dump(value, f, indent=1)
            os.replace(tmp, os.path.join(d, name))

    def control(self, req):
        route = req.path[len("/__fake__"):].rstrip("/")
        with self.lock:
            if req.method == "GET" and route == "/state":
                return Response(200, self.snapshot())
            if req.method == "GET" and route == "/violations":
                return Response(200, self.violations)
            if req.method == "GET" and route == "/requests":
                return Response(200, self.requests)
            if req.method == "GET" and route == "/faults":
                return Response(200, self.faults)
            if req.method == "POST" and route == "/faults":
                spec = req.json()
                specs = spec if isinstance(spec, list) else [spec]
                for s in specs:
                    if not isinstance(s, dict) or "path" not in s:
                        return Response(400, {"error": "fault needs a 'path' regex"})
                    s.setdefault("count", 1)
                    self.faults.append(s)
                return Response(200, self.faults)
            if req.method == "DELETE" and route == "/faults":
                self.faults = []
                return Response(200, [])
            if req.method == "POST" and route == "/reset":
                self.state = self.initial_state()
                self.violations, self.requests, self.faults = [], [], []
                self.started = time.time()
                self.persist()
                return Response(200, {"reset": True})
            if req.method == "POST" and route == "/config":
                self.configure(req.json() or {})
                return Response(200, {k: v for k, v in vars(self.args).items()
                                      if isinstance(v, (int, float, str, bool))})
        return Response(404, {"error": "no control route %s %s" % (req.method, route)})

    def _take_fault(self, req):
        with self.lock:
            for f in self.faults:
                if f["count"] == 0:
                    continue
                if f.get("method") and f["method"].upper() != req.method:
                    continue
                if not re.search(f["path"], req.path):
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                return dict(f)
        return None

    def dispatch(self, req, control_port):
        if req.path.startswith("/__fake__/"):
            return self.control(req)
        if control_port:
            return Response(404, {"error": "control port serves /__fake__/ only"})
        fault = self._take_fault(req)
        entry = {"time": now_iso(), "method": req.method, "path": req.raw_path,
                 "auth": self._auth_summary(req), "content_type": req.content_type or None,
                 "body": req.json() if req.body else None}
        if req.body and entry["body"] is None:
            entry["body_text"] = req.body[:2000].decode("utf-8", "replace")
        resp = None
        if fault:
            entry["fault"] = fault
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            if fault.get("drop"):
                resp = Response(0)
                resp.drop = True
            elif fault.get("status"):
                resp = self.error(int(fault["status"]), "injected fault")
                if fault.get("retry_after") is not None:
                    resp.headers["Retry-After"] = str(fault["retry_after"])
        if resp is None:
            try:
                resp = self.handle(req)
            except Exception as e:  # a bug in the fake must still answer and be visible
                self.violation(req, "fake crashed: %r" % e)
                resp = self.error(500, "fake internal error: %r" % e)
        entry["status"] = resp.status
        with self.lock:
            self.requests.append(entry)
            if req.method not in ("GET", "HEAD") or fault:
                self.persist()
        return resp

    @staticmethod
    def _auth_summary(req):
        a = req.headers.get("Authorization") or ""
        if a.startswith("Bearer "):
            return "bearer"
        if a.startswith("Basic "):
            import base64
            try:
                return "basic:" + base64.b64decode(a[6:]).decode().split(":", 1)[0]
            except Exception:
                return "basic:?"
        if req.peer_cert:
            return "cert"
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def setup(self):
        sock = self.request
        if isinstance(sock, ssl.SSLSocket):
            sock.settimeout(15)
            try:
                sock.do_handshake()
            except (ssl.SSLError, OSError):
                self.handshake_failed = True
        super().setup()

    def handle(self):
        if getattr(self, "handshake_failed", False):
            return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            pass

    def log_message(self, fmt, *args):
        if getattr(self.server, "verbose", False):
            super().log_message(fmt, *args)

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().strip().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _serve(self):
        peer = None
        if isinstance(self.connection, ssl.SSLSocket):
            peer = self.connection.getpeercert() or None
        req = Request(self.command, self.path, self.headers, self._body(), peer)
        resp = self.server.fake.dispatch(req, self.server.control_port)
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload = resp.payload()
        self.send_response(resp.status)
        if payload or resp.body is not None:
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, fake, tls_ctx, control_port=False, verbose=False):
        super().__init__(addr, Handler)
        self.fake = fake
        self.tls_ctx = tls_ctx
        self.control_port = control_port
        self.verbose = verbose

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls_ctx is not None:
            sock = self.tls_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


def tls_context(cert, key, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(client_ca)
    return ctx


def serve(fake, bind, port, tls_ctx, verbose=False):
    main = Server((bind, port), fake, tls_ctx, verbose=verbose)
    ctl = Server((bind, 0), fake, None, control_port=True, verbose=verbose)
    for s in (main, ctl):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("PORT %d" % main.server_address[1], flush=True)
    print("CONTROL %d" % ctl.server_address[1], flush=True)
    return main, ctl

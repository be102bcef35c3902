#!/usr/bin/python3
# Fake S3 bucket-lifecycle endpoint for s3_test.cpp, on 127.0.0.1 (plain HTTP; the client allows
# http only for loopback). Verifies every request's SigV4 signature independently (hashlib/hmac),
# x-amz-content-sha256 and Content-MD5, path-style addressing. Answers like S3:
# GET /<bucket>?lifecycle -> 200 XML | 404 NoSuchLifecycleConfiguration | 404 NoSuchBucket;
# PUT /<bucket>?lifecycle -> 200. GET /__log__ returns the request log as JSON.
# Prints the port on stdout.  s3_fake.py ACCESS_KEY SECRET_KEY BUCKET [--port N]
#   [--tls-cert F --tls-key F]   (HTTPS on a fixed port: the smoke boot's S3 endpoint, which the
#   guest reaches as 10.0.2.2 and so must be https; ci/smoke-boot --heal starts it late)
import base64
import hashlib
import hmac
import http.server
import json
import sys
import urllib.parse

ACCESS, SECRET, BUCKET = sys.argv[1], sys.argv[2], sys.argv[3]
OPTS = dict(zip(sys.argv[4::2], sys.argv[5::2]))
lifecycle = {}
log = []


def enc(s, safe=""):
    return urllib.parse.quote(s, safe="-_.~" + safe)


def sign_ok(method, raw_path, headers, body):
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "no SigV4 Authorization"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    cred = parts["Credential"].split("/")
    if cred[0] != ACCESS:
        return "InvalidAccessKeyId"
    date, region, service = cred[1], cred[2], cred[3]
    signed = parts["SignedHeaders"].split(";")
    path, _, query = raw_path.partition("?")
    pairs = sorted((enc(urllib.parse.unquote(k)), enc(urllib.parse.unquote(v)))
                   for k, _, v in (x.partition("=") for x in query.split("&") if x))
    cq = "&".join("%s=%s" % kv for kv in pairs)
    ch = "".join("%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    payload = headers.get("x-amz-content-sha256", "")
    if payload != hashlib.sha256(body).hexdigest():
        return "XAmzContentSHA256Mismatch"
    creq = "\n".join([method, enc(urllib.parse.unquote(path), "/"), cq, ch, ";".join(signed), payload])
    amz_date = headers.get("x-amz-date", "")
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + SECRET).encode()
    for m in (date, region, service, "aws4_request"):
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if want != parts["Signature"]:
        return "SignatureDoesNotMatch"
    if "host" not in signed or "x-amz-date" not in signed or "x-amz-content-sha256" not in signed:
        return "host, x-amz-date and x-amz-content-sha256 must be signed"
    return None


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def err(self, status, code):
        self.reply(status, ("<?xml version=\"1.0\"?><Error><Code>%s</Code></Error>" % code).encode())

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/__log__":
            return self.reply(200, json.dumps(log).encode(), "application/json")
        headers = {k.lower(): v for k, v in self.headers.items()}
        log.append({"method": self.command, "path": self.path})
        problem = sign_ok(self.command, self.path, headers, body)
        if problem:
            log[-1]["problem"] = problem
            return self.err(403, problem)
        path, _, query = self.path.partition("?")
        if path.strip("/") != BUCKET:
            return self.err(404, "NoSuchBucket")
        if query != "lifecycle":
            return self.err(400, "NotImplemented")
        if self.command == "GET":
            if BUCKET not in lifecycle:
                return self.err(404, "NoSuchLifecycleConfiguration")
            return self.reply(200, lifecycle[BUCKET])
        if self.command == "PUT":
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            if headers.get("content-md5") != md5:
                return self.err(400, "InvalidDigest")
            lifecycle[BUCKET] = body
            return self.reply(200)
        self.err(405, "MethodNotAllowed")

    do_GET = do_PUT = do_POST = do_DELETE = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(OPTS.get("--port", 0))), H)
if "--tls-cert" in OPTS:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(OPTS["--tls-cert"], OPTS["--tls-key"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
sys.stdout.close()
srv.serve_forever()

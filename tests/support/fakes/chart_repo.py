"""Fake chart sources for the builder's chart resolution: Helm HTTP repositories and an OCI
registry, serving the fixture tree that tests/support/charts/make_chart_fixtures.py writes
(--charts-dir, its OUT/repos/). Profiles reach it through charts.repository_mirrors:
`https://` -> `https://127.0.0.1:<port>/repos/` and `oci://` -> `oci://127.0.0.1:<port>/`.

  GET /repos/<path>                         a file of the fixture tree (index.yaml, *.tgz, CRDs)
  GET /v2/                                  401 + challenge (registry API version check)
  GET /v2/<repo>/manifests/<tag>            OCI image manifest of the chart <repo>=<dir>/<name>,
                                            from <dir>/<name>-<tag>.tgz or <dir>/<name>/<name>-<tag>.tgz
  GET /v2/<repo>/blobs/sha256:<hex>         the chart layer or the config blob
  GET /token?service=&scope=                anonymous bearer token for scope repository:<repo>:pull

Like ghcr.io and quay.io, /v2/ routes need `Authorization: Bearer <token>`; without it the answer is
401 with `WWW-Authenticate: Bearer realm="<base>/token",service="fake-registry",scope="repository:
<repo>:pull"`. A token for another repository is a 401 and a violation. The manifest is only served
for Accept: application/vnd.oci.image.manifest.v1+json (else a violation: helm sends it).
Digest mismatches: POST /__fake__/config {"corrupt": "<regex>"} serves every matching path with
its last byte flipped. Unknown versions are 404 (MANIFEST_UNKNOWN), like a real registry.
"""
import hashlib
import json
import os
import re
import urllib.parse

from common import Fake, Response

HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class ChartRepo(Fake):
    kind = "charts"

    def __init__(self, args):
        if not getattr(args, "corrupt", None):
            args.corrupt = ""
        super().__init__(args)

    def initial_state(self):
        return {"tokens": {}}

    def error(self, status, message):
        return Response(status, {"errors": [{"code": "ERROR", "message": message}]})

    def _root(self):
        return os.path.join(self.args.charts_dir, "repos")

    def _serve(self, req, data, content_type):
        if self.args.corrupt and re.search(self.args.corrupt, req.path) and data:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        return Response(200, data, content_type=content_type)

    def _chart_file(self, repo, tag):
        d, _, name = repo.rpartition("/")
        for cand in (os.path.join(self._root(), d, "%s-%s.tgz" % (name, tag)),
                     os.path.join(self._root(), d, name, "%s-%s.tgz" % (name, tag))):
            if os.path.isfile(cand):
                return cand
        return None

    def _manifest(self, repo, tag):
        path = self._chart_file(repo, tag)
        if path is None:
            return None, None
        with open(path, "rb") as f:
            layer = f.read()
        config = json.dumps({"name": repo.rpartition("/")[2], "version": tag}).encode()
        manifest = {
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": HELM_CONFIG, "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                       "size": len(config)},
            "layers": [{"mediaType": HELM_LAYER, "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
                        "size": len(layer)}],
        }
        return manifest, {"sha256:" + hashlib.sha256(layer).hexdigest(): layer,
                          "sha256:" + hashlib.sha256(config).hexdigest(): config}

    def _challenge(self, req, repo):
        base = "https://%s" % (req.headers.get("Host") or "127.0.0.1")
        scope = "repository:%s:pull" % repo if repo else "registry:catalog:*"
        hdr = 'Bearer realm="%s/token",service="fake-registry",scope="%s"' % (base, scope)
        return Response(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                        headers={"WWW-Authenticate": hdr})

    def _authorized(self, req, repo):
        a = req.headers.get("Authorization") or ""
        if not a.startswith("Bearer "):
            return False
        scope = self.state["tokens"].get(a[7:])
        if scope is None:
            self.violation(req, "unknown bearer token")
            return False
        if scope != "repository:%s:pull" % repo:
            self.violation(req, "token for %r used for repository %r" % (scope, repo))
            return False
        return True

    def handle(self, req):
        if req.method != "GET":
            self.violation(req, "unexpected method %s" % req.method)
            return self.error(405, "method not allowed")
        if req.path.startswith("/repos/"):
            rel = os.path.normpath(req.path[len("/repos/"):])
            full = os.path.join(self._root(), rel)
            if rel.startswith("..") or not os.path.isfile(full):
                return Response(404, b"404 page not found\n", content_type="text/plain")
            with open(full, "rb") as f:
                data = f.read()
            ctype = "text/yaml" if full.endswith(".yaml") else "application/octet-stream"
            return self._serve(req, data, ctype)
        if req.path == "/token":
            scope = req.q("scope") or ""
            if req.q("service") != "fake-registry" or not scope.startswith("repository:"):
                self.violation(req, "token request without service/scope: %s" % req.raw_path)
                return self.error(400, "service and scope required")
            with self.lock:
                token = "anon-%d" % (len(self.state["tokens"]) + 1)
                self.state["tokens"][token] = scope
            return Response(200, {"token": token, "access_token": token, "expires_in": 300})
        m = re.match(r"^/v2/(.+)/(manifests|blobs)/([^/]+)$", req.path)
        if req.path in ("/v2", "/v2/"):
            return self._challenge(req, None)
        if not m:
            return self.error(404, "not found")
        repo, what, ref = m.group(1), m.group(2), m.group(3)
        if not self._authorized(req, repo):
            return self._challenge(req, repo)
        if what == "manifests":
            if OCI_MANIFEST not in (req.headers.get("Accept") or ""):
                self.violation(req, "manifest request without Accept: " + OCI_MANIFEST)
            manifest, _ = self._manifest(repo, ref)
            if manifest is None:
                return Response(404, {"errors": [{"code": "MANIFEST_UNKNOWN",
                                                  "message": "manifest unknown", "detail": ref}]})
            body = json.dumps(manifest).encode()
            return Response(200, body, content_type=OCI_MANIFEST,
                            headers={"Docker-Content-Digest": "sha256:" + hashlib.sha256(body).hexdigest()})
        # blobs: find the chart whose layer or config has this digest
        d, _, name = repo.rpartition("/")
        for base in (os.path.join(self._root(), d), os.path.join(self._root(), d, name)):
            if not os.path.isdir(base):
                continue
            for fn in sorted(os.listdir(base)):
                if fn.startswith(name + "-") and fn.endswith(".tgz"):
                    tag = fn[len(name) + 1:-4]
                    _, blobs = self._manifest(repo, tag)
                    if blobs and ref in blobs:
                        return self._serve(req, blobs[ref], "application/octet-stream")
        return Response(404, {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]})

    def snapshot(self):
        return {"tokens": len(self.state["tokens"]), "corrupt": self.args.corrupt}

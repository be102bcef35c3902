"""Fake public HTTPS face of a member and of the federation, for the readiness checks: what a
client on the internet sees at the member's names once ingress, cert-manager and the charts are
up, routed by the Host header as an ingress controller routes:

  <member host>            /health   BinderHub's health: {"ok": true, "checks": [...]}, 200
                                      (503 with "ok": false when --health-status says so)
                           /versions {"builder": ..., "binderhub": ...} (--versions)
                           /build/<provider>/<spec>  BinderHub's build API: a text/event-stream
                                      of phases ending in "ready" (or "failed", --launch failed)
  hub.<member host>        /hub/health  JupyterHub's health, 200
  <prime host>             /versions the federation prime's versions (--prime-versions)
  any host                 /v2/      a registry's API root: 401 with Docker's error envelope
  <redirector host>        /active_hosts the federation redirector's document
                                      {"active_hosts": {<name>: {url, weight, health, versions,
                                      prime}}} (--active-hosts: comma-separated names)
  anything else            404, recorded as a violation (the client used a name it should not)

Every setting can be changed at run time with POST /__fake__/config (health_status, versions,
prime_versions, active_hosts, launch). The certificate is whatever serve.py was given: tests
choose one valid for the names, or one that is not (wrong name, self-signed).
"""
import json

from common import Fake, Response

DEFAULT_VERSIONS = {"builder": "repo2docker 2025.10.0", "binderhub": "1.0.0-0.dev.git.3983.h383374de"}


class MemberWeb(Fake):
    kind = "web"

    def __init__(self, args):
        for name, default in (("member_host", "example.mybinder.org"),
                              ("prime_host", "2i2c.mybinder.org"),
                              ("redirector_host", "mybinder.org"),
                              ("health_status", 200), ("launch", "ready"),
                              ("active_hosts", "hetzner-2i2c"),
                              ("versions", json.dumps(DEFAULT_VERSIONS)),
                              ("prime_versions", json.dumps(DEFAULT_VERSIONS))):
            if getattr(args, name, None) is None:
                setattr(args, name, default)
        super().__init__(args)

    def error(self, status, message):
        return Response(status, {"status": status, "message": message})

    @staticmethod
    def _json(value):
        return json.loads(value) if isinstance(value, str) else value

    def handle(self, req):
        host = (req.headers.get("Host") or "").split(":")[0].lower()
        a = self.args
        member = a.member_host.lower()
        if req.method != "GET":
            return self.error(405, "method not allowed")
        if host == member and req.path == "/health":
            status = int(a.health_status)
            ok = status == 200
            checks = [{"service": "Hub", "ok": ok}, {"service": "Docker registry", "ok": True},
                      {"service": "Pod quota", "ok": True, "quota": 100, "total_pods": 0}]
            return Response(status, {"ok": ok, "checks": checks})
        if host == member and req.path == "/versions":
            return Response(200, self._json(a.versions))
        if host == member and req.path.startswith("/build/"):
            return self.build(req.path[len("/build/"):])
        if host == "hub." + member and req.path == "/hub/health":
            return Response(200, b"", content_type="text/plain")
        if host == a.prime_host.lower() and req.path == "/versions":
            return Response(200, self._json(a.prime_versions))
        if req.path == "/v2/":
            return Response(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                            headers={"WWW-Authenticate": 'Bearer realm="https://%s/token"' % host})
        if host == a.redirector_host.lower() and req.path == "/active_hosts":
            names = [n for n in str(a.active_hosts).split(",") if n]
            hosts = {n: {"url": "https://%s.mybinder.org" % n.split("-")[-1], "weight": 50,
                         "health": "", "versions": "", "prime": n == "hetzner-2i2c"} for n in names}
            return Response(200, {"active_hosts": hosts})
        self.violation(req, "no site for Host '%s' path %s" % (host, req.path))
        return self.error(404, "no site for %s%s" % (host, req.path))

    def build(self, spec):
        """BinderHub's /build/<provider>/<spec>: server-sent events, one JSON object each."""
        phases = [{"phase": "waiting", "message": "Waiting for build to start...\n"},
                  {"phase": "fetching", "message": "Fetching %s\n" % spec},
                  {"phase": "building", "message": "Step 1/10\n"},
                  {"phase": "pushing", "progress": {}},
                  {"phase": "built", "message": "Built image, launching...\n"},
                  {"phase": "launching", "message": "Launching server...\n"}]
        if self.args.launch == "failed":
            phases = phases[:3] + [{"phase": "failed", "message": "Error: build failed\n"}]
        else:
            phases.append({"phase": "ready", "message": "server running at https://hub/user/x/\n",
                           "url": "https://hub.%s/user/x/" % self.args.member_host, "token": "t0k3n-not-a-secret"})
        body = ":keepalive\n\n" + "".join("data: %s\n\n" % json.dumps(p) for p in phases)
        return Response(200, body, content_type="text/event-stream")

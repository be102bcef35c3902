"""Fake Kubernetes API server (the local k3s), checked against k8s-core-subset.json and, for
HelmChart/HelmChartConfig bodies, the helm.cattle.io CRD schemas in k3s-helmchart-crd.yaml.

Auth is a client certificate verified against --client-ca or `Authorization: Bearer --token`
(anonymous only for /version, /readyz, /livez, /healthz, like system:public-info-viewer).
Discovery (/api, /apis, /api/v1, /apis/<g>/v1) is served so the real kubectl works; /openapi/*
is 404. Objects keep uid, resourceVersion, creationTimestamp and generation; POST on an existing
object is 409 AlreadyExists, PUT with a stale resourceVersion 409 Conflict, a missing namespace
404; Secrets merge stringData into base64 data; PATCH supports merge, strategic-merge
(approximated by merge), JSON patch and server-side apply (creates; needs fieldManager). A node
(--node-name) turns Ready after --node-ready-delay; a HelmChart gets its Job helm-install-<name>
and the chart's Deployments after --helm-delay, Ready after a further --ready-delay. While a
Secret named in spec.valuesSecrets is missing the Job is failed and the install retried.

helm-controller hand-over semantics (mirror/README.md facts (a)): a HelmChart annotated
`helmcharts.helm.cattle.io/unmanaged` (any value) is left alone: updating it starts no Job and a
pending install is dropped; deleting it removes only the CR (and its install Job, owned by it),
the release's Deployments stay. Deleting a managed HelmChart runs `helm-delete-<name>` (an
uninstall): its Deployments are removed. Every Job the controller starts is appended to
state["jobs"] ({name, namespace, chart, action: install|delete}) so tests can assert that none ran.
"""
import base64
import json
import os
import secrets as pysecrets
import time
import uuid

import yaml

import kube_model as km
import kube_proto
from common import Fake, Response, now_iso
from openapi import Spec

ANONYMOUS = ("/version", "/version/", "/readyz", "/livez", "/healthz")
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class Kube(Fake):
    kind = "kube"

    def __init__(self, args):
        with open(os.path.join(args.ref_dir, "apis/k8s-core-subset.json")) as f:
            self.spec = Spec(json.load(f))
        with open(os.path.join(args.ref_dir, "apis/k3s-helmchart-crd.yaml")) as f:
            self.crds = {d["spec"]["names"]["kind"]: d["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
                         for d in yaml.safe_load_all(f) if d}
        super().__init__(args)

    def initial_state(self):
        st = {"rv": 1, "objects": {}, "pending": [], "jobs": []}
        self.state = st
        for ns in DEFAULT_NAMESPACES:
            self.store({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns},
                        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}, "", "namespaces")
        self.store(km.node(self.args.node_name, False), "", "nodes")
        return st

    # --- storage -------------------------------------------------------------------------------
    @staticmethod
    def key(group, plural, ns, name):
        return "%s/%s/%s/%s" % (group, plural, ns or "", name)

    def store(self, obj, group, plural, old=None):
        meta = obj.setdefault("metadata", {})
        self.state["rv"] += 1
        meta["resourceVersion"] = str(self.state["rv"])
        meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
        meta["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else now_iso()
        if plural in ("helmcharts", "deployments"):
            gen = old["metadata"].get("generation", 1) if old else 1
            if old and old.get("spec") != obj.get("spec"):
                gen += 1
            meta["generation"] = gen
        self.state["objects"][self.key(group, plural, meta.get("namespace"), meta["name"])] = obj
        return obj

    def get(self, group, plural, ns, name):
        return self.state["objects"].get(self.key(group, plural, ns, name))

    def snapshot(self):
        self.tick()
        return self.state

    # --- time-driven behaviour -----------------------------------------------------------------
    def tick(self):
        now = time.time()
        node = self.get("", "nodes", None, self.args.node_name)
        if node and now - self.started >= float(self.args.node_ready_delay):
            if node["status"]["conditions"][-1]["status"] != "True":
                self.store(km.node(self.args.node_name, True), "", "nodes", node)
        keep = []
        for p in self.state["pending"]:
            if now < p["due"]:
                keep.append(p)
                continue
            hc = self.get("helm.cattle.io", "helmcharts", p["ns"], p["name"])
            if hc is None or hc["metadata"]["generation"] != p["generation"]:
                continue
            if p["stage"] == "install" and km.unmanaged(hc):
                continue  # the controller no longer manages it: no Job
            if p["stage"] == "install":
                self.install(hc, p, keep)
            else:
                for d in p["deployments"]:
                    old = self.get("apps", "deployments", p["target"], d)
                    if old:
                        self.store(km.deployment(d, p["target"], p["chart"], True), "apps", "deployments", old)
        self.state["pending"] = keep

    def install(self, hc, p, keep):
        spec = hc.get("spec", {})
        target = spec.get("targetNamespace") or p["ns"]
        ok = self.get("", "namespaces", None, target) is not None or spec.get("createNamespace")
        if ok and not self.get("", "namespaces", None, target):
            self.store({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target},
                        "status": {"phase": "Active"}}, "", "namespaces")
        missing = [r.get("name") for r in spec.get("valuesSecrets") or []
                   if not r.get("ignoreUpdates") and not self.get("", "secrets", p["ns"], r.get("name"))]
        if missing:
            # helm-controller needs every referenced values Secret; it retries once they appear.
            ok = False
            keep.append(dict(p, due=time.time() + 0.5))
        job = km.install_job(p["name"], p["ns"], bool(ok))
        self.record_job(job, p["name"], "install")
        self.store(job, "batch", "jobs", self.get("batch", "jobs", p["ns"], job["metadata"]["name"]))
        hc["status"] = {"jobName": job["metadata"]["name"], "conditions": [
            {"type": "JobCreated", "status": "True", "reason": "Job created"}]}
        if not ok:
            return
        names = km.chart_deployments(spec.get("chart", p["name"]), p["name"])
        for d in names:
            self.store(km.deployment(d, target, spec.get("chart", ""), False), "apps", "deployments",
                       self.get("apps", "deployments", target, d))
        keep.append(dict(p, stage="ready", due=time.time() + float(self.args.ready_delay),
                         target=target, deployments=names, chart=spec.get("chart", "")))

    def record_job(self, job, chart, action):
        self.state.setdefault("jobs", []).append({"name": job["metadata"]["name"], "chart": chart,
                                                  "namespace": job["metadata"]["namespace"],
                                                  "action": action, "time": now_iso()})

    def schedule(self, hc):
        if km.unmanaged(hc):
            return
        self.state["pending"].append({"stage": "install", "ns": hc["metadata"]["namespace"],
                                      "name": hc["metadata"]["name"],
                                      "generation": hc["metadata"]["generation"],
                                      "due": time.time() + float(self.args.helm_delay)})

    # --- HTTP ------------------------------------------------------------------------------------
    def status(self, code, reason, message, details=None):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}
        if details:
            body["details"] = details
        return Response(code, body)

    def error(self, status, message):
        reasons = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                   409: "Conflict", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
                   503: "ServiceUnavailable"}
        return self.status(status, reasons.get(status, "Unknown"), message)

    def handle(self, req):
        authed = bool(req.peer_cert) or (req.headers.get("Authorization") or "") == "Bearer " + self.args.token
        if not authed and req.path not in ANONYMOUS:
            return self.status(401, "Unauthorized", "Unauthorized")
        if req.path in ("/readyz", "/livez", "/healthz"):
            return Response(200, "ok", content_type="text/plain; charset=utf-8")
        if req.path.rstrip("/") == "/version":
            return Response(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.5+k3s1",
                                  "gitCommit": "fake", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                                  "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"})
        doc = km.discovery(req.path.rstrip("/"))
        if doc is not None and req.method == "GET":
            return Response(200, doc)
        if req.path == "/openapi/v2" and req.method == "GET":
            # The vendor subset is a slice of the real /openapi/v2 document (kubectl's client-side
            # validation reads it); /openapi/v3 stays 404 like an old server.
            return Response(200, self.spec.doc)
        if req.path.startswith("/openapi/"):
            return self.status(404, "NotFound", "the server could not find the requested resource")
        parsed = km.parse_path(req.path)
        res = parsed and km.RESOURCES.get((parsed[0], parsed[1], parsed[3]))
        if not res or (parsed[4] and parsed[5] not in (None, "status")):
            self.violation(req, "unknown route %s %s" % (req.method, req.path))
            return self.status(404, "NotFound", "the server could not find the requested resource")
        with self.lock:
            self.tick()
            return self.resource(req, parsed, res)

    def validate(self, req, parsed, res, obj):
        group, version, ns, plural, name, _ = parsed
        kind = res[0]
        problems = []
        # A full object: POST, PUT, and server-side apply (PATCH application/apply-patch+yaml).
        full = req.method in ("POST", "PUT") or req.content_type == "application/apply-patch+yaml"
        body = json.dumps(km.strip_nulls(obj)).encode() if obj is not None else b""
        if req.method == "PATCH":
            body = b"{}"
        if self.spec.path_exists(req.path) and self.spec.find(req.method, req.path)[0]:
            problems += self.spec.check(req.method, req.path, req.query, req.headers, body, "application/json")
            defn = "#/definitions/io.k8s.api.%s.v1.%s" % ("apps" if group == "apps" else "core", kind)
            schema = {"$ref": defn}
            if req.method == "PATCH" and full and obj is not None:
                problems += self.spec.schema_errors(schema, km.strip_nulls(obj), "body", request=True)
        else:
            schema = self.crds.get(kind)
            for q in req.query:
                if q not in ("fieldManager", "fieldValidation", "dryRun", "pretty", "force",
                             "labelSelector", "fieldSelector", "limit", "continue", "resourceVersion",
                             "timeoutSeconds", "propagationPolicy", "gracePeriodSeconds"):
                    problems.append("unknown query parameter '%s'" % q)
            if schema is not None and obj is not None and full:
                problems += self.spec.schema_errors(schema, km.strip_nulls(obj), "body")
        if obj is None or not full:
            return problems
        if obj.get("apiVersion") != km.api_version(group, version) or obj.get("kind") != kind:
            problems.append("body apiVersion/kind %s/%s, expected %s/%s" % (
                obj.get("apiVersion"), obj.get("kind"), km.api_version(group, version), kind))
        meta = obj.get("metadata") or {}
        if schema is not None:
            problems += km.unknown_fields(self.spec.resolve, schema, km.strip_nulls(obj))
        n = meta.get("name") or ""
        rx = km.DNS1123_LABEL if plural == "namespaces" else km.DNS1123_SUBDOMAIN
        if not rx.match(n) or len(n) > 253:
            problems.append("metadata.name '%s' is not a valid DNS-1123 name" % n)
        if name and n != name:
            problems.append("metadata.name '%s' does not match the URL name '%s'" % (n, name))
        if ns and meta.get("namespace") not in (None, ns):
            problems.append("metadata.namespace '%s' does not match the URL namespace" % meta.get("namespace"))
        for field in ("data", "stringData") if kind in ("Secret", "ConfigMap") else ():
            for k, v in (obj.get(field) or {}).items():
                if not km.SECRET_KEY.match(k):
                    problems.append("%s key '%s' is invalid" % (field, k))
                if kind == "Secret" and field == "data":
                    try:
                        base64.b64decode(v, validate=True)
                    except Exception:
                        problems.append("data['%s'] is not base64" % k)
                elif not isinstance(v, str):
                    problems.append("%s['%s'] is not a string" % (field, k))
        return problems

    def resource(self, req, parsed, res):
        group, version, ns, plural, name, sub = parsed
        kind, namespaced, _ = res
        if namespaced != (ns is not None) and not (namespaced and req.method == "GET" and not name):
            self.violation(req, "%s is %snamespaced" % (plural, "" if namespaced else "not "))
            return self.status(404, "NotFound", "the server could not find the requested resource")
        obj = None
        if req.body:
            if req.content_type == "application/apply-patch+yaml":
                try:
                    obj = yaml.safe_load(req.body)
                except yaml.YAMLError as e:
                    return self.status(400, "BadRequest", "invalid YAML: %s" % e)
            elif req.content_type == "application/vnd.kubernetes.protobuf" and req.method in ("POST", "PUT"):
                try:
                    obj = kube_proto.decode(req.body)
                except (ValueError, IndexError) as e:
                    self.violation(req, "undecodable protobuf body: %s" % e)
                    return self.status(415, "UnsupportedMediaType", str(e))
            elif "json" not in req.content_type:
                # What kube-apiserver answers for a media type it cannot decode; client-go then
                # falls back to JSON.
                return self.status(415, "UnsupportedMediaType",
                                   'the body of the request was in an unknown format - accepted media '
                                   'types include: application/json, application/yaml')
            else:
                obj = req.json()
                if obj is None:
                    self.violation(req, "body is not JSON")
                    return self.status(400, "BadRequest", "the body is not JSON")
        problems = self.validate(req, parsed, res, obj)
        if problems:
            for p in problems:
                self.violation(req, p)
            return self.status(422 if obj else 400, "Invalid" if obj else "BadRequest", "; ".join(problems))
        if ns and plural != "namespaces" and not self.get("", "namespaces", None, ns):
            if req.method in ("POST", "PUT", "PATCH"):
                return self.status(404, "NotFound", 'namespaces "%s" not found' % ns,
                                   {"name": ns, "kind": "namespaces"})
        dry = "All" in req.query.get("dryRun", [])
        if req.method == "GET" and not name:
            return self.list(req, group, version, ns, plural, kind)
        cur = self.get(group, plural, ns, name) if name else None
        notfound = self.status(404, "NotFound", '%s "%s" not found' % (plural, name),
                               {"name": name, "group": group, "kind": plural})
        if req.method == "GET":
            return Response(200, cur) if cur else notfound
        if req.method == "DELETE":
            return self.delete(group, plural, ns, name, cur) if cur else notfound
        if req.method == "POST":
            return self.create(req, obj, group, plural, ns, dry)
        if req.method == "PUT":
            if cur is None:
                return notfound
            rv = (obj.get("metadata") or {}).get("resourceVersion")
            if rv and rv != cur["metadata"]["resourceVersion"]:
                return self.conflict(plural, name)
            if sub == "status":
                obj = dict(cur, status=obj.get("status"))
            return Response(200, self.save(obj, group, plural, ns, cur, dry))
        return self.patch(req, obj, group, plural, ns, name, cur, dry, notfound)

    def conflict(self, plural, name):
        return self.status(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been '
                           'modified; please apply your changes to the latest version and try again' % (plural, name))

    def save(self, obj, group, plural, ns, old, dry):
        obj = km.strip_nulls(obj)
        if ns:
            obj["metadata"]["namespace"] = ns
        if plural == "secrets":
            data = obj.setdefault("data", {})
            for k, v in (obj.pop("stringData", None) or {}).items():
                data[k] = base64.b64encode(v.encode()).decode()
            obj.setdefault("type", "Opaque")
        if plural == "namespaces":
            obj["status"] = {"phase": "Active"}
        if dry:
            return obj
        stored = self.store(obj, group, plural, old)
        if plural == "helmcharts" and (old is None or old["metadata"].get("generation") != stored["metadata"]["generation"]):
            self.schedule(stored)
        return stored

    def create(self, req, obj, group, plural, ns, dry):
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + pysecrets.token_hex(3)
        if self.get(group, plural, ns, meta["name"]):
            return self.status(409, "AlreadyExists", '%s "%s" already exists' % (plural, meta["name"]),
                               {"name": meta["name"], "group": group, "kind": plural})
        return Response(201, self.save(obj, group, plural, ns, None, dry))

    def delete(self, group, plural, ns, name, cur):
        del self.state["objects"][self.key(group, plural, ns, name)]
        if plural == "namespaces":
            for k in [k for k in self.state["objects"] if k.split("/")[2] == name]:
                del self.state["objects"][k]
        if plural == "helmcharts":
            # The install Job is owned by the HelmChart (garbage-collected either way).
            self.state["objects"].pop(self.key("batch", "jobs", ns, "helm-install-" + name), None)
            if not km.unmanaged(cur):
                # helm-controller's OnRemove: a helm-delete Job uninstalls the release.
                job = km.delete_job(name, ns)
                self.record_job(job, name, "delete")
                self.store(job, "batch", "jobs", self.get("batch", "jobs", ns, job["metadata"]["name"]))
                target = cur.get("spec", {}).get("targetNamespace") or ns
                for d in km.chart_deployments(cur.get("spec", {}).get("chart", name), name):
                    self.state["objects"].pop(self.key("apps", "deployments", target, d), None)
        return Response(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": {"name": name, "group": group, "kind": plural, "uid": cur["metadata"]["uid"]}})

    def patch(self, req, obj, group, plural, ns, name, cur, dry, notfound):
        ct = req.content_type
        if ct == "application/apply-patch+yaml":
            if not req.q("fieldManager"):
                return self.status(400, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value")
            if cur is None:
                obj.setdefault("metadata", {})["name"] = name
                return Response(201, self.save(obj, group, plural, ns, None, dry))
            return Response(200, self.save(km.merge_patch(cur, obj), group, plural, ns, cur, dry))
        if cur is None:
            return notfound
        try:
            if ct == "application/json-patch+json":
                new = km.json_patch(cur, obj)
            elif ct in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                new = km.merge_patch(cur, obj)
            else:
                return self.status(415, "UnsupportedMediaType", "the body of the request was in an unknown format")
        except (ValueError, KeyError, IndexError, TypeError) as e:
            return self.status(422, "Invalid", "the patch could not be applied: %s" % e)
        rv = (obj.get("metadata") or {}).get("resourceVersion") if isinstance(obj, dict) else None
        if rv and rv != cur["metadata"]["resourceVersion"]:
            return self.conflict(plural, name)
        new["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
        return Response(200, self.save(new, group, plural, ns, cur, dry))

    def list(self, req, group, version, ns, plural, kind):
        items = []
        sel = [s for s in (req.q("labelSelector") or "").split(",") if s]
        fsel = dict(s.split("=", 1) for s in (req.q("fieldSelector") or "").split(",") if "=" in s)
        for k, o in sorted(self.state["objects"].items()):
            g, p, o_ns, _ = k.split("/", 3)
            if g != group or p != plural or (ns and o_ns != ns):
                continue
            labels = o["metadata"].get("labels") or {}
            if not all(self._label_match(labels, s) for s in sel):
                continue
            if fsel.get("metadata.name", o["metadata"]["name"]) != o["metadata"]["name"]:
                continue
            items.append(o)
        return Response(200, {"kind": kind + "List", "apiVersion": km.api_version(group, version),
                              "metadata": {"resourceVersion": str(self.state["rv"])}, "items": items})

    @staticmethod
    def _label_match(labels, s):
        if "!=" in s:
            k, v = s.split("!=", 1)
            return labels.get(k) != v
        if "=" in s:
            k, v = s.split("=", 1)
            return labels.get(k.rstrip("=")) == v
        if s.startswith("!"):
            return s[1:] not in labels
        return s in labels

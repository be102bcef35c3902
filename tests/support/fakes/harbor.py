"""Fake Harbor API v2.0 (projects, metadata, quotas, retention, robots, health), checked against
harbor-v2.swagger.yaml (Swagger 2.0, tag v2.15.2).

Behaviour reproduced (shared/notes/api-notes.md §2, member spec §3.2): basic auth as admin or a
robot; every response sets a `sid` cookie and a request that sends it back on POST/PUT/PATCH/DELETE
gets 403 "CSRF token invalid"; /health is anonymous, always 200, "healthy" only after
--health-delay seconds; project names `^[a-z0-9]+(?:[._-][a-z0-9]+)*$`, 201 with empty body and
Location, 409 on duplicates, HEAD ?project_name= for existence, `?name=` is a substring match;
quotas follow storage_limit; one retention policy per project (second POST 400), cron 6 fields
with seconds 0; robots: name rule, exactly one permission for project robots, returned name
robot$<project>+<name>, random secret returned once, PATCH sets (complexity rule) or refreshes
it, 409 duplicates, the GC schedule (GET empty when none; POST/PUT validated like handler/gc.go), GET /robots without q lists only system robots; errors in the
{"errors":[{code,message}]} envelope; pagination headers X-Total-Count and Link.
"""
import base64
import json
import os
import secrets as pysecrets
import time

import yaml

from common import Fake, Response, now_iso
from harbor_robots import RobotsMixin
from openapi import Spec

from harbor_common import BASE, NAME_RE
CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
         405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 412: "PRECONDITION", 429: "TOO_MANY_REQUEST",
         500: "UNKNOWN", 502: "UNKNOWN", 503: "UNKNOWN"}
TEMPLATES = ["always", "nothing", "latestPushedK", "latestPulledN", "latestActiveK",
             "nDaysSinceLastPush", "nDaysSinceLastPull", "lastXDays"]
GIB = 1073741824


class Harbor(RobotsMixin, Fake):
    kind = "harbor"

    def __init__(self, args):
        with open(os.path.join(args.ref_dir, "apis/harbor-v2.swagger.yaml")) as f:
            self.spec = Spec(yaml.safe_load(f), BASE, go_swagger=True)
        super().__init__(args)

    def initial_state(self):
        return {"next_id": 1, "projects": {}, "quotas": {}, "retentions": {}, "robots": {},
                "registries": {}, "policies": {}, "gc_schedule": None}

    def new_id(self):
        i = self.state["next_id"]
        self.state["next_id"] += 1
        return i

    def snapshot(self):
        s = dict(self.state)
        s["healthy"] = self.healthy()
        return s

    def error(self, status, message):
        if status >= 500:
            message = "internal server error"
        return Response(status, {"errors": [{"code": CODES.get(status, "UNKNOWN"), "message": message}]},
                        content_type="application/json; charset=utf-8")

    def healthy(self):
        return time.time() - self.started >= float(self.args.health_delay)

    def principal(self, req):
        a = req.headers.get("Authorization") or ""
        if not a.startswith("Basic "):
            return None
        try:
            user, pw = base64.b64decode(a[6:]).decode().split(":", 1)
        except Exception:
            return None
        if user == "admin" and pw == self.args.admin_password:
            return "admin"
        for r in self.state["robots"].values():
            if r["name"] == user and r["secret"] == pw and not r["disable"]:
                return user
        return None

    def handle(self, req):
        resp = self._handle(req)
        resp.headers.setdefault("Set-Cookie", "sid=%s; Path=/; HttpOnly" % pysecrets.token_hex(16))
        if req.headers.get("X-Request-Id"):
            resp.headers["X-Request-Id"] = req.headers["X-Request-Id"]
        return resp

    def _handle(self, req):
        if not req.path.startswith(BASE) or not self.spec.path_exists(req.path):
            self.violation(req, "unknown route %s %s" % (req.method, req.path))
            return self.error(404, "no route %s" % req.path)
        op, params = self.spec.find(req.method, req.path)
        if op is None:
            self.violation(req, "method %s not allowed on %s" % (req.method, req.path))
            return self.error(405, "method not allowed")
        problems = self.spec.check(req.method, req.path, req.query, req.headers, req.body, req.content_type)
        for p in problems:
            self.violation(req, p)
        if problems:
            return self.error(400, "; ".join(problems))
        if req.method in ("POST", "PUT", "PATCH", "DELETE") and "sid=" in (req.headers.get("Cookie") or ""):
            self.violation(req, "client sent the session cookie back (Harbor then enforces CSRF)")
            return self.error(403, "CSRF token invalid")
        t = op.template
        if t == "/health":
            ok = self.healthy()
            comps = [{"name": n, "status": "healthy" if ok else "unhealthy"}
                     for n in ("core", "database", "jobservice", "portal", "redis", "registry", "registryctl")]
            return Response(200, {"status": "healthy" if ok else "unhealthy", "components": comps})
        if t == "/ping":
            return Response(200, "Pong", content_type="text/plain")
        who = self.principal(req)
        if t == "/systeminfo":
            info = {"auth_mode": "db_auth", "self_registration": False, "primary_auth_mode": False}
            if who:
                info.update({"harbor_version": "v2.14.1", "external_url": self.args.external_url,
                             "read_only": False, "has_ca_root": False})
            return Response(200, info)
        if who is None:
            return self.error(401, "unauthorized")
        with self.lock:
            return self.route(req, t, params, who)

    def route(self, req, t, p, who):
        m = req.method
        body = req.json()
        if t == "/users/current":
            return Response(200, {"user_id": 1, "username": who, "sysadmin_flag": who == "admin"})
        if t == "/systeminfo/getcert":
            return self.error(404, "no CA certificate")
        if t == "/permissions":
            return Response(200, {"project": [{"resource": "repository", "action": a} for a in ("pull", "push")]})
        if t == "/projects":
            if m == "HEAD":
                name = req.q("project_name")
                return Response(200 if self.project(name, by_name=True) else 404)
            if m == "GET":
                items = [pr for pr in self.state["projects"].values()
                         if not req.q("name") or req.q("name") in pr["name"]]
                return self.page(req, items)
            return self.create_project(req, body)
        if t.startswith("/projects/{project_name_or_id}"):
            pr = self.project(p["project_name_or_id"],
                              by_name=(req.headers.get("X-Is-Resource-Name") or "").lower() == "true")
            if pr is None:
                return self.error(404, "project %s not found" % p["project_name_or_id"])
            return self.project_route(req, t, p, pr, body)
        if t == "/quotas":
            items = [q for q in self.state["quotas"].values()
                     if (not req.q("reference") or q["ref"]["type"] == req.q("reference")) and
                     (not req.q("reference_id") or str(q["ref"]["id"]) == req.q("reference_id"))]
            return self.page(req, items)
        if t == "/quotas/{id}":
            q = self.state["quotas"].get(p["id"])
            if q is None:
                return self.error(404, "quota %s not found" % p["id"])
            if m == "PUT":
                q["hard"].update(body.get("hard") or {})
                q["update_time"] = now_iso()
            return Response(200, q)
        if t == "/retentions/metadatas":
            return Response(200, {"templates": [{"rule_template": x} for x in TEMPLATES],
                                  "scope_selectors": [], "tag_selectors": []})
        if t.startswith("/retentions"):
            return self.retention_route(req, t, p, body)
        if t.startswith("/robots"):
            return self.robot_route(req, t, p, body)
        if t.startswith("/registries") or t.startswith("/replication/policies"):
            return self.simple_store(req, t, p, body)
        if t == "/system/gc/schedule":
            return self.gc_schedule_route(req, body)
        return self.error(404, "not implemented in the fake: %s %s" % (m, t))

    def page(self, req, items):
        page = int(req.q("page", 1))
        size = min(int(req.q("page_size", 10)), 100)
        chunk = items[(page - 1) * size: page * size]
        links = []
        if page > 1:
            links.append('<%s?page=%d&page_size=%d>; rel="prev"' % (req.encoded_path, page - 1, size))
        if page * size < len(items):
            links.append('<%s?page=%d&page_size=%d>; rel="next"' % (req.encoded_path, page + 1, size))
        headers = {"X-Total-Count": str(len(items))}
        if links:
            headers["Link"] = " , ".join(links)
        return Response(200, chunk, headers)

    def project(self, key, by_name=False):
        if key is None:
            return None
        if not by_name and key.isdigit():
            return self.state["projects"].get(key)
        return next((pr for pr in self.state["projects"].values() if pr["name"] == key), None)

    def create_project(self, req, body):
        name = body.get("project_name") or ""
        if not NAME_RE.match(name) or len(name) > 255:
            return self.error(400, "project name is not in lower case or contains illegal characters")
        if self.project(name, by_name=True):
            return self.error(409, "The project named %s already exists" % name)
        meta = dict(body.get("metadata") or {})
        if "retention_id" in meta:
            self.violation(req, "metadata.retention_id must be omitted on create")
            return self.error(400, "retention_id is not allowed on create")
        if "public" in body and "public" not in meta:
            meta["public"] = "true" if body["public"] else "false"
        meta.setdefault("public", "false")
        pid = self.new_id()
        pr = {"project_id": pid, "name": name, "owner_id": 1, "owner_name": "admin", "registry_id": 0,
              "repo_count": 0, "creation_time": now_iso(), "update_time": now_iso(), "deleted": False,
              "metadata": meta}
        self.state["projects"][str(pid)] = pr
        qid = self.new_id()
        limit = body.get("storage_limit", -1)
        self.state["quotas"][str(qid)] = {"id": qid, "ref": {"id": pid, "name": name, "owner_name": "admin", "type": "project"},
                                          "hard": {"storage": limit if limit is not None else -1},
                                          "used": {"storage": 0}, "creation_time": now_iso(), "update_time": now_iso()}
        loc = name if (req.headers.get("X-Resource-Name-In-Location") or "").lower() == "true" else pid
        return Response(201, None, {"Location": "%s/projects/%s" % (BASE, loc)})

    def project_route(self, req, t, p, pr, body):
        m = req.method
        meta = pr["metadata"]
        if t == "/projects/{project_name_or_id}":
            if m == "GET":
                return Response(200, pr)
            if m == "DELETE":
                del self.state["projects"][str(pr["project_id"])]
                return Response(200)
            meta.update({k: v for k, v in (body.get("metadata") or {}).items()})
            if "storage_limit" in body:
                for q in self.state["quotas"].values():
                    if q["ref"]["id"] == pr["project_id"]:
                        q["hard"]["storage"] = body["storage_limit"]
            pr["update_time"] = now_iso()
            return Response(200)
        if t == "/projects/{project_name_or_id}/summary":
            return Response(200, {"repo_count": pr["repo_count"], "project_admin_count": 1,
                                  "quota": {"hard": {"storage": -1}, "used": {"storage": 0}}})
        if t == "/projects/{project_name_or_id}/metadatas/":
            if m == "GET":
                return Response(200, meta)
            meta.update(body or {})
            return Response(200)
        key = p["meta_name"]
        if key not in meta:
            return self.error(404, "metadata %s not found" % key)
        if m == "GET":
            return Response(200, {key: meta[key]})
        if m == "DELETE":
            del meta[key]
            return Response(200)
        meta.update(body or {})
        return Response(200)

    def check_policy(self, body):
        rules = body.get("rules") or []
        if len(rules) > 15:
            return "at most 15 rules"
        cron = ((body.get("trigger") or {}).get("settings") or {}).get("cron")
        if not cron:
            return "trigger.settings.cron is required"
        fields = cron.split()
        if len(fields) != 6 or fields[0] != "0":
            return "invalid cron '%s': 6 fields with seconds 0" % cron
        scope = body.get("scope") or {}
        if scope.get("level") != "project" or not isinstance(scope.get("ref"), int) or scope["ref"] <= 0:
            return "scope must be {level: project, ref: <project id>}"
        if str(scope["ref"]) not in self.state["projects"]:
            return "project %s not found" % scope["ref"]
        for r in rules:
            if r.get("template") not in TEMPLATES:
                return "unknown rule template %r" % r.get("template")
            if r["template"] not in ("always", "nothing") and r["template"] not in (r.get("params") or {}):
                return "rule %s needs params.%s" % (r["template"], r["template"])
        return None

    def retention_route(self, req, t, p, body):
        m = req.method
        if t == "/retentions":
            err = self.check_policy(body)
            if err:
                self.violation(req, err)
                return self.error(400, err)
            pr = self.state["projects"][str(body["scope"]["ref"])]
            if pr["metadata"].get("retention_id"):
                return self.error(400, "project %s already has retention policy %s"
                                  % (pr["project_id"], pr["metadata"]["retention_id"]))
            rid = self.new_id()
            body["id"] = rid
            self.state["retentions"][str(rid)] = body
            pr["metadata"]["retention_id"] = str(rid)
            return Response(201, None, {"Location": "%s/retentions/%d" % (BASE, rid)})
        pol = self.state["retentions"].get(p["id"])
        if pol is None:
            return self.error(404, "retention policy %s not found" % p["id"])
        if m == "GET":
            return Response(200, pol)
        if m == "DELETE":
            del self.state["retentions"][p["id"]]
            return Response(200)
        err = self.check_policy(body)
        if err:
            self.violation(req, err)
            return self.error(400, err)
        body["id"] = pol["id"]
        self.state["retentions"][p["id"]] = body
        return Response(200)

    def gc_schedule_route(self, req, body):
        """GET answers the GCHistory of the schedule, or 200 with an empty body when none exists.
        POST and PUT share one path (handler/gc.go): Manual starts a run (201, Location
        /system/gc/<run id>), None deletes the schedule, Hourly|Daily|Weekly|Custom replace it
        (6-field cron, seconds 0; 201 with Location /system/gc/0). parameters: delete_untagged,
        dry_run, delete_tag booleans, workers an integer 1..10."""
        if req.method == "GET":
            return Response(200, self.state["gc_schedule"]) if self.state["gc_schedule"] else Response(200)
        sched = (body or {}).get("schedule") or {}
        params = (body or {}).get("parameters") or {}
        kind = sched.get("type")
        err = None
        for k in ("delete_untagged", "dry_run", "delete_tag"):
            if k in params and not isinstance(params[k], bool):
                err = "parameters.%s must be a boolean" % k
        w = params.get("workers", 1)
        if isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 10:
            err = "parameters.workers must be an integer from 1 to 10"
        if kind in ("Hourly", "Daily", "Weekly", "Custom"):
            fields = (sched.get("cron") or "").split()
            if len(fields) != 6 or fields[0] != "0":
                err = "invalid cron '%s': 6 fields with seconds 0" % sched.get("cron")
        elif kind not in ("Manual", "None"):
            err = "invalid schedule type %r" % kind
        if err:
            self.violation(req, err)
            return self.error(400, err)
        if kind == "Manual":
            return Response(201, None, {"Location": "%s/system/gc/%d" % (BASE, self.new_id())})
        if kind == "None":
            self.state["gc_schedule"] = None
            return Response(200)
        old = self.state["gc_schedule"] or {}
        self.state["gc_schedule"] = {
            "id": old.get("id") or self.new_id(), "job_name": "GARBAGE_COLLECTION", "job_kind": "SCHEDULE",
            "job_parameters": json.dumps(params, sort_keys=True),
            "schedule": {"type": kind, "cron": sched.get("cron", "")},
            "job_status": "Scheduled", "deleted": False,
            "creation_time": old.get("creation_time") or now_iso(), "update_time": now_iso()}
        return Response(201, None, {"Location": "%s/system/gc/0" % BASE})

    def simple_store(self, req, t, p, body):
        store = self.state["registries" if t.startswith("/registries") else "policies"]
        m = req.method
        if t in ("/registries", "/replication/policies"):
            if m == "GET":
                return self.page(req, [v for v in store.values()
                                       if not req.q("name") or v.get("name") == req.q("name")])
            if any(v.get("name") == body.get("name") for v in store.values()):
                return self.error(409, "%s already exists" % body.get("name"))
            i = self.new_id()
            body["id"] = i
            store[str(i)] = body
            return Response(201, None, {"Location": "%s%s/%d" % (BASE, t, i)})
        if t == "/registries/ping":
            return Response(200)
        item = store.get(p.get("id"))
        if item is None:
            return self.error(404, "%s not found" % p.get("id"))
        if m == "GET":
            return Response(200, item if not t.endswith("/info") else {"type": "harbor"})
        if m == "DELETE":
            del store[p["id"]]
            return Response(200)
        item.update(body)
        return Response(200)

"""Fake Cloudflare API v4 (zones and DNS records), checked against cloudflare-dns.openapi.json.

Behaviour reproduced (see shared/notes/api-notes.md §1): Bearer token on every route (a wrong or
missing token is 403 code 10000), the v4 envelope with result_info, exact `name=` match on
/zones, dns_records filters (type, name, name.exact, content, proxied) with page/per_page, POST
is not an upsert (an identical record is 81058, A/AAAA next to a CNAME is 81053), records carry
the FQDN and never zone_id/zone_name/locked, proxied records get ttl 1, changing a record's type
in place is refused (deprecated, end of life 2026-06-30), unknown routes are 7003.

Token scope (--permissions, default every one): a route's x-cfPermissionsRequired from the schema
must be granted (`dns_records:edit` includes `dns_records:read`), else 403 code 10000
"Authentication error", the same answer as a bad token (Cloudflare does not name the permission);
/zones lists only zones the token has `zone:read` on, so without it the list is empty.
/user/tokens/verify answers for any valid token.
"""
import json
import os
import secrets as pysecrets

from common import Fake, Response, now_iso
from openapi import Spec

BASE = "/client/v4"
NEWER_FILTERS = ["name.exact", "name.contains", "name.startswith", "name.endswith",
                 "content.exact", "content.contains", "content.startswith", "content.endswith"]


def _hex32():
    return pysecrets.token_hex(16)


class Cloudflare(Fake):
    kind = "cloudflare"

    def __init__(self, args):
        with open(os.path.join(args.ref_dir, "apis/cloudflare-dns.openapi.json")) as f:
            self.spec = Spec(json.load(f), BASE, allowed_extra_query=NEWER_FILTERS,
                             response_only=("id", "proxiable", "created_on", "modified_on"))
        super().__init__(args)

    def initial_state(self):
        zones = {}
        for name in (self.args.zone or ["mybinder.org"]):
            zid = _hex32()
            zones[zid] = {"id": zid, "name": name, "status": "active", "records": {}}
        return {"zones": zones}

    def snapshot(self):
        return {"zones": list(self.state["zones"].values())}

    def error(self, status, message, code=None):
        if code is None:
            code = {400: 9000, 401: 10000, 403: 10000, 404: 7003, 405: 10405,
                    429: 10013, 500: 10002}.get(status, 1000)
        return Response(status, {"success": False, "errors": [{"code": code, "message": message}],
                                 "messages": [], "result": None})

    @staticmethod
    def ok(result, info=None):
        body = {"success": True, "errors": [], "messages": [], "result": result}
        if info is not None:
            body["result_info"] = info
        return Response(200, body)

    def handle(self, req):
        if not self.spec.path_exists(req.path):
            self.violation(req, "unknown route %s %s" % (req.method, req.path))
            return self.error(404, "No route for the URI", 7003)
        problems = self.spec.check(req.method, req.path, req.query, req.headers, req.body,
                                   req.content_type)
        auth = req.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            problems.append("missing 'Authorization: Bearer <token>'")
        if problems:
            for p in problems:
                self.violation(req, p)
            if not auth.startswith("Bearer "):
                return self.error(400, "Missing X-Auth-Key, X-Auth-Email or Authorization headers", 9106)
            return self.error(400, "; ".join(problems), 9000)
        if auth[len("Bearer "):] != self.args.token:
            return self.error(403, "Authentication error", 10000)
        op, params = self.spec.find(req.method, req.path)
        needed = [p.lstrip("#") for p in (op.op.get("x-cfPermissionsRequired") or {}).get("enum", [])]
        if needed and not any(self.granted(p) for p in needed):
            return self.error(403, "Authentication error", 10000)
        with self.lock:
            return self.route(req, op.template, params)

    def granted(self, permission):
        perms = set((getattr(self.args, "permissions", None) or "zone:read,dns_records:edit").split(","))
        return permission in perms or (permission == "dns_records:read" and "dns_records:edit" in perms)

    def route(self, req, template, p):
        if template == "/user/tokens/verify":
            return self.ok({"id": "fake-token-id", "status": "active"})
        if template == "/zones":
            zones = [z for z in self.state["zones"].values()
                     if self.granted("zone:read")
                     and (req.q("name") is None or z["name"] == req.q("name"))
                     and (req.q("status") is None or z["status"] == req.q("status"))]
            return self.page([self.zone_view(z) for z in zones], req, 20, 50)
        zone = self.state["zones"].get(p.get("zone_id"))
        if zone is None:
            return self.error(404, "Could not route to /zones/%s, perhaps your object identifier is invalid?"
                              % p.get("zone_id"), 7003)
        if template == "/zones/{zone_id}":
            return self.ok(self.zone_view(zone))
        records = zone["records"]
        if template == "/zones/{zone_id}/dns_records":
            if req.method == "GET":
                return self.page(self.filter(records.values(), req, zone), req, 100, 5000000)
            return self.create(req, zone)
        rec = records.get(p["dns_record_id"])
        if rec is None:
            return self.error(404, "Record does not exist.", 81044)
        if req.method == "GET":
            return self.ok(rec)
        if req.method == "DELETE":
            del records[rec["id"]]
            return self.ok({"id": rec["id"]})
        body = req.json()
        merged = dict(rec) if req.method == "PATCH" else {"id": rec["id"], "created_on": rec["created_on"]}
        merged.update(body)
        if merged.get("type") != rec["type"]:
            self.violation(req, "changing a record's type in place is deprecated (EOL 2026-06-30)")
            return self.error(400, "Changing a record's type is no longer supported; delete and recreate it", 9000)
        if req.method == "PUT" and "ttl" not in body:
            self.violation(req, "PUT without ttl (always send ttl)")
        err = self.check_record(merged, zone, exclude=rec["id"])
        if err:
            return err
        records[rec["id"]] = self.normalize(merged, zone)
        return self.ok(records[rec["id"]])

    def zone_view(self, z):
        return {"id": z["id"], "name": z["name"], "status": z["status"], "paused": False,
                "type": "full", "name_servers": ["ns1.fake.test", "ns2.fake.test"],
                "created_on": "2020-01-01T00:00:00Z", "modified_on": "2020-01-01T00:00:00Z"}

    def page(self, items, req, default, maximum):
        try:
            page = int(req.q("page", 1))
            per = int(req.q("per_page", default))
        except ValueError:
            return self.error(400, "invalid pagination", 1001)
        per = max(1, min(per, maximum))
        total = len(items)
        chunk = items[(page - 1) * per: page * per]
        info = {"page": page, "per_page": per, "count": len(chunk), "total_count": total,
                "total_pages": max(1, (total + per - 1) // per)}
        return self.ok(chunk, info)

    @staticmethod
    def fqdn(name, zone):
        name = (name or "").lower().rstrip(".")
        if name in ("@", ""):
            return zone["name"]
        if name == zone["name"] or name.endswith("." + zone["name"]):
            return name
        return name + "." + zone["name"]

    def filter(self, records, req, zone):
        out = []
        for r in records:
            name_q = req.q("name.exact", req.q("name"))
            if name_q is not None and r["name"] != self.fqdn(name_q, zone):
                continue
            if req.q("name.contains") and req.q("name.contains").lower() not in r["name"]:
                continue
            if req.q("type") and r["type"] != req.q("type"):
                continue
            content_q = req.q("content.exact", req.q("content"))
            if content_q is not None and r["content"] != content_q:
                continue
            if req.q("proxied") is not None and r["proxied"] != (req.q("proxied") == "true"):
                continue
            out.append(r)
        return sorted(out, key=lambda r: (r["type"], r["name"], r["created_on"]))

    def normalize(self, body, zone):
        proxied = bool(body.get("proxied", False))
        rec = {
            "id": body.get("id") or _hex32(),
            "name": self.fqdn(body.get("name"), zone),
            "type": body["type"],
            "content": body["content"],
            "proxiable": body["type"] in ("A", "AAAA", "CNAME"),
            "proxied": proxied,
            "ttl": 1 if proxied else body.get("ttl", 1),
            "settings": body.get("settings", {}),
            "meta": {},
            "comment": body.get("comment"),
            "tags": body.get("tags", []),
            "created_on": body.get("created_on") or now_iso(),
            "modified_on": now_iso(),
        }
        return rec

    def check_record(self, rec, zone, exclude=None):
        name = self.fqdn(rec.get("name"), zone)
        for other in zone["records"].values():
            if other["id"] == exclude or other["name"] != name:
                continue
            if other["type"] == rec["type"] and other["content"] == rec["content"]:
                return self.error(400, "An identical record already exists.", 81058)
            if {other["type"], rec["type"]} & {"CNAME"} and {other["type"], rec["type"]} & {"A", "AAAA", "CNAME"}:
                return self.error(400, "An A, AAAA, or CNAME record with that host already exists.", 81053)
        if rec.get("proxied") and rec["type"] not in ("A", "AAAA", "CNAME"):
            return self.error(400, "This record type cannot be proxied.", 9004)
        return None

    def create(self, req, zone):
        body = req.json()
        if "ttl" not in body:
            self.violation(req, "record created without ttl (always send ttl)")
        err = self.check_record(body, zone)
        if err:
            return err
        rec = self.normalize(body, zone)
        zone["records"][rec["id"]] = rec
        return self.ok(rec)

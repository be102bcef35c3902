"""Robot accounts of the fake Harbor (/robots): a mixin of harbor.Harbor. Reproduces the name rule,
exactly one permission for project robots, the returned name robot$<project>+<name>, a random
secret returned only at creation, PATCH that sets (complexity rule) or refreshes the secret, 409
on duplicates, and GET /robots without q listing only system robots (api-notes.md §2).
"""
import re
import secrets as pysecrets
import time

from common import Response, now_iso
from harbor_common import BASE, NAME_RE


class RobotsMixin:
    @staticmethod
    def strong(secret):
        return (8 <= len(secret) <= 128 and re.search("[A-Z]", secret) and re.search("[a-z]", secret)
                and re.search("[0-9]", secret))

    def robot_view(self, r):
        return {k: v for k, v in r.items() if k != "secret"}

    def robot_route(self, req, t, p, body):
        m = req.method
        robots = self.state["robots"]
        if t == "/robots" and m == "GET":
            q = dict(kv.split("=", 1) for kv in req.q("q", "").split(",") if "=" in kv)
            items = [self.robot_view(r) for r in robots.values()
                     if r["level"] == q.get("Level", "system")
                     and ("ProjectID" not in q or str(r.get("project_id")) == q["ProjectID"])]
            return self.page(req, items)
        if t == "/robots":
            return self.create_robot(req, body)
        r = robots.get(p["robot_id"])
        if r is None:
            return self.error(404, "robot %s not found" % p["robot_id"])
        if m == "GET":
            return Response(200, self.robot_view(r))
        if m == "DELETE":
            del robots[p["robot_id"]]
            return Response(200)
        if m == "PATCH":
            if body.get("secret"):
                if not self.strong(body["secret"]):
                    return self.error(400, "the secret must be 8-128 characters with upper, lower case and a digit")
                r["secret"] = body["secret"]
                return Response(200, {})
            r["secret"] = pysecrets.token_urlsafe(24) + "A1"
            return Response(200, {"secret": r["secret"]})
        for k in ("description", "disable", "duration", "permissions"):
            if k in body:
                r[k] = body[k]
        r["update_time"] = now_iso()
        return Response(200)

    def create_robot(self, req, body):
        name = body.get("name") or ""
        if not NAME_RE.match(name):
            return self.error(400, "robot name is not in lower case or contains illegal characters")
        level = body.get("level")
        perms = body.get("permissions") or []
        if level not in ("project", "system"):
            return self.error(400, "bad level %r" % level)
        dur = body.get("duration")
        if dur is None or (dur != -1 and dur <= 0):
            return self.error(400, "duration must be -1 or a positive number of days")
        project = None
        if level == "project":
            if len(perms) != 1 or perms[0].get("kind") != "project":
                return self.error(400, "a project level robot must have exactly one project permission")
            project = self.project(perms[0].get("namespace"), by_name=True)
            if project is None:
                return self.error(400, "project %s not found" % perms[0].get("namespace"))
            full = "robot$%s+%s" % (project["name"], name)
        else:
            full = "robot$" + name
        for r in self.state["robots"].values():
            if r["name"] == full:
                return self.error(409, "robot account %s:%s already exists"
                                  % (project["project_id"] if project else 0, name))
        if body.get("secret"):
            self.violation(req, "RobotCreate.secret is ignored by Harbor; PATCH the robot to set a secret")
        rid = self.new_id()
        r = {"id": rid, "name": full, "description": body.get("description", ""), "level": level,
             "duration": dur, "disable": bool(body.get("disable", False)), "editable": True,
             "expires_at": -1 if dur == -1 else int(time.time()) + dur * 86400,
             "permissions": perms, "creation_time": now_iso(), "update_time": now_iso(),
             "project_id": project["project_id"] if project else 0,
             "secret": pysecrets.token_urlsafe(24) + "A1"}
        self.state["robots"][str(rid)] = r
        return Response(201, {"id": rid, "name": full, "secret": r["secret"],
                              "creation_time": r["creation_time"], "expires_at": r["expires_at"]},
                        {"Location": "%s/robots/%d" % (BASE, rid)})


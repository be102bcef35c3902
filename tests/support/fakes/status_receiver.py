"""Fake receiver of binder-firstboot's phone home (metadata status_url; firstboot/app/phone_home.hpp).

  POST <any path>   a status document: Content-Type application/json, a JSON object valid against
                    firstboot/status.schema.json (--schema), the same validation as
                    tests/support/validate_schema.py (jsonschema, draft from $schema). Answers 200
                    {"received": n}; every problem is a violation (and a 400), the document kept.
  anything else     405 and a violation.

State: {"documents": [{"path", "user_agent", "document"}...]} in arrival order. Failures to test
the agent's retries come from the shared fault mechanism (POST /__fake__/faults {"path": ".",
"status": 500, "count": 2} or {"delay_ms": 15000}).
"""
import json
import os
import sys

from common import Fake, Response

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from validate_schema import errors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.normpath(os.path.join(HERE, "../../../firstboot/status.schema.json"))


class StatusReceiver(Fake):
    kind = "status"

    def __init__(self, args):
        if not getattr(args, "schema", None):
            args.schema = DEFAULT_SCHEMA
        with open(args.schema) as f:
            self.schema = json.load(f)
        super().__init__(args)

    def initial_state(self):
        return {"documents": []}

    def handle(self, req):
        if req.method != "POST":
            self.violation(req, "phone home sends POST, got %s" % req.method)
            return self.error(405, "POST only")
        problems = []
        if (req.content_type or "").split(";")[0].strip() != "application/json":
            problems.append("Content-Type %r is not application/json" % req.content_type)
        try:
            doc = json.loads(req.body.decode("utf-8"))
        except Exception as e:  # noqa: BLE001 - any parse failure is the client's fault
            doc = None
            problems.append("body is not JSON: %s" % e)
        if doc is not None:
            problems += ["schema: " + p for p in errors(self.schema, doc)]
        with self.lock:
            self.state["documents"].append({"path": req.raw_path,
                                            "user_agent": req.headers.get("User-Agent"),
                                            "document": doc})
            n = len(self.state["documents"])
        for p in problems:
            self.violation(req, p)
        if problems:
            return self.error(400, "; ".join(problems))
        return Response(200, {"received": n})

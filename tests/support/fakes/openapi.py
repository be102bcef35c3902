"""Request validation against a vendor OpenAPI 3.0 or Swagger 2.0 document.

The fakes call Spec.check() on every request: it finds the operation by method and path template,
then checks path/query/header parameters (required, type after string coercion, enum, format)
and the JSON body against the operation's schema with jsonschema (draft 4 semantics, which is what
both OpenAPI 3.0 and Swagger 2.0 schema objects are). $refs resolve inside the vendor document.
It returns a list of human-readable problems; an empty list means the request is what the vendor
documents.
"""
import json
import re
import urllib.parse

import jsonschema
import jsonschema._validators
import jsonschema.exceptions

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


class Operation:
    def __init__(self, template, method, op, path_params):
        self.template = template
        self.method = method
        self.op = op
        self.path_params = path_params
        names = re.findall(r"{([^}]+)}", template)
        pattern = re.escape(template)
        for n in names:
            pattern = pattern.replace(re.escape("{" + n + "}"), "(?P<%s>[^/]+)" % _group(n))
        self.regex = re.compile("^" + pattern + "$")
        self.names = names
        self.specificity = (len(template) - sum(len(n) + 2 for n in names), -len(names))


def _group(name):
    return "p_" + re.sub(r"\W", "_", name)


class Spec:
    """One vendor document. `base` is the path prefix the API lives under (e.g. /api/v2.0)."""

    def __init__(self, doc, base="", allowed_extra_query=(), response_only=(), go_swagger=False):
        self.doc = doc
        self.go_swagger = go_swagger
        self.response_only = set(response_only)
        self.base = base.rstrip("/")
        self.swagger2 = "swagger" in doc
        self.resolver = jsonschema.RefResolver("", doc)
        self.allowed_extra_query = set(allowed_extra_query)
        self.ops = []
        for template, item in doc.get("paths", {}).items():
            shared = item.get("parameters", [])
            for m in METHODS:
                if m in item:
                    self.ops.append(Operation(template, m, item[m], shared))
        self.ops.sort(key=lambda o: o.specificity, reverse=True)

    def find(self, method, path):
        """(Operation, {param: value}) for the request, or (None, None)."""
        if not path.startswith(self.base):
            return None, None
        rel = path[len(self.base):] or "/"
        method = method.lower()
        for op in self.ops:
            if op.method != method:
                continue
            m = op.regex.match(rel)
            if m:
                values = {n: urllib.parse.unquote(m.group(_group(n))) for n in op.names}
                return op, values
        return None, None

    def path_exists(self, path):
        rel = path[len(self.base):] if path.startswith(self.base) else None
        return rel is not None and any(op.regex.match(rel) for op in self.ops)

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            _, node = self.resolver.resolve(node["$ref"])
        return node

    def validator(self, schema, request=False):
        cls = jsonschema.Draft4Validator
        if self.go_swagger:
            cls = jsonschema.validators.extend(cls, {"type": self._go_type})
        if request:
            cls = jsonschema.validators.extend(cls, {"required": self._request_required})
        return cls(schema, resolver=self.resolver, format_checker=jsonschema.FormatChecker())

    @staticmethod
    def _go_type(validator, types, instance, schema):
        """go-swagger typing: a bare `type: object` is interface{} (any value), x-nullable allows
        null."""
        if instance is None and schema.get("x-nullable"):
            return
        if types == "object" and "properties" not in schema and "additionalProperties" not in schema:
            return
        yield from jsonschema._validators.type(validator, types, instance, schema)

    def _request_required(self, validator, required, instance, schema):
        """`required` for request bodies: readOnly (response-only) properties may be absent."""
        if not isinstance(instance, dict):
            return
        props = schema.get("properties", {})
        for name in required:
            if name in instance or name in self.response_only:
                continue
            if self.resolve(props.get(name, {})).get("readOnly"):
                continue
            yield jsonschema.ValidationError("%r is a required property" % name)

    @staticmethod
    def _closest(context):
        """The errors of the oneOf/anyOf branch that fits best (a branch whose `type` matched)."""
        branches = {}
        for c in context:
            branches.setdefault(c.schema_path[0], []).append(c)
        rank = lambda errs: (any(list(c.path) == ["type"] for c in errs), len(errs))  # noqa: E731
        best = min(branches.values(), key=rank)
        return "; ".join("%s: %s" % ("/".join(str(p) for p in c.path) or ".", c.message) for c in best)

    def schema_errors(self, schema, value, where, request=False):
        out = []
        errors = self.validator(schema, request).iter_errors(value)
        for e in sorted(errors, key=lambda e: list(e.path)):
            if e.validator in ("oneOf", "anyOf") and e.context:
                e.message = "matches none of the alternatives; closest: " + self._closest(e.context)
            loc = "/".join(str(p) for p in e.path)
            out.append("%s%s: %s" % (where, ("/" + loc) if loc else "", e.message))
        return out

    def _param_schema(self, p):
        if "schema" in p and (not self.swagger2 or p.get("in") == "body"):
            return p["schema"]
        keys = ("type", "format", "enum", "minimum", "maximum", "minLength", "maxLength",
                "pattern", "items", "exclusiveMinimum", "exclusiveMaximum")
        return {k: p[k] for k in keys if k in p}

    def _coerce(self, schema, raw):
        s = self.resolve(schema)
        t = s.get("type")
        if t is None and "anyOf" in s:
            t = self.resolve(s["anyOf"][0]).get("type")
        try:
            if t == "integer":
                return int(raw)
            if t == "number":
                return float(raw) if "." in raw else int(raw)
            if t == "boolean":
                if raw in ("true", "false"):
                    return raw == "true"
                return raw
            if t == "array":
                return raw.split(",")
        except ValueError:
            return raw
        return raw

    def check(self, method, path, query, headers, body, content_type):
        """Problems with a request; `query` maps names to lists, `headers` is case-insensitive,
        `body` is raw bytes (b"" if none)."""
        op, path_values = self.find(method, path)
        if op is None:
            return ["no operation %s %s in the vendor schema" % (method.upper(), path)]
        problems = []
        params = {}
        for p in list(op.path_params) + list(op.op.get("parameters", [])):
            p = self.resolve(p)
            params[(p["in"], p["name"].lower() if p["in"] == "header" else p["name"])] = p
        for (loc, name), p in params.items():
            if loc == "path":
                raw = path_values.get(name)
                if raw is not None:
                    problems += self.schema_errors(self._param_schema(p),
                                                   self._coerce(self._param_schema(p), raw),
                                                   "path parameter '%s'" % name)
            elif loc == "query":
                if name in query:
                    sch = self._param_schema(p)
                    for raw in query[name]:
                        problems += self.schema_errors(sch, self._coerce(sch, raw),
                                                       "query parameter '%s'" % name)
                elif p.get("required"):
                    problems.append("missing required query parameter '%s'" % name)
            elif loc == "header":
                raw = headers.get(name)
                if raw is not None:
                    sch = self._param_schema(p)
                    problems += self.schema_errors(sch, self._coerce(sch, raw),
                                                   "header '%s'" % name)
                elif p.get("required"):
                    problems.append("missing required header '%s'" % name)
        for name in query:
            if ("query", name) not in params and name not in self.allowed_extra_query:
                problems.append("unknown query parameter '%s' for %s %s"
                                % (name, method.upper(), op.template))
        problems += self._check_body(op, params, body, content_type)
        return problems

    def _body_schema(self, op, params):
        """(schema or None, required, declared)."""
        if self.swagger2:
            for (loc, _), p in params.items():
                if loc == "body":
                    return p.get("schema"), bool(p.get("required")), True
            return None, False, False
        rb = self.resolve(op.op.get("requestBody"))
        if not rb:
            return None, False, False
        content = rb.get("content", {})
        media = content.get("application/json", {})
        return media.get("schema"), bool(rb.get("required")), True

    def _check_body(self, op, params, body, content_type):
        schema, required, declared = self._body_schema(op, params)
        if not body:
            if required and schema is not None:
                return ["missing required JSON body"]
            return []
        if not declared:
            return ["%s %s takes no body, got %d bytes" % (op.method.upper(), op.template, len(body))]
        if content_type and "json" not in content_type:
            return ["body Content-Type is '%s', expected application/json" % content_type]
        try:
            value = json.loads(body)
        except ValueError as e:
            return ["body is not JSON: %s" % e]
        if schema is None:
            return []
        return self.schema_errors(schema, value, "body", request=True)

#!/usr/bin/python3
"""Validates a rendered document against a vendor schema, the way the consumer would.

  validate_schema.py values --schema S [--defaults V]... [--subtree KEY [--subchart-defaults V]...] DOC
      Helm: the chart's default values (each --defaults file, in order) are deep-merged with DOC
      (DOC last, null deletes a key), and the result must satisfy the chart's values schema
      (JSON or YAML; draft chosen by $schema, else draft 7). --subtree KEY validates only that key
      of the merged values (a sub-chart's values, e.g. binderhub's `jupyterhub`), laid over the
      sub-chart's own defaults (--subchart-defaults), as Helm coalesces them.
  validate_schema.py keys --defaults V [--free PREFIX]... DOC
      For charts without a schema (harbor): every key path DOC sets must exist in the chart's
      default values, except below the --free prefixes (maps the chart leaves open).
  validate_schema.py crd --crd FILE --kind KIND DOC
      A custom resource manifest against the CRD's openAPIV3Schema, unknown fields included.
  validate_schema.py swagger --spec FILE --definition NAME DOC
      A JSON body against a Swagger 2.0 definition (e.g. io.k8s.api.core.v1.Secret).

DOC is a YAML or JSON file ('-' for stdin). Prints one problem per line; exit 0 valid, 1 invalid,
2 usage. Run with /usr/bin/python3 (needs PyYAML and jsonschema).
"""
import argparse
import json
import os
import re
import sys

import jsonschema
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fakes"))
import kube_model  # noqa: E402
from openapi import Spec  # noqa: E402


class GoYamlLoader(yaml.SafeLoader):
    """PyYAML reads YAML 1.1, where `40e9` is a string; Helm's Go YAML reads it as a float, as
    YAML 1.2 does. Resolve exponent-only floats like Helm so defaults files validate as in Helm."""


GoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def load(path):
    text = sys.stdin.read() if path == "-" else open(path).read()
    if path.endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=GoYamlLoader)


def merge(base, overlay):
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return overlay
    out = dict(base)
    for k, v in overlay.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


def strip_nulls(v):
    # Helm drops null-valued keys from the coalesced values before validating.
    if isinstance(v, dict):
        return {k: strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [strip_nulls(x) for x in v]
    return v


def errors(schema, value):
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    v = cls(schema, format_checker=jsonschema.FormatChecker())
    out = []
    for e in sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path)):
        out.append("%s: %s" % ("/".join(str(p) for p in e.absolute_path) or ".", e.message))
    return out


def cmd_values(a):
    merged = {}
    for d in a.defaults:
        merged = merge(merged, load(d) or {})
    merged = merge(merged, load(a.doc) or {})
    if a.subtree:
        sub = {}
        for d in a.subchart_defaults:
            sub = merge(sub, load(d) or {})
        merged = merge(sub, merged.get(a.subtree) or {})
    return errors(load(a.schema), strip_nulls(merged))


def cmd_keys(a):
    defaults = {}
    for d in a.defaults:
        defaults = merge(defaults, load(d) or {})
    out = []

    def walk(doc, base, path):
        for k, v in doc.items():
            p = path + [str(k)]
            joined = ".".join(p)
            if any(joined == f or joined.startswith(f + ".") for f in a.free):
                continue
            if not isinstance(base, dict) or k not in base:
                out.append("%s: not a key of the chart's values" % joined)
            elif isinstance(v, dict) and isinstance(base[k], dict):
                walk(v, base[k], p)
    walk(load(a.doc) or {}, defaults, [])
    return out


def cmd_crd(a):
    schema = None
    with open(a.crd) as f:
        for d in yaml.safe_load_all(f):
            if d and d["spec"]["names"]["kind"] == a.kind:
                schema = d["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    if schema is None:
        return ["no CRD for kind %s in %s" % (a.kind, a.crd)]
    doc = load(a.doc)
    out = errors(schema, doc)
    out += kube_model.unknown_fields(lambda s: s, schema, doc)
    if not doc.get("metadata", {}).get("name"):
        out.append("metadata.name is missing")
    return out


def cmd_swagger(a):
    spec = Spec(load(a.spec))
    schema = {"$ref": "#/definitions/" + a.definition}
    doc = load(a.doc)
    return spec.schema_errors(schema, doc, "body", request=True) + \
        kube_model.unknown_fields(spec.resolve, schema, doc)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("values")
    v.add_argument("--schema", required=True)
    v.add_argument("--defaults", action="append", default=[])
    v.add_argument("--subtree")
    v.add_argument("--subchart-defaults", action="append", default=[])
    v.add_argument("doc")
    k = sub.add_parser("keys")
    k.add_argument("--defaults", action="append", default=[])
    k.add_argument("--free", action="append", default=[])
    k.add_argument("doc")
    c = sub.add_parser("crd")
    c.add_argument("--crd", required=True)
    c.add_argument("--kind", required=True)
    c.add_argument("doc")
    s = sub.add_parser("swagger")
    s.add_argument("--spec", required=True)
    s.add_argument("--definition", required=True)
    s.add_argument("doc")
    a = ap.parse_args(argv)
    problems = {"values": cmd_values, "keys": cmd_keys, "crd": cmd_crd, "swagger": cmd_swagger}[a.cmd](a)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

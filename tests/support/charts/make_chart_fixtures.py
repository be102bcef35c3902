#!/usr/bin/python3
"""Generates the chart fixtures the builder's chart tests and test profiles use (no internet).

  make_chart_fixtures.py OUT_DIR [--shared DIR] [--commit SHA]

Reads mybinder/Chart.yaml and cert-manager.env from the mybinder.org-deploy mirror archive in
<shared>/reference/mirror and writes, deterministically (sorted entries, mtime 0, owners 0, gzip
without a timestamp):

  OUT/source/mybinder.org-deploy-<commit>.tar.gz   the mirror archive, copied
  OUT/repos/<repository without scheme>/index.yaml  a Helm repository index (relative urls, sha256
  OUT/repos/<repository without scheme>/<name>-<version>.tgz   digests) per dependency repository
                                                   (oci:// ones too, so file:// mirrors work)
  OUT/repos/quay.io/jetstack/charts/cert-manager/  the cert-manager chart at cert-manager.env's version
  OUT/repos/github.com/cert-manager/cert-manager/releases/download/<v>/cert-manager.crds.yaml
  OUT/repos/github.com/rancher/system-upgrade-controller/releases/download/v0.20.1/
                                                   crd.yaml, system-upgrade-controller.yaml (copied)

Each chart: Chart.yaml (name and version as pinned), values.yaml, a minimal template, and the
dependency's real values schema where <shared>/reference/charts has one (traefik, cert-manager;
binderhub's schema.yaml as values.schema.json). So the mirrors `https://` and `oci://` ->
`file://OUT/repos/` (or the fake chart_repo.py serving OUT) stand in for every repository.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile

import yaml

COMMIT = "95860dbcba2031b930020dbd856e76cd37ba34c8"

# chart name -> schema file under reference/charts (real values schemas only)
SCHEMAS = {
    "traefik": "traefik/v41.1.1/values.schema.json",
    "cert-manager": "cert-manager/v1.20.2/values.schema.json",
    "binderhub": "binderhub/main-b9fad99/schema.yaml",
}


def tgz(files):
    """Deterministic gzip tar of {path: (bytes, mode)}."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path in sorted(files):
            data, mode = files[path]
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = mode
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            t.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as g:
        g.write(raw.getvalue())
    return out.getvalue()


def chart_archive(name, version, shared):
    chart = {"apiVersion": "v2", "name": name, "version": version,
             "description": "TEST FIXTURE standing in for the %s chart (binder-image tests)" % name}
    template = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                "  name: {{ .Release.Name }}-%s-fixture\ndata:\n  chart: %s\n  version: %s\n"
                % (name, name, version))
    files = {
        name + "/Chart.yaml": (yaml.safe_dump(chart, sort_keys=False).encode(), 0o644),
        name + "/values.yaml": (b"# test fixture: minimal values\nfixture: true\n", 0o644),
        name + "/templates/fixture.yaml": (template.encode(), 0o644),
    }
    schema = SCHEMAS.get(name)
    if schema:
        src = os.path.join(shared, "reference", "charts", schema)
        with open(src, "rb") as f:
            data = f.read()
        if src.endswith(".yaml"):
            data = (json.dumps(yaml.safe_load(data), indent=2, sort_keys=True) + "\n").encode()
        files[name + "/values.schema.json"] = (data, 0o644)
    return tgz(files)


def slug(repo):
    return re.sub(r"^[a-z+]+://", "", repo).rstrip("/")


def write_if_changed(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == data:
                return
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


SUC_VERSION = "v0.20.1"


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--shared", default=os.environ.get("BINDER_SHARED_DIR")
                    or os.path.normpath(os.path.join(here, "../../../build/shared")))
    ap.add_argument("--commit", default=COMMIT)
    a = ap.parse_args(argv)
    archive = os.path.join(a.shared, "reference", "mirror", "mybinder.org-deploy-%s.tar.gz" % a.commit)
    with tarfile.open(archive, "r:gz") as t:
        top = "mybinder.org-deploy-%s/" % a.commit
        chart_yaml = yaml.safe_load(t.extractfile(top + "mybinder/Chart.yaml").read())
        env = t.extractfile(top + "cert-manager.env").read().decode()
    cm_version = re.search(r"CERT_MANAGER_VERSION=(\S+)", env).group(1)

    repos = {}  # slug -> [(name, version)]
    for d in chart_yaml["dependencies"]:
        repos.setdefault(slug(d["repository"]), []).append((d["name"], str(d["version"])))
    repos.setdefault("quay.io/jetstack/charts/cert-manager", []).append(("cert-manager", cm_version))

    with open(archive, "rb") as f:
        write_if_changed(os.path.join(a.out, "source", os.path.basename(archive)), f.read())
    for s, charts in sorted(repos.items()):
        entries = {}
        for name, version in charts:
            data = chart_archive(name, version, a.shared)
            fname = "%s-%s.tgz" % (name, version)
            write_if_changed(os.path.join(a.out, "repos", s, fname), data)
            entries.setdefault(name, []).append({
                "apiVersion": "v2", "name": name, "version": version, "urls": [fname],
                "digest": hashlib.sha256(data).hexdigest(), "created": "1970-01-01T00:00:00Z"})
        index = {"apiVersion": "v1", "entries": entries, "generated": "1970-01-01T00:00:00Z"}
        write_if_changed(os.path.join(a.out, "repos", s, "index.yaml"),
                         yaml.safe_dump(index, sort_keys=True).encode())
    crds = ("# TEST FIXTURE standing in for cert-manager %s CRDs (binder-image tests)\n"
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "metadata:\n  name: certificates.cert-manager.io\n" % cm_version).encode()
    write_if_changed(os.path.join(a.out, "repos", "github.com/cert-manager/cert-manager/releases/download",
                                  cm_version, "cert-manager.crds.yaml"), crds)
    # The system-upgrade-controller release files (k3s.upgrade), verbatim from the mirror, at the
    # release download path, so `https://` -> `file://OUT/repos/` stands in for GitHub.
    suc = os.path.join(a.shared, "reference", "mirror", "system-upgrade-controller", SUC_VERSION)
    for name in ("crd.yaml", "system-upgrade-controller.yaml"):
        with open(os.path.join(suc, name), "rb") as f:
            write_if_changed(os.path.join(a.out, "repos", "github.com/rancher/system-upgrade-controller/releases/download",
                                          SUC_VERSION, name), f.read())
    print(a.out)


if __name__ == "__main__":
    main(sys.argv[1:])

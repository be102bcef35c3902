"""Data model of the fake Kubernetes API server: the resource table (what discovery advertises and
which paths exist), discovery documents, object validation helpers (names, unknown fields against
a structural schema), merge/JSON patch, and what a k3s helm-controller would create for a
HelmChart (the install Job and the chart's Deployments, named like the real charts name them).
"""
import copy
import re

# (group, version, plural) -> (kind, namespaced, short names)
RESOURCES = {
    ("", "v1", "namespaces"): ("Namespace", False, ["ns"]),
    ("", "v1", "nodes"): ("Node", False, ["no"]),
    ("", "v1", "secrets"): ("Secret", True, []),
    ("", "v1", "configmaps"): ("ConfigMap", True, ["cm"]),
    ("", "v1", "pods"): ("Pod", True, ["po"]),
    ("apps", "v1", "deployments"): ("Deployment", True, ["deploy"]),
    ("batch", "v1", "jobs"): ("Job", True, []),
    ("helm.cattle.io", "v1", "helmcharts"): ("HelmChart", True, ["hc"]),
    ("helm.cattle.io", "v1", "helmchartconfigs"): ("HelmChartConfig", True, []),
    ("cert-manager.io", "v1", "clusterissuers"): ("ClusterIssuer", False, []),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions"): ("CustomResourceDefinition", False, ["crd"]),
}
VERBS = ["create", "delete", "get", "list", "patch", "update"]
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def api_version(group, version):
    return version if not group else "%s/%s" % (group, version)


def discovery(path):
    """The discovery document for `path`, or None."""
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]}
    groups = sorted({g for (g, _, _) in RESOURCES if g})
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": g, "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
             "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}} for g in groups]}
    for g in [""] + groups:
        gv = api_version(g, "v1")
        if path == ("/api/v1" if not g else "/apis/" + gv):
            return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": [
                {"name": plural, "singularName": kind.lower(), "namespaced": ns, "kind": kind,
                 "verbs": VERBS + ["watch"], "shortNames": short}
                for (gg, _, plural), (kind, ns, short) in sorted(RESOURCES.items()) if gg == g]}
    if path.startswith("/apis/") and path.count("/") == 2 and path.split("/")[2] in groups:
        g = path.split("/")[2]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": g,
                "versions": [{"groupVersion": g + "/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": g + "/v1", "version": "v1"}}
    return None


def parse_path(path):
    """(group, version, namespace, plural, name, subresource) or None for non-resource paths."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return group, version, ns, plural, name, sub


def strip_nulls(v):
    if isinstance(v, dict):
        return {k: strip_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [strip_nulls(x) for x in v]
    return v


def unknown_fields(resolve, schema, value, where=""):
    """Fields in `value` that a structural schema does not declare (what fieldValidation=Strict
    rejects). `resolve` follows $refs."""
    schema = resolve(schema)
    out = []
    if not isinstance(schema, dict):
        return out
    for sub in schema.get("allOf", []):
        out += unknown_fields(resolve, sub, value, where)
    if isinstance(value, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields")
        for k, v in value.items():
            if props is not None and k in props:
                out += unknown_fields(resolve, props[k], v, where + "." + k)
            elif isinstance(addl, dict):
                out += unknown_fields(resolve, addl, v, where + "." + k)
            elif props is not None and not preserve and addl is not True:
                out.append("unknown field \"%s\"" % (where + "." + k).lstrip("."))
    elif isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            out += unknown_fields(resolve, schema["items"], v, "%s[%d]" % (where, i))
    return out


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (also used as the strategic-merge and apply approximation)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(target, ops):
    """RFC 6902 add/replace/remove/test; raises ValueError on a bad op."""
    doc = copy.deepcopy(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if op["op"] in ("add", "replace"):
            if isinstance(parent, list):
                idx = len(parent) if last == "-" else int(last)
                if op["op"] == "add":
                    parent.insert(idx, op["value"])
                else:
                    parent[idx] = op["value"]
            else:
                if op["op"] == "replace" and last not in parent:
                    raise ValueError("replace of missing path %s" % op["path"])
                parent[last] = op["value"]
        elif op["op"] == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif op["op"] == "test":
            cur = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if cur != op["value"]:
                raise ValueError("test failed at %s" % op["path"])
        else:
            raise ValueError("unsupported op %s" % op["op"])
    return doc


def fullname(release, chart):
    """Helm's common `fullname` helper: the release name if it contains the chart name."""
    return release if chart in release else "%s-%s" % (release, chart)


def chart_name(chart):
    """The chart's name from spec.chart: "harbor", or a packaged archive URL
    https://%{KUBERNETES_API}%/static/charts/<name>-<version>.tgz (k3s static charts)."""
    base = chart.rsplit("/", 1)[-1]
    if base.endswith(".tgz"):
        base = re.sub(r"-v?[0-9][^/]*\.tgz$", "", base)
    return base


def chart_deployments(chart, release):
    """Deployment names the real chart creates (the ones a waiter would watch)."""
    chart = chart_name(chart)
    if chart == "mybinder":
        # the meta-chart: binderhub (binder, hub, proxy), its Harbor and traefik sub-charts, and
        # the monitoring it carries (names from the sub-charts' fullname helpers).
        return (["binder", "hub", "proxy"] + chart_deployments("harbor", release) +
                [release + "-traefik", release + "-grafana", release + "-prometheus-server", "static"])
    if chart == "harbor":
        base = fullname(release, "harbor")
        return [base + "-" + c for c in ("core", "portal", "registry", "jobservice")]
    if chart == "cert-manager":
        base = fullname(release, "cert-manager")
        return [base, base + "-cainjector", base + "-webhook"]
    if chart == "binderhub":
        return ["binder", "hub", "proxy"]  # user-scheduler is disabled (as on mybinder)
    if chart == "traefik":
        return [fullname(release, "traefik")]
    return [fullname(release, chart)]


def deployment(name, namespace, chart, ready):
    status = {"observedGeneration": 1}
    conds = [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]
    if ready:
        status.update({"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1})
        conds.append({"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"})
    else:
        status.update({"replicas": 1, "updatedReplicas": 1, "unavailableReplicas": 1})
        conds.append({"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"})
    status["conditions"] = conds
    labels = {"app.kubernetes.io/name": name, "helm.sh/chart": chart}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "generation": 1, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": name}},
                                  "spec": {"containers": [{"name": "main", "image": "fake/" + chart}]}}},
            "status": status}


def install_job(hc_name, namespace, succeeded):
    status = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]} if succeeded \
        else {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "helm-install-" + hc_name, "namespace": namespace,
                         "labels": {"helmcharts.helm.cattle.io/chart": hc_name}},
            "spec": {"template": {"spec": {"containers": [{"name": "helm", "image": "rancher/klipper-helm"}],
                                           "restartPolicy": "OnFailure"}}},
            "status": status}


UNMANAGED = "helmcharts.helm.cattle.io/unmanaged"


def unmanaged(hc):
    """helm-controller's shouldManage(): only the annotation's presence counts, not its value."""
    return UNMANAGED in ((hc.get("metadata") or {}).get("annotations") or {})


def delete_job(hc_name, namespace):
    """The uninstall Job the controller runs when a managed HelmChart is deleted."""
    job = install_job(hc_name, namespace, True)
    job["metadata"]["name"] = "helm-delete-" + hc_name
    return job


def node(name, ready):
    cond = lambda t, s, r: {"type": t, "status": s, "reason": r, "message": r,  # noqa: E731
                            "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                            "lastTransitionTime": "2026-01-01T00:00:00Z"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                  "node-role.kubernetes.io/control-plane": "true",
                                                  "node.kubernetes.io/instance-type": "k3s"}},
            "spec": {"podCIDR": "10.42.0.0/24"},
            "status": {"conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID"),
                cond("Ready", "True" if ready else "False", "KubeletReady" if ready else "KubeletNotReady")],
                "nodeInfo": {"kubeletVersion": "v1.33.5+k3s1", "osImage": "fake", "architecture": "amd64",
                             "containerRuntimeVersion": "containerd://2.0.0", "kernelVersion": "6.1.0",
                             "operatingSystem": "linux", "kubeProxyVersion": "v1.33.5+k3s1",
                             "machineID": "", "systemUUID": "", "bootID": ""},
                "addresses": [{"type": "InternalIP", "address": "10.0.2.15"},
                              {"type": "Hostname", "address": name}]}}

"""The outside world of the smoke boot (ci/smoke-boot): the fake Cloudflare, Harbor and
Kubernetes API servers (tests/support/fakes/serve.py) on host 127.0.0.1, what the guest must be
told about them, and the host-side checks of what the agent did to them.

The guest reaches host 127.0.0.1 as 10.0.2.2 (QEMU user networking); the fakes' certificate
carries that address (make_test_ca.sh). One piece of real-world behaviour is simulated here:
Harbor's chart sets the admin password from the HelmChart's values, so once the agent has put
`harborAdminPassword` into the cluster, the fake Harbor is told to accept it.
"""
import base64
import json
import os
import re
import subprocess
import urllib.request

import yaml

GUEST_HOST = "10.0.2.2"
SECRET_KEY = re.compile(r"(password|secret|token|key)", re.I)


class Fake:
    def __init__(self, kind, serve_py, pki, state_dir, args):
        os.makedirs(state_dir, exist_ok=True)
        self.kind = kind
        self.log = open(os.path.join(state_dir, "serve.log"), "a")
        argv = [os.environ.get("BINDER_PYTHON", "/usr/bin/python3"), serve_py, "--kind", kind, "--tls-cert", f"{pki}/server.crt",
                "--tls-key", f"{pki}/server.key", "--state-dir", state_dir] + args
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.port = self.control_port = None
        for _ in range(2):
            line = self.proc.stdout.readline().split()
            if len(line) == 2 and line[0] == "PORT":
                self.port = int(line[1])
            elif len(line) == 2 and line[0] == "CONTROL":
                self.control_port = int(line[1])
        if not self.port or not self.control_port:
            raise SystemExit(f"smoke-boot: fake {kind} did not start (see {state_dir}/serve.log)")

    def guest_url(self, path=""):
        return f"https://{GUEST_HOST}:{self.port}{path}"

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/__fake__/{path}",
                                     data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def state(self):
        return self.control("GET", "state")

    def violations(self):
        return self.control("GET", "violations")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class World:
    def __init__(self, repo, work, name, domain, project, real_k3s=False, extra_disk="auto"):
        self.repo, self.work = repo, work
        # real_k3s: the image runs the real k3s, so no fake Kubernetes API; Harbor's admin
        # password is then preset through the test environment (the fake cannot see the cluster).
        self.real_k3s = real_k3s
        self.extra_disk = extra_disk
        self.name, self.domain, self.project = name, domain, project
        self.pki = os.path.join(work, "pki")
        self.secrets = {}  # label -> value; none may appear in the serial log
        self.fakes = {}
        self.harbor_password_synced = None

    def start(self):
        subprocess.run(["sh", f"{self.repo}/tests/support/fakes/make_test_ca.sh", self.pki],
                       check=True)
        serve = f"{self.repo}/tests/support/fakes/serve.py"
        cf_token = "cf-" + os.urandom(16).hex()
        kube_token = "kube-" + os.urandom(16).hex()
        boot_pw = "Boot" + os.urandom(8).hex() + "9"
        self.secrets.update({"dns.api_token": cf_token, "kube token": kube_token})
        fakes = os.path.join(self.work, "fakes")
        self.fakes["cloudflare"] = Fake("cloudflare", serve, self.pki, f"{fakes}/cloudflare",
                                        ["--zone", self.domain, "--token", cf_token])
        # With the stand-in, Harbor "comes up" (health turns healthy) only when tick() has seen
        # the agent's chart values, as a real Harbor only runs once its HelmChart is installed.
        self.fakes["harbor"] = Fake("harbor", serve, self.pki, f"{fakes}/harbor",
                                    ["--admin-password", boot_pw, "--external-url",
                                     f"https://registry.{self.name}.{self.domain}",
                                     "--health-delay", "0" if self.real_k3s else "1e9"])
        if self.real_k3s:
            self.secrets["harbor admin password"] = boot_pw
            return
        self.fakes["kube"] = Fake("kube", serve, self.pki, f"{fakes}/kube",
                                  ["--client-ca", f"{self.pki}/ca.crt", "--token", kube_token,
                                   "--node-name", self.name])

    def stop(self):
        for f in self.fakes.values():
            f.stop()

    def ca_pem(self):
        return open(f"{self.pki}/ca.crt").read()

    def kubeconfig(self):
        """What the k3s stand-in installs as /etc/rancher/k3s/k3s.yaml: the fake kube, mTLS."""
        b64 = lambda p: base64.b64encode(open(f"{self.pki}/{p}", "rb").read()).decode()
        cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "default",
               "clusters": [{"name": "default", "cluster": {
                   "server": self.fakes["kube"].guest_url(),
                   "certificate-authority-data": b64("ca.crt")}}],
               "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
               "users": [{"name": "default", "user": {"client-certificate-data": b64("client.crt"),
                                                      "client-key-data": b64("client.key")}}]}
        key_body = "".join(open(f"{self.pki}/client.key").read().splitlines()[1:-1])
        self.secrets["kube client key"] = key_body
        return yaml.safe_dump(cfg, sort_keys=False)

    def member(self):
        return {
            "name": self.name, "domain": self.domain, "mode": "federation",
            # QEMU's user network is private: state the guest's address and that it is intended
            # (public_ip: auto would refuse 10.0.2.15 from the default route).
            "public_ip": "10.0.2.15", "public_ip_private_ok": True,
            "dns": {"provider": "cloudflare", "zone": self.domain,
                    "api_token": self.secrets["dns.api_token"]},
            "tls": {"email": "ops@example.test", "issuer": "letsencrypt-staging"},
            "registry": {"host": f"registry.{self.name}.{self.domain}", "project": self.project,
                         "quota_gb": 100},
            "node": {"extra_disk": self.extra_disk, "max_pods_per_gib": 1.75},
        }

    def firstboot_env(self):
        """/etc/binder-image/test/firstboot.env (read by the test overlay's drop-in for
        binder-firstboot.service): where the fakes are and the CA they use. Test-only knobs
        stay out of the member metadata."""
        lines = [f"BINDER_FIRSTBOOT_CLOUDFLARE_API={self.fakes['cloudflare'].guest_url('/client/v4')}",
                 f"BINDER_FIRSTBOOT_HARBOR_API={self.fakes['harbor'].guest_url('/api/v2.0')}",
                 "BINDER_FIRSTBOOT_CA_FILE=/etc/binder-image/test/ca.pem"]
        if self.real_k3s:
            lines.append("BINDER_FIRSTBOOT_HARBOR_ADMIN_PASSWORD="
                         + self.secrets["harbor admin password"])
        return "\n".join(lines) + "\n"

    # --- simulation ------------------------------------------------------------------------------
    def kube_secrets(self):
        """(name, key, decoded value) of every Secret in the fake cluster."""
        if "kube" not in self.fakes:
            return
        objs = self.fakes["kube"].state().get("objects", {})
        for k, o in objs.items():
            if o.get("kind") == "Secret" or "/secrets/" in k:
                for key, v in (o.get("data") or {}).items():
                    try:
                        yield o["metadata"]["name"], key, base64.b64decode(v).decode()
                    except (ValueError, UnicodeDecodeError):
                        continue
                for key, v in (o.get("stringData") or {}).items():
                    yield o["metadata"]["name"], key, v

    def tick(self):
        """Called every few seconds while the VM runs: Harbor's chart takes its admin password
        from the values the agent gave k3s; the fake learns it the same way and turns healthy."""
        try:
            for _, _, value in self.kube_secrets():
                pw = find_key(safe_yaml(value), "harborAdminPassword")
                if isinstance(pw, str) and pw != self.harbor_password_synced:
                    self.fakes["harbor"].control("POST", "config",
                                                 {"admin_password": pw, "health_delay": 0})
                    self.harbor_password_synced = pw
        except OSError:
            pass

    # --- checks ----------------------------------------------------------------------------------
    def collect_secrets(self):
        """Every secret the run produced: ours, generated ones the agent put into the cluster,
        Harbor robot secrets."""
        found = dict(self.secrets)
        for name, key, value in self.kube_secrets():
            doc = safe_yaml(value)
            if isinstance(doc, dict):
                for k, v in leaves(doc):
                    if SECRET_KEY.search(k) and isinstance(v, str) and len(v) >= 8:
                        found[f"secret {name}/{key}:{k}"] = v
            elif SECRET_KEY.search(key) and len(value) >= 8:
                found[f"secret {name}/{key}"] = value
        for r in self.fakes["harbor"].state().get("robots", {}).values():
            if r.get("secret"):
                found[f"robot {r.get('name')}"] = r["secret"]
        return found

    def check(self, public_ip):
        """Problems (list of strings) with the fakes' final state; empty = all good."""
        problems = []
        fqdn = f"{self.name}.{self.domain}"
        cf = self.fakes["cloudflare"].state()
        records = [r for z in cf.get("zones", []) for r in z.get("records", {}).values()]
        for want in (fqdn, "*." + fqdn):
            got = [r for r in records if r.get("name") == want and r.get("type") == "A"]
            if len(got) != 1:
                problems.append(f"cloudflare: {len(got)} A records named '{want}' (want 1)")
            elif public_ip and got[0].get("content") != public_ip:
                problems.append(f"cloudflare: '{want}' -> {got[0].get('content')} (want {public_ip})")
            elif got[0].get("proxied"):
                problems.append(f"cloudflare: '{want}' is proxied")
        hb = self.fakes["harbor"].state()
        projects = [p for p in hb.get("projects", {}).values() if p.get("name") == self.project]
        if len(projects) != 1:
            problems.append(f"harbor: {len(projects)} projects named '{self.project}' (want 1)")
        robots = [r.get("name", "") for r in hb.get("robots", {}).values()]
        for want in ("builder", "user-puller"):
            # robot$<project>+<member>-builder: the agent prefixes robot names with the member
            n = sum(1 for r in robots if any(r.endswith(c + want) for c in "+$-"))
            if n != 1:
                problems.append(f"harbor: {n} robots named '*{want}' (want 1; have {robots})")
        objs = self.fakes["kube"].state().get("objects", {}) if "kube" in self.fakes else None
        charts = [] if objs is None else sorted(k.split("/")[-1] for k in objs if k.startswith("helm.cattle.io/helmcharts/"))
        # Federation mode: exactly cert-manager and the `mybinder` release, named after the
        # cluster (= the member name here), targeting the namespace of the same name.
        if objs is not None:
            want = sorted(["cert-manager", self.name])
            if charts != want:
                problems.append(f"kube: HelmCharts {charts} (want exactly {want}: cert-manager and the "
                                f"mybinder release)")
            release = objs.get(f"helm.cattle.io/helmcharts/kube-system/{self.name}") or {}
            spec = release.get("spec") or {}
            if release and ("/static/charts/mybinder-" not in spec.get("chart", "")
                            or spec.get("targetNamespace") != self.name):
                problems.append(f"kube: HelmChart {self.name} is not the mybinder chart into namespace "
                                f"'{self.name}' (chart {spec.get('chart')}, namespace {spec.get('targetNamespace')})")
        for kind, fake in self.fakes.items():
            v = fake.violations()
            if v:
                problems.append(f"{kind}: {len(v)} API contract violations, first: "
                                f"{v[0].get('method')} {v[0].get('path')}: {v[0].get('message')}")
        return problems

    def counts(self):
        """Resource counts, to compare across a power cut."""
        cf = self.fakes["cloudflare"].state()
        hb = self.fakes["harbor"].state()
        kube = self.fakes["kube"].state().get("objects", {}) if "kube" in self.fakes else {}
        return {"dns_records": sum(len(z.get("records", {})) for z in cf.get("zones", [])),
                "harbor_projects": len(hb.get("projects", {})),
                "harbor_robots": len(hb.get("robots", {})),
                "helmcharts": sum(1 for k in kube if k.startswith("helm.cattle.io/helmcharts/"))}


def safe_yaml(text):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def leaves(d, prefix=""):
    if isinstance(d, dict):
        for k, v in d.items():
            yield from leaves(v, str(k))
    elif isinstance(d, list):
        for v in d:
            yield from leaves(v, prefix)
    else:
        yield prefix, d


def find_key(d, key):
    if isinstance(d, dict):
        if key in d:
            return d[key]
        for v in d.values():
            r = find_key(v, key)
            if r is not None:
                return r
    elif isinstance(d, list):
        for v in d:
            r = find_key(v, key)
            if r is not None:
                return r
    return None


"""The outside world of the smoke boot (ci/smoke-boot): the fake Cloudflare, Harbor and
Kubernetes API servers (tests/support/fakes/serve.py) on host 127.0.0.1, what the guest must be
told about them, and the host-side checks of what the agent did to them.

The guest reaches host 127.0.0.1 as 10.0.2.2 (QEMU user networking); the fakes' certificate
carries that address (make_test_ca.sh). Two pieces of real-world behaviour are simulated here:
Harbor's chart sets the admin password from the HelmChart's values, so once the agent has put
`harborAdminPassword` into the cluster, the fake Harbor is told to accept it; and the member's
public sites (member_web.py: BinderHub /health and /versions, JupyterHub /hub/health, the
prime's /versions, the redirector's /active_hosts) answer 503 until the mybinder release's
HelmChart exists, as ingress does before the charts run.

Readiness through the public names (step `readiness`): the test CA's server certificate also
carries the member's names (<name>.<domain>, *.<name>.<domain>) and the federation's
(2i2c.mybinder.org, mybinder.org); the test-only knob BINDER_FIRSTBOOT_TEST_CONNECT_TO in
firstboot.env sends the guest's connections for those names to the fakes (curl --connect-to:
the URL's name stays the TLS name), and the guest trusts the test CA through the test-only
BINDER_FIRSTBOOT_CA_FILE. No DNS or /etc/hosts is touched.

Faults (ci/smoke-boot --fault NAME; FAULTS below): the world is built wrong in one place, as a
donor's could be, and the scenario says which step must fail, with which cause and exit code,
and, where the cause is in the metadata, how the corrected metadata looks. A temporary fault
(exit 75) can also heal (ci/smoke-boot --heal; World.heal): once the agent has failed at its
step, the world is put right while the VM runs (the S3 endpoint starts answering, Harbor stops
answering 503), as an outage ends, and systemd's retry of the agent must go on to PASS.
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
PRIME_HOST, REDIRECTOR_HOST = "2i2c.mybinder.org", "mybinder.org"


class Fault:
    """One failure scenario: the step that must fail, a regex its cause must match in the serial
    log, the agent's exit code (75 temporary: systemd retries; 1 permanent), whether a corrected
    metadata (resume()) must then reach PASS, and whether the world can heal while the VM runs
    (heal(): a temporary outage that ends)."""

    def __init__(self, step, cause, exit_code, resumes=False, heals=False, doc=""):
        self.step, self.cause, self.exit_code, self.resumes, self.doc = step, cause, exit_code, resumes, doc
        self.heals = heals


FAULTS = {
    # Cloudflare answers a token without DNS edit permission with 403 code 10000 "Authentication
    # error" (it does not name the missing permission; cloudflare.py, api-notes.md). The donor's
    # fix: a token with Zone.DNS:Edit in the metadata; the second boot gets it.
    "cloudflare-auth": Fault("dns:records", r"(Authentication error|HTTP 403|10000)", 1, resumes=True,
                             doc="dns.api_token lacks Zone.DNS:Edit"),
    # registry.s3.endpoint points at a port nothing listens on: connection refused after the
    # client's retries, a temporary failure. Heals: a fake S3 (s3_fake.py, TLS) starts on that port.
    "s3-unreachable": Fault("s3:lifecycle", r"(refused|unreachable|connect|timed out)", 75,
                            heals=True, doc="registry.s3.endpoint does not answer"),
    # Harbor behind ingress answers 503 to everything (core down): the health wait times out.
    # (Not just "health": the step's first line names the /health URL.) Heals: the 503s stop.
    "harbor-down": Fault("harbor:api", r"(HTTP 503|report healthy)", 75, heals=True,
                         doc="Harbor answers 503"),
}


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
    def __init__(self, repo, work, name, domain, project, real_k3s=False, extra_disk="auto",
                 faults=()):
        self.repo, self.work = repo, work
        self.faults = list(faults)  # FAULTS keys, in the order their steps run
        self.healed = []  # heal(): the faults put right while the VM ran
        self.s3_port = None  # s3-unreachable: the port nothing listens on (until heal())
        self.s3 = None  # the fake S3 process once healed
        self.corrected = False  # resume(): the metadata the donor fixed
        # real_k3s: the image runs the real k3s, so no fake Kubernetes API; Harbor's admin
        # password is then preset through the test environment (the fake cannot see the cluster).
        self.real_k3s = real_k3s
        self.extra_disk = extra_disk
        self.name, self.domain, self.project = name, domain, project
        self.pki = os.path.join(work, "pki")
        self.secrets = {}  # label -> value; none may appear in the serial log
        self.fakes = {}
        self.harbor_password_synced = None
        self.web_up = False

    def start(self):
        fqdn = f"{self.name}.{self.domain}"
        subprocess.run(["sh", f"{self.repo}/tests/support/fakes/make_test_ca.sh", self.pki,
                        f"DNS:{fqdn}", f"DNS:*.{fqdn}", f"DNS:{PRIME_HOST}", f"DNS:{REDIRECTOR_HOST}"],
                       check=True)
        serve = f"{self.repo}/tests/support/fakes/serve.py"
        cf_token = "cf-" + os.urandom(16).hex()
        kube_token = "kube-" + os.urandom(16).hex()
        boot_pw = "Boot" + os.urandom(8).hex() + "9"
        self.secrets.update({"dns.api_token": cf_token, "kube token": kube_token})
        fakes = os.path.join(self.work, "fakes")
        cf_perms = "zone:read" if "cloudflare-auth" in self.faults else "zone:read,dns_records:edit"
        self.fakes["cloudflare"] = Fake("cloudflare", serve, self.pki, f"{fakes}/cloudflare",
                                        ["--zone", self.domain, "--token", cf_token,
                                         "--permissions", cf_perms])
        # The member's and the federation's public sites, down until the charts are installed.
        self.fakes["web"] = Fake("web", serve, self.pki, f"{fakes}/web",
                                 ["--member-host", fqdn, "--prime-host", PRIME_HOST,
                                  "--redirector-host", REDIRECTOR_HOST,
                                  "--health-status", "200" if self.real_k3s else "503"])
        if "s3-unreachable" in self.faults:
            self.secrets.update({"s3 access key": "AKID" + os.urandom(8).hex(),
                                 "s3 secret key": "s3-" + os.urandom(16).hex()})
        # With the stand-in, Harbor "comes up" (health turns healthy) only when tick() has seen
        # the agent's chart values, as a real Harbor only runs once its HelmChart is installed.
        self.fakes["harbor"] = Fake("harbor", serve, self.pki, f"{fakes}/harbor",
                                    ["--admin-password", boot_pw, "--external-url",
                                     f"https://registry.{self.name}.{self.domain}",
                                     "--health-delay", "0" if self.real_k3s else "1e9"])
        if "harbor-down" in self.faults:
            # Harbor's core is down behind a working ingress: every API call answers 503.
            self.fakes["harbor"].control("POST", "faults", {"path": ".*", "status": 503, "count": -1})
        if self.real_k3s:
            self.secrets["harbor admin password"] = boot_pw
            return
        self.fakes["kube"] = Fake("kube", serve, self.pki, f"{fakes}/kube",
                                  ["--client-ca", f"{self.pki}/ca.crt", "--token", kube_token,
                                   "--node-name", self.name])

    def stop(self):
        for f in self.fakes.values():
            f.stop()
        if self.s3 is not None and self.s3.poll() is None:
            self.s3.terminate()
            self.s3.wait(timeout=10)

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
            # The fakes answer at once; a few minutes bound a readiness that cannot come.
            "readiness": {"timeout_minutes": 3},
        } | self.fault_member()

    def fault_member(self):
        """The member metadata's part that a fault scenario gets wrong."""
        if "s3-unreachable" in self.faults:
            if self.s3_port is None:
                import socket
                with socket.socket() as s:  # a port nothing listens on: connection refused
                    s.bind(("127.0.0.1", 0))
                    self.s3_port = s.getsockname()[1]
            port = self.s3_port
            return {"registry": {"host": f"registry.{self.name}.{self.domain}",
                                 "project": self.project, "quota_gb": 100,
                                 "s3": {"endpoint": f"https://{GUEST_HOST}:{port}",
                                        "region": "us-east-1", "bucket": "binder-registry",
                                        "access_key": self.secrets["s3 access key"],
                                        "secret_key": self.secrets["s3 secret key"]}}}
        return {}

    def resume(self):
        """The donor's fix for a fault whose cause is in the metadata: returns True when the
        member() metadata changed (the next boot gets a new seed). cloudflare-auth: a new token
        that has Zone.DNS:Edit, which the fake Cloudflare accepts from now on."""
        if "cloudflare-auth" not in self.faults:
            return False
        token = "cf-" + os.urandom(16).hex()
        self.fakes["cloudflare"].control("POST", "config", {"token": token,
                                                            "permissions": "zone:read,dns_records:edit"})
        self.secrets["dns.api_token"], self.secrets["dns.api_token (first)"] = token, self.secrets["dns.api_token"]
        self.corrected = True
        return True

    def heal(self, fault):
        """A temporary fault ends while the VM runs (ci/smoke-boot --heal): s3-unreachable, the
        fake S3 (s3_fake.py over TLS, SigV4 checked) starts on the endpoint's port; harbor-down,
        Harbor stops answering 503. Nothing in the guest changes: systemd's retry finds the world
        right."""
        if fault == "s3-unreachable":
            bucket = "binder-registry"
            log = open(os.path.join(self.work, "fakes", "s3.log"), "a")
            self.s3 = subprocess.Popen(
                [os.environ.get("BINDER_PYTHON", "/usr/bin/python3"),
                 f"{self.repo}/tests/support/fakes/s3_fake.py", self.secrets["s3 access key"],
                 self.secrets["s3 secret key"], bucket, "--port", str(self.s3_port),
                 "--tls-cert", f"{self.pki}/server.crt", "--tls-key", f"{self.pki}/server.key"],
                stdout=subprocess.PIPE, stderr=log, text=True)
            line = self.s3.stdout.readline().strip()
            if line != str(self.s3_port):
                raise SystemExit(f"smoke-boot: the fake S3 did not start on port {self.s3_port} "
                                 f"(said {line!r}; see {log.name})")
        elif fault == "harbor-down":
            self.fakes["harbor"].control("DELETE", "faults")
        else:
            raise ValueError(f"fault {fault} does not heal")
        self.healed.append(fault)

    def s3_requests(self):
        """The fake S3's request log ([] before heal())."""
        if self.s3 is None:
            return []
        import ssl
        ctx = ssl.create_default_context(cafile=f"{self.pki}/ca.crt")
        with urllib.request.urlopen(f"https://127.0.0.1:{self.s3_port}/__log__", context=ctx,
                                    timeout=10) as r:
            return json.loads(r.read())

    def firstboot_env(self):
        """/etc/binder-image/test/firstboot.env (read by the test overlay's drop-in for
        binder-firstboot.service): where the fakes are and the CA they use. Test-only knobs
        stay out of the member metadata."""
        fqdn = f"{self.name}.{self.domain}"
        web, harbor = self.fakes["web"].port, self.fakes["harbor"].port
        rules = [f"{h}:443:{GUEST_HOST}:{web}" for h in (fqdn, "hub." + fqdn, PRIME_HOST, REDIRECTOR_HOST)]
        rules.append(f"registry.{fqdn}:443:{GUEST_HOST}:{harbor}")
        lines = [f"BINDER_FIRSTBOOT_CLOUDFLARE_API={self.fakes['cloudflare'].guest_url('/client/v4')}",
                 f"BINDER_FIRSTBOOT_HARBOR_API={self.fakes['harbor'].guest_url('/api/v2.0')}",
                 "BINDER_FIRSTBOOT_CA_FILE=/etc/binder-image/test/ca.pem",
                 # test-only: the public names' connections go to the fakes (TLS still checks them)
                 "BINDER_FIRSTBOOT_TEST_CONNECT_TO=" + ",".join(rules)]
        if "harbor-down" in self.faults:
            # Harbor's health wait is 20 min; a twentieth bounds the scenario (the timeout path
            # is the same).
            lines.append("BINDER_FIRSTBOOT_WAIT_SCALE=0.05")
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
        from the values the agent gave k3s; the fake learns it the same way and turns healthy.
        The member's sites answer once the mybinder release's HelmChart exists."""
        try:
            if not self.web_up and "kube" in self.fakes:
                objs = self.fakes["kube"].state().get("objects", {})
                if f"helm.cattle.io/helmcharts/kube-system/{self.name}" in objs:
                    self.fakes["web"].control("POST", "config", {"health_status": 200})
                    self.web_up = True
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
        # Readiness went through the public names: every site asked, by name, over HTTPS.
        asked = {r.get("path") for r in self.fakes["web"].control("GET", "requests")}
        for want in ("/health", "/hub/health", "/versions"):
            if want not in asked:
                problems.append(f"readiness: the guest never asked https://{fqdn}{want}")
        pings = [r for r in self.fakes["harbor"].control("GET", "requests") if r.get("path") == "/api/v2.0/ping"]
        if not pings:
            problems.append(f"readiness: the guest never pinged https://registry.{fqdn}/api/v2.0/ping")
        if "s3-unreachable" in self.healed:
            reqs = self.s3_requests()
            bad = [r for r in reqs if r.get("problem")]
            puts = [r for r in reqs if r.get("method") == "PUT" and r.get("path", "").endswith("?lifecycle")]
            if bad:
                problems.append(f"s3: {len(bad)} bad requests, first: {bad[0]}")
            if len(puts) != 1:
                problems.append(f"s3: {len(puts)} PUT ?lifecycle (want 1: the rule set once)")
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


#!/bin/sh
# k3s STAND-IN for the smoke boot. This is NOT the real k3s: no release of k3s can be downloaded
# on the test machine, and a real cluster would not fit the TCG time budget. It is installed as
# /usr/local/bin/k3s only in test images (ci/make-test-artifacts puts it in the test artifacts
# dir, the test profiles point their k3s binary at it); production profiles use the real k3s.
#
# What it does, so the real binder-firstboot agent runs every real step unchanged:
#   k3s server [real flags...]  reads /etc/rancher/k3s/config.yaml (must exist: the agent writes
#       it), copies the kubeconfig the seed installed at /etc/binder-image/test/fake-kube.yaml
#       (server = the fake Kubernetes API on the host, CA = the test CA, client cert/key) to
#       /etc/rancher/k3s/k3s.yaml (0600) as the real k3s writes its own, registers the node with
#       that API server (the fake then reports it Ready), tells systemd it is ready
#       (Type=notify), and stays running until SIGTERM, when it exits 0.
#   k3s --version               "k3s version v1.33.5+k3s1-standin (00000000)"
#   kubectl/crictl/ctr (as argv0 or first argument) say they are a stand-in and exit 1.
set -u

k_version="v1.33.5+k3s1-standin"
root=${K3S_STANDIN_ROOT:-}   # tests only: run against a directory instead of /
config=$root/etc/rancher/k3s/config.yaml
fake_kube=$root/etc/binder-image/test/fake-kube.yaml
kubeconfig=$root/etc/rancher/k3s/k3s.yaml

say() { echo "k3s STAND-IN: $*" >&2; }

multicall() {
  say "'$1' is not implemented (this is a stand-in, not the real k3s)"
  exit 1
}

name=$(basename "$0")
case "$name" in
  kubectl|crictl|ctr) multicall "$name" ;;
esac

# Registers this node (name from config.yaml's node-name, else the hostname) with the API server
# in $kubeconfig, as k3s's kubelet does. Retries for a while: the fake may come up later.
register_node() {
  node=$(sed -n 's/^node-name:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$config" | head -n1)
  [ -n "$node" ] || node=$(hostname)
  python3 - "$kubeconfig" "$node" <<'EOF' >&2
import base64, json, os, ssl, sys, tempfile, time, urllib.request, urllib.error
import yaml
path, node = sys.argv[1], sys.argv[2]
cfg = yaml.safe_load(open(path))
cluster = cfg["clusters"][0]["cluster"]
user = cfg["users"][0]["user"]
tmp = tempfile.mkdtemp()
def pem(key, name):
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(base64.b64decode(key))
    return p
ctx = ssl.create_default_context(cafile=pem(cluster["certificate-authority-data"], "ca.pem"))
ctx.load_cert_chain(pem(user["client-certificate-data"], "crt.pem"), pem(user["client-key-data"], "key.pem"))
body = json.dumps({"apiVersion": "v1", "kind": "Node",
                   "metadata": {"name": node, "labels": {"kubernetes.io/hostname": node,
                                "node-role.kubernetes.io/control-plane": "true"}}}).encode()
for attempt in range(60):
    req = urllib.request.Request(cluster["server"].rstrip("/") + "/api/v1/nodes", data=body,
                                 method="POST", headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, context=ctx, timeout=10)
        print(f"k3s STAND-IN: registered node '{node}'")
        break
    except urllib.error.HTTPError as e:
        if e.code == 409:
            print(f"k3s STAND-IN: node '{node}' already registered")
            break
        print(f"k3s STAND-IN: registering node '{node}': HTTP {e.code}, retrying")
    except Exception as e:
        print(f"k3s STAND-IN: registering node '{node}': {e}, retrying")
    time.sleep(5)
else:
    sys.exit(1)
EOF
}

server() {
  for arg in "$@"; do
    case "$arg" in
      --config=*) config=${arg#--config=} ;;
    esac
  done
  prev=""
  for arg in "$@"; do
    if [ "$prev" = "--config" ] || [ "$prev" = "-c" ]; then config=$arg; fi
    prev=$arg
  done
  say "server starting (flags: $*)"
  if [ ! -f "$config" ]; then
    say "no $config: the agent writes it before starting k3s"
    exit 1
  fi
  if [ ! -f "$fake_kube" ]; then
    say "no $fake_kube: the smoke boot's seed must install it"
    exit 1
  fi
  mkdir -p "$root/etc/rancher/k3s" "$root/var/lib/rancher/k3s/server"
  umask 077
  cp "$fake_kube" "$kubeconfig.tmp" && mv -f "$kubeconfig.tmp" "$kubeconfig"
  token=$root/var/lib/rancher/k3s/server/token
  [ -f "$token" ] || echo "K10standin::server:standin" >"$token"
  umask 022
  say "wrote $kubeconfig (server: $(sed -n 's/^[[:space:]]*server:[[:space:]]*//p' "$kubeconfig" | head -n1))"
  # In the background, as the real kubelet registers after k3s reports ready.
  (register_node || say "could not register the node; the API server will not see it") &
  if [ -n "${NOTIFY_SOCKET:-}" ]; then
    systemd-notify --ready || say "systemd-notify failed"
  fi
  sleeper=""
  trap 'say "SIGTERM: stopping"; [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null; exit 0' TERM INT
  while :; do
    sleep 3600 &
    sleeper=$!
    wait "$sleeper"
  done
}

case "${1:-}" in
  --version|-v|version)
    echo "k3s version $k_version (00000000)"
    echo "go version go1.24.6 (k3s STAND-IN)"
    ;;
  server) shift; server "$@" ;;
  kubectl|crictl|ctr) multicall "$1" ;;
  --help|-h|"") echo "k3s STAND-IN for tests (not the real k3s): k3s server [flags], k3s --version" ;;
  *) say "'$1' is not implemented"; exit 1 ;;
esac

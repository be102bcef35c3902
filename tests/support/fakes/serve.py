#!/usr/bin/python3
"""Runs one fake vendor API server (Cloudflare, Harbor, Kubernetes, chart repositories or a member's public sites) on TLS
for the tests and the smoke boot, or the receiver of binder-firstboot's phone home (status).

  serve.py --kind cloudflare|harbor|kube|charts|status|web [--port 0] [--bind 127.0.0.1] --tls-cert F --tls-key F
           [--client-ca F] [--state-dir D] [kind options]

Prints `PORT <n>` (the TLS API port) and `CONTROL <m>` (plain-HTTP port serving only /__fake__/)
as its first two stdout lines, then serves until killed. The control API (also under /__fake__/
on the TLS port, without auth): GET state | violations | requests | faults; POST faults
{path: regex, method?, status?, retry_after?, delay_ms?, drop?, count? (default 1, -1 forever)};
DELETE faults; POST reset; POST config {setting: value} (e.g. health_delay, ready_delay).
"""
import argparse
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import serve, tls_context  # noqa: E402


def default_ref_dir():
    env = os.environ.get("BINDER_SHARED_DIR")
    if env:
        return os.path.join(env, "reference")
    # What ci/fetch-reference placed in the build tree (ci/reference.lock), never ../shared.
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "../../../build/shared/reference"))


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", required=True, choices=["cloudflare", "harbor", "kube", "charts", "status", "web"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--tls-cert", required=True)
    ap.add_argument("--tls-key", required=True)
    ap.add_argument("--client-ca", help="kube: verify client certificates against this CA")
    ap.add_argument("--state-dir", help="persist state.json, violations.json, requests.json here")
    ap.add_argument("--ref-dir", default=default_ref_dir(), help="reference directory (default build/shared/reference, from ci/fetch-reference)")
    ap.add_argument("--verbose", action="store_true")
    cf = ap.add_argument_group("cloudflare")
    cf.add_argument("--token", default="test-token", help="cloudflare/kube bearer token")
    cf.add_argument("--zone", action="append", help="zone name(s) (default mybinder.org)")
    cf.add_argument("--permissions", default="zone:read,dns_records:edit",
                    help="the token's permissions, comma-separated (schema names without '#')")
    hb = ap.add_argument_group("harbor")
    hb.add_argument("--admin-password", default="Harbor12345")
    hb.add_argument("--health-delay", type=float, default=0.0)
    hb.add_argument("--external-url", default="https://registry.example.mybinder.org")
    kb = ap.add_argument_group("kube")
    kb.add_argument("--node-name", default="binder-node")
    kb.add_argument("--node-ready-delay", type=float, default=0.0)
    kb.add_argument("--helm-delay", type=float, default=1.0, help="HelmChart -> Job and Deployments")
    kb.add_argument("--ready-delay", type=float, default=1.0, help="Deployments created -> Ready")
    ch = ap.add_argument_group("charts")
    ch.add_argument("--charts-dir", help="charts: the fixture tree of make_chart_fixtures.py")
    ch.add_argument("--corrupt", default="", help="charts: flip the last byte of matching paths")
    st = ap.add_argument_group("status")
    st.add_argument("--schema", help="status: the JSON schema (default firstboot/status.schema.json)")
    web = ap.add_argument_group("web (member_web.py: the member's and the federation's public sites)")
    web.add_argument("--member-host")
    web.add_argument("--prime-host")
    web.add_argument("--redirector-host")
    web.add_argument("--health-status", type=int)
    web.add_argument("--versions", help="JSON")
    web.add_argument("--prime-versions", help="JSON")
    web.add_argument("--active-hosts", help="comma-separated host names")
    web.add_argument("--launch", choices=["ready", "failed"])
    return ap.parse_args(argv)


def main(argv):
    args = parse(argv)
    if args.kind == "cloudflare":
        from cloudflare import Cloudflare as K
    elif args.kind == "harbor":
        from harbor import Harbor as K
    elif args.kind == "charts":
        from chart_repo import ChartRepo as K
    elif args.kind == "status":
        from status_receiver import StatusReceiver as K
    elif args.kind == "web":
        from member_web import MemberWeb as K
    else:
        from kube import Kube as K
    fake = K(args)
    ctx = tls_context(args.tls_cert, args.tls_key, args.client_ca)
    servers = serve(fake, args.bind, args.port, ctx, args.verbose)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    for s in servers:
        s.shutdown()
    with fake.lock:
        fake.persist()


if __name__ == "__main__":
    main(sys.argv[1:])

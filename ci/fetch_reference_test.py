#!/usr/bin/python3
"""Tests of ci/fetch-reference against a temporary lock, mirror and destination (CTest label unit).

Run: python3 ci/fetch_reference_test.py [-v]
"""
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fetch-reference")
GOOD = b"apiVersion: v1\nkind: Plan\n"
OTHER = b"openapi: 3.0.3\n"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def closed_port():
    """A loopback port nothing listens on: a download from it fails at once, as without network."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FetchReference(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fetch-reference-test-")
        self.mirror = os.path.join(self.tmp, "mirror")
        self.dest = os.path.join(self.tmp, "dest")
        self.lock = os.path.join(self.tmp, "reference.lock")
        self.url = "http://127.0.0.1:%d/plan.yaml" % closed_port()
        self.put(self.mirror, "mybinder/plan.yaml", GOOD)
        self.put(self.mirror, "apis/x.yaml", OTHER)
        self.write_lock([("mybinder/plan.yaml", sha(GOOD), self.url),
                         ("apis/x.yaml", sha(OTHER), self.url)])

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def put(self, root, rel, data):
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)

    def write_lock(self, entries):
        with open(self.lock, "w") as f:
            f.write("# test lock\n" + "".join("%s %s %s\n" % e for e in entries))

    def run_fetch(self, *extra, mirror=None):
        env = dict(os.environ)
        env.pop("BINDER_REFERENCE_MIRROR", None)
        cmd = [sys.executable, SCRIPT, "--lock", self.lock, "--dest", self.dest,
               "--mirror", self.mirror if mirror is None else mirror, *extra]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)

    def placed(self, rel):
        p = os.path.join(self.dest, "reference", rel)
        if not os.path.exists(p):
            return None
        with open(p, "rb") as f:
            return f.read()

    def test_places_pinned_files_from_the_mirror_and_reruns_cheaply(self):
        r = self.run_fetch()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.placed("mybinder/plan.yaml"), GOOD)
        self.assertEqual(self.placed("apis/x.yaml"), OTHER)
        self.assertIn("2 mirror", r.stdout)
        r = self.run_fetch()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2 up to date", r.stdout)
        # Up to date even with the mirror gone: the destination's pinned bytes are enough.
        r = self.run_fetch(mirror=os.path.join(self.tmp, "none"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_tampered_mirror_file_is_refused_and_nothing_is_written(self):
        self.put(self.mirror, "mybinder/plan.yaml", GOOD + b"# tampered\n")
        r = self.run_fetch()
        self.assertEqual(r.returncode, 1)
        self.assertIn("mybinder/plan.yaml", r.stderr)
        self.assertIn("refusing", r.stderr)
        self.assertIn(sha(GOOD), r.stderr)
        self.assertIsNone(self.placed("mybinder/plan.yaml"))
        leftovers = [n for _, _, files in os.walk(self.dest) for n in files if n.startswith(".fetch-")]
        self.assertEqual(leftovers, [])

    def test_tampered_destination_file_is_replaced_from_the_mirror(self):
        self.assertEqual(self.run_fetch().returncode, 0)
        self.put(os.path.join(self.dest, "reference"), "mybinder/plan.yaml", b"edited by hand\n")
        r = self.run_fetch()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.placed("mybinder/plan.yaml"), GOOD)

    def test_missing_file_without_network_fails_naming_it(self):
        os.unlink(os.path.join(self.mirror, "mybinder/plan.yaml"))
        r = self.run_fetch()
        self.assertEqual(r.returncode, 1)
        self.assertIn("mybinder/plan.yaml: not in the mirror", r.stderr)
        self.assertIn("cannot download " + self.url, r.stderr)
        self.assertIsNone(self.placed("mybinder/plan.yaml"))
        # The other file is still placed: one error report names every missing file.
        self.assertEqual(self.placed("apis/x.yaml"), OTHER)
        r = self.run_fetch("--offline")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--offline forbids downloading " + self.url, r.stderr)

    def test_no_mirror_at_all_falls_back_to_the_source(self):
        r = self.run_fetch(mirror=os.path.join(self.tmp, "absent"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("not in the mirror (none)", r.stderr)

    def test_repo_source_missing_from_the_checkout_is_an_error(self):
        self.write_lock([("apis/y.json", sha(b"{}"), "repo:tests/support/reference/does-not-exist.json")])
        r = self.run_fetch()
        self.assertEqual(r.returncode, 1)
        self.assertIn("apis/y.json", r.stderr)
        self.assertIn("missing from this checkout", r.stderr)

    def test_unlisted_files_are_removed_from_the_destination(self):
        self.put(os.path.join(self.dest, "reference"), "charts/old/values.yaml", b"stale\n")
        r = self.run_fetch()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNone(self.placed("charts/old/values.yaml"))

    def test_malformed_lock_line_names_file_and_line(self):
        with open(self.lock, "a") as f:
            f.write("apis/z.yaml not-a-sha\n")
        r = self.run_fetch()
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.lock + ":4:", r.stderr)

    def test_mirror_only_entries_are_refused_without_a_mirror_and_documented(self):
        self.write_lock([("apis/y.json", sha(b"{}"), "mirror-only")])
        r = self.run_fetch(mirror=os.path.join(self.tmp, "absent"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("apis/y.json: only in the reference mirror", r.stderr)
        # Every entry of the committed lock is an https URL or mirror-only, and each mirror-only
        # file is named in ci/reference-provenance.md.
        repo = os.path.dirname(os.path.dirname(SCRIPT))
        with open(os.path.join(repo, "ci", "reference.lock")) as f:
            entries = [l.split() for l in f if l.strip() and not l.startswith("#")]
        with open(os.path.join(repo, "ci", "reference-provenance.md")) as f:
            provenance = f.read()
        for rel, _want, src in entries:
            self.assertTrue(src == "mirror-only" or src.startswith("https://"), rel)
            if src == "mirror-only":
                self.assertIn(os.path.basename(rel).split("-95860")[0], provenance, rel)

if __name__ == "__main__":
    unittest.main()

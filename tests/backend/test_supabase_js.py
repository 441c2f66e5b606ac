"""The official JavaScript client (npm @supabase/supabase-js, the version pinned in
js/package-lock.json) doing its ordinary auth, PostgREST, RPC and storage calls against the
local server, uploads of a Blob and a File included (multipart, the part named "").

The client is installed here, by the test itself, with ``npm ci`` into js/node_modules
(ignored by git): a clean checkout needs only node 20+ and npm with the registry reachable."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess

import pytest

from tests.conftest import REPO

JS = REPO / "tests" / "backend" / "js"
CHECKS = {"auth.signUp", "auth.signInWithPassword", "auth.getUser", "auth.refreshSession", "auth.updateUser",
          "postgrest.select.single", "postgrest.table calls", "rpc", "storage.buckets", "storage.objects",
          "storage.refusals", "auth.signOut"}


def _pinned_version() -> str:
    lock = json.loads((JS / "package-lock.json").read_text())
    return lock["packages"]["node_modules/@supabase/supabase-js"]["version"]


def _installed_version() -> str | None:
    manifest = JS / "node_modules" / "@supabase" / "supabase-js" / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else None


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("the supabase-js test needs node 20+ and npm")
    with open(JS / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs in one checkout install once
        if _installed_version() != _pinned_version():
            done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"npm ci failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert _installed_version() == _pinned_version()
    return node


def test_supabase_js_ordinary_calls(node, server):
    run = subprocess.run([node, "driver.mjs", server.url, server.anon_key], cwd=JS, capture_output=True, text=True,
                         timeout=240)
    assert run.returncode == 0, f"the driver failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}, "\n\n".join(f"{name}: {why}" for name, why in report["failed"].items())
    assert set(report["passed"]) == CHECKS

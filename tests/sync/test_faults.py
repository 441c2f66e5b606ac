"""Faults: a response lost after the server committed, the server stopped mid-push, the
client killed mid-sync, and a token that expires while offline. Every change reaches the
server exactly once, and nobody is signed out for lack of a network."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from dstudio_backend.cluster import free_port
from dstudio_backend.process import start_server
from dstudio_desktop.services import review
from dstudio_desktop.store import Workspace
from dstudio_desktop.sync.engine import BATCH

from ..backend.conftest import Api, signup
from .conftest import PASSWORD, Desktop

REPO = Path(__file__).resolve().parents[2]


class DropResponse(httpx.HTTPTransport):
    """Forwards the request, lets the server commit, then loses the response (once)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path, self.dropped = path, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path == self.path and not self.dropped:
            response.read()
            self.dropped += 1
            raise httpx.ReadError("connection reset after the server answered", request=request)
        return response


class NoNetwork(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable", request=request)


def _offline_work(desktop: Desktop, project_name: str, notes: int) -> str:
    project = desktop.ws.create_project(project_name)
    desktop.ws.save_version(project.id, notes="offline 1")
    for i in range(notes):
        review.add(desktop.ws, project, f"note {i}", None, None)
    return project.id


def _server_counts(api: Api, project_id: str) -> tuple[int, int, list[int]]:
    versions = api.ok(api.get("design_studio_versions", project_id=f"eq.{project_id}", order="version_number"))
    annotations = api.ok(api.get("design_studio_annotations", project_id=f"eq.{project_id}", select="content"))
    return len(versions), len({a["content"] for a in annotations}) if len(annotations) == len(
        {a["content"] for a in annotations}) else -1, [v["version_number"] for v in versions]


def test_a_response_lost_after_commit_applies_nothing_twice(team):
    a, _, _ = team
    project_id = _offline_work(a, "Lost response", notes=30)
    report = a.sync(transport=DropResponse("/rest/v1/rpc/apply_mutations"))
    assert report.state == "offline"
    assert report.waiting == 32  # nothing was marked sent: the client never heard back
    again = a.sync()
    assert again.state == "up to date" and again.duplicates == 32 and again.pushed == 0
    versions, notes, numbers = _server_counts(a.api, project_id)
    assert (versions, notes, numbers) == (1, 30, [1])
    assert a.ws.outbox() == []


def test_the_server_stopped_mid_push_then_back(tmp_path: Path):
    port, secret = free_port(), uuid.uuid4().hex * 2
    # a kept cluster, in a folder PostgreSQL's own user can reach when the tests run as root
    data = Path(tempfile.mkdtemp(prefix="dstudio-pg-kept-"))
    data.chmod(0o755)
    args = ("--port", str(port), "--jwt-secret", secret, "--data-dir", str(data / "cluster"))
    server = start_server(tmp_path / "storage", *args)
    try:
        api = signup(server, f"stop-{uuid.uuid4().hex[:6]}@example.com", PASSWORD)
        desktop = Desktop(tmp_path / "ws", server, api)
        project_id = _offline_work(desktop, "Server stops", notes=BATCH + 50)

        class StopOnSecondBatch(httpx.HTTPTransport):
            batches = 0

            def handle_request(self, request):
                if request.url.path == "/rest/v1/rpc/apply_mutations":
                    self.batches += 1
                    if self.batches == 2:
                        server.stop()
                return super().handle_request(request)

        report = desktop.sync(transport=StopOnSecondBatch())
        assert report.state == "offline"
        assert 0 < report.waiting < BATCH + 52  # the first batch made it, the rest waits
        server = start_server(tmp_path / "storage", *args)
        desktop.server = server
        assert desktop.sync().state == "up to date"
        assert _server_counts(Api(server, desktop.session.access_token), project_id) == (1, BATCH + 50, [1])
        assert desktop.ws.outbox() == []
        desktop.close()
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def test_an_expired_token_offline_keeps_the_session(team):
    a, _, _ = team
    _offline_work(a, "Expired offline", notes=3)
    a.session.expires_at = int(time.time()) - 60  # it ran out while we were away
    before = a.session
    refresh_token = before.refresh_token
    report = a.sync(transport=NoNetwork())
    assert report.state == "offline" and report.waiting == 5
    assert a.session is before and a.session.refresh_token == refresh_token  # kept, not dropped
    report = a.sync()  # the network is back: refreshed, then synced, without signing in again
    assert report.state == "up to date", report.message
    assert a.session.refresh_token != refresh_token and a.session.expires_at > time.time()


def test_cli_login_keeps_tokens_in_the_keyring_and_survives_kill_9_mid_sync(server, tmp_path: Path):
    api = signup(server, f"cli-{uuid.uuid4().hex[:6]}@example.com", PASSWORD)
    home, xdg = tmp_path / "home", tmp_path / "keyring-data"
    env = {**os.environ, "DSTUDIO_HOME": str(home), "XDG_DATA_HOME": str(xdg),
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}  # a test stand-in for the OS keyring

    def dstudio(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dstudio_desktop", *args], input=stdin, capture_output=True,
                              text=True, env=env, cwd=REPO, timeout=120)

    login = dstudio("login", "--url", server.url, "--email", api.user["email"], "--anon-key", server.anon_key,
                    "--password-stdin", "--json", stdin=PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    with Workspace(home) as ws:
        project = ws.create_project("Killed client")
        ws.save_version(project.id, notes="offline 1")
        for i in range(260):
            review.add(ws, project, f"note {i}", None, None)
    kill_at, kills = 0.3, 0
    while True:  # kill -9 the sync at later and later moments until one run gets to the end
        proc = subprocess.Popen([sys.executable, "-m", "dstudio_desktop", "sync"], env=env, cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(kill_at)
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        kill_at += 0.25
    assert kills >= 1, "the sync was killed at least once before one got to the end"
    final = dstudio("sync", "--json")
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["waiting"] == 0
    assert _server_counts(api, project.id) == (1, 260, [1])
    listed = json.loads(dstudio("version", "list", project.id, "--json").stdout)
    assert [v["server_number"] for v in listed] == [1]
    # the tokens live in the keyring's store, and in no file of the workspace
    import base64
    import configparser

    store = configparser.RawConfigParser()
    store.read(next(p for p in xdg.rglob("*.cfg")))
    session = json.loads(base64.b64decode("".join(store.get("dstudio_2Ddesktop", "session").split())))
    secrets = [session["refresh_token"].encode(), session["access_token"].encode()]
    for path in home.rglob("*"):
        if path.is_file():
            assert not any(secret in path.read_bytes() for secret in secrets), path
    assert dstudio("logout").returncode == 0
    assert "not signed in" in dstudio("sync").stderr


def test_a_large_asset_upload_resumes_after_the_network_drops(team):
    import hashlib

    from dstudio_desktop.core import Asset

    a, b, _ = team
    project = a.ws.create_project("Big part")
    data = os.urandom(20 * 1024 * 1024)
    a.ws.add_asset(Asset(project_id=project.id, asset_type="mesh", name="scan", sha256=hashlib.sha256(data).hexdigest(),
                         file_size=len(data), media_type="model/gltf-binary"), data)

    class DropAfterChunks(httpx.HTTPTransport):
        """Counts the bytes sent in chunks; the network goes after the second one."""

        def __init__(self, fail_after: int | None) -> None:
            super().__init__()
            self.fail_after, self.chunks, self.sent = fail_after, 0, 0

        def handle_request(self, request):
            if request.method == "PATCH":
                if self.fail_after is not None and self.chunks >= self.fail_after:
                    raise httpx.ConnectError("the network went away", request=request)
                self.chunks += 1
                self.sent += len(request.read())
            return super().handle_request(request)

    first = DropAfterChunks(fail_after=2)
    assert a.sync(transport=first).state == "offline"
    second = DropAfterChunks(fail_after=None)
    assert a.sync(transport=second).state == "up to date"
    assert first.sent + second.sent == len(data)  # nothing sent twice: it went on where it stopped
    assert b.sync().state == "up to date"
    asset = b.ws.list_assets(project.id)[0]
    assert b.ws.asset_bytes(asset) == data

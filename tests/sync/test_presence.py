"""Presence between desktops over the real local server's Realtime websocket: join, selection,
camera, leave (closed, killed, hung), the session rows, and a server restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from dstudio_backend.cluster import free_port
from dstudio_backend.process import start_server
from dstudio_desktop.sync.presence import MAX_RATE, PresenceClient

from ..backend.conftest import Api, signup


def _until(condition, timeout: float, what: str) -> float:
    """Seconds until ``condition()`` held; fails naming ``what`` after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started


def _project(desktop, org: str) -> str:
    return desktop.api.ok(desktop.api.insert("design_studio_projects", {"org_id": org, "name": "live"}))[0]["id"]


def _client(desktop, server, project: str, heartbeat_s: float = 15.0) -> PresenceClient:
    s = desktop.session
    client = PresenceClient(server.url, server.anon_key, s.access_token, project, s.user_id, s.email,
                            heartbeat_s=heartbeat_s)
    client.start()
    return client


def _row(api: Api, session_id: str) -> dict:
    return api.ok(api.get("design_studio_sessions", id=f"eq.{session_id}"))[0]


def test_b_sees_a_join_select_look_and_leave(team, server):
    a_desk, b_desk, org = team
    project = _project(a_desk, org)
    b = _client(b_desk, server, project)
    a = _client(a_desk, server, project)
    try:
        took = _until(lambda: len(b.peers) == 1, 2.0, "B sees A join")
        peer = b.peers[0]
        assert (peer.user_id, peer.email, peer.role) == (a_desk.session.user_id, a_desk.session.email, "owner")
        _until(lambda: len(a.peers) == 1 and a.peers[0].role == "editor", 2.0, "A sees B, an editor")
        print(f"join seen after {took:.3f} s")

        started = time.monotonic()
        a.track(selection=["node-1", "node-2"])
        _until(lambda: b.peers and b.peers[0].selection == ("node-1", "node-2"), 1.0, "B sees A's selection")
        print(f"selection seen after {time.monotonic() - started:.3f} s")

        # a camera drag: 60 moves in half a second go out at most MAX_RATE a second, the last one last
        changes: list[float] = []
        b.peers_changed.connect(lambda: changes.append(time.monotonic()))
        started = time.monotonic()
        for i in range(60):
            a.track(camera={"eye": [0.0, 0.5, 2.0 + i / 100], "target": [0, 0, 0]})
            time.sleep(0.5 / 60)
        _until(lambda: b.peers[0].camera and b.peers[0].camera["eye"][2] == 2.59, 1.0, "B sees A's last camera")
        seconds = time.monotonic() - started
        assert len(changes) <= seconds * MAX_RATE + 2, (len(changes), seconds)
        assert len(changes) >= 3  # the moves did go out during the drag, not only at its end

        row = _row(a_desk.api, a.session_id)
        assert row["is_active"] and row["role"] == "owner" and row["user_id"] == a_desk.session.user_id
        assert row["joined_at"] <= row["last_heartbeat_at"]
        # B reads A's row (the same project), never writes it
        assert _row(b_desk.api, a.session_id)["id"] == a.session_id
        refused = b_desk.api.update("design_studio_sessions", {"is_active": False}, id=f"eq.{a.session_id}")
        assert refused.json() == []

        started = time.monotonic()
        a.close()
        _until(lambda: not b.peers, 5.0, "B sees A leave")
        print(f"leave seen after {time.monotonic() - started:.3f} s")
        _until(lambda: not _row(a_desk.api, a.session_id)["is_active"], 3.0, "A's session row inactive")
    finally:
        a.close()
        b.close()


def test_a_member_of_another_organisation_sees_no_one(team, server):
    a_desk, b_desk, org = team
    project = _project(a_desk, org)
    a = _client(a_desk, server, project)
    stranger_api = signup(server)
    from dstudio_desktop.sync.client import BackendClient

    client = BackendClient(server.url, server.anon_key)
    session = client.sign_in(stranger_api.user["email"], "correct horse")
    client.close()
    stranger = PresenceClient(server.url, server.anon_key, session.access_token, project, session.user_id,
                              session.email)
    stranger.start()
    try:
        _until(lambda: stranger.state_text == "refused", 3.0, "the stranger is refused")
        assert stranger.peers == ()
        time.sleep(0.3)
        assert a.peers == ()  # nor does anyone see the stranger
    finally:
        stranger.close()
        a.close()


_PROCESS = """
import json, sys, time
from dstudio_desktop.sync.presence import PresenceClient
args = json.loads(sys.argv[1])
client = PresenceClient(**args)
client.start()
client.track(selection=["from-a-process"])
while not client.connected:
    time.sleep(0.02)
print(client.session_id, flush=True)
while True:
    time.sleep(1)
"""


def _desktop_process(desktop, server, project: str) -> tuple[subprocess.Popen, str]:
    """Desktop A's presence in a process of its own (the same client the app runs)."""
    s = desktop.session
    args = {"url": server.url, "anon_key": server.anon_key, "access_token": s.access_token, "project_id": project,
            "user_id": s.user_id, "email": s.email, "heartbeat_s": 1.0}
    proc = subprocess.Popen([sys.executable, "-c", _PROCESS, json.dumps(args)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ})
    session_id = proc.stdout.readline().strip()
    assert session_id, "the presence process did not join"
    return proc, session_id


@pytest.fixture
def restartable(server, tmp_path):
    """A second API server on the shared database and JWT secret (the same users and tokens), with
    short heartbeat timeouts, at a port of its own that stays the same across restarts."""
    port = free_port()
    args = ("--dsn", server.db_url, "--jwt-secret", server.jwt_secret, "--port", str(port),
            "--realtime-timeout", "2", "--session-timeout", "3")
    running = {"server": start_server(tmp_path / "storage", *args)}

    def restart() -> None:
        running["server"].stop()
        running["server"] = start_server(tmp_path / "storage", *args)

    yield running, restart
    running["server"].stop()


def test_killed_or_hung_desktops_leave_and_a_restart_is_survived(team, restartable):
    a_desk, b_desk, org = team
    running, restart = restartable
    srv = running["server"]
    project = _project(a_desk, org)
    b = _client(b_desk, srv, project, heartbeat_s=1.0)
    procs = []
    try:
        # kill -9: the socket closes with the process, the others see it go at once
        proc, session_id = _desktop_process(a_desk, srv, project)
        procs.append(proc)
        _until(lambda: [p.selection for p in b.peers] == [("from-a-process",)], 2.0, "B sees A's process")
        started = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        _until(lambda: not b.peers, 5.0, "B sees killed A leave")
        print(f"kill -9: gone after {time.monotonic() - started:.3f} s")
        _until(lambda: not _row(a_desk.api, session_id)["is_active"], 3.0, "killed A's row inactive")

        # hung (stopped, its socket still open): gone after the server's heartbeat timeout (2 s)
        proc, session_id = _desktop_process(a_desk, srv, project)
        procs.append(proc)
        _until(lambda: len(b.peers) == 1, 2.0, "B sees A again")
        started = time.monotonic()
        proc.send_signal(signal.SIGSTOP)
        _until(lambda: not b.peers, 5.0, "B sees hung A time out")
        print(f"SIGSTOP: gone after {time.monotonic() - started:.3f} s")
        _until(lambda: not _row(a_desk.api, session_id)["is_active"], 5.0, "hung A's row inactive")
        proc.send_signal(signal.SIGKILL)

        # the server restarts: both sides come back and see each other again
        a = _client(a_desk, srv, project, heartbeat_s=1.0)
        try:
            _until(lambda: len(b.peers) == 1 and len(a.peers) == 1, 2.0, "A and B see each other")
            a.track(selection=["before"])
            first = _row(a_desk.api, a.session_id)
            _until(lambda: _row(a_desk.api, a.session_id)["selection_state"] == {"node_ids": ["before"]}
                   and _row(a_desk.api, a.session_id)["last_heartbeat_at"] > first["last_heartbeat_at"], 3.0,
                   "A's row keeps its selection and heartbeat")
            started = time.monotonic()
            restart()
            _until(lambda: not b.peers or b.state_text == "offline", 10.0, "B notices the server went")
            _until(lambda: len(b.peers) == 1 and len(a.peers) == 1, 10.0, "A and B see each other after a restart")
            assert b.peers[0].selection == ("before",)  # A's state is sent again on rejoining
            print(f"restart: seen again {time.monotonic() - started:.3f} s after the restart began")
        finally:
            a.close()
    finally:
        b.close()
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()


def test_offline_presence_shows_no_one_and_never_blocks():
    client = PresenceClient(f"http://127.0.0.1:{free_port()}", "", "token", str(uuid.uuid4()), "u", "x@example.com")
    started = time.monotonic()
    client.start()
    for i in range(1000):
        client.track(selection=[str(i)])
    client.send_broadcast("changes", {})
    assert time.monotonic() - started < 0.5  # handing over states costs the caller nothing
    time.sleep(0.3)
    assert client.peers == () and client.state_text == "offline"
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 3.5

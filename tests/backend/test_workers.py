"""``dstudio-backend start --workers 2``: two real server processes on one port. Realtime
sockets held by different workers see each other's presence and broadcast (shared through
PostgreSQL), and when one worker is killed with SIGKILL its sockets' presences leave, its
desktop sessions end, and the supervisor starts another worker."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid

import httpx
import psutil
import psycopg
import pytest
import websockets

from dstudio_backend.process import start_server

from .conftest import Api, signup


@pytest.fixture(scope="module")
def workers_server(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("workers-storage"), "--realtime-timeout", "2",
                           "--session-timeout", "30", workers=2)
    try:
        yield running
    finally:
        running.stop()


def server_api(server) -> Api:
    return Api(server, server.service_role_key)


def _workers(server) -> list[psutil.Process]:
    return [p for p in psutil.Process(server.process.pid).children()
            if any("spawn_main" in part for part in p.cmdline())]


def _worker_of(server, ws) -> int:
    """The pid of the worker process holding this client's socket (from the kernel's tables)."""
    client_port = ws.transport.get_extra_info("sockname")[1]
    for proc in _workers(server):
        for conn in proc.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == client_port:
                return proc.pid
    raise AssertionError("no worker holds the socket")


class Socket:
    """A raw Phoenix v1 client: every frame it got, by event."""

    def __init__(self, ws):
        self.ws = ws
        self.frames: list[dict] = []
        self.reader = asyncio.create_task(self._read())
        self.ref = 0

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                self.frames.append(json.loads(text))
        except websockets.exceptions.ConnectionClosed:
            pass

    async def push(self, topic: str, event: str, payload: dict) -> None:
        self.ref += 1
        await self.ws.send(json.dumps({"topic": topic, "event": event, "payload": payload,
                                       "ref": str(self.ref), "join_ref": "1"}))

    def got(self, event: str) -> list[dict]:
        return [f["payload"] for f in self.frames if f["event"] == event]

    async def until(self, condition, what: str, timeout: float = 5.0) -> float:
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{what}: not within {timeout} s; frames: {self.frames[-5:]}")
            await asyncio.sleep(0.02)
        return time.monotonic() - started


async def _sockets_on_two_workers(server) -> tuple[Socket, Socket]:
    """Connects until two sockets are held by different workers (the kernel picks the worker)."""
    url = server.url.replace("http://", "ws://") + f"/realtime/v1/websocket?apikey={server.anon_key}&vsn=1.0.0"
    by_worker: dict[int, websockets.ClientConnection] = {}
    spare = []
    for _ in range(40):
        ws = await websockets.connect(url)
        pid = _worker_of(server, ws)
        if pid in by_worker:
            spare.append(ws)
        else:
            by_worker[pid] = ws
        if len(by_worker) == 2:
            break
    for ws in spare:
        await ws.close()
    assert len(by_worker) == 2, "every socket landed on the same worker"
    a, b = by_worker.values()
    return Socket(a), Socket(b)


def _team(server):
    owner, editor = signup(server), signup(server)
    org = owner.personal_org()
    with httpx.Client() as http:
        http.patch(f"{server.url}/rest/v1/organizations", params={"id": f"eq.{org}"}, json={"tier": "pro"},
                   headers={"apikey": server.anon_key, "Authorization": f"Bearer {server.service_role_key}"}
                   ).raise_for_status()
    owner.ok(owner.insert("org_members", {"org_id": org, "user_id": editor.id, "role": "editor"}))
    project = owner.ok(owner.insert("design_studio_projects", {"org_id": org, "name": "workers"}))[0]["id"]
    return owner, editor, project


async def _join(sock: Socket, topic: str, user, key: str) -> None:
    await sock.push(topic, "phx_join", {"config": {"presence": {"key": key}}, "access_token": user.token})
    await sock.until(lambda: sock.got("presence_state"), f"{key} joined")


def test_sockets_on_different_workers_see_each_others_presence_and_broadcast(workers_server):
    server = workers_server
    assert len(_workers(server)) == 2
    owner, editor, project = _team(server)
    topic = f"realtime:project:{project}"

    async def scenario() -> None:
        a, b = await _sockets_on_two_workers(server)
        assert _worker_of(server, a.ws) != _worker_of(server, b.ws)
        try:
            await _join(a, topic, owner, "desk-a")
            await a.push(topic, "presence", {"type": "presence", "event": "track", "payload": {"name": "Ann"}})
            await a.until(lambda: a.got("presence_diff"), "A sees its own track")

            # B, on the other worker, joins: its state holds A's presence, stamped with A's user
            await _join(b, topic, editor, "desk-b")
            state = b.got("presence_state")[0]
            assert list(state) == ["desk-a"]
            assert state["desk-a"]["metas"][0]["name"] == "Ann"
            assert state["desk-a"]["metas"][0]["user_id"] == owner.id

            # B tracks: A gets the join as a diff from the other process
            await b.push(topic, "presence", {"type": "presence", "event": "track", "payload": {"name": "Ben"}})
            await a.until(lambda: any("desk-b" in d["joins"] for d in a.got("presence_diff")), "A sees B join")
            joined = next(d for d in a.got("presence_diff") if "desk-b" in d["joins"])["joins"]["desk-b"]["metas"][0]
            assert joined["name"] == "Ben" and joined["user_id"] == editor.id and joined["role"] == "editor"

            # broadcast crosses processes both ways, and never comes back to the sender
            await a.push(topic, "broadcast", {"type": "broadcast", "event": "notes", "payload": {"from": "a"}})
            await b.push(topic, "broadcast", {"type": "broadcast", "event": "notes", "payload": {"from": "b"}})
            await b.until(lambda: {"type": "broadcast", "event": "notes", "payload": {"from": "a"}}
                          in b.got("broadcast"), "B gets A's broadcast")
            await a.until(lambda: any(m["payload"] == {"from": "b"} for m in a.got("broadcast")), "A gets B's")
            # a broadcast too large for a NOTIFY payload (8000 bytes) goes through the table
            big = {"blob": "x" * 50_000}
            await a.push(topic, "broadcast", {"type": "broadcast", "event": "big", "payload": big})
            await b.until(lambda: any(m["payload"] == big for m in b.got("broadcast")), "B gets the large one")
            await asyncio.sleep(0.2)
            assert [m["payload"] for m in a.got("broadcast")] == [{"from": "b"}]
            assert [m["payload"] for m in b.got("broadcast")] == [{"from": "a"}, big]

            # B untracks, then A leaves: each is a leave on the other worker
            await b.push(topic, "presence", {"type": "presence", "event": "untrack"})
            await a.until(lambda: any("desk-b" in d["leaves"] for d in a.got("presence_diff")), "A sees B leave")
            await a.ws.close()
            await b.until(lambda: any("desk-a" in d["leaves"] for d in b.got("presence_diff")), "B sees A go")

            # a socket of a stranger, on either worker, is still refused (membership is checked per join)
            stranger = signup(server)
            await b.push(topic, "phx_join", {"config": {}, "access_token": stranger.token})
            await b.until(lambda: any(f["event"] == "phx_reply" and f["payload"]["status"] == "error"
                                      for f in b.frames), "the stranger is refused")
        finally:
            for sock in (a, b):
                await sock.ws.close()

    asyncio.run(scenario())
    # what the processes share (presence metas carry users' emails) is out of every API role's reach
    with psycopg.connect(server.db_url) as db:
        for role in ("anon", "authenticated"):
            usable = db.execute("select has_schema_privilege(%s, 'dstudio_realtime', 'usage')", (role,)).fetchone()
            assert usable == (False,), role
    with server_api(server) as service:
        assert service.get("presences").status_code == 404  # not in the exposed schema


def test_a_killed_worker_s_presences_leave_and_another_worker_starts(workers_server):
    server = workers_server
    owner, editor, project = _team(server)
    topic = f"realtime:project:{project}"
    session_id = str(uuid.uuid4())
    owner.ok(owner.insert("design_studio_sessions", {"id": session_id, "project_id": project}))
    killed: list[int] = []

    async def scenario() -> None:
        a, b = await _sockets_on_two_workers(server)
        victim = _worker_of(server, a.ws)
        killed.append(victim)
        try:
            await _join(a, topic, owner, "desk-a")
            await a.push(topic, "presence", {"type": "presence", "event": "track",
                                             "payload": {"session_id": session_id}})
            await _join(b, topic, editor, "desk-b")
            await b.until(lambda: "desk-a" in b.got("presence_state")[0]
                          or any("desk-a" in d["joins"] for d in b.got("presence_diff")), "B sees A")

            psutil.Process(victim).send_signal(signal.SIGKILL)
            # the realtime timeout is 2 s: the others' sweep finds the dead worker within it
            took = await b.until(lambda: any("desk-a" in d["leaves"] for d in b.got("presence_diff")),
                                 "B sees the killed worker's presence leave", timeout=2.0)
            print(f"kill -9 of a worker: its presence left after {took:.2f} s")
            assert b.ws.state is websockets.protocol.State.OPEN  # B's worker is untouched
        finally:
            for sock in (a, b):
                await sock.ws.close()

    asyncio.run(scenario())
    row = owner.ok(owner.get("design_studio_sessions", id=f"eq.{session_id}"))[0]
    assert row["is_active"] is False  # the session of the killed worker's socket ended

    # the supervisor puts another worker in its place, and both serve
    deadline = time.monotonic() + 30
    while not (len(_workers(server)) == 2 and killed[0] not in [p.pid for p in _workers(server)]):
        assert time.monotonic() < deadline, "no worker replaced the killed one"
        time.sleep(0.1)
    for _ in range(20):
        assert owner.get("design_studio_projects", id=f"eq.{project}").status_code == 200

"""The local server's Realtime websocket, driven by the official Python client (supabase-py's
``realtime`` package): presence, broadcast, and channel access by organisation membership."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates

from .conftest import set_tier, signup


def _project(api, org: str) -> str:
    row = api.ok(api.insert("design_studio_projects", {"org_id": org, "name": f"rt-{uuid.uuid4().hex[:6]}"}))
    return row[0]["id"]


async def _client(server, user) -> AsyncRealtimeClient:
    client = AsyncRealtimeClient(f"{server.url}/realtime/v1", token=server.anon_key, auto_reconnect=False)
    await client.connect()
    await client.set_auth(user.token)  # a user's access token, as supabase-py sends it once signed in
    return client


async def _wait(condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_official_client_tracks_presence_and_receives_state_and_diff(server):
    owner, editor, stranger = signup(server), signup(server), signup(server)
    org = owner.personal_org()
    set_tier(server, org, "pro")
    owner.ok(owner.insert("org_members", {"org_id": org, "user_id": editor.id, "role": "editor"}))
    project = _project(owner, org)

    async def scenario() -> None:
        a, b, c = await _client(server, owner), await _client(server, editor), await _client(server, stranger)
        try:
            joined_a, diffs_a, states = [], [], []
            chan_a = a.channel(f"project:{project}", {"config": {"presence": {"key": "desk-a", "enabled": True}}})
            chan_a.on_presence_join(lambda key, current, new: joined_a.append((key, new)))
            chan_a.on_presence_leave(lambda key, current, left: diffs_a.append(("leave", key)))
            chan_a.on_presence_sync(lambda: states.append(dict(chan_a.presence_state())))
            statuses: list = []
            await chan_a.subscribe(lambda status, err: statuses.append((status, err)) if err else statuses.append(status))
            assert statuses == [RealtimeSubscribeStates.SUBSCRIBED]
            await _wait(lambda: states)  # presence_state came, empty
            assert states[0] == {}
            await chan_a.track({"name": "Ann", "selection": ["n1"]})
            await _wait(lambda: "desk-a" in chan_a.presence_state())
            meta = chan_a.presence_state()["desk-a"][0]
            assert meta["name"] == "Ann" and meta["selection"] == ["n1"]
            assert meta["user_id"] == owner.id  # stamped by the server from the token

            # B joins: its presence_state holds A; A gets B's join as a presence_diff
            chan_b = b.channel(f"project:{project}", {"config": {"presence": {"key": "desk-b", "enabled": True}}})
            got_b: list = []
            chan_b.on_presence_sync(lambda: got_b.append(sorted(chan_b.presence_state())))
            chan_b.on_broadcast("notes", lambda message: got_b.append(("broadcast", message["payload"])))
            await chan_b.subscribe()
            await _wait(lambda: ["desk-a"] in got_b)
            await chan_b.track({"name": "Ben"})
            await _wait(lambda: any(key == "desk-b" for key, _ in joined_a))
            assert sorted(chan_a.presence_state()) == ["desk-a", "desk-b"]

            # a second track replaces the first (one presence per key, never two)
            await chan_a.track({"name": "Ann", "selection": ["n2"]})
            await _wait(lambda: chan_b.presence_state().get("desk-a", [{}])[0].get("selection") == ["n2"])
            assert len(chan_b.presence_state()["desk-a"]) == 1

            # broadcast reaches the others, not the sender
            await chan_a.send_broadcast("notes", {"project": project})
            await _wait(lambda: ("broadcast", {"project": project}) in got_b)

            # leaving is a diff to the others
            await chan_b.untrack()
            await _wait(lambda: ("leave", "desk-b") in diffs_a)
            assert sorted(chan_a.presence_state()) == ["desk-a"]

            # someone of another organisation is refused
            chan_c = c.channel(f"project:{project}")
            refused: list = []
            await chan_c.subscribe(lambda status, err: refused.append((status, str(err))))
            assert refused and refused[0][0] == RealtimeSubscribeStates.CHANNEL_ERROR
            assert "not a member" in refused[0][1]
            chan_o = c.channel(f"org:{org}")
            refused.clear()
            await chan_o.subscribe(lambda status, err: refused.append((status, str(err))))
            assert refused[0][0] == RealtimeSubscribeStates.CHANNEL_ERROR
        finally:
            for client in (a, b, c):
                await client.close()

    asyncio.run(scenario())


def test_the_socket_needs_a_key_answers_heartbeats_and_pushes_carry_ref_null(server):
    owner = signup(server)
    project = _project(owner, owner.personal_org())
    base = server.url.replace("http://", "ws://") + "/realtime/v1/websocket"

    async def scenario() -> None:
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(f"{base}?vsn=1.0.0"):
                pass
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(f"{base}?apikey=not-a-jwt&vsn=1.0.0"):
                pass
        async with websockets.connect(f"{base}?apikey={server.anon_key}&vsn=1.0.0") as ws:
            await ws.send(json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "7"}))
            reply = json.loads(await ws.recv())
            assert reply == {"topic": "phoenix", "event": "phx_reply", "payload": {"status": "ok", "response": {}},
                             "ref": "7", "join_ref": None}
            # the anon key alone joins nothing
            await ws.send(json.dumps({"topic": f"realtime:project:{project}", "event": "phx_join",
                                      "payload": {"config": {}}, "ref": "1", "join_ref": "1"}))
            assert json.loads(await ws.recv())["payload"]["status"] == "error"
            await ws.send(json.dumps({"topic": f"realtime:project:{project}", "event": "phx_join",
                                      "payload": {"config": {}, "access_token": owner.token},
                                      "ref": "2", "join_ref": "2"}))
            ok, state = json.loads(await ws.recv()), json.loads(await ws.recv())
            assert ok["payload"]["status"] == "ok" and ok["ref"] == "2"
            assert state["event"] == "presence_state" and state["ref"] is None

    asyncio.run(scenario())

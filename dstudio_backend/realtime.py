"""Supabase Realtime's websocket (``/realtime/v1/websocket``): Phoenix channels with the v1 JSON
serializer, carrying presence and broadcast, so the official clients (supabase-js,
supabase-py) and the desktop talk to the local server as they would to a hosted project.

The wire, as Realtime speaks it:

- every frame is ``{"topic", "event", "payload", "ref", "join_ref"}``; the server's own pushes
  (``presence_state``, ``presence_diff``, ``broadcast``, ``phx_close``) carry ``ref: null``,
  which the clients require; replies (``phx_reply``) carry the ref they answer;
- ``phoenix``/``heartbeat`` is answered ``ok``; a socket silent for ``timeout`` seconds (no
  heartbeat, no message: a client that hangs or lost its network) is closed and leaves;
- ``phx_join`` of ``realtime:project:<id>`` or ``realtime:org:<id>`` is allowed for the members
  of that project's (or that) organisation only, by the access token of the join payload or
  else the socket's ``apikey``; the anon key joins nothing;
- ``presence`` ``track``/``untrack`` and ``broadcast`` (to the others; to the sender too with
  ``config.broadcast.self``).

A tracked presence carries the desktop's session row id as ``session_id``; when that presence
goes (untrack, leave, a closed or timed-out socket, the death of the server process holding the
socket) the row is marked inactive, and a sweep marks inactive every row whose heartbeats
stopped (a client that died with its socket open).

Presence and broadcast reach the sockets of every server process on the database, not only
this one's (realtime_bus.py: a table and NOTIFY); a channel's state is this process's presences
and its mirror of the others'."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .errors import ApiError
from .realtime_bus import Bus
from .tokens import TokenError

log = logging.getLogger("dstudio_backend")

MAX_FRAME = 256 * 1024       # a presence meta or broadcast larger than this is refused
MAX_TOPICS = 32              # channels one socket may join


@dataclass
class Joined:
    """One socket's membership of one channel."""

    join_ref: str | None
    key: str                       # presence key: config.presence.key, else one made here
    broadcast_self: bool = False
    role: str = ""                 # the member's role in the channel's organisation, found at join
    meta: dict[str, Any] | None = None  # the tracked presence, with its phx_ref
    id: str = field(default_factory=lambda: str(uuid.uuid4()))  # this presence on the bus


@dataclass(eq=False)  # compared and hashed by identity: a set of open sockets
class Connection:
    websocket: WebSocket
    claims: dict[str, Any]
    joined: dict[str, Joined] = field(default_factory=dict)
    last_seen: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, topic: str, event: str, payload: Any, ref: str | None = None,
                   join_ref: str | None = None) -> None:
        frame = json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref})
        async with self.lock:  # one frame at a time on the wire
            try:
                await self.websocket.send_text(frame)
            except (RuntimeError, OSError, WebSocketDisconnect):
                pass  # gone: its reader ends it


class Hub:
    """Every open socket and the channels they joined, on one server process, and the
    presences of the other processes' sockets (kept up to date by the bus)."""

    def __init__(self, backend, timeout: float = 60.0, session_timeout: float = 60.0) -> None:
        self.backend = backend
        self.timeout = timeout                  # a silent socket is closed after this
        self.session_timeout = session_timeout  # a session row without a heartbeat this long is inactive
        self.topics: dict[str, set[Connection]] = {}
        self.connections: set[Connection] = set()
        # topic -> (node, presence id) -> (key, meta): the other processes' presences
        self.others: dict[str, dict[tuple[str, str], tuple[str, dict[str, Any]]]] = {}
        self.bus = Bus(backend.db, str(uuid.uuid4()), self)
        self._sweeper: asyncio.Task | None = None

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        await self.bus.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except (asyncio.CancelledError, Exception):
                pass
        await self.bus.stop()

    async def _sweep_forever(self) -> None:
        period = max(0.2, min(self.timeout, self.session_timeout) / 4)
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for conn in list(self.connections):
                if now - conn.last_seen > self.timeout:
                    log.info("realtime: closing a socket silent for %.0f s", now - conn.last_seen)
                    await self.drop(conn)
                    try:
                        await conn.websocket.close(code=1000)
                    except (RuntimeError, OSError):
                        pass
            try:
                # presences of a server process that died (kill -9 of a worker) leave, and
                # their desktop sessions end, as a closed socket's would
                for _, _, _, meta in await self.bus.reap():
                    await self._end_session(str(meta.get("user_id")), meta)
                async with self.backend.db.as_owner() as db:
                    await db.execute(
                        "update public.design_studio_sessions set is_active = false, updated_at = now() "
                        "where is_active and last_heartbeat_at < now() - make_interval(secs => %s)",
                        (self.session_timeout,))
            except Exception as exc:  # the database may be down for a while: the next sweep tries again
                log.debug("realtime: session sweep failed: %s", exc)

    # -- membership ----------------------------------------------------------------

    async def _authorise(self, claims: dict[str, Any], topic: str) -> str | None:
        """The caller's role in the organisation the topic names, or None for a non-member."""
        if claims.get("role") == "service_role":
            return "service"
        if claims.get("role") != "authenticated":
            return None
        kind, _, ident = topic.removeprefix("realtime:").partition(":")
        try:
            ident = str(uuid.UUID(ident))
        except ValueError:
            return None
        if kind == "project":
            # the project row is visible to its organisation's members only (RLS)
            sql = "select private.member_role(p.org_id) from public.design_studio_projects p where p.id = %s::uuid"
        elif kind == "org":
            sql = "select private.member_role(%s::uuid)"
        else:
            return None
        async with self.backend.db.as_request(claims) as db:
            row = await (await db.execute(sql, (ident,))).fetchone()
        return row[0] if row else None

    def _state(self, topic: str) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for conn in self.topics.get(topic, ()):
            joined = conn.joined.get(topic)
            if joined is not None and joined.meta is not None:
                state.setdefault(joined.key, {"metas": []})["metas"].append(joined.meta)
        for key, meta in self.others.get(topic, {}).values():
            state.setdefault(key, {"metas": []})["metas"].append(meta)
        return state

    # -- the other processes (realtime_bus.Mirror) ---------------------------------

    def local_presences(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        return [(topic, joined.id, joined.key, joined.meta) for conn in self.connections
                for topic, joined in conn.joined.items() if joined.meta is not None]

    async def _diff(self, topic: str, joins: list[tuple[str, dict]], leaves: list[tuple[str, dict]]) -> None:
        if not (joins or leaves) or topic not in self.topics:
            return
        payload: dict[str, dict] = {"joins": {}, "leaves": {}}
        for side, entries in (("joins", joins), ("leaves", leaves)):
            for key, meta in entries:
                payload[side].setdefault(key, {"metas": []})["metas"].append(meta)
        await self._to_all(topic, "presence_diff", payload)

    async def remote(self, event: dict[str, Any]) -> None:
        """Another process's track, untrack or broadcast, or processes that went."""
        kind, topic = event.get("k"), event.get("t")
        if kind == "track":
            entry, new = (event["n"], event["p"]), (event["key"], event["meta"])
            old = self.others.setdefault(topic, {}).get(entry)
            if old is not None and old[1].get("phx_ref") == new[1].get("phx_ref"):
                return  # seen already (in the table read at a reconnect)
            self.others[topic][entry] = new
            await self._diff(topic, [new], [old] if old else [])
        elif kind == "untrack":
            old = self.others.get(topic, {}).pop((event["n"], event["p"]), None)
            if old is not None:
                await self._diff(topic, [], [old])
        elif kind == "broadcast":
            await self._to_all(topic, "broadcast", event["m"])
        elif kind == "gone":
            nodes = set(event["nodes"])
            for topic, entries in list(self.others.items()):
                left = [entries.pop(entry) for entry in list(entries) if entry[0] in nodes]
                await self._diff(topic, [], left)

    async def resync(self, rows: list[tuple[str, str, str, str, dict[str, Any]]]) -> None:
        """The other processes' presences as the table holds them (at start, or after the
        database was away): the mirror becomes that, and this process's sockets get the difference."""
        fresh: dict[str, dict[tuple[str, str], tuple[str, dict[str, Any]]]] = {}
        for node, pid, topic, key, meta in rows:
            fresh.setdefault(topic, {})[(node, pid)] = (key, meta)
        old_all, self.others = self.others, fresh
        for topic in set(old_all) | set(fresh):
            old, new = old_all.get(topic, {}), fresh.get(topic, {})
            same = {e for e in old.keys() & new.keys() if old[e][1].get("phx_ref") == new[e][1].get("phx_ref")}
            await self._diff(topic, [new[e] for e in new.keys() - same], [old[e] for e in old.keys() - same])

    async def _to_all(self, topic: str, event: str, payload: Any, but: Connection | None = None) -> None:
        for conn in list(self.topics.get(topic, ())):
            if conn is not but:
                await conn.send(topic, event, payload, None, conn.joined[topic].join_ref if topic in conn.joined else None)

    async def join(self, conn: Connection, topic: str, payload: dict[str, Any], ref: str | None,
                   join_ref: str | None) -> None:
        token = payload.get("access_token")
        if token:
            try:
                conn.claims = self.backend.tokens.verify(token)
            except TokenError as exc:
                await conn.send(topic, "phx_reply", {"status": "error", "response": {"reason": exc.message}}, ref, join_ref)
                return
        if topic not in conn.joined and len(conn.joined) >= MAX_TOPICS:
            await conn.send(topic, "phx_reply", {"status": "error", "response": {
                "reason": f"a socket joins at most {MAX_TOPICS} channels"}}, ref, join_ref)
            return
        try:
            role = await self._authorise(conn.claims, topic)
        except ApiError as exc:
            role = None
            log.debug("realtime: join refused: %s", exc.message)
        if role is None:
            await conn.send(topic, "phx_reply", {"status": "error", "response": {
                "reason": "Unauthorized: you are not a member of the organisation this channel belongs to"}},
                ref, join_ref)
            return
        config = payload.get("config") if isinstance(payload.get("config"), dict) else {}
        presence = config.get("presence") if isinstance(config.get("presence"), dict) else {}
        broadcast = config.get("broadcast") if isinstance(config.get("broadcast"), dict) else {}
        if topic in conn.joined:  # a rejoin replaces the old membership
            await self.leave(conn, topic)
        conn.joined[topic] = Joined(join_ref, str(presence.get("key") or uuid.uuid4()), bool(broadcast.get("self")), role)
        await conn.send(topic, "phx_reply", {"status": "ok", "response": {"postgres_changes": []}}, ref, join_ref)
        # the state is taken as the socket starts getting the channel's diffs (no await between),
        # so every diff it gets comes after the state and none is missed
        self.topics.setdefault(topic, set()).add(conn)
        await conn.send(topic, "presence_state", self._state(topic), None, join_ref)

    async def track(self, conn: Connection, topic: str, meta: dict[str, Any]) -> None:
        joined = conn.joined[topic]
        old = joined.meta
        # who it is comes from the token, whatever the client wrote
        new = {**meta, "user_id": conn.claims.get("sub"), "email": conn.claims.get("email"),
               "role": joined.role, "phx_ref": secrets.token_urlsafe(8)}
        if old is not None:
            new["phx_ref_prev"] = old["phx_ref"]
        joined.meta = new
        self.bus.publish({"k": "track", "t": topic, "p": joined.id, "key": joined.key, "meta": new, "old": old})
        leaves = {joined.key: {"metas": [old]}} if old is not None else {}
        await self._to_all(topic, "presence_diff", {"joins": {joined.key: {"metas": [new]}}, "leaves": leaves})

    async def untrack(self, conn: Connection, topic: str) -> None:
        joined = conn.joined.get(topic)
        if joined is None or joined.meta is None:
            return
        old, joined.meta = joined.meta, None
        self.bus.publish({"k": "untrack", "t": topic, "p": joined.id, "key": joined.key, "old": old})
        await self._to_all(topic, "presence_diff", {"joins": {}, "leaves": {joined.key: {"metas": [old]}}})
        await self._end_session(str(conn.claims.get("sub")), old)

    async def leave(self, conn: Connection, topic: str) -> None:
        await self.untrack(conn, topic)
        conn.joined.pop(topic, None)
        members = self.topics.get(topic)
        if members is not None:
            members.discard(conn)
            if not members:
                del self.topics[topic]

    async def drop(self, conn: Connection) -> None:
        for topic in list(conn.joined):
            await self.leave(conn, topic)

    async def broadcast(self, conn: Connection, topic: str, message: dict[str, Any]) -> None:
        """To the channel's sockets here (the sender too with ``broadcast.self``) and in the other processes."""
        self.bus.publish({"k": "broadcast", "t": topic, "m": message})
        await self._to_all(topic, "broadcast", message, but=None if conn.joined[topic].broadcast_self else conn)

    async def _end_session(self, user_id: str, meta: dict[str, Any]) -> None:
        """The presence of a desktop session went: its row says so (its own user's row only)."""
        try:
            session_id = str(uuid.UUID(str(meta.get("session_id"))))
        except ValueError:
            return
        try:
            async with self.backend.db.as_owner() as db:
                await db.execute("update public.design_studio_sessions set is_active = false, updated_at = now() "
                                 "where id = %s and user_id::text = %s", (session_id, user_id))
        except Exception as exc:
            log.debug("realtime: could not end session %s: %s", session_id, exc)


def _claims_from(websocket: WebSocket, backend) -> dict[str, Any] | None:
    token = websocket.query_params.get("apikey") or websocket.headers.get("apikey")
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    if not token:
        return None
    try:
        return backend.tokens.verify(token)
    except TokenError:
        return None


async def websocket_endpoint(websocket: WebSocket) -> None:
    backend = websocket.app.state.backend
    hub: Hub = backend.realtime
    claims = _claims_from(websocket, backend)
    if claims is None:
        # as Realtime: no valid apikey, no socket (the upgrade is refused with 403)
        await websocket.close(code=1008)
        return
    await websocket.accept()
    conn = Connection(websocket, claims)
    hub.connections.add(conn)
    try:
        while True:
            text = await websocket.receive_text()
            conn.last_seen = time.monotonic()
            if len(text) > MAX_FRAME:
                await conn.send("phoenix", "phx_error", {"reason": f"a frame is at most {MAX_FRAME} bytes"})
                continue
            try:
                frame = json.loads(text)
                topic, event = str(frame["topic"]), str(frame["event"])
                payload = frame.get("payload") if isinstance(frame.get("payload"), dict) else {}
                ref, join_ref = frame.get("ref"), frame.get("join_ref")
            except (ValueError, KeyError, TypeError):
                continue  # not a Phoenix frame: nothing to answer
            await _handle(hub, conn, topic, event, payload, ref, join_ref)
    except WebSocketDisconnect:
        pass
    finally:
        hub.connections.discard(conn)
        await hub.drop(conn)


async def _handle(hub: Hub, conn: Connection, topic: str, event: str, payload: dict, ref, join_ref) -> None:
    ok = {"status": "ok", "response": {}}
    if topic == "phoenix" and event == "heartbeat":
        await conn.send("phoenix", "phx_reply", ok, ref)
        return
    if event == "phx_join":
        await hub.join(conn, topic, payload, ref, join_ref)
        return
    if topic not in conn.joined:
        await conn.send(topic, "phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}},
                        ref, join_ref)
        return
    if event == "phx_leave":
        await hub.leave(conn, topic)
        await conn.send(topic, "phx_reply", ok, ref, join_ref)
        await conn.send(topic, "phx_close", {}, None, join_ref)
    elif event == "presence":
        kind = payload.get("event")
        if kind == "track" and isinstance(payload.get("payload"), dict):
            await hub.track(conn, topic, payload["payload"])
        elif kind == "untrack":
            await hub.untrack(conn, topic)
        await conn.send(topic, "phx_reply", ok, ref, join_ref)
    elif event == "broadcast":
        message = {"type": "broadcast", "event": str(payload.get("event") or ""),
                   "payload": payload.get("payload") if isinstance(payload.get("payload"), dict) else {}}
        await hub.broadcast(conn, topic, message)
        if ref is not None:
            await conn.send(topic, "phx_reply", ok, ref, join_ref)
    elif event == "access_token":
        try:
            conn.claims = hub.backend.tokens.verify(str(payload.get("access_token") or ""))
        except TokenError:
            await hub.leave(conn, topic)
            await conn.send(topic, "phx_close", {}, None, join_ref)
    elif ref is not None:
        await conn.send(topic, "phx_reply", ok, ref, join_ref)


def routes() -> list[WebSocketRoute]:
    return [WebSocketRoute("/realtime/v1/websocket", websocket_endpoint)]

"""Who else is in the project, live: a Supabase Realtime channel per open project (Phoenix
channels over a websocket, the v1 JSON serializer, so the same code talks to a hosted Supabase
project and to the local server), and this desktop's ``design_studio_sessions`` row.

Everything network runs on one thread of its own with an asyncio loop: the caller (the GUI
thread) only hands states over (``track``) and reads ``peers``; nothing here ever blocks it,
and offline there are simply no peers. Messages out are throttled to ``MAX_RATE`` a second
(the latest state always goes out last); a lost socket is rejoined with back-off; heartbeats
keep the socket (Phoenix's) and the session row (``last_heartbeat_at``) alive, and a socket
whose heartbeat is not answered is taken as lost.

Events (psygnal, emitted on the presence thread: a UI marshals them to its own thread):
``peers_changed()``, ``broadcast(event, payload)``, ``connection(state)`` with state
``connected`` / ``offline`` / ``refused``."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from psygnal import Signal

if TYPE_CHECKING:  # imported where it is used: the window opens without it
    import httpx

log = logging.getLogger(__name__)

MAX_RATE = 10.0              # presence messages a second at most
BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0)  # seconds between reconnects; the last repeats
# distinct, readable on the dark viewport and on a light list, and none near the orange of your
# own selection outline; a person's colour is picked by their user id, so every desktop shows the
# same person in the same colour
PALETTE = ("#4fc3f7", "#ba68c8", "#81c784", "#f06292", "#ffee58", "#4db6ac", "#7986cb", "#d4e157")


def colour_for(user_id: str) -> str:
    return PALETTE[int(hashlib.sha256(user_id.encode()).hexdigest(), 16) % len(PALETTE)]


@dataclass(frozen=True)
class Peer:
    """Someone else's desktop in the project, as their latest presence says."""

    key: str                 # their session row id
    user_id: str
    name: str
    email: str
    role: str
    colour: str
    selection: tuple[str, ...] = ()
    camera: Optional[dict[str, Any]] = None   # a CameraView as JSON
    joined_at: float = 0.0

    @classmethod
    def from_meta(cls, key: str, meta: dict[str, Any]) -> Peer:
        user_id = str(meta.get("user_id") or "")
        email = str(meta.get("email") or "")
        selection = meta.get("selection") if isinstance(meta.get("selection"), list) else []
        camera = meta.get("camera") if isinstance(meta.get("camera"), dict) else None
        return cls(key=key, user_id=user_id, name=str(meta.get("name") or email.split("@")[0] or "someone"),
                   email=email, role=str(meta.get("role") or "viewer"), colour=colour_for(user_id),
                   selection=tuple(str(s) for s in selection), camera=camera,
                   joined_at=float(meta.get("joined_at") or 0.0))


@dataclass
class _State:
    selection: list[str] = field(default_factory=list)
    camera: Optional[dict[str, Any]] = None


class PresenceClient:
    """This desktop in one project's channel. ``start()`` it, ``track()`` what you select and
    where you look, read ``peers``; ``close()`` leaves (the others see it at once)."""

    peers_changed = Signal()
    broadcast = Signal(str, object)
    connection = Signal(str)

    def __init__(self, url: str, anon_key: str, access_token: str, project_id: str, user_id: str,
                 email: str = "", name: str = "", heartbeat_s: float = 15.0,
                 transport: Optional[httpx.AsyncBaseTransport] = None) -> None:
        self.url = url.rstrip("/")
        self.anon_key = anon_key
        self.access_token = access_token
        self.project_id = project_id
        self.user_id = user_id
        self.email = email
        self.name = name or email.split("@")[0]
        self.heartbeat_s = heartbeat_s
        self.session_id = str(uuid.uuid4())   # this desktop session: its row id and presence key
        self.role = ""
        self.topic = f"realtime:project:{project_id}"
        self.state_text = "offline"
        self._transport = transport
        self._state = _State()
        self._metas: dict[str, dict[str, dict[str, Any]]] = {}   # key -> phx_ref -> meta
        self._peers: tuple[Peer, ...] = ()
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._closing = False
        self._dirty: Optional[asyncio.Event] = None
        self._ws = None
        self._ref = 0
        self._join_ref: Optional[str] = None
        self._joined = False
        self._pending: dict[str, asyncio.Future] = {}
        self._outbox: list[tuple[str, dict[str, Any]]] = []   # broadcasts made while not joined
        self._row_made = False
        self._joined_at = time.time()

    # -- the caller's side (any thread) ----------------------------------------------------

    @property
    def peers(self) -> tuple[Peer, ...]:
        """The others in the project now (never this desktop), in the order they joined."""
        with self._lock:
            return self._peers

    @property
    def connected(self) -> bool:
        return self.state_text == "connected"

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name=f"presence {self.project_id[:8]}",
                                        daemon=True)
        self._thread.start()
        ready.wait(5)  # the loop exists before start() returns: a track or broadcast right after is kept

    def track(self, selection: Optional[list[str]] = None, camera: Optional[dict[str, Any]] = None) -> None:
        """What this desktop has selected and where it looks now; sent within 1/MAX_RATE s."""
        if selection is not None:
            self._state.selection = list(selection)
        if camera is not None:
            self._state.camera = camera
        self._call(self._mark_dirty)

    def send_broadcast(self, event: str, payload: dict[str, Any]) -> None:
        """Tell the others something (e.g. to pull now); kept until joined if not joined yet."""
        self._call(self._queue_broadcast, event, payload)

    def set_token(self, access_token: str) -> None:
        self.access_token = access_token
        self._call(self._push_token)

    def close(self, timeout: float = 3.0) -> None:
        """Leave the channel, mark the session row inactive (when the server can be reached) and
        stop, waiting at most ``timeout`` seconds for that (0: not at all, it finishes on its own
        thread). Left unfinished, the server still sees the socket close or time out."""
        if self._loop is None or self._thread is None or self._closing:
            return  # never started, or closed already
        self._closing = True
        loop = self._loop
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        # the thread ends when its loop stops, once the leaving is done (or failed)
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(loop.stop) if not loop.is_closed() else None)
        if timeout <= 0:
            return
        try:
            future.result(timeout)
        except Exception as exc:  # offline or slow: the server's heartbeat timeout ends the session instead
            log.debug("presence: leaving took too long: %s", exc)
        self._thread.join(timeout)

    def _call(self, fn, *args) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:
                pass  # the loop stopped meanwhile: closing

    # -- the presence thread -------------------------------------------------------------

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._dirty = asyncio.Event()
        self._dirty.set()
        self._main = loop.create_task(self._keep_connected())
        self._loop = loop
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    def _mark_dirty(self) -> None:
        if self._dirty is not None:
            self._dirty.set()

    def _queue_broadcast(self, event: str, payload: dict[str, Any]) -> None:
        if self._joined:
            self._loop.create_task(self._push("broadcast", {"type": "broadcast", "event": event, "payload": payload}))
        else:
            self._outbox.append((event, payload))

    def _push_token(self) -> None:
        if self._joined:
            self._loop.create_task(self._push("access_token", {"access_token": self.access_token}, wait=False))

    def _set_connection(self, state: str) -> None:
        if state != self.state_text:
            self.state_text = state
            self.connection.emit(state)

    def _ws_url(self) -> str:
        base = self.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return f"{base}/realtime/v1/websocket?apikey={self.anon_key or self.access_token}&vsn=1.0.0"

    async def _keep_connected(self) -> None:
        from websockets.asyncio.client import connect

        attempt = 0
        while not self._closing:
            try:
                async with connect(self._ws_url(), open_timeout=5, close_timeout=1, ping_interval=None) as ws:
                    self._ws = ws
                    attempt = 0
                    await self._session(ws)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, reset, DNS, timeouts: all mean "not now"
                log.debug("presence: %s: %s", type(exc).__name__, exc)
            self._ws, self._joined = None, False
            for future in self._pending.values():
                if not future.done():
                    future.cancel()
            self._pending.clear()
            if self._metas:
                self._metas.clear()
                self._publish()
            if self._closing:
                break
            if self.state_text != "refused":
                self._set_connection("offline")
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))  # jitter: not every desktop at once

    async def _session(self, ws) -> None:
        reader = asyncio.create_task(self._read(ws))
        try:
            if not await self._join():
                self._set_connection("refused")
                await asyncio.sleep(max(self.heartbeat_s, 5))  # not a member (yet): ask again later
                return
            self._set_connection("connected")
            await self._save_row(insert=not self._row_made)
            await self._flush_outbox()
            self._dirty.set()  # a fresh channel knows nothing of us: our state goes out again
            sender = asyncio.create_task(self._send_states())
            beats = asyncio.create_task(self._heartbeats())
            try:
                done, _ = await asyncio.wait({reader, sender, beats}, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            finally:
                for task in (sender, beats):
                    task.cancel()
        finally:
            reader.cancel()

    def _next_ref(self) -> str:
        self._ref += 1
        return str(self._ref)

    async def _send(self, topic: str, event: str, payload: dict[str, Any], ref: Optional[str],
                    join_ref: Optional[str]) -> None:
        ws = self._ws
        if ws is None:
            raise ConnectionError("not connected")
        await ws.send(json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref,
                                  "join_ref": join_ref}))

    async def _push(self, event: str, payload: dict[str, Any], wait: bool = True,
                    topic: Optional[str] = None, timeout: float = 10.0) -> dict[str, Any]:
        ref = self._next_ref()
        future = self._loop.create_future()
        self._pending[ref] = future
        topic = topic or self.topic
        try:
            await self._send(topic, event, payload, ref, self._join_ref if topic == self.topic else None)
            if not wait:
                return {}
            return await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(ref, None)

    async def _join(self) -> bool:
        self._join_ref = self._next_ref()
        config = {"config": {"broadcast": {"self": False, "ack": False},
                             "presence": {"key": self.session_id, "enabled": True}, "private": False},
                  "access_token": self.access_token}
        future = self._loop.create_future()
        self._pending[self._join_ref] = future
        await self._send(self.topic, "phx_join", config, self._join_ref, self._join_ref)
        reply = await asyncio.wait_for(future, 10)
        self._joined = reply.get("status") == "ok"
        if not self._joined:
            log.info("presence: the server refused %s: %s", self.topic, reply.get("response"))
        return self._joined

    async def _read(self, ws) -> None:
        async for text in ws:
            try:
                frame = json.loads(text)
                event, payload, ref = frame["event"], frame.get("payload") or {}, frame.get("ref")
            except (ValueError, KeyError, TypeError):
                continue
            if event == "phx_reply":
                future = self._pending.get(str(ref)) if ref is not None else None
                if future is not None and not future.done():
                    future.set_result(payload)
            elif frame.get("topic") != self.topic:
                continue
            elif event == "presence_state":
                self._metas = {key: {m.get("phx_ref", ""): m for m in entry.get("metas", [])}
                               for key, entry in payload.items() if isinstance(entry, dict)}
                self._publish()
            elif event == "presence_diff":
                for key, entry in (payload.get("joins") or {}).items():
                    for meta in entry.get("metas", []):
                        self._metas.setdefault(key, {})[meta.get("phx_ref", "")] = meta
                for key, entry in (payload.get("leaves") or {}).items():
                    for meta in entry.get("metas", []):
                        self._metas.get(key, {}).pop(meta.get("phx_ref", ""), None)
                    if not self._metas.get(key):
                        self._metas.pop(key, None)
                self._publish()
            elif event == "broadcast":
                self.broadcast.emit(str(payload.get("event") or ""), payload.get("payload") or {})
            elif event in ("phx_close", "phx_error"):
                return  # the server ended the channel: rejoin from the top

    def _publish(self) -> None:
        peers = []
        for key, metas in self._metas.items():
            if key == self.session_id or not metas:
                continue
            peers.append(Peer.from_meta(key, list(metas.values())[-1]))
        peers.sort(key=lambda p: (p.joined_at, p.key))
        with self._lock:
            changed = tuple(peers) != self._peers
            self._peers = tuple(peers)
        if changed:
            self.peers_changed.emit()

    def _meta(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "name": self.name, "role": self.role,
                "selection": self._state.selection, "camera": self._state.camera, "joined_at": self._joined_at}

    async def _send_states(self) -> None:
        """The latest state, at most MAX_RATE times a second (the last one always goes)."""
        last = 0.0
        while True:
            await self._dirty.wait()
            wait = last + 1.0 / MAX_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._dirty.clear()
            last = time.monotonic()
            await self._push("presence", {"type": "presence", "event": "track", "payload": self._meta()}, wait=False)

    async def _heartbeats(self) -> None:
        """Phoenix's heartbeat on the socket, and the session row's on the server; a heartbeat
        with no answer means the socket is dead even if it looks open."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            await self._push("heartbeat", {}, topic="phoenix", timeout=max(self.heartbeat_s, 2.0))
            await self._save_row(insert=False)

    async def _flush_outbox(self) -> None:
        outbox, self._outbox = self._outbox, []
        for event, payload in outbox:
            await self._push("broadcast", {"type": "broadcast", "event": event, "payload": payload}, wait=False)

    # -- the session row ---------------------------------------------------------------

    async def _save_row(self, insert: bool, active: bool = True) -> None:
        """Made once when joining, then its heartbeat: the server stamps role, joined_at and
        last_heartbeat_at itself. A failure here costs nothing but the row's freshness."""
        headers = {"apikey": self.anon_key or self.access_token, "Authorization": f"Bearer {self.access_token}",
                   "Prefer": "return=representation"}
        values = {"cursor_state": {"camera": self._state.camera} if self._state.camera else {},
                  "selection_state": {"node_ids": self._state.selection}, "is_active": active}
        import httpx

        try:
            async with httpx.AsyncClient(base_url=self.url, timeout=5, transport=self._transport) as http:
                if insert:
                    response = await http.post("/rest/v1/design_studio_sessions", headers=headers,
                                               json={"id": self.session_id, "project_id": self.project_id, **values})
                else:
                    response = await http.patch("/rest/v1/design_studio_sessions", headers=headers, json=values,
                                                params={"id": f"eq.{self.session_id}"})
            if response.status_code < 300:
                rows = response.json()
                if rows:
                    self._row_made = True
                    if rows[0].get("role") and rows[0]["role"] != self.role:
                        self.role = rows[0]["role"]   # the server's word on it
                        self._mark_dirty()
            else:
                log.info("presence: the session row was refused (%s): %s", response.status_code, response.text[:200])
        except httpx.HTTPError as exc:
            log.debug("presence: the session row could not be saved: %s", exc)

    async def _shutdown(self) -> None:
        if self._joined:
            try:
                await self._push("phx_leave", {}, timeout=2)
            except Exception:
                pass
        if self._row_made:
            await self._save_row(insert=False, active=False)
        self._main.cancel()
        ws = self._ws
        if ws is not None:
            await ws.close()

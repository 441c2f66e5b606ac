"""Presence and broadcast shared by every server process on one database (``--workers N``,
or several servers given the same ``--dsn``), through PostgreSQL: a process (a *node*) writes
its presences to a table and tells the others by ``NOTIFY``; each node keeps a mirror of the
other nodes' presences, so a join's ``presence_state`` is answered from memory.

- ``dstudio_realtime.nodes``: one row per live node, naming the PostgreSQL backend of its
  LISTEN connection (pid and start time). A node that dies, even by ``kill -9``, loses that
  connection; the next sweep of any other node finds the backend gone, deletes the node's
  presences and tells everyone (``gone``), so its sockets' presences leave as a closed
  socket's do.
- ``dstudio_realtime.presences``: every tracked presence (its topic, key and meta), what a
  node that starts (or reconnects after a database restart) reads to fill its mirror.
- ``dstudio_realtime.messages``: an event too large for a NOTIFY payload (PostgreSQL refuses
  8000 bytes; a meta or broadcast may be 256 KiB) is stored here and the NOTIFY names its row.

The tables are unlogged (presence is not worth a WAL write and means nothing after a crash)
and live in a schema of their own that no API role can use; the server's own database user
creates them at start, as Supabase Realtime creates its own schema.

A node delivers its own events to its own sockets at once and publishes them for the others in
order (one publisher task); it ignores its own notifications."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

import psycopg

log = logging.getLogger("dstudio_backend")

CHANNEL = "dstudio_realtime"
NOTIFY_MAX = 7000   # bytes of a NOTIFY payload; PostgreSQL's limit is 8000

_SCHEMA = (
    "select pg_advisory_xact_lock(hashtext('dstudio_realtime'))",  # several nodes start at once
    "create schema if not exists dstudio_realtime",
    "revoke all on schema dstudio_realtime from public",
    "create unlogged table if not exists dstudio_realtime.nodes ("
    " id uuid primary key, pid int not null, backend_start timestamptz not null)",
    "create unlogged table if not exists dstudio_realtime.presences ("
    " node uuid not null, id uuid not null, topic text not null, key text not null, meta text not null,"
    " primary key (node, id))",
    "create unlogged table if not exists dstudio_realtime.messages ("
    " id bigserial primary key, body text not null, sent_at timestamptz not null default now())",
)
_REGISTER = (
    "insert into dstudio_realtime.nodes (id, pid, backend_start) "
    "select %s, pid, backend_start from pg_stat_activity where pid = pg_backend_pid() "
    "on conflict (id) do update set pid = excluded.pid, backend_start = excluded.backend_start")
# a node whose LISTEN backend is gone is dead (its process died or lost the database)
_REAP_NODES = (
    "delete from dstudio_realtime.nodes n where not exists (select 1 from pg_stat_activity a "
    "where a.pid = n.pid and a.backend_start = n.backend_start) returning id::text")
_REAP_PRESENCES = (
    "delete from dstudio_realtime.presences p where not exists "
    "(select 1 from dstudio_realtime.nodes n where n.id = p.node) returning node::text, topic, key, meta")


class Mirror(Protocol):
    """What the bus needs from the hub (realtime.Hub)."""

    def local_presences(self) -> list[tuple[str, str, str, dict[str, Any]]]: ...   # topic, id, key, meta
    async def remote(self, event: dict[str, Any]) -> None: ...                     # another node's event
    async def resync(self, rows: list[tuple[str, str, str, str, dict[str, Any]]]) -> None: ...


class Bus:
    def __init__(self, db, node: str, hub: Mirror):
        self.db = db                # the backend's Database: its pool for writes and reads
        self.node = node
        self.hub = hub
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()  # None: (re)connected
        self._tasks: list[asyncio.Task] = []
        self._listener: psycopg.AsyncConnection | None = None

    async def start(self) -> None:
        async with self.db.as_owner() as conn:
            for statement in _SCHEMA:
                await conn.execute(statement)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen_forever()), loop.create_task(self._process_forever()),
                       loop.create_task(self._publish_forever())]

    async def stop(self) -> None:
        """Leaves: this node's presences go from the table and the others drop them."""
        await self._flush()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        try:
            async with self.db.as_owner() as conn:
                await conn.execute("delete from dstudio_realtime.presences where node = %s", (self.node,))
                await conn.execute("delete from dstudio_realtime.nodes where id = %s", (self.node,))
                await conn.execute("select pg_notify(%s, %s)",
                                   (CHANNEL, json.dumps({"n": self.node, "k": "gone", "nodes": [self.node]})))
        except Exception as exc:
            log.debug("realtime: could not leave the bus: %s", exc)
        if self._listener is not None:
            await self._listener.close()

    async def _flush(self, timeout: float = 2.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._outbox.empty() and loop.time() < deadline and self._tasks and not self._tasks[2].done():
            await asyncio.sleep(0.01)

    def publish(self, event: dict[str, Any]) -> None:
        """Tells the other nodes (in the order published; never blocks the caller)."""
        self._outbox.put_nowait({**event, "n": self.node})

    # -- writing -------------------------------------------------------------------

    async def _publish_forever(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                async with self.db.as_owner() as conn:
                    for event in batch:
                        await self._write(conn, event)
            except Exception as exc:
                # the database is away: the others miss these; when the listener is back the
                # table is made to match this node's presences again (resync)
                log.debug("realtime: could not publish %d event(s): %s", len(batch), exc)

    async def _write(self, conn: psycopg.AsyncConnection, event: dict[str, Any]) -> None:
        kind = event["k"]
        if kind == "track":
            await conn.execute(
                "insert into dstudio_realtime.presences (node, id, topic, key, meta) values (%s, %s, %s, %s, %s) "
                "on conflict (node, id) do update set key = excluded.key, meta = excluded.meta",
                (self.node, event["p"], event["t"], event["key"], json.dumps(event["meta"])))
        elif kind == "untrack":
            await conn.execute("delete from dstudio_realtime.presences where node = %s and id = %s",
                               (self.node, event["p"]))
        payload = json.dumps(event)
        if len(payload.encode()) > NOTIFY_MAX:
            cur = await conn.execute("insert into dstudio_realtime.messages (body) values (%s) returning id",
                                     (payload,))
            payload = json.dumps({"n": self.node, "stored": (await cur.fetchone())[0]})
        await conn.execute("select pg_notify(%s, %s)", (CHANNEL, payload))

    # -- reading -------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.db.dsn, autocommit=True, connect_timeout=5)
            except psycopg.Error as exc:
                log.debug("realtime: the bus cannot connect: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._listener = conn
            try:
                await conn.execute(f"listen {CHANNEL}")
                await conn.execute(_REGISTER, (self.node,))
                delay = 0.2
                self._inbox.put_nowait(None)  # what happened before the LISTEN is read from the table
                async for notify in conn.notifies():
                    try:
                        event = json.loads(notify.payload)
                    except ValueError:
                        continue
                    if event.get("n") != self.node:
                        self._inbox.put_nowait(event)
            except psycopg.Error as exc:
                log.warning("realtime: lost the database connection that shares presence (%s); reconnecting",
                            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            finally:
                self._listener = None
                await conn.close()
            await asyncio.sleep(delay)

    async def _process_forever(self) -> None:
        while True:
            event = await self._inbox.get()
            try:
                if event is None:
                    await self._resync()
                    continue
                if "stored" in event:
                    async with self.db.as_owner() as conn:
                        row = await (await conn.execute("select body from dstudio_realtime.messages where id = %s",
                                                        (event["stored"],))).fetchone()
                    if row is None:
                        continue  # swept: older than a minute
                    event = json.loads(row[0])
                await self.hub.remote(event)
            except Exception as exc:
                log.warning("realtime: could not handle a shared event: %s", exc)

    async def _resync(self) -> None:
        """After (re)connecting: the others' presences from the table into the mirror, and the
        table made to hold exactly this node's own presences."""
        async with self.db.as_owner() as conn:
            cur = await conn.execute("select node::text, id::text, topic, key, meta from dstudio_realtime.presences")
            rows = [(node, pid, topic, key, json.loads(meta)) for node, pid, topic, key, meta in await cur.fetchall()]
        mine = {pid: meta for node, pid, _, _, meta in rows if node == self.node}
        local = self.hub.local_presences()
        for topic, pid, key, meta in local:
            if mine.get(pid) != meta:
                self.publish({"k": "track", "t": topic, "p": pid, "key": key, "meta": meta, "old": None})
        live = {pid for _, pid, _, _ in local}
        for node, pid, topic, key, meta in rows:
            if node == self.node and pid not in live:
                self.publish({"k": "untrack", "t": topic, "p": pid, "key": key, "old": meta})
        await self.hub.resync([row for row in rows if row[0] != self.node])

    async def reap(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """Removes dead nodes and their presences (called by every node's sweep; the rows go to
        the one whose delete got them) and tells the others. Returns what was removed."""
        async with self.db.as_owner() as conn:
            gone = [node for (node,) in await (await conn.execute(_REAP_NODES)).fetchall()]
            removed = [(node, topic, key, json.loads(meta))
                       for node, topic, key, meta in await (await conn.execute(_REAP_PRESENCES)).fetchall()]
            await conn.execute("delete from dstudio_realtime.messages where sent_at < now() - interval '1 minute'")
            nodes = sorted(set(gone) | {node for node, _, _, _ in removed})
            if nodes:
                await conn.execute("select pg_notify(%s, %s)",
                                   (CHANNEL, json.dumps({"n": self.node, "k": "gone", "nodes": nodes})))
        if nodes:
            await self.hub.remote({"n": self.node, "k": "gone", "nodes": nodes})
        return removed

"""The connection pool, and transactions run as a request's role and claims, the way
PostgREST runs them (``set_config('role', ...)`` and ``request.jwt.claims``).

The pool is small and strict about what it hands out:

- a connection is checked when it is taken: one the server has closed (a PostgreSQL restart
  ends every backend, which leaves the socket readable with the server's goodbye or EOF) is
  dropped and the next one taken, so a restart costs no failed request;
- when no idle connection is left it connects on the spot, and a database that is down
  fails that connect at once (refused) or within ``connect_timeout``: the request gets 503
  in about that time instead of waiting out a pool timeout;
- a connection that broke or was left inside a transaction never goes back.

A user's access token is checked against ``auth.users`` and ``auth.sessions`` in the same
round trip that sets the role: a deleted user, a signed-out session or one ended by refresh
token reuse gets 401 even while its JWT has not expired."""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import select
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Sequence

import psycopg
from psycopg.pq import TransactionStatus

from . import pipeline
from .errors import ApiError, DatabaseUnavailable

log = logging.getLogger("dstudio_backend")

_SET_CLAIMS = "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)"
# the user is live and so is the session the token belongs to (when it names one); evaluated
# first, as the server's own user, then the role is set for the rest of the transaction.
# A dead session raises PT401, which aborts the transaction: nothing queued behind it runs.
_SET_USER_CLAIMS = (
    "select private.require_live_session(%(sub)s, %(sid)s), "
    "set_config('role', %(role)s, true), set_config('request.jwt.claims', %(claims)s, true)")
_SESSION_ENDED = ("PT401", "JWT session has ended")
# set by storage.queue_deleted_object(): the transaction removed objects whose bytes must go
# (once set on a connection the setting reads '' in later transactions, not null)
_OBJECTS_DELETED = "select current_setting('dstudio.objects_deleted', true) = 'yes'"


class SessionEnded(ApiError):
    def __init__(self) -> None:
        super().__init__(401, "PGRST303", "JWT session has ended: the user was deleted or signed out, "
                         "or the session was revoked", hint="sign in again",
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


class Pool:
    def __init__(self, dsn: str, max_size: int = 20, connect_timeout: float = 2.0, acquire_timeout: float = 30.0):
        self.dsn = dsn
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self.acquire_timeout = acquire_timeout
        self._idle: list[psycopg.AsyncConnection] = []
        self._size = 0          # connections open or being opened
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self._closed = False
        self._down_since: float | None = None

    async def _connect(self) -> psycopg.AsyncConnection:
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.dsn, autocommit=True, connect_timeout=max(2, int(self.connect_timeout + 0.999)))
            # statements are prepared by pipeline.py alone (see there why not by psycopg too)
            conn.prepare_threshold = None
        except psycopg.OperationalError as exc:
            if self._down_since is None:  # once per outage, not once per request
                self._down_since = time.monotonic()
                log.warning("the database is unavailable, answering 503 until it is back: %s",
                            str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__)
            raise DatabaseUnavailable() from exc
        if self._down_since is not None:
            log.warning("the database is back after %.1f s", time.monotonic() - self._down_since)
            self._down_since = None
        return conn

    @staticmethod
    def _usable(conn: psycopg.AsyncConnection) -> bool:
        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            return False
        try:
            # an idle connection has nothing to read unless the server said goodbye or went away
            readable, _, _ = select.select([conn.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def _discard(self, conn: psycopg.AsyncConnection) -> None:
        self._size -= 1
        if not conn.closed:
            task = asyncio.get_running_loop().create_task(conn.close())
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def acquire(self) -> psycopg.AsyncConnection:
        if self._closed:
            raise DatabaseUnavailable("the server is shutting down")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.acquire_timeout
        while True:
            while self._idle:
                conn = self._idle.pop()  # the most recently used: warm, and its statements prepared
                if self._usable(conn):
                    return conn
                self._discard(conn)
            if self._size < self.max_size:
                self._size += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._size -= 1
                    self._wake_one()
                    raise
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise DatabaseUnavailable("Timed out acquiring connection from connection pool.", code="PGRST003",
                                          status=504) from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def release(self, conn: psycopg.AsyncConnection) -> None:
        if self._closed or conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            self._discard(conn)
        else:
            self._idle.append(conn)
        self._wake_one()

    async def open(self, timeout: float = 30.0) -> None:
        """Waits until the database takes a connection (it may still be starting)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = await self.acquire()
                break
            except DatabaseUnavailable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
        self.release(conn)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._size -= 1
            await conn.close()

    def stats(self) -> dict[str, int]:
        return {"size": self._size, "idle": len(self._idle), "waiting": len(self._waiters)}


@dataclass
class Ran:
    rows: list[tuple]        # each statement's first row
    objects_deleted: bool    # the transaction queued object bytes for removal (storage.deleted_objects)


def _ended(exc: psycopg.Error) -> bool:
    """The error private.require_live_session raises for a dead user or session."""
    return (exc.sqlstate, exc.diag.message_primary) == _SESSION_ENDED


async def _set_claims(conn: psycopg.AsyncConnection, claims: dict[str, Any], check_later: bool = False) -> None:
    """Sets the role and claims for the transaction; a user's token must belong to a live user
    and session (401 otherwise). In a pipeline (``check_later``) the check's error comes with
    the pipeline's results."""
    if claims.get("role") == "authenticated" and claims.get("sub") is not None:
        sub = _uuid_or_none(claims.get("sub"))
        if sub is None:
            raise SessionEnded()
        params = {"sub": sub, "sid": _uuid_or_none(claims.get("session_id")), "role": claims["role"],
                  "claims": json.dumps(claims)}
        if check_later:
            await conn.execute(_SET_USER_CLAIMS, params)
            return
        try:
            await conn.execute(_SET_USER_CLAIMS, params)
        except psycopg.Error as exc:
            if _ended(exc):
                raise SessionEnded() from None
            raise
    else:
        await conn.execute(_SET_CLAIMS, (claims["role"], json.dumps(claims)))


def _claims_statement(claims: dict[str, Any]) -> tuple[str, Any]:
    """The statement that sets the role and claims (with the session check for a user's token)."""
    if claims.get("role") == "authenticated" and claims.get("sub") is not None:
        sub = _uuid_or_none(claims.get("sub"))
        if sub is None:
            raise SessionEnded()
        return _SET_USER_CLAIMS, {"sub": sub, "sid": _uuid_or_none(claims.get("session_id")),
                                  "role": claims["role"], "claims": json.dumps(claims)}
    return _SET_CLAIMS, (claims["role"], json.dumps(claims))


class Database:
    def __init__(self, dsn: str, max_size: int = 20, connect_timeout: float = 2.0, acquire_timeout: float = 30.0):
        self.dsn = dsn
        self.pool = Pool(dsn, max_size=max_size, connect_timeout=connect_timeout, acquire_timeout=acquire_timeout)

    async def open(self) -> None:
        await self.pool.open(timeout=30)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        conn = await self.pool.acquire()
        try:
            yield conn
        finally:
            self.pool.release(conn)

    @asynccontextmanager
    async def as_request(self, claims: dict[str, Any]) -> AsyncIterator[psycopg.AsyncConnection]:
        """A transaction as the claims' role; RLS and auth.uid() see the claims. A user's
        token whose user or session is gone is refused (401) before anything runs."""
        async with self.connection() as conn:
            async with conn.transaction():
                await _set_claims(conn, claims)
                yield conn

    async def run_as(self, claims: dict[str, Any], statements: Sequence[tuple[Any, Any]], *,
                     read_only: bool = False, watch_deletes: bool = True,
                     check: Callable[[list[tuple]], None] | None = None) -> Ran:
        """Runs ``statements`` in one transaction as the claims' role, as :meth:`as_request`
        does, in one round trip: the claims (and the session check) and the statements go out
        pipelined and their results come back together. A dead session aborts
        the transaction at the claims, so none of the statements runs.

        ``watch_deletes`` asks whether the transaction queued object bytes for removal (a
        read-only one cannot).

        ``check`` sees each statement's first row before the commit; what it raises rolls the
        transaction back (that costs a second round trip, so only requests that need it pass one)."""
        # Statements pipelined up to one Sync already run as one transaction (PostgreSQL commits
        # at the Sync, or rolls everything back on an error), so the common case sends no begin
        # and no commit; a read-only one, or one that waits for the check, opens its own.
        explicit = read_only or check is not None
        queued: list[tuple[Any, Any]] = []
        if explicit:
            queued.append(("begin read only" if read_only else "begin", None))
        queued.append(_claims_statement(claims))
        first = len(queued)
        queued.extend(statements)
        if watch_deletes and not read_only:
            queued.append((_OBJECTS_DELETED, None))
        if read_only:
            queued.append(("commit", None))
        async with self.connection() as conn:
            try:
                # one write, one read, every statement prepared (pipeline.py)
                results = await pipeline.run(conn, queued, [True] * len(queued))
                rows = results[first:first + len(statements)]
                deleted = bool(watch_deletes and not read_only and results[first + len(statements)][0])
                if check is not None:
                    check(rows)
                    await conn.execute("commit")
                return Ran(rows, deleted)
            except psycopg.Error as exc:
                if _ended(exc):
                    raise SessionEnded() from None
                raise
            finally:
                if not conn.broken and conn.info.transaction_status in (TransactionStatus.INTRANS,
                                                                        TransactionStatus.INERROR):
                    try:
                        await conn.execute("rollback")
                    except psycopg.Error:
                        pass  # the pool drops a connection left in a transaction

    @asynccontextmanager
    async def as_owner(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A transaction as the server's own database user (auth and storage bookkeeping)."""
        async with self.connection() as conn:
            async with conn.transaction():
                yield conn

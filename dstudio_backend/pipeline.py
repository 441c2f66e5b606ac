"""A request's statements sent to PostgreSQL in one write and answered in one read.

psycopg's own pipeline mode flushes the socket after every statement it queues, so a request
of three statements cost three sends, each waking the database backend (the profile had
``send`` at 59% of the server's time under wrk). Here the statements go into libpq's buffer
through the pipeline API, then one Sync and one flush: the backend wakes once, runs them as
one transaction (PostgreSQL commits at the Sync, or rolls everything back on an error), and
answers once.

Statements are prepared on a connection the first time they are sent on it (a request's SQL is
the same text for the same kind of request); a name counts as prepared only once the server
answered its Parse, so an aborted pipeline never leaves a name the server does not know."""

from __future__ import annotations

import weakref
from typing import Any, Sequence

import psycopg
from psycopg import errors, pq
from psycopg._queries import PostgresQuery
from psycopg.adapt import Transformer
from psycopg.waiting import Wait

MAX_PREPARED = 256      # per connection; beyond it statements are sent unprepared



class _Names:
    """A connection's prepared statements. Names are never reused on a connection, so a name
    forgotten here (after the server lost them) cannot collide with one it still has."""

    def __init__(self) -> None:
        self.by_key: dict[tuple, bytes] = {}   # (query bytes, param types) -> statement name
        self.made = 0

    def new(self) -> bytes:
        self.made += 1
        return b"_ds%d" % self.made


_prepared: weakref.WeakKeyDictionary[psycopg.AsyncConnection, _Names] = weakref.WeakKeyDictionary()


def _flush(pgconn: pq.abc.PGconn):
    while pgconn.flush():
        yield Wait.W


def _results(pgconn: pq.abc.PGconn):
    """Every statement's results up to the Sync, as a list per statement."""
    groups: list[list[pq.abc.PGresult]] = []
    current: list[pq.abc.PGresult] = []
    while True:
        while pgconn.is_busy():
            yield Wait.R
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            groups.append(current)
            current = []
        elif result.status == pq.ExecStatus.PIPELINE_SYNC:
            return groups
        else:
            current.append(result)


async def run(conn: psycopg.AsyncConnection, statements: Sequence[tuple[Any, Any]],
              prepare: Sequence[bool]) -> list[tuple | None]:
    """Runs ``statements`` (query, params) up to one Sync; returns each one's first row
    (None for a statement without rows). The first error raises, as psycopg's own error
    class; the statements after it did not run.

    The pool's connections never prepare statements of psycopg's own (``prepare_threshold``
    None): psycopg answers a ROLLBACK by deallocating every prepared statement of the
    connection, these too. Should the server still lose one, the pipeline failed as a whole
    (nothing of it committed), so it is sent once more with the names forgotten."""
    try:
        return await _run(conn, statements, prepare)
    except errors.InvalidSqlStatementName:
        _prepared.pop(conn, None)
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            await conn.execute("rollback")  # an explicit begin of the failed pipeline
        return await _run(conn, statements, prepare)


async def _run(conn: psycopg.AsyncConnection, statements: Sequence[tuple[Any, Any]],
               prepare: Sequence[bool]) -> list[tuple | None]:
    pgconn = conn.pgconn
    tx = Transformer(conn)
    known = _prepared.get(conn)
    if known is None:
        known = _prepared[conn] = _Names()
    names = known.by_key
    parsing: dict[int, tuple] = {}     # result group index of a Parse -> its cache key
    loads: list[int] = []              # result group index of each statement
    async with conn.lock:
        pgconn.enter_pipeline_mode()
        try:
            group = 0
            for (query, params), wanted in zip(statements, prepare, strict=True):
                pgq = PostgresQuery(tx)
                pgq.convert(query, params)
                key = (pgq.query, pgq.types)
                name = names.get(key) if wanted else None
                if wanted and name is None and len(names) < MAX_PREPARED:
                    name = known.new()
                    pgconn.send_prepare(name, pgq.query, param_types=pgq.types)
                    parsing[group] = (key, name)
                    group += 1
                if name is not None:
                    pgconn.send_query_prepared(name, pgq.params, param_formats=pgq.formats)
                else:
                    pgconn.send_query_params(pgq.query, pgq.params, param_types=pgq.types,
                                             param_formats=pgq.formats)
                loads.append(group)
                group += 1
            pgconn.pipeline_sync()
            await conn.wait(_flush(pgconn))
            groups = await conn.wait(_results(pgconn))
        except BaseException:
            # cancelled or the socket broke mid-way: what the connection holds is unknown
            await conn.close()
            raise
        pgconn.exit_pipeline_mode()
    for index, (key, name) in parsing.items():
        if groups[index] and groups[index][0].status == pq.ExecStatus.COMMAND_OK:
            names[key] = name
    for results in groups:  # the first error is the one to tell; those after it say "aborted"
        for result in results:
            if result.status == pq.ExecStatus.FATAL_ERROR:
                raise errors.error_from_result(result, encoding=conn.info.encoding)
    rows: list[tuple | None] = []
    for index in loads:
        result = groups[index][-1] if groups[index] else None
        if result is None or result.status != pq.ExecStatus.TUPLES_OK or result.ntuples == 0:
            rows.append(None)
            continue
        tx.set_pgresult(result)
        rows.append(tx.load_row(0, tuple))
    return rows

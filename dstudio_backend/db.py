"""The connection pool, and transactions run as a request's role and claims, the way
PostgREST runs them (``set_config('role', ...)`` and ``request.jwt.claims``)."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import psycopg
from psycopg_pool import AsyncConnectionPool


class Database:
    def __init__(self, dsn: str, max_size: int = 20):
        self.dsn = dsn
        self.pool = AsyncConnectionPool(dsn, min_size=2, max_size=max_size, open=False,
                                        kwargs={"autocommit": True})

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def as_request(self, claims: dict[str, Any]) -> AsyncIterator[psycopg.AsyncConnection]:
        """A transaction as the claims' role; RLS and auth.uid() see the claims."""
        async with self.pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                                   (claims["role"], json.dumps(claims)))
                yield conn

    @asynccontextmanager
    async def as_owner(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """A transaction as the server's own database user (auth and storage bookkeeping)."""
        async with self.pool.connection() as conn:
            async with conn.transaction():
                yield conn

"""The HTTP server: ``/rest/v1`` (PostgREST), ``/auth/v1`` (GoTrue) and ``/storage/v1``
(Storage), each request authenticated by its JWT and run as that JWT's role.

Every request passes :class:`limits.Guard` first (its route's body limit, checked before the
body is read; any error answered in the protocol's JSON shape)."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import auth, realtime, rest, resumable, storage
from .db import Database
from .errors import ApiError, from_database, shaped
from .limits import Guard, Limits, parse_json
from .schema_cache import SchemaCache
from .tokens import TokenError, Tokens

log = logging.getLogger("dstudio_backend")


@dataclass
class Config:
    dsn: str
    storage_dir: Path
    tokens: Tokens
    jwt_expiry: int = 3600
    site_url: str = ""
    limits: Limits = field(default_factory=Limits)
    refresh_token_reuse_interval: int = 0   # seconds a spent refresh token may be presented again (GoTrue's 10)
    db_pool_size: int = 20
    db_connect_timeout: float = 2.0          # a database that does not answer a connect by then is down: 503
    realtime_timeout: float = 60.0           # a realtime socket silent this long is closed (Phoenix's 60 s)
    session_timeout: float = 60.0            # a design_studio_sessions row with no heartbeat this long is inactive


class Backend:
    def __init__(self, config: Config):
        self.config = config
        self.tokens = config.tokens
        self.limits = config.limits
        self.db = Database(config.dsn, max_size=config.db_pool_size, connect_timeout=config.db_connect_timeout)
        self.cache: SchemaCache | None = None
        self.files = storage.ObjectFiles(config.storage_dir)
        self.realtime = realtime.Hub(self, config.realtime_timeout, config.session_timeout)
        self._purger: asyncio.Task | None = None

    async def startup(self) -> None:
        await self.db.open()
        await self.reload_schema()
        await self.files.purge_deleted(self.db)
        self._purger = asyncio.get_running_loop().create_task(self.files.purge_periodically(self.db))
        await self.realtime.start()

    async def shutdown(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
        await self.realtime.stop()
        await self.db.close()

    async def reload_schema(self) -> None:
        async with self.db.as_owner() as conn:
            self.cache = await SchemaCache.load(conn)

    def claims(self, request: Request) -> dict[str, Any]:
        """The request's JWT claims: the Authorization bearer token, else the apikey."""
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("apikey")
        if not token:
            raise ApiError(401, "PGRST302", "No API key or bearer token found in request",
                           hint="send the anon key as apikey or a user's access token as Authorization: Bearer")
        try:
            claims = self.tokens.verify(token)
        except TokenError as exc:
            raise ApiError(401, exc.code, exc.message) from exc
        request.state.role = claims["role"]
        return claims


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    return parse_json(raw, request.app.state.backend.limits.json_depth)


def _relation(backend: Backend, name: str) -> rest.Relation:
    rel = backend.cache.relations.get(name)
    if rel is None:
        raise ApiError(404, "PGRST205", f"Could not find the table 'public.{name}' in the schema cache")
    return rel


async def rest_endpoint(request: Request) -> Response:
    backend: Backend = request.app.state.backend
    claims: dict[str, Any] = {"role": "anon"}
    try:
        claims = backend.claims(request)
        path = request.path_params["path"].strip("/")
        if path.startswith("rpc/"):
            return await _rpc(backend, request, claims, path[4:])
        return await _table(backend, request, claims, _relation(backend, path))
    except ApiError as exc:
        return exc.response()
    except psycopg.Error as exc:
        return from_database(exc, claims["role"]).response()


async def _table(backend: Backend, request: Request, claims: dict, rel: rest.Relation) -> Response:
    params = list(request.query_params.multi_items())
    single = dict(params)
    prefs = rest.parse_prefer(request.headers.get("prefer"))
    select = single.get("select")
    method = request.method
    count_total = None
    singular = request.headers.get("accept", "").startswith(rest.SINGULAR)

    def one_row(n: int) -> None:
        if n != 1:
            raise ApiError(406, "PGRST116", "JSON object requested, multiple (or no) rows returned",
                           f"The result contains {n} rows")

    if method in ("GET", "HEAD"):
        q = rest.parse_query(rel, params)
        statements = [rest.build_select(rel, q, select)]
        counted = prefs.get("count") in ("exact", "planned", "estimated")
        if counted:
            statements.append(rest.build_count(rel, q))
        ran = await backend.db.run_as(claims, statements, watch_deletes=False)
        body, n = ran.rows[0]
        if counted:
            count_total = ran.rows[1][0]
        status = 200
        if singular:
            one_row(n)  # a read has nothing to roll back
    else:
        payload = await _json_body(request)
        if method == "POST":
            statement = rest.build_insert(rel, payload, prefs, single.get("on_conflict"), single.get("columns"), select)
            status = 201
        elif method == "PATCH":
            statement = rest.build_update(rel, payload, rest.parse_query(rel, params), prefs, select)
            status = 200
        elif method == "DELETE":
            statement = rest.build_delete(rel, rest.parse_query(rel, params), prefs, select)
            status = 200
        else:
            raise ApiError(405, "PGRST117", f"{method} is not supported on tables")
        represented = prefs.get("return") == "representation"
        # a singular answer that is not one row rolls the write back
        check = (lambda rows: one_row(rows[0][1])) if singular and represented else None
        ran = await backend.db.run_as(claims, [statement], check=check)
        body, n = ran.rows[0]
        if not represented:
            body = None
            status = 201 if method == "POST" else 204
        if prefs.get("count") == "exact":
            count_total = n
        if ran.objects_deleted:
            await backend.files.purge_deleted(backend.db)
    rows_text = body
    if singular and body is not None:
        rows_text = json.dumps(json.loads(body)[0])
    headers = {}
    if method in ("GET", "HEAD") or count_total is not None:
        offset = _offset(single.get("offset"))
        total = "*" if count_total is None else str(count_total)
        headers["Content-Range"] = f"{offset}-{offset + n - 1}/{total}" if n else f"*/{total}"
    if rows_text is None or method == "HEAD":
        return Response(status_code=status, headers=headers)
    return Response(rows_text, status_code=status, headers=headers, media_type="application/json")


def _offset(value: str | None) -> int:
    try:
        offset = int(value or 0)
    except ValueError:
        raise ApiError(400, "PGRST100", f"offset must be a whole number, not {value!r}") from None
    if offset < 0:
        raise ApiError(400, "PGRST100", "offset must not be negative")
    return offset


async def _rpc(backend: Backend, request: Request, claims: dict, name: str) -> Response:
    if request.method in ("GET", "HEAD"):
        args: dict[str, Any] = dict(request.query_params)
    elif request.method == "POST":
        args = await _json_body(request)
        if not isinstance(args, dict):
            raise ApiError(400, "PGRST102", "the arguments of a function call must be a JSON object")
    else:
        raise ApiError(405, "PGRST117", f"{request.method} is not supported on functions")
    fn = rest.resolve_function(backend.cache, name, args)
    ran = await backend.db.run_as(claims, [rest.build_rpc(fn, args)], read_only=request.method == "GET")
    (body,) = ran.rows[0]
    if ran.objects_deleted:
        await backend.files.purge_deleted(backend.db)
    return Response(body if body is not None else "null", media_type="application/json")


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _api_error(request: Request, exc: ApiError) -> Response:
    return shaped(request.url.path, exc)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own refusals (no such route, method not allowed) in the protocol's shape."""
    code = {404: "PGRST125", 405: "PGRST117"}.get(exc.status_code, f"PGRST{exc.status_code}")
    if request.url.path.startswith("/auth/"):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "validation_failed")
    return shaped(request.url.path, ApiError(exc.status_code, code, str(exc.detail), headers=exc.headers))


@asynccontextmanager
async def _lifespan(app: Starlette):
    backend: Backend = app.state.backend
    await backend.startup()
    try:
        yield
    finally:
        await backend.shutdown()


def create_app(config: Config) -> Starlette:
    backend = Backend(config)
    methods = ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT"]
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/rest/v1/{path:path}", rest_endpoint, methods=methods),
            *auth.routes(),
            *storage.routes(),
            *resumable.routes(),
            *realtime.routes(),
        ],
        lifespan=_lifespan,
        middleware=[Middleware(Guard, limits=config.limits)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.backend = backend
    return app

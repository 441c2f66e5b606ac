"""The GoTrue subset: sign up, sign in with a password, refresh (refresh tokens are
single-use), the current user, and sign out. Passwords are bcrypt hashes made by
pgcrypto, as GoTrue stores them in ``auth.users.encrypted_password``."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import ApiError
from .tokens import TokenError

API_VERSION = {"X-Supabase-Api-Version": "2024-01-01"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 6


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "error_code": code, "msg": message, "message": message, **extra},
                        status_code=status, headers=API_VERSION)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def user_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "aud": row["aud"], "role": row["role"], "email": row["email"], "phone": "",
        "email_confirmed_at": _iso(row["email_confirmed_at"]), "confirmed_at": _iso(row["email_confirmed_at"]),
        "last_sign_in_at": _iso(row["last_sign_in_at"]),
        "app_metadata": row["raw_app_meta_data"] or {}, "user_metadata": row["raw_user_meta_data"] or {},
        "identities": [], "created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"]),
        "is_anonymous": False,
    }


async def _issue_session(backend, conn: psycopg.AsyncConnection, user: dict[str, Any], session_id: str | None = None,
                         parent: str | None = None) -> dict[str, Any]:
    if session_id is None:
        cur = await conn.execute("insert into auth.sessions (user_id) values (%s) returning id", (user["id"],))
        session_id = str((await cur.fetchone())[0])
    refresh = secrets.token_urlsafe(24)
    await conn.execute("insert into auth.refresh_tokens (token, user_id, session_id, parent) values (%s, %s, %s, %s)",
                       (refresh, user["id"], session_id, parent))
    expires_in = backend.config.jwt_expiry
    access, expires_at = backend.tokens.access_token(user, session_id, expires_in)
    return {"access_token": access, "token_type": "bearer", "expires_in": expires_in, "expires_at": expires_at,
            "refresh_token": refresh, "user": user_json(user)}


async def signup(request: Request) -> Response:
    backend = request.app.state.backend
    body = await _body(request)
    email = str(body.get("email") or "").strip()
    password = str(body.get("password") or "")
    if not _EMAIL.match(email):
        return _error(400, "validation_failed", f"Unable to validate email address: invalid format ({email!r})")
    if len(password) < MIN_PASSWORD:
        return _error(422, "weak_password", f"Password should be at least {MIN_PASSWORD} characters.",
                      weak_password={"reasons": ["length"]})
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    try:
        async with backend.db.as_owner() as conn:
            cur = await conn.cursor(row_factory=dict_row).execute(
                "insert into auth.users (email, encrypted_password, email_confirmed_at, last_sign_in_at, "
                "raw_app_meta_data, raw_user_meta_data) values (%s, crypt(%s, gen_salt('bf', 10)), now(), now(), "
                "%s, %s) returning *",
                (email, password, psycopg.types.json.Jsonb({"provider": "email", "providers": ["email"]}),
                 psycopg.types.json.Jsonb(data)))
            user = await cur.fetchone()
            session = await _issue_session(backend, conn, user)
    except psycopg.errors.UniqueViolation:
        return _error(422, "user_already_exists", "User already registered")
    return JSONResponse(session, headers=API_VERSION)


async def token(request: Request) -> Response:
    backend = request.app.state.backend
    grant = request.query_params.get("grant_type")
    body = await _body(request)
    async with backend.db.as_owner() as conn:
        dicts = conn.cursor(row_factory=dict_row)
        if grant == "password":
            cur = await dicts.execute(
                "update auth.users set last_sign_in_at = now() where lower(email) = lower(%s) and deleted_at is null "
                "and encrypted_password = crypt(%s, encrypted_password) returning *",
                (str(body.get("email") or ""), str(body.get("password") or "")))
            user = await cur.fetchone()
            if user is None:
                return _error(400, "invalid_credentials", "Invalid login credentials")
            session = await _issue_session(backend, conn, user)
        elif grant == "refresh_token":
            cur = await dicts.execute(
                "update auth.refresh_tokens set revoked = true, updated_at = now() "
                "where token = %s and not revoked returning user_id, session_id, token",
                (str(body.get("refresh_token") or ""),))
            used = await cur.fetchone()
            if used is None:
                return _error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used or Revoked")
            cur = await dicts.execute("select * from auth.users where id = %s and deleted_at is null", (used["user_id"],))
            user = await cur.fetchone()
            if user is None:
                return _error(400, "user_not_found", "User from refresh token no longer exists")
            session = await _issue_session(backend, conn, user, str(used["session_id"]), used["token"])
        else:
            return _error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
    return JSONResponse(session, headers=API_VERSION)


async def _session_user(request: Request) -> tuple[dict[str, Any], dict[str, Any]] | JSONResponse:
    backend = request.app.state.backend
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return _error(401, "no_authorization", "This endpoint requires a Bearer token")
    try:
        claims = backend.tokens.verify(header[7:].strip())
    except TokenError as exc:
        code = "bad_jwt" if exc.code != "PGRST303" else "session_expired"
        return _error(401, code, exc.message)
    if claims.get("role") != "authenticated" or not claims.get("session_id"):
        return _error(403, "bad_jwt", "invalid claim: not a user's access token")
    async with backend.db.as_owner() as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            "select u.* from auth.users u join auth.sessions s on s.user_id = u.id "
            "where s.id = %s and u.id = %s and u.deleted_at is null", (claims["session_id"], claims["sub"]))
        user = await cur.fetchone()
    if user is None:
        return _error(403, "session_not_found", "Session from session_id claim in JWT does not exist")
    return claims, user


async def user(request: Request) -> Response:
    found = await _session_user(request)
    if isinstance(found, Response):
        return found
    return JSONResponse(user_json(found[1]), headers=API_VERSION)


async def logout(request: Request) -> Response:
    backend = request.app.state.backend
    found = await _session_user(request)
    if isinstance(found, Response):
        return found
    claims, _ = found
    scope = request.query_params.get("scope", "global")
    async with backend.db.as_owner() as conn:
        if scope == "local":
            await conn.execute("delete from auth.sessions where id = %s", (claims["session_id"],))
        elif scope == "others":
            await conn.execute("delete from auth.sessions where user_id = %s and id <> %s",
                               (claims["sub"], claims["session_id"]))
        else:
            await conn.execute("delete from auth.sessions where user_id = %s", (claims["sub"],))
    return Response(status_code=204, headers=API_VERSION)


async def settings(request: Request) -> Response:
    return JSONResponse({"external": {"email": True}, "disable_signup": False, "mailer_autoconfirm": True})


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "bad_json", "the body is not valid JSON") from None
    return body if isinstance(body, dict) else {}


def routes() -> list[Route]:
    return [
        Route("/auth/v1/signup", signup, methods=["POST"]),
        Route("/auth/v1/token", token, methods=["POST"]),
        Route("/auth/v1/user", user, methods=["GET"]),
        Route("/auth/v1/logout", logout, methods=["POST"]),
        Route("/auth/v1/settings", settings, methods=["GET"]),
    ]

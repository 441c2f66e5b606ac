"""The GoTrue subset: sign up, sign in with a password, refresh, the current user (read and
update), and sign out. Passwords are bcrypt hashes made by pgcrypto, as GoTrue stores them in
``auth.users.encrypted_password``.

Refresh tokens follow GoTrue's rotation rules. Each refresh spends the token and issues its
child; the tokens of one session are one family. A spent token presented again is refused
and revokes the whole family and ends the session (``auth.sessions.not_after``), so the
token issued from it stops working too, and so do the session's access tokens. The one
exception, as GoTrue's: within ``refresh_token_reuse_interval`` seconds of being spent (0,
the default here, allows none), the immediate parent of the live token gets that live token
back, for a client that lost the answer to its refresh or refreshed twice at once."""

from __future__ import annotations

import functools
import logging
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import API_VERSION, ApiError, auth_error, from_database, shaped
from .limits import parse_json
from .tokens import TokenError

log = logging.getLogger("dstudio_backend")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 6
MAX_PASSWORD_BYTES = 72   # bcrypt reads no further; GoTrue refuses longer ones
MAX_EMAIL = 255           # auth.users.email is varchar(255)


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return auth_error(status, code, message, **extra)


class AuthError(ApiError):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(status, code, message)
        self.extra = extra


def endpoint(fn):
    """GoTrue's error shape for whatever a handler raises."""

    @functools.wraps(fn)
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except AuthError as exc:
            return _error(exc.status, exc.code, exc.message, **exc.extra)
        except ApiError as exc:
            return shaped(request.url.path, exc)
        except psycopg.Error as exc:
            error = from_database(exc, "service_role")
            if error.status >= 500 and error.status != 503:
                log.exception("database error in %s", request.url.path)
                return _error(500, "unexpected_failure", "Database error: the request could not be completed")
            return shaped(request.url.path, error)

    return wrapped


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


def _valid_email(value: Any) -> str:
    email = str(value or "").strip()
    if len(email) > MAX_EMAIL:
        raise AuthError(400, "validation_failed", f"An email address is too long (at most {MAX_EMAIL} characters)")
    if not _EMAIL.match(email):
        raise AuthError(400, "validation_failed", f"Unable to validate email address: invalid format ({email!r})")
    return email


def _valid_password(value: Any) -> str:
    password = str(value or "")
    if len(password) < MIN_PASSWORD:
        raise AuthError(422, "weak_password", f"Password should be at least {MIN_PASSWORD} characters.",
                        weak_password={"reasons": ["length"]})
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise AuthError(422, "validation_failed", f"Password cannot be longer than {MAX_PASSWORD_BYTES} characters")
    return password


def _refused_data(exc: psycopg.Error) -> AuthError | None:
    """A write refused for its values (too long, a check, a rule raised by a trigger): 400."""
    if exc.sqlstate and (exc.sqlstate[:2] in ("22", "23") or exc.sqlstate == "P0001"):
        return AuthError(400, "validation_failed",
                         f"Database error saving user: {exc.diag.message_primary or exc.sqlstate}")
    return None


async def _issue_session(backend, conn: psycopg.AsyncConnection, user: dict[str, Any], session_id: str | None = None,
                         parent: str | None = None, refresh: str | None = None) -> dict[str, Any]:
    """A session answer; a new refresh token (the child of ``parent``) unless ``refresh`` is
    the family's live one, handed back again."""
    if session_id is None:
        cur = await conn.execute("insert into auth.sessions (user_id) values (%s) returning id", (user["id"],))
        session_id = str((await cur.fetchone())[0])
    if refresh is None:
        refresh = secrets.token_urlsafe(24)
        await conn.execute("insert into auth.refresh_tokens (token, user_id, session_id, parent) "
                           "values (%s, %s, %s, %s)", (refresh, user["id"], session_id, parent))
    else:
        await conn.execute("update auth.sessions set updated_at = now() where id = %s", (session_id,))
    expires_in = backend.config.jwt_expiry
    access, expires_at = backend.tokens.access_token(user, session_id, expires_in)
    return {"access_token": access, "token_type": "bearer", "expires_in": expires_in, "expires_at": expires_at,
            "refresh_token": refresh, "user": user_json(user)}


@endpoint
async def signup(request: Request) -> Response:
    backend = request.app.state.backend
    body = await _body(request)
    email = _valid_email(body.get("email"))
    password = _valid_password(body.get("password"))
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    try:
        async with backend.db.as_owner() as conn:
            cur = await conn.cursor(row_factory=dict_row).execute(
                "insert into auth.users (email, encrypted_password, email_confirmed_at, last_sign_in_at, "
                "raw_app_meta_data, raw_user_meta_data) values (%s, crypt(%s, gen_salt('bf', 10)), now(), now(), "
                "%s, %s) returning *",
                (email, password, Jsonb({"provider": "email", "providers": ["email"]}), Jsonb(data)))
            user = await cur.fetchone()
            session = await _issue_session(backend, conn, user)
    except psycopg.errors.UniqueViolation:
        return _error(422, "user_already_exists", "User already registered")
    except psycopg.Error as exc:
        refused = _refused_data(exc)
        if refused is None:
            raise
        raise refused from None
    return JSONResponse(session, headers=API_VERSION)


@endpoint
async def token(request: Request) -> Response:
    backend = request.app.state.backend
    grant = request.query_params.get("grant_type")
    body = await _body(request)
    if grant == "password":
        async with backend.db.as_owner() as conn:
            cur = await conn.cursor(row_factory=dict_row).execute(
                "update auth.users set last_sign_in_at = now() where lower(email) = lower(%s) and deleted_at is null "
                "and encrypted_password = crypt(%s, encrypted_password) returning *",
                (str(body.get("email") or "")[:MAX_EMAIL + 1], str(body.get("password") or "")))
            user = await cur.fetchone()
            if user is None:
                return _error(400, "invalid_credentials", "Invalid login credentials")
            session = await _issue_session(backend, conn, user)
        return JSONResponse(session, headers=API_VERSION)
    if grant == "refresh_token":
        return await _refresh(backend, str(body.get("refresh_token") or ""))
    return _error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")


async def _refresh(backend, presented: str) -> Response:
    if not presented:
        return _error(400, "validation_failed", "refresh_token required")
    async with backend.db.as_owner() as conn:
        dicts = conn.cursor(row_factory=dict_row)
        # the session row is locked: one refresh of a family at a time
        cur = await dicts.execute(
            "select rt.id, rt.token, rt.user_id, rt.session_id, rt.revoked, now() - rt.updated_at as since, "
            "coalesce(s.not_after <= now(), false) as ended "
            "from auth.refresh_tokens rt join auth.sessions s on s.id = rt.session_id "
            "where rt.token = %s for update of s", (presented,))
        used = await cur.fetchone()
        if used is None:
            return _error(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        if used["ended"]:
            return _error(400, "session_expired", "Invalid Refresh Token: Session Expired")
        cur = await dicts.execute("select * from auth.users where id = %s and deleted_at is null", (used["user_id"],))
        user = await cur.fetchone()
        if user is None:
            return _error(400, "user_not_found", "Invalid Refresh Token: User Not Found")
        session_id = str(used["session_id"])
        if used["revoked"]:
            cur = await dicts.execute("select token, parent from auth.refresh_tokens where session_id = %s "
                                      "and not revoked order by id desc limit 1", (session_id,))
            live = await cur.fetchone()
            interval = timedelta(seconds=backend.config.refresh_token_reuse_interval)
            if live is not None and live["parent"] == used["token"] and used["since"] <= interval \
                    and interval.total_seconds() > 0:
                return JSONResponse(await _issue_session(backend, conn, user, session_id, refresh=live["token"]),
                                    headers=API_VERSION)
            # a spent token again: possibly stolen. The family and its session end (committed).
            await conn.execute("update auth.refresh_tokens set revoked = true, updated_at = now() "
                               "where session_id = %s and not revoked", (session_id,))
            await conn.execute("update auth.sessions set not_after = now(), updated_at = now() where id = %s",
                               (session_id,))
            log.warning("refresh token reuse for user %s: session %s revoked", used["user_id"], session_id)
            return _error(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        await conn.execute("update auth.refresh_tokens set revoked = true, updated_at = now() where id = %s",
                           (used["id"],))
        session = await _issue_session(backend, conn, user, session_id, used["token"])
    return JSONResponse(session, headers=API_VERSION)


async def _session_user(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    backend = request.app.state.backend
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise AuthError(401, "no_authorization", "This endpoint requires a Bearer token")
    try:
        claims = backend.tokens.verify(header[7:].strip())
    except TokenError as exc:
        raise AuthError(401, "bad_jwt" if exc.code != "PGRST303" else "session_expired", exc.message) from None
    try:
        if claims.get("role") != "authenticated":
            raise ValueError
        claims["session_id"], claims["sub"] = str(uuid.UUID(str(claims["session_id"]))), str(uuid.UUID(str(claims["sub"])))
    except (KeyError, ValueError):
        raise AuthError(403, "bad_jwt", "invalid claim: not a user's access token") from None
    async with backend.db.as_owner() as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            "select u.* from auth.users u join auth.sessions s on s.user_id = u.id "
            "where s.id = %s and u.id = %s and u.deleted_at is null "
            "and (s.not_after is null or s.not_after > now())", (claims["session_id"], claims["sub"]))
        user = await cur.fetchone()
    if user is None:
        raise AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist")
    return claims, user


@endpoint
async def user(request: Request) -> Response:
    _, found = await _session_user(request)
    return JSONResponse(user_json(found), headers=API_VERSION)


@endpoint
async def update_user(request: Request) -> Response:
    """PUT /user: a new email, password or user metadata (``data``, merged key by key; a key
    set to null is removed). A new password ends the user's other sessions, as GoTrue does."""
    backend = request.app.state.backend
    claims, current = await _session_user(request)
    body = await _body(request)
    sets: list[str] = []
    params: list[Any] = []
    new_password = None
    if body.get("email") is not None:
        email = _valid_email(body["email"])
        if email.lower() != (current["email"] or "").lower():
            sets.append("email = %s")
            params.append(email)
    if body.get("password") is not None:
        new_password = _valid_password(body["password"])
    if body.get("data") is not None:
        if not isinstance(body["data"], dict):
            raise AuthError(400, "validation_failed", "data must be a JSON object of user metadata")
        data = Jsonb(body["data"])
        sets.append("raw_user_meta_data = (raw_user_meta_data || %s) "
                    "- coalesce((select array_agg(key) from jsonb_each(%s) where value = 'null'::jsonb), '{}')")
        params += [data, data]
    try:
        async with backend.db.as_owner() as conn:
            dicts = conn.cursor(row_factory=dict_row)
            if new_password is not None:
                cur = await dicts.execute("select encrypted_password = crypt(%s, encrypted_password) as same "
                                          "from auth.users where id = %s", (new_password, current["id"]))
                if (await cur.fetchone())["same"]:
                    raise AuthError(422, "same_password", "New password should be different from the old password.")
                sets.append("encrypted_password = crypt(%s, gen_salt('bf', 10))")
                params.append(new_password)
            cur = await dicts.execute(
                "update auth.users set " + ", ".join([*sets, "updated_at = now()"]) + " where id = %s returning *",
                (*params, current["id"]))
            updated = await cur.fetchone()
            if new_password is not None:
                await conn.execute("delete from auth.sessions where user_id = %s and id <> %s",
                                   (current["id"], claims["session_id"]))
    except psycopg.errors.UniqueViolation:
        return _error(422, "email_exists", "A user with this email address has already been registered")
    except psycopg.Error as exc:
        refused = _refused_data(exc)
        if refused is None:
            raise
        raise refused from None
    return JSONResponse(user_json(updated), headers=API_VERSION)


@endpoint
async def logout(request: Request) -> Response:
    backend = request.app.state.backend
    claims, _ = await _session_user(request)
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
    return JSONResponse({"external": {"email": True}, "disable_signup": False, "mailer_autoconfirm": True},
                        headers=API_VERSION)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    body = parse_json(raw, request.app.state.backend.limits.json_depth, code="bad_json")
    if not isinstance(body, dict):
        raise AuthError(400, "bad_json", "the body must be a JSON object")
    return body


def routes() -> list[Route]:
    return [
        Route("/auth/v1/signup", signup, methods=["POST"]),
        Route("/auth/v1/token", token, methods=["POST"]),
        Route("/auth/v1/user", user, methods=["GET"]),
        Route("/auth/v1/user", update_user, methods=["PUT"]),
        Route("/auth/v1/logout", logout, methods=["POST"]),
        Route("/auth/v1/settings", settings, methods=["GET"]),
    ]

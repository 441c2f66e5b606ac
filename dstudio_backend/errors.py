"""Errors in each protocol's own JSON shape.

PostgREST (``/rest/v1``) answers ``{code, message, details, hint}`` with its HTTP status for
the SQLSTATE (``PTxyz`` raised by a function means HTTP xyz); GoTrue (``/auth/v1``) answers
``{code, error_code, msg, message}``; Storage (``/storage/v1``) answers
``{statusCode, error, message}``. Whatever goes wrong, a client gets one of these, never a
bare text/plain 500: :func:`shaped` picks the shape from the request path."""

from __future__ import annotations

from typing import Any

import psycopg
from starlette.responses import JSONResponse

API_VERSION = {"X-Supabase-Api-Version": "2024-01-01"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None, hint: Any = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.hint = status, code, message, details, hint
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details, "hint": self.hint}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


class BodyTooLarge(ApiError):
    """A request body over its route's limit, declared (Content-Length) or streamed."""

    def __init__(self, limit: int, what: str = "the request body"):
        super().__init__(413, "PGRST413", f"{what} is larger than this server accepts ({limit} bytes at most)",
                         hint="send less per request")
        self.limit = limit


class DatabaseUnavailable(ApiError):
    """The database cannot be reached (down, restarting, or refusing connections)."""

    def __init__(self, message: str = "Database connection error. Retrying the connection.",
                 code: str = "PGRST000", status: int = 503):
        super().__init__(status, code, message, hint="the database is unavailable; try again shortly",
                         headers={"Retry-After": "1"})


_BY_CLASS = {"08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500,
             "39": 500, "3B": 500, "40": 500, "53": 503, "54": 500, "55": 500, "57": 500, "58": 500,
             "F0": 500, "HV": 500, "P0": 500, "XX": 500}
_BY_CODE = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404,
            "42P17": 500, "40001": 409, "57P01": 503, "57P02": 503, "57P03": 503, "54001": 400}


def http_status(sqlstate: str, role: str) -> int:
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    if sqlstate == "42501":
        return 401 if role == "anon" else 403
    return _BY_CODE.get(sqlstate) or _BY_CLASS.get(sqlstate[:2], 400)


def from_database(exc: psycopg.Error, role: str) -> ApiError:
    if isinstance(exc, psycopg.OperationalError) and not exc.sqlstate:
        # the connection broke under the request (the database stopped or restarted)
        return DatabaseUnavailable("Database client error: the connection was lost. Retrying the connection.",
                                   code="PGRST001")
    sqlstate = exc.sqlstate or "XX000"
    if http_status(sqlstate, role) == 503:
        return DatabaseUnavailable(exc.diag.message_primary or str(exc), code=sqlstate)
    diag = exc.diag
    return ApiError(http_status(sqlstate, role), sqlstate, diag.message_primary or str(exc),
                    diag.message_detail, diag.message_hint)


# -- the three shapes ------------------------------------------------------------------

_STORAGE_NAMES = {400: "invalid_request", 401: "unauthorized", 403: "unauthorized", 404: "not_found",
                  409: "Duplicate", 413: "Payload too large", 415: "invalid_mime_type", 503: "DatabaseUnavailable",
                  504: "DatabaseTimeout"}
_AUTH_CODES = {413: "request_too_large", 415: "validation_failed", 503: "unexpected_failure",
               504: "request_timeout"}


def auth_error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
               **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "error_code": code, "msg": message, "message": message, **extra},
                        status_code=status, headers={**API_VERSION, **(headers or {})})


def storage_error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"statusCode": str(status), "error": error, "message": message}, status_code=status,
                        headers=headers)


def shaped(path: str, exc: ApiError) -> JSONResponse:
    """``exc`` in the shape of the protocol that serves ``path``."""
    if path.startswith("/auth/"):
        # GoTrue's codes are snake_case words; a PostgREST code or SQLSTATE becomes the nearest of them
        code = exc.code if exc.code.islower() else _AUTH_CODES.get(
            exc.status, "validation_failed" if exc.status < 500 else "unexpected_failure")
        return auth_error(exc.status, code, exc.message, exc.headers)
    if path.startswith("/storage/"):
        return storage_error(exc.status, _STORAGE_NAMES.get(exc.status, exc.code or "error"), exc.message, exc.headers)
    return exc.response()


def unexpected(path: str) -> JSONResponse:
    """A bug's answer: still the protocol's JSON, with no internals in it."""
    return shaped(path, ApiError(500, "PGRST500" if not path.startswith(("/auth/", "/storage/")) else "unexpected_failure",
                                 "the server failed to handle this request (it is logged)"))

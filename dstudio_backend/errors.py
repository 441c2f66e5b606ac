"""Database errors as PostgREST reports them: ``{code, message, details, hint}`` with
PostgREST's HTTP status for the SQLSTATE (``PTxyz`` raised by a function means HTTP xyz)."""

from __future__ import annotations

from typing import Any

import psycopg
from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None, hint: Any = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.hint = status, code, message, details, hint

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details, "hint": self.hint}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


_BY_CLASS = {"08": 503, "09": 500, "0L": 403, "0P": 403, "25": 500, "28": 403, "2D": 500, "38": 500,
             "39": 500, "3B": 500, "40": 500, "53": 503, "54": 500, "55": 500, "57": 500, "58": 500,
             "F0": 500, "HV": 500, "P0": 500, "XX": 500}
_BY_CODE = {"23503": 409, "23505": 409, "25006": 405, "P0001": 400, "42883": 404, "42P01": 404,
            "42P17": 500, "40001": 409}


def http_status(sqlstate: str, role: str) -> int:
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    if sqlstate == "42501":
        return 401 if role == "anon" else 403
    return _BY_CODE.get(sqlstate) or _BY_CLASS.get(sqlstate[:2], 400)


def from_database(exc: psycopg.Error, role: str) -> ApiError:
    sqlstate = exc.sqlstate or "XX000"
    diag = exc.diag
    return ApiError(http_status(sqlstate, role), sqlstate, diag.message_primary or str(exc),
                    diag.message_detail, diag.message_hint)

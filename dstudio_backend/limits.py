"""How much a request may send, checked before its body is read.

:class:`Limits` holds the numbers (``dstudio-backend start`` sets them from its options).
:class:`Guard` is the outermost piece of the application inside Starlette's own error
middleware: it picks the limit of the request's route, answers 413 at once when the
declared Content-Length is over it (no byte of the body is read), and counts what is
streamed so a body without a length (chunked) or with a false one stops at the limit too.
It also turns whatever escapes a handler into the protocol's JSON error (a 503 for a database
that is down, a JSON 500 for a bug), so no client ever gets a bare text/plain 500.

Uploads are not capped here: their limit is the bucket's and the file format's, which the
storage handler reads from the database before it reads the body (storage.py)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, BodyTooLarge, shaped, unexpected

log = logging.getLogger("dstudio_backend")

KiB, MiB = 1024, 1024 * 1024


@dataclass
class Limits:
    rest_body: int = 16 * MiB            # /rest/v1: table writes and RPC arguments (an apply_mutations batch)
    auth_body: int = 64 * KiB            # /auth/v1: credentials and user metadata
    storage_json: int = 1 * MiB          # /storage/v1 JSON calls: sign, list, remove, copy, move
    multipart_overhead: int = 64 * KiB   # multipart framing and form fields allowed beside the file
    tus_chunk: int = 64 * MiB            # one PATCH of a resumable upload
    json_depth: int = 256                # nesting of arrays and objects in a JSON body
    signed_url_max_age: int = 7 * 86400  # longest lifetime of a signed URL, in seconds
    signed_upload_age: int = 2 * 3600    # lifetime of a signed upload URL (Storage's own)


# the second path segment after /storage/v1/object/ that is an API verb, not a bucket
_OBJECT_VERBS = {"sign", "list", "move", "copy", "info", "authenticated", "public", "upload"}


def is_upload(method: str, path: str) -> bool:
    """Routes whose body is an object's bytes (limited per bucket by the storage handler)."""
    if method not in ("POST", "PUT") or not path.startswith("/storage/v1/object/"):
        return False
    rest = path[len("/storage/v1/object/"):]
    first = rest.split("/", 1)[0]
    if first == "upload":
        return method == "PUT" and rest.startswith("upload/sign/")
    return first not in _OBJECT_VERBS and "/" in rest


def route_limit(limits: Limits, method: str, path: str) -> int | None:
    if path.startswith("/rest/"):
        return limits.rest_body
    if path.startswith("/auth/"):
        return limits.auth_body
    if is_upload(method, path):
        return None
    if path.startswith("/storage/v1/upload/resumable/"):
        return limits.tus_chunk
    return limits.storage_json


def declared_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                length = int(value)
            except ValueError:
                raise ApiError(400, "PGRST102", "Content-Length is not a number") from None
            if length < 0:
                raise ApiError(400, "PGRST102", "Content-Length is negative")
            return length
    return None


class Guard:
    def __init__(self, app: ASGIApp, limits: Limits | None = None):
        self.app = app
        self.limits = limits or Limits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def answer(exc: ApiError) -> None:
            await shaped(path, exc)(scope, receive, send_tracked)

        try:
            limit = route_limit(self.limits, method, path)
            declared = declared_length(scope)
            if limit is not None and declared is not None and declared > limit:
                # answered before any byte of the body is read (a client sending
                # Expect: 100-continue is told without sending it at all)
                await answer(BodyTooLarge(limit))
                return
            received = 0

            async def receive_counted() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request" and limit is not None:
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLarge(limit)
                return message

            await self.app(scope, receive_counted if limit is not None else receive, send_tracked)
        except ApiError as exc:
            if started:
                raise
            await answer(exc)
        except ClientDisconnect:
            return  # nobody is left to answer
        except Exception:
            log.exception("unhandled error in %s %s", method, path)
            if started:
                raise
            await unexpected(path)(scope, receive, send_tracked)


def parse_json(raw: bytes, max_depth: int = 256, code: str = "PGRST102") -> Any:
    """A JSON body, refused (400) when it is not JSON or nests deeper than ``max_depth``."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ApiError(400, code, f"the body nests JSON deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise ApiError(400, code, f"the body is not valid JSON: {exc}") from None
    # iterative, so the check itself cannot run out of stack
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise ApiError(400, code, f"the body nests JSON deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return value

"""Resumable uploads, as Supabase Storage does them: the TUS 1.0 protocol at
``/storage/v1/upload/resumable`` (create, HEAD for the offset, PATCH chunks).

An upload in progress is a file and a small JSON record under ``<storage>/.uploads``, so it
survives a restart of the server; only the user who began it may continue it. Creating one
checks the caller's rights and the limits up front (a trial insert, rolled back), so a
refused upload is refused before any byte is sent; the object's type comes from its name, as
for a plain upload, not from the client's metadata. The last chunk stores the object through
the same path as a plain upload."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError
from .storage import _check_name, bucket_rules, handler, store_object, trial_write

TUS = {"Tus-Resumable": "1.0.0"}


def _metadata(header: str) -> dict[str, str]:
    out = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if key:
            out[key] = base64.b64decode(value).decode() if value else ""
    return out


def _folder(backend) -> Path:
    folder = backend.files.root / ".uploads"
    folder.mkdir(exist_ok=True)
    return folder


def _load(backend, upload_id: str, claims: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    try:
        uuid.UUID(upload_id)
        record = json.loads((_folder(backend) / f"{upload_id}.json").read_text())
    except (ValueError, FileNotFoundError):
        raise ApiError(404, "not_found", "Upload not found") from None
    if record["owner"] != claims.get("sub"):
        raise ApiError(404, "not_found", "Upload not found")  # not yours: as good as missing
    return record, _folder(backend) / upload_id


@handler
async def create(request: Request, backend) -> Response:
    claims = backend.claims(request)
    meta = _metadata(request.headers.get("upload-metadata", ""))
    bucket, name = meta.get("bucketName", ""), _check_name(meta.get("objectName", ""))
    try:
        length = int(request.headers["upload-length"])
    except (KeyError, ValueError):
        raise ApiError(400, "InvalidRequest", "Upload-Length is required") from None
    if length < 0:
        raise ApiError(400, "InvalidRequest", "Upload-Length must not be negative")
    # the type comes from the name, as for a plain upload; then the same checks the finished
    # upload will meet, before any byte arrives
    content_type = (await bucket_rules(backend, bucket, name)).content_type(name)
    upsert = request.headers.get("x-upsert", "").lower() == "true"
    await trial_write(backend, claims, bucket, name, length, content_type, upsert)
    upload_id = str(uuid.uuid4())
    folder = _folder(backend)
    (folder / upload_id).touch()
    record = {"bucket": bucket, "name": name, "length": length, "content_type": content_type,
              "cache_control": meta.get("cacheControl") or "max-age=3600", "owner": claims.get("sub"),
              "upsert": upsert}
    (folder / f"{upload_id}.json").write_text(json.dumps(record))
    location = f"{str(request.base_url).rstrip('/')}/storage/v1/upload/resumable/{upload_id}"
    return Response(status_code=201, headers={**TUS, "Location": location, "Upload-Offset": "0"})


@handler
async def offset(request: Request, backend) -> Response:
    record, data = _load(backend, request.path_params["upload_id"], backend.claims(request))
    return Response(status_code=200, headers={**TUS, "Upload-Offset": str(data.stat().st_size),
                                              "Upload-Length": str(record["length"]), "Cache-Control": "no-store"})


@handler
async def patch(request: Request, backend) -> Response:
    claims = backend.claims(request)
    upload_id = request.path_params["upload_id"]
    record, data = _load(backend, upload_id, claims)
    current = data.stat().st_size
    if request.headers.get("upload-offset") != str(current):
        raise ApiError(409, "Conflict", f"Upload-Offset must be {current}")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and current + int(declared) > record["length"]:
        raise ApiError(413, "Payload too large", "more bytes than the upload declared")
    with open(data, "ab") as out:
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if current + received > record["length"] or received > backend.limits.tus_chunk:
                    raise ApiError(413, "Payload too large", "more bytes than the upload declared")
                out.write(chunk)
        except ApiError:
            out.truncate(current)  # a refused chunk leaves nothing behind (a dropped one keeps what came)
            raise
        out.flush()
        os.fsync(out.fileno())
    current += received
    if current == record["length"]:
        digest = hashlib.md5()
        with open(data, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        await store_object(backend, claims, record["bucket"], record["name"], data, current, digest.hexdigest(),
                           record["content_type"], record["cache_control"], upsert=record["upsert"])
        (_folder(backend) / f"{upload_id}.json").unlink(missing_ok=True)
    return Response(status_code=204, headers={**TUS, "Upload-Offset": str(current)})


def routes() -> list[Route]:
    return [
        Route("/storage/v1/upload/resumable", create, methods=["POST"]),
        Route("/storage/v1/upload/resumable/{upload_id}", offset, methods=["HEAD"]),
        Route("/storage/v1/upload/resumable/{upload_id}", patch, methods=["PATCH"]),
    ]

"""The Storage subset: upload (``x-upsert``), download, delete, list and signed URLs.

A row in ``storage.objects`` is written as the caller (so RLS on org-scoped paths and the
database's size and type limits apply) and its bytes go to ``<storage_dir>/<id>/<version>``
before the row commits, so a committed row always has its bytes. Bytes whose row is gone
(deleted here, or by a trigger such as an asset row's deletion) are queued in
``storage.deleted_objects`` by the database and removed after each request."""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .errors import ApiError, from_database
from .tokens import TokenError

CHUNK = 1 << 20


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"statusCode": str(status), "error": error, "message": message}, status_code=status)


def _storage_error(exc: ApiError) -> JSONResponse:
    names = {400: "invalid_request", 401: "unauthorized", 403: "unauthorized", 404: "not_found",
             409: "Duplicate", 413: "Payload too large", 415: "invalid_mime_type"}
    return _error(exc.status, names.get(exc.status, "error"), exc.message)


def handler(fn):
    """Storage's error format for whatever a handler raises: database or API errors."""

    @functools.wraps(fn)
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request, request.app.state.backend)
        except psycopg.errors.UniqueViolation:
            return _error(409, "Duplicate", "the object already exists (send x-upsert: true to replace it)")
        except psycopg.Error as exc:
            return _storage_error(from_database(exc, getattr(request.state, "role", "anon")))
        except ApiError as exc:
            return _storage_error(exc)
        except ValueError as exc:
            return _error(400, "InvalidRequest", str(exc))

    return wrapped


def _check_name(name: str) -> str:
    parts = name.split("/")
    if not name or any(p in ("", ".", "..") for p in parts) or "\x00" in name or len(name) > 1024:
        raise ApiError(400, "InvalidKey", f"invalid object name {name!r}")
    return name


class ObjectFiles:
    """The bytes of storage objects on disk, by object id and version."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.incoming = self.root / ".incoming"
        self.incoming.mkdir(exist_ok=True)

    def path(self, object_id: str, version: str) -> Path:
        return self.root / str(object_id) / str(version)

    def place(self, staged: Path, object_id: str, version: str) -> Path:
        target = self.path(object_id, version)
        target.parent.mkdir(exist_ok=True)
        os.replace(staged, target)
        return target

    def drop_other_versions(self, object_id: str, keep: str) -> None:
        folder = self.root / str(object_id)
        for child in folder.glob("*"):
            if child.name != keep:
                child.unlink(missing_ok=True)

    async def purge_deleted(self, db) -> None:
        async with db.as_owner() as conn:
            if (await (await conn.execute("select to_regclass('storage.deleted_objects')")).fetchone())[0] is None:
                return
            cur = await conn.execute("delete from storage.deleted_objects returning id")
            for (object_id,) in await cur.fetchall():
                shutil.rmtree(self.root / str(object_id), ignore_errors=True)


async def _stage_upload(request: Request, files: ObjectFiles) -> tuple[Path, int, str, str, str]:
    """Streams the body to a staging file: (path, size, md5, content type, cache control)."""
    fd, name = tempfile.mkstemp(dir=files.incoming)
    staged = Path(name)
    digest = hashlib.md5()
    size = 0
    content_type = request.headers.get("content-type", "")
    cache_control = request.headers.get("cache-control", "max-age=3600")
    try:
        with os.fdopen(fd, "wb") as out:
            if content_type.startswith("multipart/form-data"):
                form = await request.form(max_part_size=1 << 34)
                upload = form.get("file")
                if upload is None or isinstance(upload, str):
                    raise ApiError(400, "InvalidRequest", "multipart upload without a 'file' part")
                content_type = upload.content_type or "application/octet-stream"
                cache_control = str(form.get("cacheControl") or cache_control)
                while chunk := await upload.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            else:
                async for chunk in request.stream():
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged, size, digest.hexdigest(), content_type or "application/octet-stream", cache_control


@handler
async def upload(request: Request, backend) -> Response:
    bucket, name = request.path_params["bucket"], _check_name(request.path_params["name"])
    claims = backend.claims(request)
    staged, size, md5, content_type, cache_control = await _stage_upload(request, backend.files)
    try:
        object_id = await store_object(backend, claims, bucket, name, staged, size, md5, content_type, cache_control,
                                       upsert=request.headers.get("x-upsert", "").lower() == "true",
                                       replace_only=request.method == "PUT")
    finally:
        staged.unlink(missing_ok=True)
    return JSONResponse({"Key": f"{bucket}/{name}", "Id": object_id})


async def store_object(backend, claims: dict[str, Any], bucket: str, name: str, staged: Path, size: int, md5: str,
                       content_type: str, cache_control: str, upsert: bool, replace_only: bool = False) -> str:
    """Write the object's row as the caller (RLS and the database's limits decide) and put its
    bytes in place before the row commits. Returns the object id."""
    if content_type == "application/octet-stream":
        content_type = mimetypes.guess_type(name)[0] or content_type
    version = uuid.uuid4().hex
    metadata = Jsonb({"size": size, "mimetype": content_type, "eTag": f'"{md5}"', "cacheControl": cache_control,
                      "contentLength": size, "lastModified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    async with backend.db.as_request(claims) as conn:
        if replace_only:
            cur = await conn.execute("update storage.objects set metadata = %s, version = %s, updated_at = now() "
                                     "where bucket_id = %s and name = %s returning id",
                                     (metadata, version, bucket, name))
        else:
            conflict = ("on conflict (bucket_id, name) do update set metadata = excluded.metadata, "
                        "version = excluded.version, owner = excluded.owner, updated_at = now()") if upsert else ""
            cur = await conn.execute(
                "insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version) "
                "values (%s, %s, auth.uid(), auth.uid()::text, %s, %s) " + conflict + " returning id",
                (bucket, name, metadata, version))
        row = await cur.fetchone()
        if row is None:
            raise ApiError(404, "not_found", "Object not found")
        object_id = str(row[0])
        backend.files.place(staged, object_id, version)
    backend.files.drop_other_versions(object_id, version)
    return object_id


async def _find_object(backend, claims: dict[str, Any] | None, bucket: str, name: str) -> dict[str, Any]:
    """The object row, seen as the caller (None: as the server, for a verified signed URL)."""
    db = backend.db
    context = db.as_request(claims) if claims is not None else db.as_owner()
    async with context as conn:
        cur = await conn.cursor(row_factory=dict_row).execute("select id, version, metadata from storage.objects where bucket_id = %s and name = %s",
                                 (bucket, name))
        row = await cur.fetchone()
    if row is None:
        # the same answer whether it is missing or not yours: a guessed path learns nothing
        raise ApiError(404, "not_found", "Object not found")
    return row


def _file_response(backend, row: dict[str, Any], name: str, download: str | None) -> Response:
    path = backend.files.path(row["id"], row["version"])
    if not path.exists():
        raise ApiError(404, "not_found", "Object not found")
    meta = row["metadata"] or {}
    headers = {"ETag": meta.get("eTag", ""), "Cache-Control": meta.get("cacheControl", "no-cache")}
    filename = (download or name.rsplit("/", 1)[-1]) if download is not None else None
    return FileResponse(path, media_type=meta.get("mimetype"), headers=headers, filename=filename)


@handler
async def download(request: Request, backend) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["name"]
    row = await _find_object(backend, backend.claims(request), bucket, name)
    return _file_response(backend, row, name, request.query_params.get("download"))


def _iso_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if isinstance(v, uuid.UUID) else v)
             for k, v in row.items()} for row in rows]


@handler
async def remove(request: Request, backend) -> Response:
    bucket = request.path_params["bucket"]
    claims = backend.claims(request)
    body = await request.json()
    prefixes = body.get("prefixes") if isinstance(body, dict) else None
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        raise ApiError(400, "InvalidRequest", 'the body must be {"prefixes": [object names]}')
    async with backend.db.as_request(claims) as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            "delete from storage.objects where bucket_id = %s and name = any(%s) "
            "returning id, bucket_id, name, owner, metadata, created_at, updated_at", (bucket, prefixes))
        deleted = await cur.fetchall()
    await backend.files.purge_deleted(backend.db)
    return JSONResponse(_iso_rows(deleted))


@handler
async def sign(request: Request, backend) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["name"]
    claims = backend.claims(request)
    body = await request.json()
    try:
        expires_in = int(body.get("expiresIn"))
    except (TypeError, ValueError, AttributeError):
        raise ApiError(400, "InvalidRequest", "expiresIn must be a number of seconds") from None
    if expires_in <= 0:
        raise ApiError(400, "InvalidRequest", "expiresIn must be positive")
    await _find_object(backend, claims, bucket, name)  # only what the caller may read gets signed
    token = backend.tokens.sign_url(f"{bucket}/{name}", expires_in)
    return JSONResponse({"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})


@handler
async def signed_download(request: Request, backend) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["name"]
    try:
        backend.tokens.verify_url(request.query_params.get("token", ""), f"{bucket}/{name}")
    except TokenError as exc:
        return _error(400, "InvalidJWT", exc.message)
    row = await _find_object(backend, None, bucket, name)
    return _file_response(backend, row, name, request.query_params.get("download"))


@handler
async def list_objects(request: Request, backend) -> Response:
    bucket = request.path_params["bucket"]
    claims = backend.claims(request)
    body = await request.json()
    prefix = str(body.get("prefix") or "").strip("/")
    limit, offset = int(body.get("limit") or 100), int(body.get("offset") or 0)
    pattern = prefix.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "/%"
    async with backend.db.as_request(claims) as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            "select id, name, metadata, created_at, updated_at from storage.objects "
            "where bucket_id = %s and (%s = '' or name like %s) order by name limit %s offset %s",
            (bucket, prefix, pattern, limit, offset))
        rows = await cur.fetchall()
    cut = len(prefix) + 1 if prefix else 0
    return JSONResponse([{**row, "name": row["name"][cut:]} for row in _iso_rows(rows)])


@handler
async def list_buckets(request: Request, backend) -> Response:
    claims = backend.claims(request)
    async with backend.db.as_request(claims) as conn:
        cur = await conn.cursor(row_factory=dict_row).execute("select id, name, public, file_size_limit, allowed_mime_types, created_at, "
                                 "updated_at from storage.buckets order by id")
        rows = await cur.fetchall()
    return JSONResponse(_iso_rows(rows))


def routes() -> list[Route]:
    return [
        Route("/storage/v1/bucket", list_buckets, methods=["GET"]),
        Route("/storage/v1/object/sign/{bucket}/{name:path}", sign, methods=["POST"]),
        Route("/storage/v1/object/sign/{bucket}/{name:path}", signed_download, methods=["GET"]),
        Route("/storage/v1/object/list/{bucket}", list_objects, methods=["POST"]),
        Route("/storage/v1/object/authenticated/{bucket}/{name:path}", download, methods=["GET"]),
        Route("/storage/v1/object/{bucket}/{name:path}", upload, methods=["POST", "PUT"]),
        Route("/storage/v1/object/{bucket}/{name:path}", download, methods=["GET"]),
        Route("/storage/v1/object/{bucket}", remove, methods=["DELETE"]),
    ]

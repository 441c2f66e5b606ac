"""The Storage subset: upload (raw body or multipart with any part name, ``x-upsert``),
download, delete, list, copy, move, buckets, signed download URLs (one or many) and signed
upload URLs.

A row in ``storage.objects`` is written as the caller (so RLS on org-scoped paths and the
database's size and type limits apply) and its bytes go to ``<storage_dir>/<id>/<version>``
before the row commits, so a committed row always has its bytes. Bytes whose row is gone
(deleted here, or by a trigger such as an asset row's deletion) are queued in
``storage.deleted_objects`` by the database and removed after the request whose transaction
queued them (the database marks that transaction), and within 30 s when they went otherwise.

An upload is judged before its body is read: the bucket's size limit (and, in ``assets``,
the file format's, as ``check_object_limits`` has them) against the declared length, and a
trial write of the row as the caller (rights, type, duplicates), rolled back. The body is
then streamed to disk and cut off at the limit. An object's content type is the one its
name's extension has (``supported_formats``, else the standard table), never what the
client claims, and must be one the bucket allows: a ``.glb`` is served as
``model/gltf-binary`` whatever header it came with."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import logging
import math
import mimetypes
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .errors import ApiError, from_database, shaped, storage_error
from .limits import parse_json
from .tokens import TokenError

try:
    from python_multipart.multipart import MultipartParser, parse_options_header
except ImportError:  # python-multipart before 0.0.13
    from multipart.multipart import MultipartParser, parse_options_header

CHUNK = 1 << 20
log = logging.getLogger("dstudio_backend")


def _error(status: int, error: str, message: str) -> JSONResponse:
    return storage_error(status, error, message)


def handler(fn):
    """Storage's error format for whatever a handler raises: database or API errors."""

    @functools.wraps(fn)
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request, request.app.state.backend)
        except psycopg.errors.UniqueViolation:
            return _error(409, "Duplicate", "the object already exists (send x-upsert: true to replace it)")
        except psycopg.Error as exc:
            return shaped(request.url.path, from_database(exc, getattr(request.state, "role", "anon")))
        except ApiError as exc:
            return shaped(request.url.path, exc)
        except ValueError as exc:
            return _error(400, "InvalidRequest", str(exc))

    return wrapped


def _check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ApiError(400, "InvalidKey", "an object name must be a string")
    parts = name.split("/")
    if not name or any(p in ("", ".", "..") for p in parts) or "\x00" in name or len(name) > 1024:
        raise ApiError(400, "InvalidKey", f"invalid object name {name!r}")
    return name


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    body = parse_json(raw, request.app.state.backend.limits.json_depth, code="InvalidRequest") if raw else {}
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidRequest", "the body must be a JSON object")
    return body


def extension(name: str) -> str | None:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else None


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

    async def copy(self, source: Path, object_id: str, version: str) -> Path:
        """The same bytes under another object: a hard link where the disk allows one."""
        fd, name = tempfile.mkstemp(dir=self.incoming)
        os.close(fd)
        staged = Path(name)
        try:
            staged.unlink()
            try:
                os.link(source, staged)
            except OSError:
                await asyncio.to_thread(shutil.copyfile, source, staged)
            return self.place(staged, object_id, version)
        finally:
            staged.unlink(missing_ok=True)

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

    async def purge_periodically(self, db, period: float = 30.0) -> None:
        """A request purges what its own transaction queued (the database marks it); rows gone
        any other way (psql, a cascade from the server's own bookkeeping) are caught here."""
        while True:
            await asyncio.sleep(period)
            try:
                await self.purge_deleted(db)
            except Exception as exc:  # the database may be down for a while: the next round tries again
                log.debug("storage: purge failed: %s", exc)


# -- what a bucket takes ----------------------------------------------------------------

@dataclass
class Rules:
    bucket: str
    file_size_limit: int | None
    allowed_types: list[str] | None
    format_type: str | None
    format_limit: int | None

    @property
    def size_limit(self) -> int | None:
        limits = [n for n in (self.file_size_limit, self.format_limit) if n is not None]
        return min(limits) if limits else None

    def content_type(self, name: str) -> str:
        """The type an object of this name is stored and served with: its extension's."""
        guessed = self.format_type or mimetypes.guess_type(name.rsplit("/", 1)[-1])[0]
        if self.allowed_types:
            if guessed not in self.allowed_types:
                shown = f".{extension(name)} files" if extension(name) else "a name without an extension"
                raise ApiError(415, "invalid_mime_type",
                               f"{name}: bucket {self.bucket} takes {', '.join(self.allowed_types)}, and {shown} "
                               f"are {guessed or 'of no known type'}")
            return guessed
        return guessed or "application/octet-stream"


async def bucket_rules(backend, bucket: str, name: str) -> Rules:
    """The bucket's limits and the format of ``name``. The database checks them again on
    every write (check_object_limits); this is for answering before the body is read."""
    ext = extension(name)
    async with backend.db.as_owner() as conn:
        cur = await conn.execute(
            "select b.file_size_limit, b.allowed_mime_types, f.mime_type, f.max_file_size_mb "
            "from storage.buckets b left join public.supported_formats f on f.extension = %s and f.is_active "
            "where b.id = %s", (ext, bucket))
        row = await cur.fetchone()
    if row is None:
        raise ApiError(404, "not_found", f"Bucket not found: {bucket}")
    size_limit, allowed, format_type, format_mb = row
    # as check_object_limits: the format's own limit applies to the assets bucket
    format_limit = format_mb * 1048576 if format_mb is not None and bucket == "assets" else None
    return Rules(bucket, size_limit, list(allowed) if allowed else None, format_type, format_limit)


def _too_large(rules: Rules, name: str) -> ApiError:
    return ApiError(413, "Payload too large",
                    f"{name}: bucket {rules.bucket} takes at most {rules.size_limit} bytes for this file")


async def trial_write(backend, claims: dict[str, Any], bucket: str, name: str, size: int, content_type: str,
                      upsert: bool, replace_only: bool = False) -> None:
    """Writes the object's row as the caller and rolls it back: RLS, the database's limits and
    an existing object refuse the upload before any of its bytes are read."""
    metadata = Jsonb({"size": size, "mimetype": content_type})
    async with backend.db.as_request(claims) as conn:
        if replace_only:
            cur = await conn.execute("update storage.objects set metadata = %s where bucket_id = %s and name = %s "
                                     "returning id", (metadata, bucket, name))
            if await cur.fetchone() is None:
                raise ApiError(404, "not_found", "Object not found")
        else:
            conflict = " on conflict (bucket_id, name) do update set metadata = excluded.metadata" if upsert else ""
            await conn.execute("insert into storage.objects (bucket_id, name, owner, metadata) "
                               "values (%s, %s, auth.uid(), %s)" + conflict, (bucket, name, metadata))
        raise psycopg.Rollback()


# -- receiving bytes --------------------------------------------------------------------

@dataclass
class Staged:
    path: Path
    size: int
    md5: str
    cache_control: str
    user_metadata: dict[str, Any] | None


def _cache_control(value: str | None, default: str = "max-age=3600") -> str:
    value = (value or "").strip()
    if not value:
        return default
    return f"max-age={value}" if value.isdigit() else value


def _user_metadata(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "InvalidRequest", "the object's metadata is not JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "InvalidRequest", "the object's metadata must be a JSON object")
    return value


class _MultipartFile:
    """Streams a multipart body: the file part (the first part with a filename, or a part
    named "" or "file": supabase-js names its part "", supabase-py "file") goes straight to
    ``out``, cut off at ``limit``; the small fields beside it (cacheControl, metadata) are
    kept, at most ``fields_limit`` bytes of them."""

    def __init__(self, out, digest, limit: int | None, fields_limit: int, name: str, rules: Rules):
        self.out, self.digest, self.limit, self.fields_limit = out, digest, limit, fields_limit
        self.name, self.rules = name, rules
        self.size = 0
        self.fields: dict[str, bytearray] = {}
        self.field_bytes = 0
        self.found = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._target: str | None = None   # "file", a field name, or None (ignored)

    def callbacks(self) -> dict[str, Any]:
        return {"on_part_begin": self._begin, "on_header_field": self._hfield, "on_header_value": self._hvalue,
                "on_header_end": self._hend, "on_headers_finished": self._headers_done, "on_part_data": self._data}

    def _begin(self) -> None:
        self._disposition = b""
        self._target = None

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _hend(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._disposition)
        field = options.get(b"name", b"").decode("utf-8", "replace")
        if not self.found and (b"filename" in options or field in ("", "file")):
            self.found = True
            self._target = "file"
        else:
            self._target = field
            self.fields.setdefault(field, bytearray())

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._target == "file":
            self.size += len(chunk)
            if self.limit is not None and self.size > self.limit:
                raise _too_large(self.rules, self.name)
            self.out.write(chunk)
            self.digest.update(chunk)
        else:
            self.field_bytes += len(chunk)
            if self.field_bytes > self.fields_limit:
                raise ApiError(413, "Payload too large",
                               f"the form fields beside the file are over {self.fields_limit} bytes")
            if self._target is not None:
                self.fields[self._target] += chunk

    def field(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value.decode("utf-8", "replace") if value is not None else None


async def stage_body(request: Request, backend, name: str, rules: Rules) -> Staged:
    """Streams the body to a staging file, refusing it (413) as soon as it passes the limit."""
    files: ObjectFiles = backend.files
    limit = rules.size_limit
    fd, staged_name = tempfile.mkstemp(dir=files.incoming)
    staged = Path(staged_name)
    digest = hashlib.md5()
    content_type = request.headers.get("content-type", "")
    cache_control = _cache_control(request.headers.get("cache-control"))
    meta_header = request.headers.get("x-metadata")
    user_metadata = None
    try:
        with os.fdopen(fd, "wb") as out:
            if content_type.startswith("multipart/form-data"):
                _, params = parse_options_header(content_type)
                boundary = params.get(b"boundary")
                if not boundary:
                    raise ApiError(400, "InvalidRequest", "a multipart upload needs a boundary")
                form = _MultipartFile(out, digest, limit, backend.limits.multipart_overhead, name, rules)
                parser = MultipartParser(boundary, form.callbacks())
                async for chunk in request.stream():
                    parser.write(chunk)
                parser.finalize()
                if not form.found:
                    raise ApiError(400, "InvalidRequest", "the multipart upload has no file part")
                size = form.size
                cache_control = _cache_control(form.field("cacheControl"), cache_control)
                user_metadata = _user_metadata(form.field("metadata"))
            else:
                size = 0
                async for chunk in request.stream():
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise _too_large(rules, name)
                    out.write(chunk)
                    digest.update(chunk)
                if meta_header:
                    try:
                        user_metadata = _user_metadata(base64.b64decode(meta_header).decode())
                    except ValueError:
                        raise ApiError(400, "InvalidRequest", "x-metadata is not base64 JSON") from None
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return Staged(staged, size, digest.hexdigest(), cache_control, user_metadata)


async def receive_object(request: Request, backend, claims: dict[str, Any], bucket: str, name: str,
                         upsert: bool, replace_only: bool = False) -> str:
    """An upload from judging it to its committed row; returns the object id."""
    rules = await bucket_rules(backend, bucket, name)
    content_type = rules.content_type(name)
    multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
    declared = request.headers.get("content-length")
    declared = int(declared) if declared and declared.isdigit() else None
    if rules.size_limit is not None and declared is not None:
        allowance = rules.size_limit + (backend.limits.multipart_overhead if multipart else 0)
        if declared > allowance:
            raise _too_large(rules, name)
    await trial_write(backend, claims, bucket, name, 0 if multipart or declared is None else declared,
                      content_type, upsert, replace_only)
    staged = await stage_body(request, backend, name, rules)
    try:
        return await store_object(backend, claims, bucket, name, staged.path, staged.size, staged.md5, content_type,
                                  staged.cache_control, upsert=upsert, replace_only=replace_only,
                                  user_metadata=staged.user_metadata)
    finally:
        staged.path.unlink(missing_ok=True)


@handler
async def upload(request: Request, backend) -> Response:
    bucket, name = request.path_params["bucket"], _check_name(request.path_params["name"])
    claims = backend.claims(request)
    object_id = await receive_object(request, backend, claims, bucket, name,
                                     upsert=request.headers.get("x-upsert", "").lower() == "true",
                                     replace_only=request.method == "PUT")
    return JSONResponse({"Key": f"{bucket}/{name}", "Id": object_id})


async def store_object(backend, claims: dict[str, Any], bucket: str, name: str, staged: Path, size: int, md5: str,
                       content_type: str, cache_control: str, upsert: bool, replace_only: bool = False,
                       user_metadata: dict[str, Any] | None = None) -> str:
    """Write the object's row as the caller (RLS and the database's limits decide) and put its
    bytes in place before the row commits. Returns the object id."""
    version = uuid.uuid4().hex
    metadata = Jsonb({"size": size, "mimetype": content_type, "eTag": f'"{md5}"', "cacheControl": cache_control,
                      "contentLength": size, "lastModified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    user_meta = Jsonb(user_metadata) if user_metadata is not None else None
    async with backend.db.as_request(claims) as conn:
        if replace_only:
            cur = await conn.execute("update storage.objects set metadata = %s, version = %s, updated_at = now(), "
                                     "user_metadata = coalesce(%s, user_metadata) "
                                     "where bucket_id = %s and name = %s returning id",
                                     (metadata, version, user_meta, bucket, name))
        else:
            conflict = ("on conflict (bucket_id, name) do update set metadata = excluded.metadata, "
                        "version = excluded.version, owner = excluded.owner, user_metadata = excluded.user_metadata, "
                        "updated_at = now()") if upsert else ""
            cur = await conn.execute(
                "insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version, user_metadata) "
                "values (%s, %s, auth.uid(), auth.uid()::text, %s, %s, %s) " + conflict + " returning id",
                (bucket, name, metadata, version, user_meta))
        row = await cur.fetchone()
        if row is None:
            raise ApiError(404, "not_found", "Object not found")
        object_id = str(row[0])
        backend.files.place(staged, object_id, version)
    backend.files.drop_other_versions(object_id, version)
    return object_id


# -- reading ------------------------------------------------------------------------------

async def _find_object(backend, claims: dict[str, Any] | None, bucket: str, name: str) -> dict[str, Any]:
    """The object row, seen as the caller (None: as the server, for a verified signed URL)."""
    db = backend.db
    context = db.as_request(claims) if claims is not None else db.as_owner()
    async with context as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            "select id, version, metadata from storage.objects where bucket_id = %s and name = %s", (bucket, name))
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
    headers = {"ETag": meta.get("eTag", ""), "Cache-Control": meta.get("cacheControl", "no-cache"),
               "X-Content-Type-Options": "nosniff"}
    filename = (download or name.rsplit("/", 1)[-1]) if download is not None else None
    return FileResponse(path, media_type=meta.get("mimetype") or "application/octet-stream", headers=headers,
                        filename=filename)


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
    body = await _json(request)
    prefixes = body.get("prefixes")
    if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
        raise ApiError(400, "InvalidRequest", 'the body must be {"prefixes": [object names]}')
    async with backend.db.as_request(claims) as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            "delete from storage.objects where bucket_id = %s and name = any(%s) "
            "returning id, bucket_id, name, owner, metadata, created_at, updated_at", (bucket, prefixes))
        deleted = await cur.fetchall()
    await backend.files.purge_deleted(backend.db)
    return JSONResponse(_iso_rows(deleted))


# -- signed URLs ------------------------------------------------------------------------

def _expires_in(body: dict[str, Any], cap: int) -> int:
    value = body.get("expiresIn")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ApiError(400, "InvalidRequest", "expiresIn must be a number of seconds")
    try:
        seconds = float(value)
    except ValueError:
        raise ApiError(400, "InvalidRequest", "expiresIn must be a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 1:
        raise ApiError(400, "InvalidRequest", "expiresIn must be at least 1 second")
    if seconds > cap:
        raise ApiError(400, "InvalidRequest", f"expiresIn must be at most {cap} seconds ({cap / 86400:g} days)")
    return int(seconds)


@handler
async def sign(request: Request, backend) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["name"]
    claims = backend.claims(request)
    expires_in = _expires_in(await _json(request), backend.limits.signed_url_max_age)
    await _find_object(backend, claims, bucket, name)  # only what the caller may read gets signed
    token = backend.tokens.sign_url(f"{bucket}/{name}", expires_in)
    return JSONResponse({"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})


@handler
async def sign_many(request: Request, backend) -> Response:
    bucket = request.path_params["bucket"]
    claims = backend.claims(request)
    body = await _json(request)
    expires_in = _expires_in(body, backend.limits.signed_url_max_age)
    paths = body.get("paths")
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths) or len(paths) > 1000:
        raise ApiError(400, "InvalidRequest", 'the body must be {"expiresIn": seconds, "paths": [up to 1000 names]}')
    async with backend.db.as_request(claims) as conn:
        cur = await conn.execute("select name from storage.objects where bucket_id = %s and name = any(%s)",
                                 (bucket, paths))
        readable = {row[0] for row in await cur.fetchall()}
    out = []
    for path in paths:
        if path in readable:
            token = backend.tokens.sign_url(f"{bucket}/{path}", expires_in)
            out.append({"error": None, "path": path, "signedURL": f"/object/sign/{bucket}/{path}?token={token}"})
        else:
            out.append({"error": "Either the object does not exist or you do not have access to it",
                        "path": path, "signedURL": None})
    return JSONResponse(out)


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
async def sign_upload(request: Request, backend) -> Response:
    """A URL anyone holding it may upload this one object to, for two hours, as the signer."""
    bucket, name = request.path_params["bucket"], _check_name(request.path_params["name"])
    claims = backend.claims(request)
    upsert = request.headers.get("x-upsert", "").lower() == "true"
    rules = await bucket_rules(backend, bucket, name)
    await trial_write(backend, claims, bucket, name, 0, rules.content_type(name), upsert)
    token = backend.tokens.sign_url(f"{bucket}/{name}", backend.limits.signed_upload_age, kind="upload",
                                    signer_role=claims["role"], owner=claims.get("sub"), upsert=upsert)
    return JSONResponse({"url": f"/object/upload/sign/{bucket}/{name}?token={token}", "token": token})


@handler
async def signed_upload(request: Request, backend) -> Response:
    bucket, name = request.path_params["bucket"], _check_name(request.path_params["name"])
    try:
        grant = backend.tokens.verify_url(request.query_params.get("token", ""), f"{bucket}/{name}", kind="upload")
    except TokenError as exc:
        return _error(400, "InvalidJWT", exc.message)
    # the upload is written as the one who signed the URL, under the same rules as theirs
    claims: dict[str, Any] = {"role": grant.get("signer_role") or "authenticated"}
    if grant.get("owner"):
        claims.update(sub=grant["owner"], aud="authenticated")
    request.state.role = claims["role"]
    object_id = await receive_object(request, backend, claims, bucket, name, upsert=bool(grant.get("upsert")))
    return JSONResponse({"Key": f"{bucket}/{name}", "Id": object_id})


# -- listing, buckets, copy and move -----------------------------------------------------

@handler
async def list_objects(request: Request, backend) -> Response:
    bucket = request.path_params["bucket"]
    claims = backend.claims(request)
    body = await _json(request)
    prefix = str(body.get("prefix") or "").strip("/")
    limit, offset = int(body.get("limit") or 100), int(body.get("offset") or 0)
    if not (0 <= limit <= 10000 and offset >= 0):
        raise ApiError(400, "InvalidRequest", "limit must be 0 to 10000 and offset not negative")
    pattern = prefix.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "/%"
    async with backend.db.as_request(claims) as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            "select id, name, metadata, created_at, updated_at from storage.objects "
            "where bucket_id = %s and (%s = '' or name like %s) order by name limit %s offset %s",
            (bucket, prefix, pattern, limit, offset))
        rows = await cur.fetchall()
    cut = len(prefix) + 1 if prefix else 0
    return JSONResponse([{**row, "name": row["name"][cut:]} for row in _iso_rows(rows)])


_BUCKET_COLUMNS = "id, name, owner, public, file_size_limit, allowed_mime_types, created_at, updated_at"


@handler
async def list_buckets(request: Request, backend) -> Response:
    claims = backend.claims(request)
    async with backend.db.as_request(claims) as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            f"select {_BUCKET_COLUMNS} from storage.buckets order by id")
        rows = await cur.fetchall()
    return JSONResponse(_iso_rows(rows))


@handler
async def get_bucket(request: Request, backend) -> Response:
    claims = backend.claims(request)
    async with backend.db.as_request(claims) as conn:
        cur = await conn.cursor(row_factory=dict_row).execute(
            f"select {_BUCKET_COLUMNS} from storage.buckets where id = %s", (request.path_params["bucket"],))
        row = await cur.fetchone()
    if row is None:
        return _error(404, "Bucket not found", "Bucket not found")
    return JSONResponse(_iso_rows([row])[0])


def _source_and_destination(body: dict[str, Any]) -> tuple[str, str, str, str]:
    bucket, source, destination = body.get("bucketId"), body.get("sourceKey"), body.get("destinationKey")
    if not all(isinstance(v, str) and v for v in (bucket, source, destination)):
        raise ApiError(400, "InvalidRequest", "the body must name bucketId, sourceKey and destinationKey")
    target_bucket = body.get("destinationBucket") or bucket
    if not isinstance(target_bucket, str):
        raise ApiError(400, "InvalidRequest", "destinationBucket must be a bucket id")
    return bucket, _check_name(source), target_bucket, _check_name(destination)


@handler
async def copy(request: Request, backend) -> Response:
    claims = backend.claims(request)
    bucket, source, target_bucket, destination = _source_and_destination(await _json(request))
    upsert = request.headers.get("x-upsert", "").lower() == "true"
    rules = await bucket_rules(backend, target_bucket, destination)
    content_type = rules.content_type(destination)
    version = uuid.uuid4().hex
    async with backend.db.as_request(claims) as conn:
        dicts = conn.cursor(row_factory=dict_row)
        cur = await dicts.execute("select id, version, metadata, user_metadata from storage.objects "
                                  "where bucket_id = %s and name = %s", (bucket, source))
        row = await cur.fetchone()
        if row is None:
            raise ApiError(404, "not_found", "Object not found")
        metadata = {**(row["metadata"] or {}), "mimetype": content_type,
                    "lastModified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        conflict = ("on conflict (bucket_id, name) do update set metadata = excluded.metadata, version = "
                    "excluded.version, owner = excluded.owner, updated_at = now()") if upsert else ""
        cur = await conn.execute(
            "insert into storage.objects (bucket_id, name, owner, owner_id, metadata, version, user_metadata) "
            "values (%s, %s, auth.uid(), auth.uid()::text, %s, %s, %s) " + conflict + " returning id",
            (target_bucket, destination, Jsonb(metadata), version,
             Jsonb(row["user_metadata"]) if row["user_metadata"] is not None else None))
        object_id = str((await cur.fetchone())[0])
        source_path = backend.files.path(row["id"], row["version"])
        if not source_path.exists():
            raise ApiError(404, "not_found", "Object not found")
        await backend.files.copy(source_path, object_id, version)
    backend.files.drop_other_versions(object_id, version)
    return JSONResponse({"Key": f"{target_bucket}/{destination}", "Id": object_id})


@handler
async def move(request: Request, backend) -> Response:
    claims = backend.claims(request)
    bucket, source, target_bucket, destination = _source_and_destination(await _json(request))
    rules = await bucket_rules(backend, target_bucket, destination)
    content_type = rules.content_type(destination)
    async with backend.db.as_request(claims) as conn:
        # the row keeps its id, so its bytes stay where they are
        cur = await conn.execute(
            "update storage.objects set bucket_id = %s, name = %s, updated_at = now(), "
            "metadata = coalesce(metadata, '{}') || jsonb_build_object('mimetype', %s::text) "
            "where bucket_id = %s and name = %s returning id", (target_bucket, destination, content_type, bucket, source))
        if await cur.fetchone() is None:
            raise ApiError(404, "not_found", "Object not found")
    return JSONResponse({"message": "Successfully moved"})


def routes() -> list[Route]:
    return [
        Route("/storage/v1/bucket", list_buckets, methods=["GET"]),
        Route("/storage/v1/bucket/{bucket}", get_bucket, methods=["GET"]),
        Route("/storage/v1/object/sign/{bucket}", sign_many, methods=["POST"]),
        Route("/storage/v1/object/sign/{bucket}/{name:path}", sign, methods=["POST"]),
        Route("/storage/v1/object/sign/{bucket}/{name:path}", signed_download, methods=["GET"]),
        Route("/storage/v1/object/upload/sign/{bucket}/{name:path}", sign_upload, methods=["POST"]),
        Route("/storage/v1/object/upload/sign/{bucket}/{name:path}", signed_upload, methods=["PUT"]),
        Route("/storage/v1/object/list/{bucket}", list_objects, methods=["POST"]),
        Route("/storage/v1/object/copy", copy, methods=["POST"]),
        Route("/storage/v1/object/move", move, methods=["POST"]),
        Route("/storage/v1/object/authenticated/{bucket}/{name:path}", download, methods=["GET"]),
        Route("/storage/v1/object/{bucket}/{name:path}", upload, methods=["POST", "PUT"]),
        Route("/storage/v1/object/{bucket}/{name:path}", download, methods=["GET"]),
        Route("/storage/v1/object/{bucket}", remove, methods=["DELETE"]),
    ]

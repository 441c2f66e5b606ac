"""Cloud jobs from the desktop, one function per step, for the CLI and the UI alike: the
server's quote (price, breakdown, balance), the photos uploaded (resumably, each file once by
its sha256) and the job submitted with an idempotency key (a retried submission is the same job
and the same hold), following, cancelling and listing jobs, the balance and its ledger, and a
finished job's mesh landing in a project through ``geometry.add_reconstruction``, the door a
local reconstruction's mesh takes too.

A short balance is found from the quote before anything is uploaded (and the server's own 402
at submission says the same): ``ShortBalance`` carries the price and the balance."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ..core import Version
from ..core.progress import CancelToken, ProgressCallback, check, no_progress
from ..errors import Cancelled, DStudioError
from ..jobs.cloud import CloudJob
from ..store import Workspace
from ..store.syncstate import SyncState
from ..sync.client import BackendClient, Offline, Rejected
from ..sync.engine import SyncEngine
from ..sync.runner import engine_for, open_workspace
from ..sync.session import Session
from .changes import OpenEditor
from .geometry import ImportResult, add_reconstruction

PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".tif": "image/tiff",
               ".tiff": "image/tiff", ".bmp": "image/bmp", ".webp": "image/webp"}
ENDED = ("completed", "failed", "cancelled")
SUBMIT_TRIES = 3  # a submission whose answer was lost is sent again with the same key


class ShortBalance(DStudioError):
    """The organisation cannot pay for the job: nothing was uploaded and no job was made."""

    def __init__(self, credits: int, balance: int) -> None:
        self.credits, self.balance = credits, balance
        super().__init__(f"this job costs {credits} credits and the organisation has {balance}: buy credits or ask "
                         "the organisation's owner for more (dstudio credits shows the balance), or run it on this "
                         "computer for free")


@dataclass
class Cloud:
    """A signed-in connection: the client with a fresh token and the organisation jobs go to."""

    client: BackendClient
    org_id: str

    def close(self) -> None:
        self.client.close()


def connect(ws: Workspace, client: Optional[BackendClient] = None, session: Optional[Session] = None) -> Cloud:
    """The signed-in session's connection (``DStudioError`` when signed out, ``Offline`` when the
    server cannot be reached). ``session`` stands in for the keyring's (a refreshed one is then
    kept in the object only)."""
    if session is not None:
        engine = SyncEngine(ws, client or BackendClient(session.url, session.anon_key), session,
                            persist_session=lambda fresh: None)
    else:
        engine = engine_for(ws, client)
    engine.ensure_token()
    return Cloud(engine.client, engine.org_id())


@dataclass
class Photo:
    path: Path
    sha256: str
    size: int

    @property
    def storage_path_ext(self) -> str:
        return self.path.suffix.lower().lstrip(".")


@dataclass
class Quote:
    credits: int
    balance: int
    sufficient: bool
    quality: str
    images: int
    breakdown: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        b = self.breakdown
        parts = [f"{b.get('base_credits', 0)} base"]
        if b.get("images"):
            parts.append(f"{b['images']} photos × {b.get('per_image_credits', 0)}")
        if b.get("target_credits"):
            parts.append(f"{b['target_credits']} for the formats")
        level = "preset" if self.raw.get("job_type") == "export" else "quality"
        return (f"{self.credits} credits ({' + '.join(parts)}, at {self.quality} {level} "
                f"{b.get('quality_percent', 100)}%); balance {self.balance}")


@dataclass
class PhotoSet:
    folder: Path
    photos: list[Photo]

    def parameters(self, org_id: str, quality: str) -> dict[str, Any]:
        return {"quality": quality, "folder": self.folder.name or "photos",
                "images": [{"name": p.path.name, "path": f"{org_id}/{p.sha256}.{p.storage_path_ext}",
                            "sha256": p.sha256} for p in self.photos]}

    @property
    def source_format(self) -> str:
        return self.photos[0].storage_path_ext


def photo_set(folder: str | Path) -> PhotoSet:
    """The photos of ``folder`` (its image files, by name) with their hashes."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DStudioError(f"{folder}: not a folder of photos")
    photos = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in PHOTO_TYPES:
            data = path.read_bytes()
            photos.append(Photo(path, hashlib.sha256(data).hexdigest(), len(data)))
    if not photos:
        raise DStudioError(f"{folder}: no photos (.jpg, .png, .tif, .bmp or .webp files)")
    return PhotoSet(folder, photos)


def _quote(cloud: Cloud, job_type: str, source_format: Optional[str], parameters: dict[str, Any],
           target_formats: Optional[list[str]] = None) -> Quote:
    raw = cloud.client.rpc("quote_processing_job", org_id=cloud.org_id, job_type=job_type,
                           source_format=source_format, parameters=parameters, target_formats=target_formats or [])
    return Quote(credits=int(raw["credits"]), balance=int(raw["balance"]), sufficient=bool(raw["sufficient"]),
                 quality=str(raw["quality"]), images=int(raw.get("images") or 0), breakdown=raw.get("breakdown") or {},
                 raw=raw)


def quote_reconstruction(cloud: Cloud, photos: PhotoSet, quality: str = "normal") -> Quote:
    """What the server would hold for reconstructing ``photos`` at ``quality``, and the balance."""
    return _quote(cloud, "reconstruct", photos.source_format, photos.parameters(cloud.org_id, quality))


def upload_photos(cloud: Cloud, photos: PhotoSet, progress: ProgressCallback = no_progress,
                  cancel: Optional[CancelToken] = None) -> int:
    """Each photo's bytes once at ``<org_id>/<sha256>.<ext>`` (resumable; the same bytes twice,
    or bytes already there, are not sent again). Returns how many files were sent."""
    sent, seen = 0, set()
    for i, photo in enumerate(photos.photos):
        check(cancel, "upload")
        name = f"{cloud.org_id}/{photo.sha256}.{photo.storage_path_ext}"
        if name not in seen:
            seen.add(name)
            data = photo.path.read_bytes()
            if hashlib.sha256(data).hexdigest() != photo.sha256:
                raise DStudioError(f"{photo.path}: the file changed while it was being sent; start again")
            if cloud.client.upload_resumable("assets", name, data, PHOTO_TYPES[photo.path.suffix.lower()]):
                sent += 1
        progress((i + 1) / len(photos.photos), f"sent {i + 1} of {len(photos.photos)} photos")
    return sent


def _submit(cloud: Cloud, key: str, **args: Any) -> dict[str, Any]:
    for attempt in range(SUBMIT_TRIES):
        try:
            return cloud.client.rpc("submit_processing_job", org_id=cloud.org_id, idempotency_key=key, **args)
        except Offline:
            if attempt == SUBMIT_TRIES - 1:
                raise
            time.sleep(0.5 * (attempt + 1))  # the same key again: the server returns the job it made, if it did
        except Rejected as err:
            if err.status == 402:
                raise _short(cloud, args) from None
            if err.status == 409:
                raise DStudioError(f"the price changed since it was shown ({err.reason}): look at the new "
                                   "quote and submit again") from None
            raise
    raise AssertionError("unreachable")


def _short(cloud: Cloud, args: dict[str, Any]) -> ShortBalance:
    balance = cloud.client.rpc("get_credit_balance", org_id=cloud.org_id)["balance"]
    return ShortBalance(int(args.get("expected_credits") or 0), int(balance))


def submit_reconstruction(cloud: Cloud, photos: PhotoSet, quality: str = "normal", project_id: Optional[str] = None,
                          quote: Optional[Quote] = None, idempotency_key: Optional[str] = None,
                          progress: ProgressCallback = no_progress,
                          cancel: Optional[CancelToken] = None) -> dict[str, Any]:
    """Quote (unless the caller showed one), refuse a short balance before any upload, send the
    photos, then submit the job at exactly the quoted price. Returns the job's row."""
    quote = quote or quote_reconstruction(cloud, photos, quality)
    if not quote.sufficient:
        raise ShortBalance(quote.credits, quote.balance)
    upload_photos(cloud, photos, lambda f, m: progress(0.95 * f, m), cancel)
    check(cancel, "upload")
    if project_id is not None and not cloud.client.select("design_studio_projects", id=f"eq.{project_id}",
                                                          select="id"):
        project_id = None  # not on the server (never synced): the result still lands here by the job
    job = _submit(cloud, idempotency_key or str(uuid.uuid4()), job_type="reconstruct", project_id=project_id,
                  source_format=photos.source_format, parameters=photos.parameters(cloud.org_id, quality),
                  expected_credits=quote.credits)
    progress(1.0, f"submitted job {job['id']}")
    return job


EXPORT_PRESETS = {"normal": "compressed and quantised GLB", "web": "also simplified to half the triangles",
                  "lod": "three levels of detail (all, half, a fifth)"}


def _project_version(ws: Workspace, cloud: Cloud, project_key: str) -> tuple[str, Optional[str]]:
    """The project's id and its newest version's, both as the server knows them (the project
    must have been synced: exports are recorded against it)."""
    project_id = ws.resolve_project(project_key)
    if not cloud.client.select("design_studio_projects", id=f"eq.{project_id}", select="id"):
        raise DStudioError(f"project {project_key!r} is not on the server yet: sync it first (dstudio sync)")
    versions = cloud.client.select("design_studio_versions", project_id=f"eq.{project_id}", select="id",
                                   order="version_number.desc", limit="1")
    return project_id, (versions[0]["id"] if versions else None)


def quote_export(cloud: Cloud, preset: str = "normal") -> Quote:
    return _quote(cloud, "export", "glb", {"quality": preset}, ["glb"])


def submit_export(ws: Workspace, cloud: Cloud, project_key: str, preset: str = "normal",
                  quote: Optional[Quote] = None, idempotency_key: Optional[str] = None) -> dict[str, Any]:
    """The project as a GLB (written here, as a local export), uploaded once by its sha256, and
    a cloud export job optimising it for ``preset`` at the quoted price."""
    from .models import export_project

    if preset not in EXPORT_PRESETS:
        raise DStudioError(f"unknown export preset {preset!r}; use {', '.join(EXPORT_PRESETS)}")
    project_id, version_id = _project_version(ws, cloud, project_key)
    quote = quote or quote_export(cloud, preset)
    if not quote.sufficient:
        raise ShortBalance(quote.credits, quote.balance)
    with tempfile.TemporaryDirectory(prefix="dstudio-export-") as tmp:
        glb = Path(tmp) / "model.glb"
        export_project(ws, project_id, glb)
        data = glb.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    path = f"{cloud.org_id}/{digest}.glb"
    cloud.client.upload_resumable("assets", path, data, "model/gltf-binary")
    return _submit(cloud, idempotency_key or str(uuid.uuid4()), job_type="export", project_id=project_id,
                   source_url=path, source_format="glb", target_formats=["glb"],
                   parameters={"quality": preset, "version_id": version_id, "sha256": digest},
                   expected_credits=quote.credits)


def export_outputs(output: Path, files: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Path]]:
    """Where each file of a cloud export goes: the first (the full model) at ``output``, levels
    of detail beside it as NAME-lod1.glb, NAME-lod2.glb..."""
    placed = []
    for i, f in enumerate(files):
        level = f.get("level")
        placed.append((f, output if i == 0 else output.with_name(f"{output.stem}-{level or i}{output.suffix}")))
    return placed


def write_export(cloud: Cloud, job: dict[str, Any], output: str | Path,
                 cancel: Optional[CancelToken] = None) -> list[Path]:
    """A completed cloud export's files downloaded to ``output`` (and its levels beside it),
    each checked against its sha256 and written whole (a temporary file renamed into place)."""
    from ..atomic import atomic_write

    if job.get("status") != "completed":
        raise DStudioError(f"job {job.get('id')} has no result: it is {job.get('status')}")
    written = []
    for f, path in export_outputs(Path(output), (job.get("outputs") or {}).get("files") or []):
        check(cancel, "downloading the export")
        data = cloud.client.download("assets", f["path"])
        if f.get("sha256") and hashlib.sha256(data).hexdigest() != f["sha256"]:
            raise DStudioError(f"job {job['id']}: {Path(f['path']).name} does not match its sha256")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
        written.append(path)
    if not written:
        raise DStudioError(f"job {job['id']} completed without a file")
    return written


def export_job(ws_home: Path, cloud: Cloud, project_id: str, preset: str, output: str | Path, quote: Quote,
               poll: float = 1.0) -> CloudJob:
    """The cloud export as a ``jobs`` job (what the UI follows): the project's GLB written and sent,
    the job submitted at ``quote``, followed (cancelling it cancels the row: the hold comes back),
    and its files written to ``output``. It runs on a thread, so it opens the workspace at
    ``ws_home`` itself. Its result is ``(row, written paths)``."""
    def submit(progress: ProgressCallback, token: CancelToken) -> dict[str, Any]:
        progress(0.1, "writing the model to send")
        with open_workspace(ws_home) as ws:
            job = submit_export(ws, cloud, project_id, preset, quote=quote)
        progress(1.0, f"submitted job {job['id']}")
        return job

    def finish(row: dict[str, Any], progress: ProgressCallback, token: CancelToken) -> tuple[dict[str, Any], list]:
        progress(0.0, "downloading the optimised model")
        written = write_export(cloud, row, output, token)
        progress(1.0, "done")
        return row, written

    return CloudJob(submit=submit, fetch=lambda job_id: get_job(cloud, job_id),
                    cancel_remote=lambda job_id: cancel_job(cloud, job_id), finish=finish,
                    name="cloud export", poll=poll)


def list_jobs(cloud: Cloud, limit: int = 50) -> list[dict[str, Any]]:
    return cloud.client.select("model_processing_jobs", org_id=f"eq.{cloud.org_id}", order="created_at.desc",
                               limit=str(limit))


def get_job(cloud: Cloud, job_id: str) -> dict[str, Any]:
    try:
        uuid.UUID(job_id)
    except ValueError:
        raise DStudioError(f"{job_id!r} is not a job id") from None
    rows = cloud.client.select("model_processing_jobs", id=f"eq.{job_id}")
    if not rows:
        raise DStudioError(f"no job {job_id} in this organisation")
    return rows[0]


def cancel_job(cloud: Cloud, job_id: str) -> dict[str, Any]:
    """Cancels a queued or running job; its hold comes back."""
    try:
        return cloud.client.rpc("cancel_job", job_id=get_job(cloud, job_id)["id"])
    except Rejected as err:
        raise DStudioError(err.reason) from None


def wait_job(cloud: Cloud, job_id: str, progress: ProgressCallback = no_progress,
             cancel: Optional[CancelToken] = None, poll: float = 1.0,
             timeout: Optional[float] = None) -> dict[str, Any]:
    """Follows the job's row until it ends and returns it. ``cancel`` stops the waiting, not the
    job (that is ``cancel_job``)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = get_job(cloud, job_id)
        progress(float(job.get("progress") or 0.0), describe(job))
        if job["status"] in ENDED:
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise DStudioError(f"job {job_id} has not ended after {timeout:.0f} s ({job['status']})")
        for _ in range(max(1, int(poll / 0.05))):
            if cancel is not None and cancel.cancelled:
                raise Cancelled("waiting for the job")
            time.sleep(0.05)


def describe(job: dict[str, Any]) -> str:
    """One line about a job, as the CLI and the Jobs panel show it."""
    status = job["status"]
    price = f"{job['credits_used']} credits" if job.get("credits_used") is not None else \
        f"{job.get('credits_estimated', 0)} credits held"
    text = f"{job['job_type']} {status} {round(100 * float(job.get('progress') or 0))}% · {price}"
    if status in ("failed", "cancelled") and job.get("error_message") and job["error_message"] != "cancelled":
        text += f" · {job['error_message']}"
    return text


def credits(cloud: Cloud, limit: int = 20) -> dict[str, Any]:
    """The balance and the most recent ledger entries (holds, settlements, refunds), newest first."""
    balance = cloud.client.rpc("get_credit_balance", org_id=cloud.org_id)
    ledger = cloud.client.select("credit_ledger", org_id=f"eq.{cloud.org_id}", order="id.desc", limit=str(limit))
    return {"balance": balance, "ledger": ledger}


def download_result(cloud: Cloud, job: dict[str, Any], folder: Path) -> tuple[Path, dict[str, Any]]:
    """A completed reconstruction job's mesh written into ``folder`` (checked against its sha256),
    with the report ``geometry.add_reconstruction`` takes (naming the worker's asset row, which
    the landed mesh adopts)."""
    if job.get("status") != "completed":
        raise DStudioError(f"job {job.get('id')} has no result: it is {job.get('status')}")
    outputs = job.get("outputs") or {}
    glb = outputs.get("glb") or {}
    if not isinstance(glb, dict) or not isinstance(glb.get("path"), str):
        raise DStudioError(f"job {job['id']} completed without a mesh")
    data = cloud.client.download("assets", glb["path"])
    if glb.get("sha256") and hashlib.sha256(data).hexdigest() != glb["sha256"]:
        raise DStudioError(f"job {job['id']}: the mesh downloaded does not match its sha256")
    report = dict(outputs.get("summary") or {})
    report.setdefault("quality", (job.get("parameters") or {}).get("quality"))
    if isinstance(outputs.get("asset_id"), str):
        # the asset row the worker made: the landed mesh takes it over (one row for the result)
        rows = cloud.client.select("design_studio_assets", id=f"eq.{outputs['asset_id']}",
                                   select="id,created_at,metadata")
        if rows:
            report["asset"] = rows[0]
    name = Path(str(report.get("images_folder") or "reconstruction")).name or "reconstruction"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{job['id'][:8]}.glb"
    path.write_bytes(data)
    return path, report


def _landed_key(job_id: str) -> str:
    return f"cloud_job_landed:{job_id}"


def landed(ws: Workspace, job_id: str) -> bool:
    """Whether this workspace already took the job's result (so it is never added twice)."""
    return SyncState(ws).get(_landed_key(job_id)) is not None


def mark_landed(ws: Workspace, job_id: str, project_id: str) -> None:
    SyncState(ws).set(_landed_key(job_id), project_id)
    forget_waiting(ws, job_id)


WAITING_KEY = "cloud_jobs_waiting"


def waiting(ws: Workspace) -> dict[str, str]:
    """The jobs this workspace submitted whose results have not landed yet: job id -> project id.
    Kept in the workspace, so a restarted app still lands them when they finish."""
    try:
        value = json.loads(SyncState(ws).get(WAITING_KEY) or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def expect_result(ws: Workspace, job_id: str, project_id: str) -> None:
    """Remember that ``job_id``'s result goes into ``project_id`` when it finishes."""
    SyncState(ws).set(WAITING_KEY, json.dumps({**waiting(ws), job_id: project_id}))


def forget_waiting(ws: Workspace, job_id: str) -> None:
    rest = waiting(ws)
    if rest.pop(job_id, None) is not None:
        SyncState(ws).set(WAITING_KEY, json.dumps(rest))


def land_job(ws: Workspace, cloud: Cloud, job: dict[str, Any], project_key: str,
             editor: Optional[OpenEditor] = None,
             picture: Optional[Callable[[ImportResult], np.ndarray]] = None,
             progress: ProgressCallback = no_progress,
             cancel: Optional[CancelToken] = None) -> tuple[ImportResult, Version]:
    """A completed reconstruction job's mesh into the project as asset + node + version, through
    the same function a local run's mesh goes through; the job is remembered as landed."""
    if landed(ws, job["id"]):
        raise DStudioError(f"job {job['id']}'s result is in the project already")
    progress(0.05, "downloading the mesh")
    with tempfile.TemporaryDirectory(prefix="dstudio-cloud-") as tmp:
        path, report = download_result(cloud, job, Path(tmp))
        check(cancel, "landing the result")
        result = add_reconstruction(ws, project_key, path, report, editor=editor, picture=picture,
                                    progress=lambda f, m: progress(0.1 + 0.9 * f, m), cancel=cancel)
    mark_landed(ws, job["id"], result[0].project_id)
    return result


def resubmit(cloud: Cloud, job: dict[str, Any]) -> dict[str, Any]:
    """A failed or cancelled job submitted again as a new job, at today's quote (its photos are
    in storage already)."""
    if job.get("status") not in ("failed", "cancelled"):
        raise DStudioError(f"job {job.get('id')} is {job.get('status')}: only a failed or cancelled job is retried")
    parameters = job.get("parameters") or {}
    quote = _quote(cloud, job["job_type"], job.get("source_format"), parameters, job.get("target_formats"))
    if not quote.sufficient:
        raise ShortBalance(quote.credits, quote.balance)
    return _submit(cloud, str(uuid.uuid4()), job_type=job["job_type"], project_id=job.get("project_id"),
                   source_format=job.get("source_format"), parameters=parameters,
                   target_formats=job.get("target_formats") or [], expected_credits=quote.credits)


def reconstruction_job(cloud: Cloud, photos: PhotoSet, quality: str, project_id: Optional[str],
                       quote: Optional[Quote] = None, poll: float = 1.0) -> CloudJob:
    """The cloud reconstruction as a ``jobs`` job (what the UI follows): uploads and submits,
    follows the row; cancelling it cancels the row. Its result is the completed row."""
    return CloudJob(
        submit=lambda progress, token: submit_reconstruction(cloud, photos, quality, project_id, quote,
                                                             progress=progress, cancel=token),
        fetch=lambda job_id: get_job(cloud, job_id),
        cancel_remote=lambda job_id: cancel_job(cloud, job_id),
        name="cloud reconstruction", poll=poll)


def job_json(job: dict[str, Any]) -> str:
    return json.dumps({k: job.get(k) for k in ("id", "job_type", "status", "progress", "credits_estimated",
                                               "credits_used", "error_message", "retry_count", "created_at",
                                               "completed_at", "outputs")})

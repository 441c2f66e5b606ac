"""What each job type does on a worker, given its claimed row: fetch the inputs from Storage,
run the work, upload the outputs under the organisation's folder and make the asset row (with
the mesh's thumbnail, drawn without Qt or GL by ``thumbnail``).

``reconstruct`` runs the local reconstruction's own code path (``jobs.reconstruct.run_worker``:
``python -m gpu.worker`` as a child process, so a cancel stops it within seconds even inside
C++), with the same report. The asset row's id comes from the job's id, so a job run twice
(its first worker died after uploading) still has one asset."""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable, Optional

from dstudio_desktop.core.progress import CancelToken, ProgressCallback
from dstudio_desktop.errors import DStudioError
from dstudio_desktop.jobs.reconstruct import run_worker
from dstudio_desktop.sync.client import BackendClient, Rejected

log = logging.getLogger("dstudio-worker")
RESUMABLE_ABOVE = 6 * 1024 * 1024  # bytes: larger outputs go up in TUS chunks
ASSET_NAMESPACE = uuid.UUID("4f6b7e52-2f1e-4d8e-9a57-6c0a4b1d2c31")


@dataclass
class Context:
    client: BackendClient
    job: dict[str, Any]
    work: Path
    progress: ProgressCallback
    cancel: CancelToken
    device: str
    check_lease: Callable[[], Any]  # a heartbeat now: raises when the job was cancelled or taken


@dataclass
class Outcome:
    outputs: dict[str, Any]
    credits_used: int
    asset_id: Optional[str] = None  # the id of the row this run made
    undo_table: str = "design_studio_assets"

    def undo(self, client: BackendClient) -> None:
        """Removes the row this run made (the job was cancelled before it completed)."""
        if self.asset_id:
            try:
                client.request("DELETE", f"/rest/v1/{self.undo_table}", params={"id": f"eq.{self.asset_id}"})
            except DStudioError:
                pass


def job_asset_id(job_id: str) -> str:
    """The one asset a job makes, whichever try of it finishes."""
    return str(uuid.uuid5(ASSET_NAMESPACE, f"job:{job_id}"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(context: Context, data: bytes, ext: str, content_type: str) -> dict[str, Any]:
    """Puts ``data`` at ``<org_id>/<sha256>.<ext>`` in ``assets`` (once: bytes already there stay)."""
    digest = sha256(data)
    path = f"{context.job['org_id']}/{digest}.{ext}"
    send = context.client.upload_resumable if len(data) > RESUMABLE_ABOVE else context.client.upload
    send("assets", path, data, content_type)
    return {"path": path, "sha256": digest, "size": len(data)}


def fetch_photos(context: Context, folder: Path) -> list[str]:
    """The job's photos, each checked against its sha256, into ``folder``."""
    images = context.job["parameters"].get("images")
    if not isinstance(images, list) or not images:
        raise DStudioError("the job names no photos (parameters.images)")
    folder.mkdir(parents=True)
    names = []
    for i, image in enumerate(images):
        context.cancel.check("download")
        name = Path(str(image.get("name", ""))).name
        if not name or name in names:
            raise DStudioError(f"photo {i + 1}: missing or repeated file name {image.get('name')!r}")
        try:
            data = context.client.download("assets", str(image["path"]))
        except Rejected as err:
            raise DStudioError(f"photo {name} could not be fetched from storage ({err})") from None
        if image.get("sha256") and sha256(data) != image["sha256"]:
            raise DStudioError(f"photo {name}: its bytes do not match the sha256 it was submitted with")
        (folder / name).write_bytes(data)
        names.append(name)
        context.progress(0.05 * (i + 1) / len(images), f"downloaded {i + 1} of {len(images)} photos")
    return names


def reconstruct(context: Context) -> Outcome:
    job = context.job
    photos = context.work / (str(job["parameters"].get("folder") or "photos"))
    names = fetch_photos(context, photos)
    glb, report_path = context.work / "scan.glb", context.work / "report.json"
    quality = str(job["parameters"].get("quality") or "normal")
    report = run_worker(photos, glb, quality=quality, device=context.device, report_path=report_path,
                        progress=lambda f, m: context.progress(0.05 + 0.9 * f, m), cancel=context.cancel)
    context.cancel.check("reconstruction")
    context.progress(0.96, "uploading the mesh and its report")
    mesh = upload(context, glb.read_bytes(), "glb", "model/gltf-binary")
    report_file = upload(context, report_path.read_bytes(), "json", "application/json")
    thumbnail = _thumbnail(context, glb)
    context.check_lease()  # cancelled while uploading: stop before anything refers to the files
    # charge for the photos the reconstruction could use, never more than the hold
    placed = int(report.get("num_registered") or 0)
    used = max(1, math.ceil(job["credits_estimated"] * min(placed, len(names)) / max(len(names), 1)))
    summary = {k: report.get(k) for k in ("num_images", "num_registered", "quality", "device", "dense_method",
                                          "faces", "vertices", "seconds", "images_folder")}
    summary["images_folder"] = photos.name
    outcome = Outcome(outputs={"glb": mesh, "report": report_file, "summary": summary}, credits_used=used)
    if thumbnail is not None:
        outcome.outputs["thumbnail"] = thumbnail
    if job.get("project_id"):
        outcome.asset_id = job_asset_id(job["id"])
        row = {"id": outcome.asset_id, "project_id": job["project_id"], "asset_type": "mesh",
               "name": f"{photos.name} (cloud reconstruction)"[:256], "url": mesh["path"],
               "file_size": mesh["size"], "sha256": mesh["sha256"],
               "thumbnail_url": thumbnail["path"] if thumbnail else None,
               "metadata": {"job_id": job["id"], "report_url": report_file["path"], "source": "cloud reconstruction",
                            "triangle_count": report.get("faces"), "vertex_count": report.get("vertices")}}
        context.client.request("POST", "/rest/v1/design_studio_assets", json=row,
                               headers={"Prefer": "return=minimal,resolution=merge-duplicates"})
        outcome.outputs["asset_id"] = outcome.asset_id
    context.progress(1.0, "done")
    return outcome


def _thumbnail(context: Context, glb: Path) -> Optional[dict[str, Any]]:
    """The mesh's thumbnail, drawn here without Qt or GL (``thumbnail``), uploaded beside it. A
    picture that cannot be drawn costs the job nothing: the job completes without one."""
    from .thumbnail import thumbnail_png

    try:
        png = thumbnail_png(glb)
    except Exception as err:  # noqa: BLE001 - a thumbnail is a nicety; the mesh is the job's result
        log.warning("job %s: no thumbnail (%s: %s)", context.job["id"], type(err).__name__, err)
        return None
    return upload(context, png, "png", "image/png")


# gltfpack's options per export preset: meshopt compression with its default quantisation, then
# simplification (-si: the fraction of triangles kept); "lod" makes three levels of detail
PRESETS: dict[str, list[tuple[str, list[str]]]] = {
    "normal": [("", ["-cc"])],
    "web": [("", ["-cc", "-si", "0.5"])],
    "lod": [("lod0", ["-cc"]), ("lod1", ["-cc", "-si", "0.5"]), ("lod2", ["-cc", "-si", "0.2"])],
}


def gltfpack(source: Path, output: Path, options: list[str], cancel: CancelToken) -> None:
    """Runs Debian's gltfpack, stopping it when the job is cancelled."""
    program = shutil.which("gltfpack")
    if program is None:
        raise DStudioError("this worker has no gltfpack (apt install gltfpack): it cannot run export jobs")
    proc = subprocess.Popen([program, "-i", str(source), "-o", str(output), *options], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    while proc.poll() is None:
        if cancel.cancelled:
            proc.kill()
            proc.wait()
            cancel.check("export")
        time.sleep(0.05)
    said = (proc.stdout.read() if proc.stdout else "").strip()
    if proc.returncode != 0 or not output.is_file():
        raise DStudioError(f"the model could not be optimised: {said.splitlines()[-1] if said else proc.returncode}")


def export(context: Context) -> Outcome:
    """A project version's GLB (uploaded by the desktop) optimised by gltfpack for its preset,
    recorded in design_studio_exports with the credits it cost."""
    job = context.job
    started = datetime.now(UTC).isoformat()
    targets = list(job.get("target_formats") or [])
    if targets != ["glb"]:
        raise DStudioError(f"a cloud export makes .glb files; export {', '.join(targets)} on this computer (free)")
    if not job.get("project_id"):
        raise DStudioError("an export job names its project")
    preset = str(job["parameters"].get("quality") or "normal")
    if preset not in PRESETS:
        raise DStudioError(f"unknown export preset {preset!r}; use {', '.join(PRESETS)}")
    try:
        data = context.client.download("assets", str(job.get("source_url")))
    except Rejected as err:
        raise DStudioError(f"the model to export could not be fetched from storage ({err})") from None
    expected = job["parameters"].get("sha256")
    if expected and sha256(data) != expected:
        raise DStudioError("the model to export does not match the sha256 it was submitted with")
    source = context.work / "in.glb"
    source.write_bytes(data)
    files = []
    for i, (suffix, options) in enumerate(PRESETS[preset]):
        out = context.work / f"out{('-' + suffix) if suffix else ''}.glb"
        gltfpack(source, out, options, context.cancel)
        files.append({**upload(context, out.read_bytes(), "glb", "model/gltf-binary"), "level": suffix or None})
        context.progress((i + 1) / len(PRESETS[preset]), f"optimised {i + 1} of {len(PRESETS[preset])}")
    context.check_lease()
    outcome = Outcome(outputs={"files": files, "preset": preset, "source_size": len(data)},
                      credits_used=int(job["credits_estimated"]))
    export_id = job_asset_id(job["id"])  # one export row, whichever try finishes
    row = {"id": export_id, "project_id": job["project_id"], "version_id": job["parameters"].get("version_id"),
           "format": "glb", "quality_preset": preset, "output_url": files[0]["path"],
           "file_size": sum(f["size"] for f in files), "credits_used": outcome.credits_used,
           "started_at": started, "completed_at": datetime.now(UTC).isoformat()}
    context.client.request("POST", "/rest/v1/design_studio_exports", json=row,
                           headers={"Prefer": "return=minimal,resolution=merge-duplicates"})
    outcome.outputs["export_id"] = export_id
    outcome.undo_table = "design_studio_exports"
    outcome.asset_id = export_id
    return outcome


HANDLERS: dict[str, Callable[[Context], Outcome]] = {"reconstruct": reconstruct, "export": export}

"""The reconstruction worker (``python -m gpu.worker``) as a local ``ProcessJob``: its JSON-lines
progress relayed, Cancel honoured within seconds (SIGTERM, then SIGKILL after
``CANCEL_GRACE``), the mesh and report staged beside the output and moved into place only
when the worker says it is done, the staging folder removed whatever happens."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional

from ..core.progress import CancelToken, ProgressCallback, no_progress
from ..errors import Cancelled, DStudioError
from .base import run
from .process import ProcessJob, ProcessRun, json_lines

CANCEL_GRACE = 4.0   # seconds the worker gets to stop by itself (and clean up) before it is killed
# the folder holding both packages, so the child finds gpu/ however this one was started
_ROOT = Path(__file__).resolve().parents[2]


class ReconstructionRefused(DStudioError):
    """The worker refused the photo set; ``photos`` is its validation report."""

    def __init__(self, message: str, photos: dict[str, Any]) -> None:
        self.photos = photos
        lines = [message] + [f"{f['file']}: {f['problem']}" for f in photos.get("findings", [])]
        super().__init__("; ".join(lines))


def reconstruction_job(images: Path, output: Path, quality: str = "normal", device: str = "auto",
                       report_path: Optional[Path] = None) -> ProcessJob:
    """A job reconstructing the photos in ``images`` into ``output`` (a .glb) and, when given,
    its report into ``report_path``; its result is the worker's report."""
    output = Path(output)

    def command(staging: Optional[Path]) -> list[str]:
        assert staging is not None
        return [sys.executable, "-m", "gpu.worker", str(images), str(staging / "out.glb"), "--quality", quality,
                "--device", device, "--report", str(staging / "report.json")]

    env = {"PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
    outputs = {"out.glb": output}
    if report_path is not None:
        outputs["report.json"] = Path(report_path)
    return ProcessJob("reconstruction", command, env=env, stdout=json_lines, stage_beside=output,
                      outputs=outputs, finish=_finish, grace=CANCEL_GRACE,
                      cannot_start="cannot start the reconstruction worker")


def _finish(run: ProcessRun) -> dict[str, Any]:
    last = run.last()
    kind = last.get("event")
    if kind == "done" and isinstance(last.get("report"), dict):
        return last["report"]
    if kind == "cancelled":
        raise Cancelled("reconstruction")
    if kind == "error":
        message = str(last.get("message", "unknown error"))
        if isinstance(last.get("photos"), dict):
            raise ReconstructionRefused(message, last["photos"])
        raise DStudioError(message)
    detail = run.last_stderr or f"exit code {run.returncode}"
    raise DStudioError(f"the reconstruction worker stopped unexpectedly ({detail})")


def run_worker(images: Path, output: Path, quality: str = "normal", device: str = "auto",
               report_path: Optional[Path] = None, progress: ProgressCallback = no_progress,
               cancel: Optional[CancelToken] = None) -> dict[str, Any]:
    """The report of a finished reconstruction; raises ``Cancelled``, ``ReconstructionRefused``
    or another ``DStudioError``."""
    return run(reconstruction_job(images, output, quality, device, report_path), progress, cancel)

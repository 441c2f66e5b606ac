"""Running the reconstruction worker (``gpu.worker``) as a child process: its progress
relayed, Cancel honoured within seconds (SIGTERM, then SIGKILL), its work folder and any
partial output removed whatever happens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional

from dstudio_desktop.core.progress import CancelToken, ProgressCallback, no_progress
from dstudio_desktop.errors import Cancelled, DStudioError
from dstudio_desktop.process import terminate_group

CANCEL_GRACE = 4.0   # seconds the worker gets to stop by itself before it is killed


class ReconstructionRefused(DStudioError):
    """The worker refused the photo set; ``photos`` is its validation report."""

    def __init__(self, message: str, photos: dict[str, Any]) -> None:
        self.photos = photos
        lines = [message] + [f"{f['file']}: {f['problem']}" for f in photos.get("findings", [])]
        super().__init__("; ".join(lines))


def run_worker(images: Path, output: Path, quality: str = "normal", device: str = "auto",
               report_path: Optional[Path] = None, progress: ProgressCallback = no_progress,
               cancel: Optional[CancelToken] = None) -> dict[str, Any]:
    """The report of a finished reconstruction; raises ``Cancelled`` or a ``DStudioError``."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # the worker writes into a private folder beside the output (its temporary files too); the
    # result moves into place only when it is done, and the folder goes whatever happens
    staging = Path(tempfile.mkdtemp(prefix=".reconstruct-", dir=output.parent))
    staged_glb, staged_report = staging / "out.glb", staging / "report.json"
    cmd = [sys.executable, "-m", "gpu.worker", str(images), str(staged_glb), "--quality", quality,
           "--device", device, "--report", str(staged_report)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(staging)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                      env.get("PYTHONPATH")]))
    events: list[dict[str, Any]] = []
    stderr: list[str] = []
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
    except OSError as err:
        _remove(staging)
        raise DStudioError(f"cannot start the reconstruction worker ({err.strerror})") from None

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "progress":
                progress(float(event["fraction"]), str(event["message"]))
            else:
                events.append(event)

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            stderr.append(line)
            del stderr[:-40]

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for r in readers:
        r.start()
    try:
        while proc.poll() is None:
            if cancel is not None and cancel.cancelled:
                terminate_group(proc, CANCEL_GRACE)
                raise Cancelled("reconstruction")
            time.sleep(0.05)
        for r in readers:
            r.join(timeout=5)
        last = events[-1] if events else {}
        if last.get("event") == "done":
            from dstudio_desktop.atomic import atomic_write

            os.replace(staged_glb, output)
            if report_path is not None:
                atomic_write(Path(report_path), staged_report.read_bytes())
            return last["report"]
        if last.get("event") == "cancelled":
            raise Cancelled("reconstruction")
        if last.get("event") == "error":
            if "photos" in last:
                raise ReconstructionRefused(last["message"], last["photos"])
            raise DStudioError(last["message"])
        detail = stderr[-1].strip() if stderr else f"exit code {proc.returncode}"
        raise DStudioError(f"the reconstruction worker stopped unexpectedly ({detail})")
    except BaseException:
        if proc.poll() is None:
            terminate_group(proc, CANCEL_GRACE)
        raise
    finally:
        _remove(staging)


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)

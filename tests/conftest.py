"""Shared fixtures: an isolated workspace per test and a way to run the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
_worker_display: subprocess.Popen | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``./dev test`` runs two workers) each worker gets an X server of its
    own, so the GUI tests of one never take the other's keyboard focus or window."""
    global _worker_display
    if not os.environ.get("PYTEST_XDIST_WORKER") or _worker_display is not None:
        return
    if not os.environ.get("DISPLAY") and not os.environ.get("CI"):
        return   # no display wanted: the GUI tests skip themselves
    read, write = os.pipe()
    _worker_display = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()   # Xvfb writes its display number once it accepts clients
    if not number:
        raise RuntimeError("Xvfb did not start for this test worker")
    os.environ["DISPLAY"] = f":{number}"


def _die_with_parent() -> None:
    """The worker's X server ends when the worker does (after Qt has let go of it: ending it
    earlier, in pytest_unconfigure, makes Qt's X connection fail loudly as the worker exits)."""
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty workspace folder, exported as DSTUDIO_HOME."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("DSTUDIO_HOME", str(ws))
    return ws


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def cli(home: Path):
    """Run ``dstudio ARGS`` as a user would, in a subprocess, against ``home``."""

    def run(*args: str, timeout: float = 60, env: dict | None = None) -> CliResult:
        full_env = {**os.environ, "DSTUDIO_HOME": str(home), **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "dstudio_desktop", *args],
            capture_output=True, text=True, timeout=timeout, env=full_env, cwd=REPO,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


def _backend(tmp_path_factory, storage: str):
    from dstudio_backend.process import start_server

    running = start_server(tmp_path_factory.mktemp(storage))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The local Supabase-style backend over its own throwaway PostgreSQL, for the whole run."""
    yield from _backend(tmp_path_factory, "storage")


@pytest.fixture(scope="session")
def cloud_server(tmp_path_factory):
    """A backend of its own for the cloud job tests, so its `reconstruct` queue holds only their jobs."""
    yield from _backend(tmp_path_factory, "cloud-storage")


@pytest.fixture(scope="session")
def synthetic_photos(tmp_path_factory) -> Path:
    """The 24-view synthetic scene (sphere and box on a textured ground), rendered once per run;
    its true cameras are in ``gpu.synthetic.cameras()``. Only images in the folder."""
    from gpu.synthetic import write_photo_set

    folder = tmp_path_factory.mktemp("synthetic") / "photos"
    write_photo_set(folder)
    (folder / "ground_truth.json").rename(folder.parent / "ground_truth.json")
    return folder


BLOCKER = '''import os
with open(os.environ["DSTUDIO_TEST_BLOCKED_LOG"], "a") as log:
    log.write(__name__ + "\\n")
raise ImportError("{name} is not installed (blocked by the test)")
'''


def without_gui(folder: Path) -> tuple[dict[str, str], Path]:
    """An environment in which PySide6 and vispy cannot be imported: stand-in packages first on
    PYTHONPATH that log the attempt (to the returned file) and raise ImportError."""
    blocked = folder / "blocked"
    for name in ("PySide6", "vispy"):
        (blocked / name).mkdir(parents=True, exist_ok=True)
        (blocked / name / "__init__.py").write_text(BLOCKER.replace("{name}", name))
    attempts = folder / "import-attempts.log"
    attempts.write_text("")
    return {"PYTHONPATH": f"{blocked}{os.pathsep}{REPO}", "DSTUDIO_TEST_BLOCKED_LOG": str(attempts)}, attempts


@pytest.fixture(scope="session")
def local_draft_run(synthetic_photos, tmp_path_factory, worker_id) -> dict:
    """The suite's one local draft reconstruction of the 24-view synthetic scene, run as a server
    runs the pipeline (``python -m gpu.worker``, PySide6 and vispy unimportable). Shared by every
    xdist worker: the first to need it makes it under a file lock, the others read what it wrote.
    Returns the paths (``glb``, ``report``) and the run's ``returncode``, ``stdout``, ``stderr``
    and ``attempts`` (the imports it tried of the blocked packages)."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base
    folder = root / "local-draft-run"
    done = folder / "run.json"
    with FileLock(str(root / "local-draft-run.lock")):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            env, attempts = without_gui(folder)
            glb, report = folder / "scan.glb", folder / "report.json"
            proc = subprocess.run([sys.executable, "-m", "gpu.worker", str(synthetic_photos), str(glb), "--quality",
                                   "draft", "--device", "cpu", "--report", str(report)],
                                  cwd=REPO, env={**os.environ, **env, "DSTUDIO_HOME": str(folder / "home")},
                                  capture_output=True, text=True, timeout=1200)
            done.write_text(json.dumps({"glb": str(glb), "report": str(report), "returncode": proc.returncode,
                                        "stdout": proc.stdout, "stderr": proc.stderr,
                                        "attempts": attempts.read_text()}))
    return json.loads(done.read_text())

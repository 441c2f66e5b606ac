"""kill -9 in the middle of a large import leaves the workspace as it was before."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dstudio_desktop.store import Workspace

from ..conftest import REPO


def _big_stl(path: Path, triangles: int) -> None:
    rng = np.random.default_rng(7)
    record = np.zeros(triangles, dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    record["v"] = rng.random((triangles, 3, 3), dtype=np.float32)
    with open(path, "wb") as fh:
        fh.write(b"big".ljust(80, b" "))
        fh.write(np.uint32(triangles).tobytes())
        fh.write(record.tobytes())


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0.8, 1.6, 2.6, 4.0])
def test_kill_during_large_import_keeps_previous_state(home: Path, tmp_path: Path, kill_after: float) -> None:
    big = tmp_path / "big.stl"
    _big_stl(big, 600_000)
    with Workspace() as ws:
        ws.create_project("p")
        ws.save_version("p", "before")
        before = (ws.load_project("p").to_json(), ws.outbox(), [v.id for v in ws.list_versions("p")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "dstudio_desktop", "import", "p", str(big)],
        cwd=REPO, env={**os.environ, "DSTUDIO_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(kill_after)
    finished = proc.poll() is not None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(home / "workspace.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Workspace() as ws:
        after = (ws.load_project("p").to_json(), ws.outbox(), [v.id for v in ws.list_versions("p")])
        if finished:
            pytest.skip("the import finished before the kill; this machine is faster than the test assumes")
        assert after == before
        assert not list((home / "blobs" / "tmp").iterdir())
        # and the workspace still takes new work
        ws.save_version("p", "after the crash")

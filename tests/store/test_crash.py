"""kill -9 at any moment of a large import leaves the workspace before or wholly after it."""

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
from dstudio_desktop.store.blobs import STALE_PART_S

from ..conftest import REPO


def _big_stl(path: Path, triangles: int) -> None:
    rng = np.random.default_rng(7)
    record = np.zeros(triangles, dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    record["v"] = rng.random((triangles, 3, 3), dtype=np.float32)
    with open(path, "wb") as fh:
        fh.write(b"big".ljust(80, b" "))
        fh.write(np.uint32(triangles).tobytes())
        fh.write(record.tobytes())


def _import(home: Path, big: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dstudio_desktop", "import", "p", str(big)],
        cwd=REPO, env={**os.environ, "DSTUDIO_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _state(home: Path) -> tuple:
    with Workspace(home) as ws:
        project = ws.load_project("p")
        assets = ws.list_assets(project.id)
        for asset in assets:
            assert ws.asset_path(asset).is_file(), "an asset row points at missing bytes"
        return project.to_json()["scene_graph"], [a.name for a in assets], len(ws.outbox()), ws.list_versions("p")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A 600k-triangle STL and how long a complete import of it takes here."""
    folder = tmp_path_factory.mktemp("big")
    big = folder / "big.stl"
    _big_stl(big, 600_000)
    home = folder / "timing"
    with Workspace(home) as ws:
        ws.create_project("p")
    start = time.monotonic()
    assert _import(home, big).wait() == 0
    return big, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.15, 0.4, 0.7, 0.85, 0.93, 0.97, 0.995])
def test_kill_during_large_import_leaves_before_or_after(home: Path, big_file, fraction: float) -> None:
    big, duration = big_file
    with Workspace(home) as ws:
        ws.create_project("p")
        ws.save_version("p", "before")
    before = _state(home)
    proc = _import(home, big)
    time.sleep(duration * fraction)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(home / "workspace.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after = _state(home)
    if after != before:  # the commit landed just before the kill: then all of it landed
        graph, assets, outbox, versions = after
        assert [n["name"] for n in graph["nodes"]] == ["big"] and assets == ["big.stl"]
        assert outbox == before[2] + 2  # the asset insert and the project update, together
        assert versions == before[3]
    with Workspace(home) as ws:
        # a temp blob the killed writer was still writing stays while it is fresh (opening a
        # workspace leaves a live writer's alone, and they look the same), and goes once stale
        left = list((home / "blobs" / "tmp").iterdir())
        assert all(p.name.endswith(".part") for p in left)
        assert ws.blobs.clean_partial(now=time.time() + STALE_PART_S + 1) == len(left)
        assert not list((home / "blobs" / "tmp").iterdir())
        ws.save_version("p", "after the crash")  # the workspace still takes new work

"""The reconstruction worker needs neither Qt nor vispy: a server installs ".[reconstruct]" and
runs ``python -m gpu.worker``. Here both are made unimportable (stand-in packages first on
PYTHONPATH that record the attempt and raise ImportError) and a draft reconstruction still
writes its GLB and a report saying what ran. The run is the suite's shared local draft run
(``local_draft_run``), which the cloud tests also score against."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import trimesh

from ..conftest import without_gui

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def test_the_stand_ins_really_shadow_the_installed_packages(tmp_path: Path) -> None:
    env, attempts = without_gui(tmp_path)
    probe = subprocess.run([sys.executable, "-c", "import PySide6"], env={**os.environ, **env}, capture_output=True,
                           text=True)
    assert probe.returncode != 0 and "blocked by the test" in probe.stderr
    assert attempts.read_text() == "PySide6\n"


@pytest.mark.timeout(900)  # the shared run is made in this test's setup when it is the first to need it
def test_draft_reconstruction_runs_with_pyside6_and_vispy_unimportable(local_draft_run: dict) -> None:
    run = local_draft_run
    events = [json.loads(line) for line in run["stdout"].splitlines() if line.startswith("{")]
    assert run["returncode"] == 0, f"{events[-1:]}\n{run['stderr'][-3000:]}"
    assert run["attempts"] == "", "the worker tried to import: " + run["attempts"]
    assert events[-1]["event"] == "done"
    assert any(e["event"] == "progress" for e in events)

    mesh = trimesh.load(run["glb"], force="mesh")
    assert len(mesh.faces) > 100
    report = json.loads(Path(run["report"]).read_text())
    assert report == events[-1]["report"]
    assert report["quality"] == "draft" and report["device"] == "cpu"
    assert report["dense_method"] == "plane sweep (torch, cpu)"
    assert report["num_registered"] == report["num_images"] == 24
    assert report["faces"] == len(mesh.faces)
    assert {"structure", "dense", "fusion", "surface", "export"} <= set(report["timings"])

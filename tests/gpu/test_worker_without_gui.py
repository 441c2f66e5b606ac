"""The reconstruction worker needs neither Qt nor vispy: a server installs ".[reconstruct]" and
runs ``python -m gpu.worker``. Here both are made unimportable (stand-in packages first on
PYTHONPATH that record the attempt and raise ImportError) and a draft reconstruction still
writes its GLB and a report saying what ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import trimesh

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]

BLOCKER = '''import os
with open(os.environ["DSTUDIO_TEST_BLOCKED_LOG"], "a") as log:
    log.write(__name__ + "\\n")
raise ImportError("{name} is not installed (blocked by the test)")
'''


def test_draft_reconstruction_runs_with_pyside6_and_vispy_unimportable(synthetic_photos: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    for name in ("PySide6", "vispy"):
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(BLOCKER.replace("{name}", name))
    attempts = tmp_path / "attempts.log"
    attempts.write_text("")
    out, report_path = tmp_path / "scan.glb", tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(blocked), "DSTUDIO_TEST_BLOCKED_LOG": str(attempts),
           "DSTUDIO_HOME": str(tmp_path / "home")}
    # the stand-ins really shadow the installed packages in this environment
    probe = subprocess.run([sys.executable, "-c", "import PySide6"], env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and "blocked by the test" in probe.stderr
    attempts.write_text("")

    proc = subprocess.run([sys.executable, "-m", "gpu.worker", str(synthetic_photos), str(out), "--quality", "draft",
                           "--device", "cpu", "--report", str(report_path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)

    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, f"{events[-1:]}\n{proc.stderr[-3000:]}"
    assert attempts.read_text() == "", "the worker tried to import: " + attempts.read_text()
    assert events[-1]["event"] == "done"
    assert any(e["event"] == "progress" for e in events)

    mesh = trimesh.load(out, force="mesh")
    assert len(mesh.faces) > 100
    report = json.loads(report_path.read_text())
    assert report == events[-1]["report"]
    assert report["quality"] == "draft" and report["device"] == "cpu"
    assert report["dense_method"] == "plane sweep (torch, cpu)"
    assert report["num_registered"] == report["num_images"] == 24
    assert report["faces"] == len(mesh.faces)
    assert {"structure", "dense", "fusion", "surface", "export"} <= set(report["timings"])

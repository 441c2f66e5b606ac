"""Slicing with the real CuraEngine: layers, estimates, header, findings, refusal, records, cancel."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh

from dstudio_desktop.core.progress import CancelToken
from dstudio_desktop.errors import Cancelled, DStudioError
from dstudio_desktop.printing.printability import check
from dstudio_desktop.printing.service import SliceOptions, slice_target
from dstudio_desktop.printing.slicers import find_slicers
from dstudio_desktop.store import Workspace

from ..conftest import REPO

pytestmark = pytest.mark.skipif(not any(s.usable for s in find_slicers()),
                                reason="CuraEngine with its definitions is not set up (run ./dev setup)")
PLA = 1.24  # g/cm3, as in resources/printing/materials.json


@pytest.fixture
def cube(tmp_path: Path) -> Path:
    path = tmp_path / "cube20.stl"
    trimesh.creation.box((20, 20, 20)).export(path)
    return path


def predicted_grams(side: float, infill: float, wall: float = 0.8, shell: float = 0.8) -> float:
    """Solid walls (2 lines of 0.4 mm) and top/bottom (0.8 mm), the inside at the infill fraction."""
    inner = (side - 2 * wall) ** 2 * (side - 2 * shell)
    solid = side ** 3 - inner
    return (solid + inner * infill / 100) / 1000 * PLA


@pytest.mark.parametrize("infill", [20, 100])
def test_cube_slices_to_the_expected_layers_time_and_grams(home, cube: Path, tmp_path: Path, infill: int) -> None:
    out = tmp_path / "cube.gcode"
    report = slice_target(str(cube), out, SliceOptions(layer_height=0.2, infill=infill, adhesion="none"))
    assert abs(report.layers - 100) <= 1
    assert report.estimated_time_s > 0
    expected = predicted_grams(20, infill)
    assert abs(report.filament_g - expected) / expected < 0.15, (report.filament_g, expected)
    head = out.read_text()[:4000]
    assert f";TIME:{int(round(report.estimated_time_s))}" in head and ";TIME:6666" not in head
    metres = float(re.search(r";Filament used: ([\d.]+)m", head).group(1))
    assert metres == pytest.approx(report.filament_mm / 1000, rel=1e-3) and metres > 0


def test_open_and_self_intersecting_meshes_are_flagged() -> None:
    box = trimesh.creation.box((20, 20, 20))
    open_box = box.copy()
    open_box.update_faces(np.arange(len(box.faces))[2:])
    assert "open_mesh" in {f.code for f in check(open_box, (220, 220, 250))}
    crossed = trimesh.util.concatenate([box, box.copy().apply_translation((10, 5, 3))])
    codes = {f.code for f in check(crossed, (220, 220, 250))}
    assert "self_intersections" in codes
    clean = {f.code for f in check(box, (220, 220, 250))}
    assert clean == set()
    tiny = trimesh.creation.box((0.05, 0.05, 0.05))
    assert "implausible_units" in {f.code for f in check(tiny, (220, 220, 250))}


def test_too_large_part_is_refused_with_scale_to_fit(home, tmp_path: Path) -> None:
    big = tmp_path / "beam.stl"
    trimesh.creation.box((300, 20, 20)).export(big)
    out = tmp_path / "beam.gcode"
    with pytest.raises(DStudioError, match=r"builds at most 220 x 220 x 250 mm.*--scale-to-fit"):
        slice_target(str(big), out, SliceOptions())
    assert not out.exists()
    report = slice_target(str(big), out, SliceOptions(scale_to_fit=True, adhesion="none"))
    assert report.scaled_by < 0.74 and max(report.size_mm) <= 220


def test_no_slicer_on_path_gives_a_clear_message(cli, cube: Path, tmp_path: Path) -> None:
    res = cli("slice", str(cube), "-o", str(tmp_path / "x.gcode"), env={"PATH": str(Path(sys.executable).parent)})
    assert res.returncode == 1
    assert "no slicer found" in res.stderr and "cura-engine" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "x.gcode").exists()


def test_slicing_a_project_node_records_gcode_and_a_print_job(cli, home, cube: Path, tmp_path: Path) -> None:
    cli("new", "bracket")
    node = cli("import", "bracket", str(cube), "--json").json()["nodes"][0]["id"]
    res = cli("slice", f"bracket:{node}", "-o", str(tmp_path / "b.gcode"), "--infill", "30", "--color", "red",
              "--material", "PETG", "--json")
    assert res.returncode == 0, res.stderr
    report = res.json()
    with Workspace(home) as ws:
        jobs = ws.list_print_jobs(report["project_id"])
        assert [j.id for j in jobs] == [report["print_job_id"]]
        job = jobs[0]
        assert (job.material, job.color, job.infill_percent, job.status) == ("PETG", "red", 30, "sliced")
        assert job.estimated_material_grams == pytest.approx(report["filament_g"])
        gcode = ws.get_asset(job.gcode_asset_id)
        assert gcode.asset_type == "gcode" and ws.asset_bytes(gcode) == (tmp_path / "b.gcode").read_bytes()
        assert [r["entity"] for r in ws.outbox()][-2:] == ["asset", "print_job"]


def test_a_repair_makes_a_new_node_and_leaves_the_original(cli, home, tmp_path: Path) -> None:
    box = trimesh.creation.box((20, 20, 20))
    box.update_faces(np.arange(len(box.faces))[1:])  # one triangle missing
    part = tmp_path / "holey.stl"
    box.export(part)
    cli("new", "p")
    cli("import", "p", str(part))
    before = cli("info", "p", "--json").json()
    res = cli("slice", "p", "-o", str(tmp_path / "r.gcode"), "--repair", "holes,normals", "--json")
    assert res.returncode == 0, res.stderr
    assert "open_mesh" not in {f["code"] for f in res.json()["findings"]}
    after = cli("info", "p", "--json").json()
    meshes = {m["node"]: m for m in after["meshes"]}
    assert meshes["holey"]["triangles"] == before["meshes"][0]["triangles"]  # original untouched
    assert meshes["holey (repaired)"]["watertight"] is True


def test_cancel_stops_curaengine_and_writes_nothing(home, tmp_path: Path) -> None:
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=60)
    part = tmp_path / "ball.stl"
    sphere.export(part)
    out = tmp_path / "ball.gcode"
    token = CancelToken()
    started = threading.Event()

    def progress(fraction: float, message: str) -> None:
        if message == "slicing":
            started.set()

    result: list[BaseException] = []

    def work() -> None:
        try:
            slice_target(str(part), out, SliceOptions(layer_height=0.1, infill=40), progress=progress, cancel=token)
        except BaseException as err:  # noqa: BLE001
            result.append(err)

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(60)
    token.cancel()
    thread.join(30)
    assert result and isinstance(result[0], Cancelled)
    assert not out.exists() and not list(tmp_path.glob(".ball.gcode.*"))
    ps = subprocess.run(["pgrep", "-f", f"CuraEngine.*{tmp_path.name}"], capture_output=True, text=True)
    assert ps.stdout.strip() == ""


def test_ctrl_c_in_the_cli_cancels_cleanly(home, tmp_path: Path) -> None:
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=60)
    part = tmp_path / "ball.stl"
    sphere.export(part)
    out = tmp_path / "ball.gcode"
    proc = subprocess.Popen([sys.executable, "-m", "dstudio_desktop", "slice", str(part), "-o", str(out),
                             "--layer-height", "0.1"], cwd=REPO, env={**os.environ, "DSTUDIO_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "slicing cancelled" in err and "Traceback" not in err
    assert not out.exists()


def test_workspace_from_before_print_jobs_upgrades(home) -> None:
    import sqlite3

    with Workspace(home) as ws:
        ws.create_project("old")
    with sqlite3.connect(home / "workspace.sqlite3") as db:
        db.execute("DROP TABLE print_jobs")
        db.execute("PRAGMA user_version=1")
    with Workspace(home) as ws:
        assert ws.list_print_jobs() == []
        assert ws.load_project("old").name == "old"

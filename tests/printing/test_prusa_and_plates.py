"""Both slicers for real (CuraEngine and PrusaSlicer): the same cube gives the same kind of
result; the header is true; a plate of three parts prints as three islands where they stand;
implausible units and a better orientation are asked about."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy import ndimage

from dstudio_desktop.errors import DStudioError
from dstudio_desktop.printing.gcode_header import read_header
from dstudio_desktop.printing.orient import best_orientation
from dstudio_desktop.printing.printability import check
from dstudio_desktop.printing.service import SliceOptions, slice_target
from dstudio_desktop.printing.slicers import find_slicers
from dstudio_desktop.printing.toolpath import read_toolpath

KINDS = {s.kind for s in find_slicers() if s.usable}
pytestmark = pytest.mark.skipif(KINDS != {"cura", "prusa"},
                                reason="CuraEngine and PrusaSlicer are not both set up (run ./dev setup)")


@pytest.fixture
def cube(tmp_path: Path) -> Path:
    path = tmp_path / "cube20.stl"
    trimesh.creation.box((20, 20, 20)).export(path)
    return path


def test_a_cube_slices_alike_in_curaengine_and_prusaslicer_with_true_headers(home, cube: Path, tmp_path: Path):
    reports = {}
    for kind in ("cura", "prusa"):
        out = tmp_path / f"{kind}.gcode"
        report = slice_target(str(cube), out, SliceOptions(slicer=kind, adhesion="none", units="mm"))
        assert report.slicer_kind == kind and abs(report.layers - 100) <= 1, (kind, report.layers)
        reports[kind] = report
        head = read_header(out)
        # every field of the summary block is true: the cube as placed (centred on the 220 mm bed)
        assert [float(head[k]) for k in ("MINX", "MINY", "MINZ", "MAXX", "MAXY", "MAXZ")] == \
            pytest.approx([100, 100, 0, 120, 120, 20], abs=1e-3)
        assert int(head["TIME"]) == round(report.estimated_time_s) and int(head["LAYER_COUNT"]) == report.layers
        assert float(head["Filament used"].rstrip("m")) == pytest.approx(report.filament_mm / 1000, rel=1e-4)
        assert float(head["Layer height"]) == 0.2 and head["FLAVOR"] == "Marlin"
        # and the extrusions really lie within those bounds (one line width of slack)
        lo, hi = read_toolpath(out).bounds()
        assert np.all(lo >= [99.5, 99.5, 0]) and np.all(hi <= [120.5, 120.5, 20.05]), (kind, lo, hi)
    cura, prusa = reports["cura"], reports["prusa"]
    assert abs(cura.estimated_time_s - prusa.estimated_time_s) / cura.estimated_time_s < 0.25
    assert abs(cura.filament_g - prusa.filament_g) / cura.filament_g < 0.25
    assert 3.0 < prusa.filament_g < 5.0   # grams come from PrusaSlicer's own line (filament_density set)


def test_a_profile_that_one_slicer_cannot_drive_is_refused_for_it(home, cube: Path, tmp_path: Path):
    out = tmp_path / "um2.gcode"
    with pytest.raises(DStudioError, match="PrusaSlicer does not support this printer"):
        slice_target(str(cube), out, SliceOptions(slicer="prusa", printer="ultimaker2", units="mm"))
    assert not out.exists()


def first_layer_islands(gcode: Path, cell: float = 0.5) -> list[tuple[np.ndarray, np.ndarray]]:
    """(lo, hi) in XY of each connected region the first layer's extrusions cover."""
    layer = read_toolpath(gcode).layers[0]
    seg = layer.segments[layer.extruding]
    steps = np.linspace(0, 1, 8)[:, None, None]
    pts = (seg[None, :, :2] * (1 - steps) + seg[None, :, 3:5] * steps).reshape(-1, 2)
    grid = np.zeros((int(240 / cell),) * 2, dtype=bool)
    idx = np.floor(pts / cell).astype(int)
    grid[idx[:, 0], idx[:, 1]] = True
    labels, n = ndimage.label(ndimage.binary_dilation(grid, iterations=2))
    boxes = ndimage.find_objects(labels)
    return [(np.array([b[0].start, b[1].start]) * cell, np.array([b[0].stop, b[1].stop]) * cell) for b in boxes]


@pytest.mark.parametrize("kind", ["cura", "prusa"])
def test_a_plate_of_three_parts_prints_three_islands_where_they_stand(cli, kind: str, tmp_path: Path):
    files = []
    for name, mesh in (("cube", trimesh.creation.box((20, 20, 20))),
                       ("post", trimesh.creation.cylinder(radius=8, height=30, sections=48)),
                       ("bar", trimesh.creation.box((40, 10, 6)))):
        files.append(str(tmp_path / f"{name}.stl"))
        mesh.export(files[-1])  # all three centred on the origin: they overlap until arranged
    out = tmp_path / "plate.gcode"
    res = cli("slice", *files, "-o", str(out), "--units", "mm", "--arrange", "--adhesion", "none",
              "--slicer", kind, "--layer-height", "0.3", "--json", timeout=120)
    assert res.returncode == 0, res.stderr
    report = res.json()
    parts = report["parts"]
    assert [p["name"] for p in parts] == ["cube", "post", "bar"]
    islands = first_layer_islands(out)
    assert len(islands) == 3, islands
    for part in parts:
        lo, hi = np.array(part["bounds"][0][:2]), np.array(part["bounds"][1][:2])
        match = [i for i in islands if np.all(np.abs(i[0] - lo) < 2.0) and np.all(np.abs(i[1] - hi) < 2.0)]
        assert len(match) == 1, (part, islands)
    assert report["layers"] == pytest.approx(100, abs=1)  # the tallest part, 30 mm at 0.3 mm


def test_a_tiny_part_is_asked_about_with_its_likely_unit_in_words_a_window_can_show():
    spider = trimesh.creation.box((6.0, 5.0, 2.0))
    units = next(f for f in check(spider, (220, 220, 250)) if f.code == "implausible_units")
    assert "centimetres" in units.message and units.scale == 10 and units.severity == "warning"
    assert "--" not in units.suggestion and units.cli == "--scale 10"
    inches = trimesh.creation.box((9.0, 9.0, 0.5)).apply_scale(1 / 25.4 * 10)  # 3.5 mm: cm would be 35, fine too
    assert next(f for f in check(inches, (220, 220, 250)) if f.code == "implausible_units").scale == 10
    huge = trimesh.creation.box((3000.0, 2000.0, 1000.0))
    found = {f.code: f for f in check(huge, (220, 220, 250))}
    assert found["implausible_units"].scale == 0.1 and "tenths of a millimetre" in found["implausible_units"].message
    assert all("--" not in f.suggestion for f in found.values())
    assert "implausible_units" not in {f.code for f in check(trimesh.creation.box((20, 20, 20)), (220, 220, 250))}


def test_auto_orientation_stands_a_mushroom_on_its_cap():
    stem = trimesh.creation.box((10, 10, 30)).apply_translation((0, 0, 15))
    cap = trimesh.creation.box((50, 50, 5)).apply_translation((0, 0, 32.5))
    mushroom = trimesh.util.concatenate([stem, cap])
    current, best = best_orientation(mushroom)
    assert current.support_mm2 > 2000 and best is not current
    assert best.support_mm2 < 0.1 * current.support_mm2
    down = best.rotation[:3, :3] @ np.array([0, 0, 1.0])
    assert down[2] == pytest.approx(-1, abs=1e-6)  # the cap's top face is now on the bed


@pytest.mark.parametrize("kind", ["cura", "prusa"])
def test_the_quick_path_for_an_stl_file_places_it_as_the_full_path_does(cli, cube: Path, kind: str, tmp_path: Path):
    """``dstudio slice part.stl`` reads and places the file with numpy alone (printing.quick):
    the same true header and the extrusions where the header says, findings from the checks
    beside the slicer, and the second time from the cache."""
    out = tmp_path / "quick.gcode"
    for attempt in range(2):
        res = cli("slice", str(cube), "-o", str(out), "--slicer", kind, "--adhesion", "none", "--json", timeout=120)
        assert res.returncode == 0, res.stderr
        report = res.json()
        assert report["bounds"][0] + report["bounds"][1] == pytest.approx([100, 100, 0, 120, 120, 20], abs=1e-4)
        assert {f["code"] for f in report["findings"]} == set()  # a clean cube, checked (or cached) each time
        head = read_header(out)
        assert [float(head[k]) for k in ("MINX", "MINY", "MAXX", "MAXY", "MAXZ")] == \
            pytest.approx([100, 100, 120, 120, 20], abs=1e-3)
        lo, hi = read_toolpath(out).bounds()
        assert np.all(lo >= [99.5, 99.5, 0]) and np.all(hi <= [120.5, 120.5, 20.05]), (kind, attempt, lo, hi)
    tiny = tmp_path / "tiny.stl"
    trimesh.creation.box((6, 5, 2)).export(tiny)
    res = cli("slice", str(tiny), "-o", str(tmp_path / "tiny.gcode"), "--slicer", kind, "--json", timeout=120)
    assert "implausible_units" in {f["code"] for f in res.json()["findings"]}


def test_an_stl_with_a_coordinate_that_is_not_a_number_is_refused_by_name(cli, cube: Path, tmp_path: Path):
    data = bytearray(cube.read_bytes())
    data[84 + 12 + 4 * 4:84 + 12 + 4 * 5] = np.float32(np.nan).tobytes()   # the first triangle's second corner's y
    broken = tmp_path / "broken.stl"
    broken.write_bytes(bytes(data))
    out = tmp_path / "broken.gcode"
    res = cli("slice", str(broken), "-o", str(out), "--slicer", "cura", timeout=120)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert f"{broken}: the file has coordinates that are not finite numbers" in res.stderr
    assert not out.exists()

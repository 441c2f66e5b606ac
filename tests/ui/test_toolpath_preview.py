"""The toolpath preview of a real CuraEngine G-code: the layer slider, one layer alone, the
feature colours and travel moves, read back from the drawn pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PySide6.QtCore import Qt

from dstudio_desktop.printing.service import SliceOptions, slice_target
from dstudio_desktop.printing.slicers import find_slicers
from dstudio_desktop.ui.toolpath_preview import TRAVEL_COLOUR, ToolpathPreview, feature_colour

SHOTS = Path("/tmp/helpers/shots/printing3")
pytestmark = [pytest.mark.gui, pytest.mark.skipif(not any(s.kind == "cura" and s.usable for s in find_slicers()),
                                                  reason="CuraEngine is not set up (run ./dev setup)")]


def _count(image: np.ndarray, rgb: tuple[float, ...], tol: int = 40) -> int:
    want = np.round(np.asarray(rgb[:3]) * 255)
    return int((np.abs(image[..., :3].astype(int) - want).max(axis=-1) < tol).sum())


def test_the_preview_shows_one_layer_of_the_cube_in_feature_colours(home, qtbot, tmp_path: Path) -> None:
    stl = tmp_path / "cube.stl"
    trimesh.creation.box((20, 20, 20)).export(stl)
    gcode = tmp_path / "cube.gcode"
    slice_target(str(stl), gcode, SliceOptions(slicer="cura", adhesion="none", units="mm"))
    dialog = ToolpathPreview(gcode)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.layer_label.text().startswith("Layer 100 / 100")
    qtbot.mouseClick(dialog.only_layer, Qt.LeftButton)
    dialog.slider.setFocus()
    for _ in range(5):
        qtbot.keyClick(dialog.slider, Qt.Key_PageDown)   # 10 layers a page: 100 -> 50
    assert dialog.layer_label.text().startswith("Layer 50 / 100")
    dialog.view.view_top()
    middle = dialog.view.render()
    walls, infill = _count(middle, feature_colour("wall outer")), _count(middle, feature_colour("fill"))
    skin, travel = _count(middle, feature_colour("skin")), _count(middle, TRAVEL_COLOUR)
    assert walls > 500 and infill > 500 and travel > 20, (walls, infill, travel)
    assert skin < 0.05 * infill   # the middle of a 20% cube is walls and sparse infill, no skin
    drawn = np.argwhere(np.abs(middle[..., :3].astype(int) - np.round(np.array([0.11, 0.11, 0.13]) * 255)).max(-1) > 30)
    (top, left), (bottom, right) = drawn.min(axis=0), drawn.max(axis=0)
    assert 0.85 < (right - left) / (bottom - top) < 1.15   # a square layer, seen from above
    qtbot.mouseClick(dialog.travel, Qt.LeftButton)
    assert _count(dialog.view.render(), TRAVEL_COLOUR) < 0.1 * travel
    qtbot.keyClick(dialog.slider, Qt.Key_Home)          # the first layer: the solid bottom
    assert dialog.layer_label.text().startswith("Layer 1 / 100")
    bottom_layer = dialog.view.render()
    assert _count(bottom_layer, feature_colour("skin")) > 2 * max(_count(bottom_layer, feature_colour("fill")), 1)
    dialog.close()


SMALL_GCODE = """;FLAVOR:Marlin
;LAYER_COUNT:2
;LAYER:0
;TYPE:WALL-OUTER
G1 Z0.2 F3000
G1 X10 Y10
G1 X20 Y10 E1
G1 X20 Y20 E2
;LAYER:1
G1 Z0.4
G1 X10 Y20 E3
G1 X10 Y10 E4
"""


def test_file_menu_opens_a_gcode_file_in_the_preview(window, qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog

    gcode = tmp_path / "elsewhere.gcode"
    gcode.write_text(SMALL_GCODE)
    # the file chooser is the platform's: it answers with the file a person would pick
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(gcode), "G-code"))
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    action = next(a for a in file_menu.actions() if a.text() == "Preview &G-code…")

    action.trigger()    # the File menu's own action, as choosing it in the menu fires it
    qtbot.waitUntil(lambda: getattr(window, "gcode_window", None) is not None, timeout=15000)
    viewer = window.gcode_window
    qtbot.waitExposed(viewer)
    assert viewer.windowTitle() == "Toolpath: elsewhere.gcode"
    assert viewer.layer_label.text().startswith("Layer 2 / 2")
    assert viewer.toolpath.features[1:] == ["wall outer"]
    viewer.close()


def _bad_gcode_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """(file, what its one line must say) for files a person may pick by mistake, or be sent."""
    folder.mkdir()
    empty = folder / "empty.gcode"
    empty.write_bytes(b"")
    prose = folder / "notes.gcode"
    prose.write_text("Shopping list\nmilk, eggs\nG-code is not this.\n")
    binary = folder / "photo.gcode"
    binary.write_bytes(bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)) + b"\0" * 16)
    bgcode = folder / "prusa.bgcode"
    bgcode.write_bytes(b"GCDE\x01\x00\x00\x00" + b"\x00" * 64)
    huge = folder / "huge.gcode"
    with open(huge, "wb") as fh:     # 3 GB declared by the file system, none of it written (sparse)
        fh.truncate(3 << 30)
    hostile = folder / "hostile.gcode"
    hostile.write_text(SMALL_GCODE.replace("G1 X20 Y20 E2", "G1 X1e999 Y20 E2"))
    return {"empty": (empty, "empty"), "prose": (prose, "no layers found"), "binary": (binary, "binary file"),
            "bgcode": (bgcode, "binary G-code"), "huge": (huge, "3.2 GB is more G-code"),
            "hostile": (hostile, "coordinates no printer has")}


def test_bad_gcode_from_the_file_menu_is_one_line_naming_the_file(window, qtbot, tmp_path: Path, monkeypatch) -> None:
    """File > Preview G-code… on an empty, prose, binary, bgcode, huge or hostile file: one
    message box, one line, naming the file and what is wrong with it; no preview, no traceback."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from .conftest import Dialogs

    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    action = next(a for a in file_menu.actions() if a.text() == "Preview &G-code…")
    def answer(box) -> None:
        if isinstance(box, QMessageBox):
            if SHOTS.parent.is_dir():
                SHOTS.mkdir(exist_ok=True)
                box.grab().save(str(SHOTS / f"bad_gcode_{Path(box.text().split(':')[0]).stem}.png"))
            box.button(QMessageBox.Ok).click()

    dialogs = Dialogs(answer)
    try:
        for name, (path, problem) in _bad_gcode_files(tmp_path / "bad").items():
            monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, p=path, **k: (str(p), "G-code"))
            before = len(dialogs.messages)
            action.trigger()
            qtbot.waitUntil(lambda b=before: len(dialogs.messages) > b, timeout=15000)
            qtbot.wait(100)   # a second box would show by now
            assert len(dialogs.messages) == before + 1, (name, dialogs.messages[before:])
            icon, text = dialogs.messages[-1]
            assert text.startswith(str(path)) and problem in text, (name, text)
            assert "\n" not in text and "Traceback" not in text and "internal error" not in text, (name, text)
            assert getattr(window, "gcode_window", None) is None, name
    finally:
        dialogs.stop()


def test_file_menu_print_jobs_previews_a_job_s_gcode(window, qtbot) -> None:
    """File > Print Jobs… lists the open project's jobs; Preview opens the chosen job's G-code
    (the workspace's copy of the asset) in the toolpath preview, named as the asset is."""
    from dstudio_desktop.core import Asset
    from dstudio_desktop.core.records import PrintJob
    from dstudio_desktop.store import sha256_bytes

    data = SMALL_GCODE.encode()
    asset = Asset(project_id=window.project.id, asset_type="gcode", name="bracket.gcode", sha256=sha256_bytes(data),
                  file_size=len(data), media_type="text/x-gcode")
    job = PrintJob(design_project_id=window.project.id, material="PLA", infill_percent=20, layer_height=0.2,
                   gcode_asset_id=asset.id, estimated_time_minutes=3, estimated_material_grams=1, printer_id="ender3")
    window.ws.add_print_job(job, (asset, data))
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    next(a for a in file_menu.actions() if a.text() == "Print &Jobs…").trigger()
    jobs = window.print_jobs_window
    qtbot.waitExposed(jobs)
    assert jobs.table.rowCount() == 1 and jobs.table.item(0, 0).text() == "bracket.gcode"
    assert jobs.table.item(0, 1).text() == "sliced" and not jobs.cancel_button.isEnabled()
    qtbot.mouseClick(jobs.preview_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: getattr(jobs, "preview", None) is not None, timeout=15000)
    qtbot.waitExposed(jobs.preview)
    assert jobs.preview.windowTitle() == "Toolpath: bracket.gcode"
    assert jobs.preview.layer_label.text().startswith("Layer 2 / 2")
    jobs.preview.close()
    jobs.close()

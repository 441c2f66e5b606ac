"""The Print dialog picks the slicer (only those the profiles support), asks about an implausible
unit in words (no command-line flags), and slices with PrusaSlicer for real."""

from __future__ import annotations

from pathlib import Path

import pytest
import trimesh
from PySide6.QtCore import Qt

from dstudio_desktop.printing.slicers import find_slicers
from dstudio_desktop.ui.print_dialog import PrintDialog

pytestmark = [pytest.mark.gui, pytest.mark.skipif({s.kind for s in find_slicers() if s.usable} != {"cura", "prusa"},
                                                  reason="CuraEngine and PrusaSlicer are not both set up")]


def test_a_tiny_part_is_asked_about_then_sliced_with_prusaslicer(cli, home, qtbot, tmp_path: Path) -> None:
    spider = tmp_path / "spider.stl"
    trimesh.creation.box((6.0, 5.0, 2.0)).export(spider)   # 6 mm wide, like assimp's spider
    assert cli("new", "bugs").returncode == 0
    project_id = cli("import", "bugs", str(spider), "--units", "mm", "--json").json()["project_id"]
    dialog = PrintDialog(home, project_id, "bugs")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    kinds = [dialog.slicer.itemData(i) for i in range(dialog.slicer.count())]
    assert kinds == ["cura", "prusa"]
    dialog.printer.setCurrentIndex(dialog.printer.findData("ultimaker2"))   # UltiGCode: CuraEngine only
    prusa_item = dialog.slicer.model().item(kinds.index("prusa"))
    assert not prusa_item.isEnabled() and dialog.slicer.currentData() == "cura"
    dialog.printer.setCurrentIndex(dialog.printer.findData("ender3"))
    assert prusa_item.isEnabled()
    dialog.slicer.setCurrentIndex(kinds.index("prusa"))

    qtbot.mouseClick(dialog.check_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.findings.count() > 0 and not dialog.busy, timeout=30000)
    texts = [dialog.findings.item(i).text() for i in range(dialog.findings.count())]
    assert any("centimetres" in t for t in texts) and not any("--" in t for t in texts), texts
    assert dialog.units_question.isVisible() and "centimetres" in dialog.units_text.text()
    assert "--" not in dialog.units_text.text()
    qtbot.mouseClick(dialog.units_yes, Qt.LeftButton)          # scale it by 10, and check again
    assert dialog.scale.value() == pytest.approx(10)
    qtbot.waitUntil(lambda: not dialog.busy and not dialog.units_question.isVisible(), timeout=30000)
    out = tmp_path / "spider.gcode"
    dialog.slice_to(str(out))
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60000)
    report = dialog.report
    assert report.slicer_kind == "prusa" and "PrusaSlicer" in dialog.estimates.text()
    assert report.size_mm == pytest.approx([60, 50, 20], abs=1e-6) and abs(report.layers - 100) <= 1
    dialog.close()

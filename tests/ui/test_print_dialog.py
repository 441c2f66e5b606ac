"""The Print dialog on the sample project: check, slice with the real CuraEngine, show the G-code."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QPlainTextEdit

from dstudio_desktop.printing.slicers import find_slicers

pytestmark = [pytest.mark.gui, pytest.mark.skipif(not any(s.usable for s in find_slicers()),
                                                  reason="CuraEngine is not set up (run ./dev setup)")]


def _open(window, node_name: str):
    node = next(n for n, _ in window.project.scene_graph.walk() if n.name == node_name)
    window.set_selection([node.id])
    window.print_dialog()
    return window.print_window


def test_print_dialog_checks_slices_and_records(window, qtbot, tmp_path: Path) -> None:
    dialog = _open(window, "Shade")
    qtbot.waitExposed(dialog)
    dialog.check()
    qtbot.waitUntil(lambda: dialog.findings.count() > 0 and not dialog.busy, timeout=30000)
    assert "No problems found" in dialog.findings.item(0).text()
    dialog.infill.setValue(15)
    dialog.color.setText("red")
    out = tmp_path / "shade.gcode"
    dialog.slice_to(str(out))
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60000)
    assert out.is_file() and dialog.report.layers == 450  # the shade is 90 mm tall; 0.2 mm layers
    assert f"{dialog.report.filament_g:.1f} g</b> PLA" in dialog.estimates.text()
    jobs = window.ws.list_print_jobs(window.project.id)
    assert len(jobs) == 1 and jobs[0].color == "red" and jobs[0].infill_percent == 15
    dialog.show_gcode()
    text = dialog.gcode_viewer.findChild(QPlainTextEdit)
    assert ";TIME:6666" not in text.toPlainText() and f";TIME:{int(round(dialog.report.estimated_time_s))}" in text.toPlainText()
    dialog.gcode_viewer.close()
    dialog.close()

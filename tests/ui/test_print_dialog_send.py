"""Sending from the Print dialog to a real OctoPrint (started here, its virtual printer on),
through the real buttons: the Printers dialog adds a server once it accepts the key (a wrong
key is one line there), Send uploads, prints to the end and records the actual time in the
print job row; an unreachable server is one line and keeps the job and its G-code."""

from __future__ import annotations

from pathlib import Path

import pytest
import trimesh
from PySide6.QtCore import Qt

from dstudio_desktop.printing.slicers import find_slicers
from dstudio_desktop.store import Workspace

from ..printing.test_octoprint import (  # noqa: F401 - the module-scoped real OctoPrint fixture
    API_KEY,
    OCTOPRINT,
    VIRTUAL_MATERIAL,
    VIRTUAL_PRINTER,
    _free_port,
    octoprint,
)

SHOTS = Path("/tmp/helpers/shots/printing2")
pytestmark = [pytest.mark.gui, pytest.mark.slow,
              pytest.mark.skipif(not OCTOPRINT.is_file(), reason="OctoPrint is not set up (run ./dev setup)"),
              pytest.mark.skipif(not any(s.kind == "cura" and s.usable for s in find_slicers()),
                                 reason="CuraEngine is not set up (run ./dev setup)")]


def _shot(widget, name: str) -> None:
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        widget.grab().save(str(SHOTS / f"{name}.png"))


def _type(qtbot, field, text: str) -> None:
    field.clear()
    qtbot.keyClicks(field, text)


def test_printers_dialog_and_send_print_to_completion(cli, home, qtbot, test_keyring, octoprint, tmp_path):  # noqa: F811
    from dstudio_desktop.ui.print_dialog import PrintDialog

    (home / "printing").mkdir(parents=True)
    (home / "printing" / "materials.json").write_text(VIRTUAL_MATERIAL)
    (home / "printing" / "printers.json").write_text(VIRTUAL_PRINTER)
    tile = tmp_path / "tile.stl"
    trimesh.creation.box((12, 12, 0.6)).export(tile)   # two layers: a quick print on the virtual printer
    assert cli("new", "shop").returncode == 0
    assert cli("import", "shop", str(tile), "--units", "mm").returncode == 0
    with Workspace(home) as ws:
        project_id = next(p["id"] for p in ws.list_projects() if p["name"] == "shop")
    dialog = PrintDialog(home, project_id, "shop")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.send_button.isEnabled()     # nothing sliced, no printer yet
    dialog.printer.setCurrentIndex(dialog.printer.findData("virtual"))
    dialog.material.setCurrentIndex(dialog.material.findData("ROOMTEMP"))
    dialog.adhesion.setCurrentText("none")
    dialog.layer_height.setValue(0.3)
    dialog.slice_to(str(tmp_path / "tile.gcode"))
    qtbot.waitUntil(lambda: dialog.report is not None and not dialog.busy, timeout=60000)

    qtbot.mouseClick(dialog.servers_button, Qt.LeftButton)
    printers = dialog.servers_window
    qtbot.waitExposed(printers)
    _type(qtbot, printers.name, "shop")
    _type(qtbot, printers.url, octoprint)
    _type(qtbot, printers.key, "WRONGKEY")
    qtbot.mouseClick(printers.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "refused the API key" in printers.status.text(), timeout=15000)
    _shot(printers, "printers_wrong_key")
    qtbot.mouseClick(printers.save_button, Qt.LeftButton)     # not saved while the key is refused
    qtbot.waitUntil(lambda: not printers.busy and "refused" in printers.status.text(), timeout=15000)
    assert printers.servers.count() == 0
    _type(qtbot, printers.key, API_KEY)
    qtbot.mouseClick(printers.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "accepts the key" in printers.status.text(), timeout=15000)
    qtbot.mouseClick(printers.save_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: printers.servers.count() == 1, timeout=15000)
    assert "OctoPrint 1." in printers.status.text()
    assert API_KEY not in (home / "printing" / "servers.json").read_text()
    # a second printer that no longer answers (saved without asking, as if it went away later)
    from dstudio_desktop.printing.print_servers import add_server

    add_server("gone", f"http://127.0.0.1:{_free_port()}", API_KEY, verify=False)
    printers.refresh()
    printers.changed.emit()
    _shot(printers, "printers_added")
    printers.close()

    assert dialog.server.count() == 2 and dialog.send_button.isEnabled()
    dialog.server.setCurrentIndex(dialog.server.findData("gone"))
    job_id = dialog.report.print_job_id
    with Workspace(home) as ws:
        gcode_before = ws.asset_bytes(ws.get_asset(ws.get_print_job(job_id).gcode_asset_id))
    qtbot.mouseClick(dialog.send_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "cannot be reached" in dialog.send_status.text() and not dialog.busy, timeout=20000)
    assert "kept" in dialog.send_status.text() and "\n" not in dialog.send_status.text()
    _shot(dialog, "print_dialog_unreachable")
    with Workspace(home) as ws:
        job = ws.get_print_job(job_id)
        assert job.status == "sliced" and ws.asset_bytes(ws.get_asset(job.gcode_asset_id)) == gcode_before

    dialog.server.setCurrentIndex(dialog.server.findData("shop"))
    qtbot.mouseClick(dialog.send_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Printed on shop" in dialog.send_status.text(), timeout=120000)
    _shot(dialog, "print_dialog_printed")
    with Workspace(home) as ws:
        job = ws.get_print_job(job_id)
        assert job.status == "completed" and job.actual_time_minutes > 0 and job.gcode_url.startswith(octoprint)
    assert f"took {job.actual_time_minutes:.1f} min" in dialog.send_status.text()
    dialog.close()

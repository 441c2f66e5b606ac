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
        assert job.status == "completed" and job.actual_time_minutes > 0 and job.sent_to.startswith(octoprint)
    assert f"took {job.actual_time_minutes:.1f} min" in dialog.send_status.text()
    dialog.close()


def test_preview_a_job_row_and_cancel_its_print_on_the_server(cli, home, qtbot, test_keyring, octoprint,  # noqa: F811
                                                              tmp_path):
    """The Print jobs window's Preview opens the job's G-code; after Send, Cancel print in the
    Print dialog stops the print on the real OctoPrint, and the row says cancelled with its
    G-code kept; a job sent from elsewhere is cancelled from the Print jobs window's button."""
    import httpx

    from dstudio_desktop.printing.print_servers import add_server, send_print_job
    from dstudio_desktop.ui.print_dialog import PrintDialog

    SHOTS_3 = Path("/tmp/helpers/shots/printing3")
    (home / "printing").mkdir(parents=True)
    (home / "printing" / "materials.json").write_text(VIRTUAL_MATERIAL)
    (home / "printing" / "printers.json").write_text(VIRTUAL_PRINTER)
    block = tmp_path / "block.stl"
    trimesh.creation.box((12, 12, 3)).export(block)   # ten layers: a print that lasts while Cancel is pressed
    assert cli("new", "shop").returncode == 0
    assert cli("import", "shop", str(block), "--units", "mm").returncode == 0
    with Workspace(home) as ws:
        project_id = next(p["id"] for p in ws.list_projects() if p["name"] == "shop")
    add_server("shop", octoprint, API_KEY)
    dialog = PrintDialog(home, project_id, "shop")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.printer.setCurrentIndex(dialog.printer.findData("virtual"))
    dialog.material.setCurrentIndex(dialog.material.findData("ROOMTEMP"))
    dialog.adhesion.setCurrentText("none")
    dialog.layer_height.setValue(0.3)
    dialog.slice_to(str(tmp_path / "block.gcode"))
    qtbot.waitUntil(lambda: dialog.report is not None and not dialog.busy, timeout=60000)
    job_id = dialog.report.print_job_id

    # the job's row: Preview opens its G-code (the workspace's copy) in the toolpath preview
    qtbot.mouseClick(dialog.jobs_button, Qt.LeftButton)
    jobs = dialog.jobs_window
    qtbot.waitExposed(jobs)
    assert jobs.table.rowCount() == 1 and jobs.table.item(0, 1).text() == "sliced"
    assert not jobs.cancel_button.isEnabled()
    qtbot.mouseClick(jobs.preview_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: getattr(jobs, "preview", None) is not None, timeout=20000)
    preview = jobs.preview
    qtbot.waitExposed(preview)
    assert preview.windowTitle() == "Toolpath: block.gcode"
    assert preview.layer_label.text().startswith("Layer 10 / 10")
    if SHOTS_3.parent.is_dir():
        SHOTS_3.mkdir(exist_ok=True)
        jobs.grab().save(str(SHOTS_3 / "print_jobs_sliced.png"))
        preview.grab().save(str(SHOTS_3 / "print_job_preview.png"))
    preview.close()

    with Workspace(home) as ws:
        gcode_before = ws.asset_bytes(ws.get_asset(ws.get_print_job(job_id).gcode_asset_id))
    qtbot.mouseClick(dialog.send_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.cancel_print_button.isEnabled(), timeout=60000)   # printing now
    assert dialog.follow_row.isVisible() and "Printing on shop" in dialog.send_status.text()
    if SHOTS_3.parent.is_dir():
        dialog.grab().save(str(SHOTS_3 / "print_dialog_printing.png"))
    qtbot.mouseClick(dialog.cancel_print_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.cancelling is None, timeout=60000)
    assert dialog.send_status.text().startswith("✖ Cancelled on shop"), dialog.send_status.text()
    assert not dialog.follow_row.isVisible()
    if SHOTS_3.parent.is_dir():
        dialog.grab().save(str(SHOTS_3 / "print_dialog_cancelled.png"))
    server_state = httpx.get(f"{octoprint}/api/job", headers={"X-Api-Key": API_KEY}).json()["state"]
    assert not server_state.startswith("Printing"), server_state
    with Workspace(home) as ws:
        job = ws.get_print_job(job_id)
        assert job.status == "cancelled" and job.actual_time_minutes is None and job.completed_at
        assert ws.asset_bytes(ws.get_asset(job.gcode_asset_id)) == gcode_before
        statuses = [r["payload"]["status"] for r in ws.outbox() if r["entity"] == "print_job" and r["op"] == "update"]
        assert statuses[-1] == "cancelled" and "failed" not in statuses

    # sent from elsewhere (another desktop, the command line) and not followed here
    with Workspace(home) as ws:
        assert send_print_job(ws, job_id, "shop", follow=False).status == "printing"
    qtbot.mouseClick(jobs.refresh_button, Qt.LeftButton)
    assert jobs.table.item(0, 1).text() == "printing" and jobs.table.item(0, 7).text() == "shop"
    assert jobs.cancel_button.isEnabled()
    qtbot.mouseClick(jobs.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: jobs.table.item(0, 1).text() == "cancelled", timeout=60000)
    assert "kept" in jobs.status.text() and not jobs.cancel_button.isEnabled()
    if SHOTS_3.parent.is_dir():
        jobs.grab().save(str(SHOTS_3 / "print_jobs_cancelled.png"))
    assert not httpx.get(f"{octoprint}/api/job", headers={"X-Api-Key": API_KEY}).json()["state"].startswith("Printing")
    jobs.close()
    dialog.close()

"""File → Export… in the real window, against the real local server: the cloud presets show the
server's price and the balance before anything is sent; a cloud export waiting in the queue is
cancelled from the dialog (the hold comes back); with a real ``dstudio-worker`` running
gltfpack, the optimised GLB lands where the CLI's ``dstudio export --cloud`` puts it. A local
export is free and is queued for the project's export history."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from ..backend.conftest import set_tier, signup
from ..cloud.conftest import PASSWORD, Worker
from .conftest import Dialogs

pytestmark = [pytest.mark.gui, pytest.mark.slow]
SHOTS = Path(os.environ.get("DSTUDIO_SCREENSHOTS", "/tmp/dstudio-screenshots")) / "cloud-jobs"


def _choose(qtbot, combo, index: int) -> None:
    """Picks an entry as the keyboard does: focus on the box, arrow keys."""
    from PySide6.QtCore import Qt

    combo.window().activateWindow()
    qtbot.waitUntil(combo.window().isActiveWindow, timeout=3000)
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=3000)
    while combo.currentIndex() != index:
        qtbot.keyClick(combo, Qt.Key_Down if combo.currentIndex() < index else Qt.Key_Up)


def _type_path(qtbot, dialog, path: Path) -> None:
    from PySide6.QtCore import Qt

    dialog.path.setFocus()
    dialog.path.selectAll()
    qtbot.keyClick(dialog.path, Qt.Key_Delete)
    qtbot.keyClicks(dialog.path, str(path))


@pytest.mark.timeout(400)
def test_cloud_presets_are_priced_first_cancel_refunds_and_the_result_lands(qtbot, home, tmp_path, cloud_server,
                                                                           test_keyring):
    from PySide6.QtCore import QEvent, QSettings, Qt
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication, QDialogButtonBox
    from vispy import app as vispy_app

    from dstudio_desktop.services.sample import install_sample
    from dstudio_desktop.store import Workspace
    from dstudio_desktop.ui.main_window import MainWindow

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QSettings.setDefaultFormat(QSettings.IniFormat)
    vispy_app.use_app("pyside6")
    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    email = f"ui-export-{uuid.uuid4().hex[:6]}@example.com"
    api = signup(cloud_server, email, PASSWORD)
    org = api.personal_org()
    set_tier(cloud_server, org, "pro")

    def balance() -> int:
        return api.ok(api.rpc("get_credit_balance", org_id=org))["balance"]

    def exports() -> list[dict]:
        return api.ok(api.get("design_studio_exports", project_id=f"eq.{project.id}", order="created_at"))

    ws = Workspace()
    project = install_sample(ws)
    win = MainWindow(ws)
    win.resize(1500, 900)
    win.open_project(project.id)
    win.show()
    qtbot.waitExposed(win)
    person = Dialogs(lambda box: box.close())  # an error box fails the test, and never hangs it
    SHOTS.mkdir(parents=True, exist_ok=True)

    def open_dialog():
        action = next(a for a in win.findChildren(QAction) if a.objectName() == "action_export")
        action.trigger()
        dialog = win.export_window
        qtbot.waitExposed(dialog)
        return dialog

    # signed out: the presets are there, unavailable, with the reason; a local export works
    dialog = open_dialog()
    assert dialog.how.count() == 4 and all("sign in" in dialog.how.itemText(i) for i in (1, 2, 3))
    assert not dialog.how.model().item(1).isEnabled() and "sign in" in dialog.price.text()
    dialog.grab().save(str(SHOTS / "export_dialog_signed_out.png"))
    local = tmp_path / "out" / "lamp.stl"
    _type_path(qtbot, dialog, local)
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Exported" in dialog.status.text(), timeout=30000)
    assert local.stat().st_size > 0
    assert [m["entity"] for m in ws.outbox()][-1] == "export"  # queued for the history, sent on sync
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Close), Qt.LeftButton)
    assert not dialog.isVisible()

    win.sync_status.sign_in(cloud_server.url, email, PASSWORD, cloud_server.anon_key)
    qtbot.waitUntil(lambda: win.sync_label.text().startswith("Up to date"), timeout=60000)
    local_rows = exports()
    assert [(r["format"], r["quality_preset"], r["credits_used"]) for r in local_rows] == [("stl", "local", 0)]

    # signed in: each preset's price from the server, and the balance, before anything is sent
    dialog = open_dialog()
    qtbot.waitUntil(lambda: dialog.how.itemText(2) == "Cloud web — 5 credits", timeout=30000)
    assert dialog.how.itemText(1) == "Cloud normal — 3 credits" and dialog.how.itemText(3) == "Cloud lod — 8 credits"
    out = tmp_path / "out" / "lamp-web.glb"
    _type_path(qtbot, dialog, out)
    _choose(qtbot, dialog.how, 2)
    assert "5 credits" in dialog.price.text() and "balance 100" in dialog.price.text()
    assert dialog.run_button.text() == "Send to the cloud" and dialog.run_button.isEnabled()
    assert exports() == local_rows and balance() == 100  # nothing sent yet
    dialog.grab().save(str(SHOTS / "export_dialog_price.png"))
    # a cloud export makes .glb files: another extension is one plain line, and nothing is sent
    _type_path(qtbot, dialog, tmp_path / "out" / "lamp.obj")
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    assert "lamp.obj: a cloud export writes .glb files" in dialog.status.text() and balance() == 100
    _type_path(qtbot, dialog, out)

    # no worker yet: the job waits in the queue; Cancel cancels it on the server
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "on the server" in dialog.status.text(), timeout=30000)
    assert balance() == 95 and dialog.cancel_button.isEnabled()
    dialog.grab().save(str(SHOTS / "export_dialog_waiting.png"))
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "credits came back" in dialog.status.text(), timeout=15000)
    assert balance() == 100 and not out.exists()
    qtbot.waitUntil(lambda: dialog.how.itemText(2) == "Cloud web — 5 credits", timeout=30000)
    dialog.grab().save(str(SHOTS / "export_dialog_cancelled.png"))

    # a real worker: the optimised file is written where the CLI writes it
    worker = Worker(cloud_server, tmp_path / "worker.log", "--queues", "export", "--once")
    try:
        qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: "Done on the server" in dialog.status.text() or "color:#b00" in dialog.status.text(),
                        timeout=120000)
        assert "Done on the server (5 credits); wrote" in dialog.status.text(), dialog.status.text()
        assert worker.wait(30) == 0
    finally:
        worker.stop()
    data = out.read_bytes()
    assert data[:4] == b"glTF" and b"EXT_meshopt_compression" in data[:4096]
    assert balance() == 95
    qtbot.waitUntil(lambda: "balance 95" in dialog.price.text(), timeout=30000)  # asked again after the export
    assert [(r["quality_preset"], r["credits_used"]) for r in exports()] == [("local", 0), ("web", 5)]
    dialog.grab().save(str(SHOTS / "export_dialog_done.png"))
    assert win.statusBar().currentMessage() == "Exported lamp-web.glb"
    dialog.reject()

    person.stop()
    assert person.messages == [], person.messages
    win.close()
    win.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    ws.close()
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    assert not leaked, f"widgets left open: {leaked}"

"""Cloud reconstruction through the real Reconstruct dialog and Jobs panel: the server's price and
the balance shown before anything starts, the job submitted by clicking, the app closed and opened
again while the job waits, a real ``dstudio-worker`` process running it, and its result landing
in the project as asset + node + version from the Jobs panel of the new window. Signed out, the
cloud choice is disabled with the reason."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from ..backend.conftest import set_tier, signup
from ..cloud.conftest import PASSWORD, Worker, small_photos  # noqa: F401 - small_photos is a fixture
from .conftest import Dialogs

pytestmark = [pytest.mark.gui, pytest.mark.slow]
SHOTS = Path(os.environ.get("DSTUDIO_SCREENSHOTS", "/tmp/dstudio-screenshots")) / "cloud-jobs"




def _open_dialog(qtbot, win):
    from PySide6.QtGui import QAction

    action = next(a for a in win.findChildren(QAction) if a.objectName() == "action_reconstruct_from_photos")
    action.trigger()
    dialog = win.reconstruct_window
    qtbot.waitExposed(dialog)
    return dialog


def _choose(qtbot, combo, index: int) -> None:
    """Picks an entry as the keyboard does: focus on the box, arrow keys."""
    from PySide6.QtCore import Qt

    combo.window().activateWindow()
    qtbot.waitUntil(combo.window().isActiveWindow, timeout=3000)
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=3000)
    while combo.currentIndex() != index:
        qtbot.keyClick(combo, Qt.Key_Down if combo.currentIndex() < index else Qt.Key_Up)


def test_signed_out_the_cloud_is_offered_with_the_reason_it_is_not_available(window, qtbot):
    dialog = _open_dialog(qtbot, window)
    item = dialog.where.model().item(1)
    assert not item.isEnabled() and "sign in" in item.text()
    assert dialog.where.currentData() == "local" and "sign in" in dialog.price.text()
    dialog.reject()


@pytest.mark.timeout(900)  # a pipeline run on a shared 2-core machine
def test_a_cloud_reconstruction_from_the_dialog_lands_after_the_app_restarts(qtbot, home, tmp_path, cloud_server,
                                                                          test_keyring, small_photos):  # noqa: F811
    from PySide6.QtCore import QEvent, QSettings, Qt
    from PySide6.QtWidgets import QApplication, QDialogButtonBox
    from vispy import app as vispy_app

    from dstudio_desktop.services.sample import install_sample
    from dstudio_desktop.store import Workspace
    from dstudio_desktop.ui.main_window import MainWindow

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QSettings.setDefaultFormat(QSettings.IniFormat)
    vispy_app.use_app("pyside6")
    before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
    email = f"ui-cloud-{uuid.uuid4().hex[:6]}@example.com"
    api = signup(cloud_server, email, PASSWORD)
    set_tier(cloud_server, api.personal_org(), "pro")
    ws = Workspace()
    project = install_sample(ws)

    def open_window() -> MainWindow:
        win = MainWindow(ws)
        win.resize(1500, 900)
        win.open_project(project.id)
        win.show()
        qtbot.waitExposed(win)
        return win

    person = Dialogs(lambda box: box.close())  # an error shown fails the test, and never hangs it
    first = open_window()
    first.sync_status.sign_in(cloud_server.url, email, PASSWORD, cloud_server.anon_key)
    qtbot.waitUntil(lambda: first.sync_label.text().startswith("Up to date"), timeout=60000)

    dialog = _open_dialog(qtbot, first)
    dialog.folder.setFocus()
    qtbot.keyClicks(dialog.folder, str(small_photos))
    qtbot.keyClick(dialog.folder, Qt.Key_Return)
    _choose(qtbot, dialog.quality, 0)  # draft
    qtbot.waitUntil(lambda: dialog.where.itemText(1) == "Cloud — 7 credits", timeout=60000)
    assert "balance 100" in dialog.price.text() and "12 photos × 1" in dialog.price.text()
    _choose(qtbot, dialog.where, 1)
    assert dialog.run_button.text() == "Send to the cloud" and not dialog.device.isEnabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "reconstruct_dialog_cloud.png"))
    qtbot.mouseClick(dialog.run_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "on the server" in dialog.status.text(), timeout=60000)
    job_id = dialog.job.job_id
    assert api.ok(api.rpc("get_credit_balance", org_id=api.personal_org()))["balance"] == 93  # the hold

    # closing the dialog and the app leaves the job running on the server
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Close), Qt.LeftButton)
    first.close()
    first.deleteLater()  # gone, as a quit app's window is: nothing of it reads the workspace again
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    second = open_window()
    qtbot.waitUntil(lambda: any(r["id"] == job_id and r["status"] == "queued" for r in second.jobs_dock.rows),
                    timeout=30000)
    versions_before = len(ws.list_versions(project.id))
    nodes_before = {n.id for n, _ in second.project.scene_graph.walk()}
    worker = Worker(cloud_server, tmp_path / "worker.log", "--once")
    try:
        qtbot.waitUntil(lambda: person.messages or len(ws.list_versions(project.id)) > versions_before,
                        timeout=600000)
        assert person.messages == [], person.messages
    finally:
        worker.stop()
        print(worker.text()[-2000:])
    landed = ws.load_project(project.id)
    new = [n for n, _ in landed.scene_graph.walk() if n.id not in nodes_before]
    assert len(new) == 1 and new[0].kind == "mesh"
    assert ws.get_asset(new[0].asset_id).asset_type == "mesh"
    assert any("draft quality" in v.notes for v in ws.list_versions(project.id))
    qtbot.waitUntil(lambda: any(r["id"] == job_id and r["status"] == "completed" for r in second.jobs_dock.rows),
                    timeout=10000)
    second.jobs_dock.raise_()
    qtbot.wait(100)
    second.grab().save(str(SHOTS / "jobs_panel_after_restart.png"))
    person.stop()
    assert person.messages == [], person.messages
    second.close()
    second.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    ws.close()
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before]
    assert not leaked, f"widgets left open: {leaked}"

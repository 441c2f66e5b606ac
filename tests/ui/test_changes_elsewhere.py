"""The open window takes in what was stored elsewhere (a CLI command, another process, a sync
pull) instead of writing its own stale copy over it: both sides' changes are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import trimesh
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from dstudio_desktop.store import Workspace

from ..sync.conftest import team  # noqa: F401 - the fixture: two desktops in one organisation

pytestmark = pytest.mark.gui


def _node(project, name):
    return next((n for n, _ in project.scene_graph.walk() if n.name == name), None)


def _rename_in_outliner(window, qtbot, old: str, new: str) -> str:
    node = _node(window.project, old)
    qtbot.wait(1)  # the tree is rebuilt on the next turn of the event loop
    window.outliner._items[node.id].setText(0, new)
    assert _node(window.project, new) is not None
    return node.id


def _save_with_keyboard(window, qtbot) -> None:
    window.activateWindow()
    window.viewport.canvas.native.setFocus()
    QTest.keyClick(window.viewport.canvas.native, Qt.Key_S, Qt.ControlModifier)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=5000)


def test_a_cli_import_while_the_project_is_open_keeps_the_import_and_the_unsaved_edit(window, qtbot, cli, tmp_path):
    window.editor._autosave.setInterval(600_000)  # the edit must still be unsaved when the import lands
    arm_id = _rename_in_outliner(window, qtbot, "Arm", "Stem")
    assert window.isWindowModified()
    part = tmp_path / "bracket.stl"
    trimesh.creation.box((30, 10, 5)).export(part)
    run = cli("import", window.project.id, str(part))
    assert run.returncode == 0, run.stderr
    qtbot.waitUntil(lambda: _node(window.project, "bracket") is not None, timeout=10000)
    assert window.project.scene_graph.find(arm_id).name == "Stem"     # the window's edit is still there
    assert window.viewport.scene_view.node_views[_node(window.project, "bracket").id]  # and the part is drawn
    # the merge was stored at once (the window had edits): the workspace holds both
    stored = window.ws.load_project(window.project.id)
    assert stored.scene_graph.find(arm_id).name == "Stem" and _node(stored, "bracket") is not None
    assert not window.isWindowModified()
    assert "made elsewhere" in window.statusBar().currentMessage()


def test_the_same_thing_changed_in_both_places_keeps_both_and_says_so(window, qtbot, home):
    window.editor._autosave.setInterval(600_000)
    arm_id = _rename_in_outliner(window, qtbot, "Arm", "Stem")
    versions_before = len(window.ws.list_versions(window.project.id))
    with Workspace(home) as other:  # another process's edit of the same name
        project = other.load_project(window.project.id)
        project.scene_graph.find(arm_id).name = "Neck"
        other.save_project(project)
    _save_with_keyboard(window, qtbot)
    assert window.project.scene_graph.find(arm_id).name == "Stem"
    versions = window.ws.list_versions(window.project.id)
    assert len(versions) == versions_before + 1
    kept = versions[-1]
    assert kept.notes.startswith("Kept from elsewhere")
    assert any(n["name"] == "Neck" for n in _walk(kept.snapshot["scene_graph"]["nodes"]))
    assert window.ws.load_project(window.project.id).scene_graph.find(arm_id).name == "Stem"
    assert f"the other is version {kept.version_number}" in window.statusBar().currentMessage()


def test_without_unsaved_edits_a_change_elsewhere_simply_appears(window, qtbot, home):
    base = _node(window.project, "Base")
    with Workspace(home) as other:
        project = other.load_project(window.project.id)
        project.scene_graph.find(base.id).name = "Foot"
        other.save_project(project)
    qtbot.waitUntil(lambda: window.project.scene_graph.find(base.id).name == "Foot", timeout=5000)
    qtbot.waitUntil(lambda: window.outliner._items[base.id].text(0) == "Foot", timeout=2000)
    assert not window.isWindowModified()
    assert window.project.revision == window.ws.project_revision(window.project.id)


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.get("children", []))


def test_a_sync_pull_during_unsaved_edits_loses_neither_side(team, qtbot, tmp_path: Path):  # noqa: F811
    """Two desktops against the real local server: B's change arrives by a pull while A's window
    has an unsaved edit; after A syncs, the server and B have both."""
    from PySide6.QtCore import QSettings
    from vispy import app as vispy_app

    from dstudio_desktop.services.sample import install_sample
    from dstudio_desktop.ui.main_window import MainWindow

    a, b, _org = team
    project = install_sample(a.ws)
    assert a.sync().state == "up to date"
    assert b.sync().state == "up to date"
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    vispy_app.use_app("pyside6")
    window = MainWindow(a.ws)
    try:
        window.open_project(project.id)
        window.show()
        qtbot.waitExposed(window)
        window.editor._autosave.setInterval(600_000)
        arm_id = _rename_in_outliner(window, qtbot, "Arm", "Stem")

        theirs = b.ws.load_project(project.id)
        base_id = _node(theirs, "Base").id
        theirs.scene_graph.find(base_id).name = "Foot"
        b.ws.save_project(theirs)
        assert b.sync().state == "up to date"

        report = a.sync()  # the pull lands while the window's edit is unsaved
        assert report.state == "up to date" and report.pulled.get("design_studio_projects") == 1
        qtbot.waitUntil(lambda: window.project.scene_graph.find(base_id).name == "Foot", timeout=5000)
        assert window.project.scene_graph.find(arm_id).name == "Stem"
        assert not window.isWindowModified()  # the merge is stored, and queued for the server

        report = a.sync()
        assert report.state == "up to date" and report.conflicts == [] and report.rejected == []
        row = a.api.ok(a.api.get("design_studio_projects", id=f"eq.{project.id}"))[0]
        names = {n["name"] for n in _walk(row["scene_graph"]["nodes"])}
        assert {"Stem", "Foot"} <= names
        assert b.sync().state == "up to date"
        there = b.ws.load_project(project.id)
        assert there.scene_graph.find(arm_id).name == "Stem" and there.scene_graph.find(base_id).name == "Foot"
    finally:
        window.close()


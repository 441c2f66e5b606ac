"""The everyday controls, through the real widgets: the Cameras panel's buttons, undo and redo
keys, the Edit menu's part commands from the viewport, units, layout, dropped files, framing."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QPushButton

from dstudio_desktop.core import camera_math as cm

from .conftest import Dialogs, press

pytestmark = pytest.mark.gui


def _node(window, name):
    return next((n for n, _ in window.project.scene_graph.walk() if n.name == name), None)


def _action(window, text: str) -> QAction:
    return next(a for a in window.findChildren(QAction) if a.text() == text)


def _button(dock, text: str) -> QPushButton:
    return next(b for b in dock.findChildren(QPushButton) if b.text() == text)


def test_save_view_through_the_button_saves_a_named_camera(window, qtbot):
    def name_it(dialog):
        if isinstance(dialog, QInputDialog):
            dialog.setTextValue("Hero")
            dialog.accept()

    dialogs = Dialogs(name_it)
    try:
        qtbot.mouseClick(_button(window.camera_dock, "Save view"), Qt.LeftButton)
    finally:
        dialogs.stop()
    hero = window.project.camera_presets.get("Hero")
    assert hero is not None and hero.view() == window.viewport.camera.view
    assert "Hero" in [window.camera_dock.list.item(i).text() for i in range(window.camera_dock.list.count())]


def test_undo_and_both_redo_keys_work_with_focus_in_the_viewport(window, qtbot):
    canvas = window.viewport.canvas.native
    base = _node(window, "Base")
    window.set_selection([base.id])
    press(qtbot, canvas, Qt.Key_H)  # hide
    assert window.project.scene_graph.find(base.id).visible is False
    press(qtbot, canvas, Qt.Key_Z, Qt.ControlModifier)
    assert window.project.scene_graph.find(base.id).visible is True
    press(qtbot, canvas, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.project.scene_graph.find(base.id).visible is False
    press(qtbot, canvas, Qt.Key_Z, Qt.ControlModifier)
    press(qtbot, canvas, Qt.Key_Y, Qt.ControlModifier)
    assert window.project.scene_graph.find(base.id).visible is False


def test_ctrl_z_right_after_typing_a_number_undoes_it(window, qtbot):
    base = _node(window, "Base")
    before = base.transform
    window.set_selection([base.id])
    field = window.properties_dock.fields["translation"][0]
    assert window.properties_dock.labels["translation"].text() == "Position (mm)"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    field.setFocus()
    field.lineEdit().selectAll()
    qtbot.keyClicks(field, "25")  # typed the way a person does, into the focused field
    qtbot.keyClick(field, Qt.Key_Return)
    moved = window.project.scene_graph.find(base.id).transform
    assert moved.translation[0] == pytest.approx(0.025)  # typed in millimetres, stored in metres
    assert moved.translation[1:] == before.translation[1:]
    qtbot.keyClick(field, Qt.Key_Z, Qt.ControlModifier)
    assert window.project.scene_graph.find(base.id).transform == before


def test_part_commands_from_the_viewport(window, qtbot):
    canvas = window.viewport.canvas.native
    scene_view = window.viewport.scene_view
    base = _node(window, "Base")
    window.set_selection([base.id])
    press(qtbot, canvas, Qt.Key_D, Qt.ControlModifier)
    copy = _node(window, "Base copy")
    assert copy is not None and window.viewport.scene_view.selection == {copy.id}
    (lo, hi), (clo, _) = scene_view.bounds({base.id}), scene_view.bounds({copy.id})
    assert clo[0] > hi[0]  # beside the original, not on top of it
    assert np.allclose([clo[1], clo[2]], [lo[1], lo[2]])
    press(qtbot, canvas, Qt.Key_Delete)
    assert _node(window, "Base copy") is None
    stem, shade = _node(window, "Stem") or _node(window, "Arm"), _node(window, "Shade")
    window.set_selection([stem.id, shade.id])
    press(qtbot, canvas, Qt.Key_G, Qt.ControlModifier)
    group = window.project.scene_graph.parent_of(stem.id)
    assert group is not None and group.name == "Group"
    world_before = window.project.scene_graph.world_matrix(shade.id)
    press(qtbot, canvas, Qt.Key_G, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.project.scene_graph.find(group.id) is None
    assert np.allclose(window.project.scene_graph.world_matrix(shade.id), world_before, atol=1e-12)
    window.set_selection([base.id])
    press(qtbot, canvas, Qt.Key_L, Qt.ControlModifier)
    assert window.project.scene_graph.find(base.id).locked
    press(qtbot, canvas, Qt.Key_L, Qt.ControlModifier)
    press(qtbot, canvas, Qt.Key_A, Qt.ControlModifier)
    assert window.viewport.scene_view.selection == {n.id for n, _ in window.project.scene_graph.walk()}
    window.set_selection([base.id])
    press(qtbot, canvas, Qt.Key_I, Qt.ControlModifier | Qt.ShiftModifier)
    assert base.id not in window.viewport.scene_view.selection and len(window.viewport.scene_view.selection) > 3
    press(qtbot, canvas, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.viewport.scene_view.selection == set()
    window.set_selection([base.id])
    press(qtbot, canvas, Qt.Key_F2)
    qtbot.waitUntil(lambda: window.outliner.tree.state() == window.outliner.tree.State.EditingState, timeout=3000)


def test_drop_to_ground_rests_the_part_on_y_zero(window, qtbot):
    shade = _node(window, "Shade")
    window.set_selection([shade.id])
    press(qtbot, window.viewport.canvas.native, Qt.Key_End)
    lo, _ = window.viewport.scene_view.bounds({shade.id})
    assert lo[1] == pytest.approx(0.0, abs=1e-9)


def test_the_title_shows_unsaved_edits_until_the_autosave(window, qtbot):
    window.editor._autosave.setInterval(600_000)
    base = _node(window, "Base")
    window.set_selection([base.id])
    press(qtbot, window.viewport.canvas.native, Qt.Key_H)
    assert window.windowHandle().title().startswith(f"{window.project.name}*")
    window.editor.save()
    assert "*" not in window.windowHandle().title()


def test_units_switch_and_reset_layout_through_the_menus(window, qtbot):
    window.unit_actions["in"].trigger()
    base = _node(window, "Base")
    window.set_selection([base.id])
    assert window.properties_dock.labels["translation"].text() == "Position (in)"
    assert "in" in window.properties_dock.facts.text()
    window.camera_dock.setFloating(True)
    _action(window, "&Reset Layout").trigger()
    assert not window.camera_dock.isFloating()
    canvas = window.viewport.canvas.native
    assert canvas.width() > 0.5 * window.width()


def test_a_dropped_file_that_is_not_a_model_is_named_and_refused(window, qtbot, tmp_path):
    bad = tmp_path / "engine.fbx"
    bad.write_bytes(b"Kaydara FBX Binary  \x00")
    good = tmp_path / "block.stl"
    trimesh.creation.box((20, 20, 20)).export(good)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(bad)), QUrl.fromLocalFile(str(good))])
    dialogs = Dialogs(lambda box: box.accept())
    try:
        # what a drag from the file manager delivers: first the drag entering, then the drop
        enter = QDragEnterEvent(QPoint(50, 50), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(window, enter)
        assert enter.isAccepted()
        QApplication.sendEvent(window, QDropEvent(QPointF(50, 50), Qt.CopyAction, data, Qt.LeftButton, Qt.NoModifier))
        qtbot.waitUntil(lambda: _node(window, "block") is not None, timeout=20000)
    finally:
        dialogs.stop()
    assert any("engine.fbx" in text and "not a model file" in text for text in dialogs.seen)


def test_an_import_that_would_land_inside_the_lamp_lands_beside_it_and_is_framed(window, qtbot, tmp_path):
    part = tmp_path / "inside.stl"
    trimesh.creation.box((40, 40, 40)).export(part)  # centred on the origin: inside the lamp's base
    before = window.viewport.scene_view.bounds()
    window.import_paths([str(part)])
    qtbot.waitUntil(lambda: _node(window, "inside") is not None, timeout=20000)
    node = _node(window, "inside")
    lo, hi = window.viewport.scene_view.bounds({node.id})
    assert lo[0] > before[1][0]  # beside, on the +X side
    assert lo[1] == pytest.approx(before[0][1], abs=1e-9)  # on the same ground
    assert window.viewport.scene_view.selection == {node.id}
    _all_corners_in_view(window, lo, hi)


def _all_corners_in_view(window, lo, hi) -> None:
    view = window.viewport.camera.view
    w, h = window.viewport.canvas.size
    right, up, forward = cm.frame(view)
    eye = np.asarray(view.eye)
    tan_v = np.tan(np.radians(view.fov) / 2)
    for x in (lo[0], hi[0]):
        for y in (lo[1], hi[1]):
            for z in (lo[2], hi[2]):
                d = np.array([x, y, z]) - eye
                depth = d @ forward
                assert abs(d @ right / depth) <= tan_v * w / h + 1e-9
                assert abs(d @ up / depth) <= tan_v + 1e-9


def test_f_frames_a_wide_part_in_a_tall_window(window, qtbot, tmp_path):
    window.resize(700, 1000)
    qtbot.wait(50)
    part = tmp_path / "plank.stl"
    trimesh.creation.box((2000, 20, 20)).apply_translation((0, 0, 600)).export(part)  # 2 m wide, away from the lamp
    window.import_paths([str(part)])
    qtbot.waitUntil(lambda: _node(window, "plank") is not None, timeout=20000)
    window.set_selection([])
    press(qtbot, window.viewport.canvas.native, Qt.Key_F)
    lo, hi = window.viewport.scene_view.bounds()
    _all_corners_in_view(window, lo, hi)


def test_review_export_report_writes_the_file(window, qtbot, tmp_path, monkeypatch):
    out = tmp_path / "review.html"
    from PySide6.QtWidgets import QFileDialog

    # the platform's file dialog is the boundary: it answers with the path a person would pick
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "HTML (*.html)"))
    base = _node(window, "Base")
    window.set_selection([base.id])
    _action(window, "&Export Report…").trigger()
    assert out.is_file() and "Review:" in out.read_text()

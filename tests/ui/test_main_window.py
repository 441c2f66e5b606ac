"""Driving the real window: the sample loads, renders, selects, and the camera obeys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from dstudio_desktop.core import CameraView

pytestmark = pytest.mark.gui


def _node(win, name: str):
    return next(n for n, _ in win.project.scene_graph.walk() if n.name == name)


def _screen_point(win, name: str) -> tuple[int, int]:
    """Where the centre of a node's geometry lands on the canvas, in pixels."""
    node = _node(win, name)
    view = win.viewport.scene_view.node_views[node.id]
    mesh = view.context.mesh_source(node.asset_id)
    centre = mesh.bounds().mean(axis=0)
    mapped = view.visual.get_transform("visual", "canvas").map(centre)
    return int(round(mapped[0] / mapped[3])), int(round(mapped[1] / mapped[3]))


def _pixel(win, xy: tuple[int, int]) -> np.ndarray:
    image = win.viewport.render()
    scale = image.shape[1] / win.viewport.canvas.size[0]  # physical vs logical pixels
    return image[int(xy[1] * scale), int(xy[0] * scale), :3].astype(int)


def test_sample_project_opens_with_its_tree_and_title(window) -> None:
    names = []
    it = window.outliner.tree.invisibleRootItem()
    stack = [it.child(i) for i in range(it.childCount())]
    while stack:
        item = stack.pop(0)
        names.append(item.text(0))
        stack.extend(item.child(i) for i in range(item.childCount()))
    assert names == ["Desk lamp", "Base", "Arm", "Head", "Shade", "Bulb"]
    assert window.windowTitle().startswith("Sample: desk lamp")
    assert window.triangles_label.text() == "1,984 triangles"


def test_viewport_draws_each_part_in_its_material_colour(window) -> None:
    shade = _pixel(window, _screen_point(window, "Shade"))
    assert shade[0] > 1.5 * shade[1] and shade[0] > 1.5 * shade[2], shade  # red plastic
    base = _pixel(window, _screen_point(window, "Base"))
    assert base.max() < 140 and abs(base[0] - base[2]) < 20, base  # dark neutral graphite


def _screen_of_local(win, name: str, local) -> tuple[int, int]:
    view = win.viewport.scene_view.node_views[_node(win, name).id]
    mapped = view.visual.get_transform("visual", "canvas").map(np.asarray(local, float))
    return int(round(mapped[0] / mapped[3])), int(round(mapped[1] / mapped[3]))


def test_selecting_in_the_outliner_outlines_the_part(window, qtbot) -> None:
    """Selection draws an orange outline around the part and leaves its own colour as it is
    (it used to tint the whole part, so a blue part looked cream)."""
    xy = _screen_point(window, "Bulb")
    before = _pixel(window, xy)
    plain = window.viewport.render()[..., :3].astype(int)
    on_arm = _screen_of_local(window, "Arm", (0.0, 0.0, -0.1))   # low on the arm, clear of the move gizmo
    arm_item = window.outliner._items[_node(window, "Arm").id]
    window.outliner.tree.setCurrentItem(arm_item)
    assert window.selection_label.text() == "Selected: Arm"
    selected = window.viewport.render()[..., :3].astype(int)
    scale = plain.shape[1] / window.viewport.canvas.size[0]
    ax, ay = int(on_arm[0] * scale), int(on_arm[1] * scale)
    assert np.abs(selected[ay, ax] - plain[ay, ax]).max() <= 2     # the arm's own colour, untouched
    # an orange rim beside the arm on that row, where the background was
    row_plain, row_sel = plain[ay, ax - 40:ax + 40], selected[ay, ax - 40:ax + 40]
    orange = (row_sel[:, 0] > 200) & (row_sel[:, 1] > 90) & (row_sel[:, 1] < 200) & (row_sel[:, 2] < 90)
    assert orange.sum() >= 2 and not ((row_plain[:, 0] > 200) & (row_plain[:, 2] < 90)).any()
    window.set_selection([])
    assert np.abs(window.viewport.render()[..., :3].astype(int) - plain).max() <= 2
    assert np.abs(_pixel(window, xy) - before).max() <= 2  # the unselected bulb did not change


def test_camera_presets_apply_exactly(window, qtbot) -> None:
    actions = [a.text() for a in window.camera_menu.actions()]
    assert actions == ["Front", "Three-quarter  (default)", "Top"]
    top = window.project.camera_presets.get("Top")
    window.camera_menu.actions()[2].trigger()
    qtbot.waitUntil(lambda: window.camera_dock.animation.state() == window.camera_dock.animation.State.Stopped)
    view = window.viewport.camera.view
    for field in ("eye", "target", "up"):
        assert np.allclose(getattr(view, field), getattr(top, field), atol=1e-12)
    assert view.projection == "orthographic" and view.ortho_height == top.ortho_height
    assert window.project.canvas_state.camera == view


def test_mouse_drag_orbits_the_camera(window, qtbot) -> None:
    native = window.viewport.canvas.native
    start = window.viewport.camera.view
    centre = QPointF(native.width() / 2, native.height() / 2)
    end = centre + QPointF(120, 0)
    for kind, pos, button, buttons in (
        (QMouseEvent.MouseButtonPress, centre, Qt.LeftButton, Qt.LeftButton),
        (QMouseEvent.MouseMove, end, Qt.NoButton, Qt.LeftButton),
        (QMouseEvent.MouseButtonRelease, end, Qt.LeftButton, Qt.NoButton),
    ):
        QApplication.sendEvent(native, QMouseEvent(kind, pos, native.mapToGlobal(pos), button, buttons, Qt.NoModifier))
    moved = window.viewport.camera.view
    assert not np.allclose(moved.eye, start.eye)
    assert np.allclose(moved.target, start.target)
    dist = lambda v: np.linalg.norm(np.subtract(v.eye, v.target))  # noqa: E731
    assert abs(dist(moved) - dist(start)) < 1e-9
    assert window.project.canvas_state.camera == moved


def _wheel(window, angle: tuple[int, int] = (0, 0), pixels: tuple[int, int] = (0, 0),
           phase=Qt.ScrollPhase.NoScrollPhase, modifiers=Qt.NoModifier) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    native = window.viewport.canvas.native
    pos = QPointF(native.width() / 2, native.height() / 2)
    QApplication.sendEvent(native, QWheelEvent(pos, native.mapToGlobal(pos), QPoint(*pixels), QPoint(*angle),
                                               Qt.NoButton, modifiers, phase, False))


def test_mouse_wheel_zooms_and_trackpad_scroll_orbits_or_pans(window) -> None:
    dist = lambda v: np.linalg.norm(np.subtract(v.eye, v.target))  # noqa: E731
    start = window.viewport.camera.view
    _wheel(window, angle=(0, 120))  # one click of a mouse wheel
    zoomed = window.viewport.camera.view
    assert dist(zoomed) < dist(start) and np.allclose(zoomed.target, start.target)

    _wheel(window, pixels=(40, 0), phase=Qt.ScrollPhase.ScrollUpdate)  # two fingers sideways
    orbited = window.viewport.camera.view
    assert not np.allclose(orbited.eye, zoomed.eye) and np.allclose(orbited.target, zoomed.target)
    assert abs(dist(orbited) - dist(zoomed)) < 1e-9

    _wheel(window, pixels=(0, 40), phase=Qt.ScrollPhase.ScrollUpdate, modifiers=Qt.ShiftModifier)
    panned = window.viewport.camera.view
    assert not np.allclose(panned.target, orbited.target)
    assert np.allclose(np.subtract(panned.eye, panned.target), np.subtract(orbited.eye, orbited.target))

    _wheel(window, angle=(0, 120), pixels=(0, 30), phase=Qt.ScrollPhase.ScrollUpdate, modifiers=Qt.ControlModifier)
    assert dist(window.viewport.camera.view) < dist(panned)


def test_fit_all_frames_the_model(window) -> None:
    window.apply_camera(CameraView(eye=(30.0, 30.0, 30.0), target=(10.0, 0.0, 0.0)))
    window.fit_all()
    for name in ("Base", "Shade"):
        x, y = _screen_point(window, name)
        w, h = window.viewport.canvas.size
        assert 0 < x < w and 0 < y < h


def test_import_runs_off_the_gui_thread_and_adds_the_part(window, qtbot, tmp_path: Path) -> None:
    part = tmp_path / "bracket.stl"
    trimesh.creation.box((30, 10, 5)).export(part)
    window.import_paths([str(part)])
    qtbot.waitUntil(lambda: any(n.name == "bracket" for n in window.project.scene_graph.nodes), timeout=20000)
    assert window.triangles_label.text() == f"{1984 + 12:,} triangles"


def test_a_failed_import_shows_one_message_and_changes_nothing(window, qtbot, monkeypatch) -> None:
    messages: list[str] = []
    monkeypatch.setattr(window, "show_error", messages.append)
    before = window.ws.load_project(window.project.id).to_json()["scene_graph"]
    window.import_paths([str(Path(__file__).parent.parent / "data" / "malformed" / "truncated.glb")])
    qtbot.waitUntil(lambda: bool(messages), timeout=20000)
    assert "truncated.glb" in messages[0] and "truncated" in messages[0]
    assert window.ws.load_project(window.project.id).to_json()["scene_graph"] == before


def test_a_large_project_opens_on_a_worker_and_the_window_keeps_running(window, qtbot, monkeypatch,
                                                                         tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer

    from dstudio_desktop.services import geometry
    from dstudio_desktop.ui import main_window

    part = tmp_path / "dome.stl"
    trimesh.creation.icosphere(subdivisions=6).export(part)  # 81,920 triangles
    big = window.ws.create_project("Big")
    geometry.import_files(window.ws, big.id, [part])
    monkeypatch.setattr(main_window, "INLINE_OPEN_BYTES", 0)  # this project counts as large
    opened: list[str] = []
    window.project_opened.connect(opened.append)
    ticks: list[int] = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    window.open_project(big.id)
    assert window.project.name != "Big"  # returned at once; the meshes load on a worker
    qtbot.waitUntil(lambda: opened == [big.id], timeout=30000)
    timer.stop()
    assert ticks, "the GUI thread kept handling events while the project loaded"
    assert window.project.name == "Big"
    dome = window.project.scene_graph.nodes[0]
    scene_view = window.viewport.scene_view
    # the picking structure is not needed for the first frame: it is built in the background
    qtbot.waitUntil(lambda: dome.asset_id in scene_view._pickers, timeout=20000)
    window.viewport.camera.set_view(window.viewport.fit_view(window.viewport.camera.view))
    centre = window.viewport.canvas.size[0] // 2, window.viewport.canvas.size[1] // 2
    window.pick_at(*centre)
    assert window.selected_nodes() == [dome]


def test_an_idle_window_uses_almost_no_cpu(window, qtbot) -> None:
    """Nothing redraws or rebuilds in a loop while the designer only looks (the outliner once
    rebuilt itself forever, at 1.6 cores, and starved a reconstruction running beside it).
    Counted as this process's CPU time, all threads (llvmpipe's too), so other tests' load does not count."""
    import resource

    qtbot.wait(1500)  # let the first frames, shadow maps and the panels' first refreshes settle
    before = resource.getrusage(resource.RUSAGE_SELF)
    qtbot.wait(3000)
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert used < 0.45, f"{used:.2f} s of CPU in 3 s of idling"


def test_a_message_box_nobody_answers_fails_the_test_instead_of_hanging_the_suite(window, qtbot,
                                                                                   forgotten_boxes) -> None:
    """The GUI tier's guard (tests/ui/conftest.py): an error box left open, as when a test's
    work fails and the window says so, is closed after a while and reported."""
    forgotten_boxes.patience = 0.5
    forgotten_boxes.expected = True
    window.show_error("the part could not be read")        # modal: returns once the guard closes it
    assert forgotten_boxes.texts == ["the part could not be read"]

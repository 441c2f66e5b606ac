"""Transform gizmos on the real canvas: real mouse events, one undo step per drag."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from dstudio_desktop.core import camera_math as cm
from dstudio_desktop.core import gizmo_math as gm

pytestmark = pytest.mark.gui

SHOTS = Path(os.environ.get("DSTUDIO_SCREENSHOTS", "/tmp/dstudio-screenshots"))


# -- driving the canvas ---------------------------------------------------------------

def mouse(window, kind: str, x: float, y: float, modifiers=Qt.NoModifier, button=Qt.LeftButton) -> None:
    native = window.viewport.canvas.native
    pos = QPointF(x, y)
    types = {"press": QMouseEvent.MouseButtonPress, "move": QMouseEvent.MouseMove,
             "release": QMouseEvent.MouseButtonRelease}
    which = Qt.NoButton if kind == "move" else button
    held = Qt.NoButton if kind == "release" else button
    QApplication.sendEvent(native, QMouseEvent(types[kind], pos, native.mapToGlobal(pos), which, held, modifiers))


def drag(window, qtbot, start, end, steps: int = 6, modifiers=Qt.NoModifier, release: bool = True) -> None:
    """Press at ``start``, move to ``end`` in steps (vispy drops moves closer than 10 ms apart), release."""
    mouse(window, "press", *start, modifiers)
    for k in range(1, steps + 1):
        qtbot.wait(15)
        t = k / steps
        mouse(window, "move", start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t, modifiers)
    if release:
        qtbot.wait(15)
        mouse(window, "release", *end, modifiers)


def key(window, qtbot, k, modifiers=Qt.NoModifier) -> None:
    """A key pressed with the focus in the viewport, so window shortcuts fire as they do for a user."""
    native = window.viewport.canvas.native
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    native.setFocus()
    qtbot.waitUntil(native.hasFocus, timeout=3000)
    QTest.keyClick(native, k, modifiers)


def node(window, name: str):
    return next(n for n, _ in window.project.scene_graph.walk() if n.name == name)


def front_view(window, name: str) -> None:
    """Look straight down -Z at the part, X to the right, Y up (the X axis lies in the image plane)."""
    graph = window.project.scene_graph
    centre = graph.world_matrix(node(window, name).id)[:3, 3]
    view = window.viewport.camera.view.model_copy(update={
        "target": tuple(centre), "eye": tuple(centre + np.array([0.0, 0.0, 0.8])), "up": (0.0, 1.0, 0.0),
        "projection": "perspective", "near": 0.01, "far": 100.0})
    window.apply_camera(view)


def world_per_px(window, point) -> float:
    return gm.world_per_pixel(window.viewport.camera.view, point, window.viewport.canvas.size[1])


def select(window, *names) -> list[str]:
    ids = [node(window, n).id for n in names]
    window.set_selection(ids)
    return ids


def transform_json(window, name: str) -> dict:
    return node(window, name).transform.to_json()


# -- move -------------------------------------------------------------------------------

def test_dragging_the_x_arrow_moves_the_part_by_the_distance_under_the_pointer(window, qtbot) -> None:
    key(window, qtbot, Qt.Key_W)
    assert window.tools.mode == "move"
    front_view(window, "Shade")
    shade_id, = select(window, "Shade")
    before = transform_json(window, "Shade")
    origin = window.project.scene_graph.world_matrix(shade_id)[:3, 3]
    gizmo = window.tools.gizmo
    assert set(gizmo.handles()) >= {"tx", "ty", "txy"}
    start = gizmo.handle_point("tx")
    assert gizmo.handle_at(*start).name == "tx"
    pixels = 90
    drag(window, qtbot, start, (start[0] + pixels, start[1]))
    expected = pixels * world_per_px(window, origin)
    moved = np.subtract(window.project.scene_graph.world_matrix(shade_id)[:3, 3], origin)
    assert abs(moved[0] - expected) < 0.02 * expected, (moved, expected)
    assert moved[1] == pytest.approx(0, abs=1e-12) and moved[2] == pytest.approx(0, abs=1e-12)
    # exactly one undo step, and it restores the exact transform
    assert window.editor.stack.count() == 1
    window.editor.stack.undo()
    assert transform_json(window, "Shade") == before
    window.editor.stack.redo()
    assert node(window, "Shade").transform.translation[0] == pytest.approx(before["translation"][0] + expected,
                                                                           rel=0.02)


def test_a_plane_handle_moves_the_part_in_exactly_two_axes(window, qtbot) -> None:
    front_view(window, "Shade")
    shade_id, = select(window, "Shade")
    before = node(window, "Shade").transform.translation
    start = window.tools.gizmo.handle_point("txy")
    assert window.tools.gizmo.handle_at(*start).name == "txy"
    drag(window, qtbot, start, (start[0] + 50, start[1] - 35))
    after = node(window, "Shade").transform.translation
    assert after[0] > before[0] + 1e-3 and after[1] > before[1] + 1e-3   # right and up on the screen
    assert after[2] == before[2]   # exactly: the square moves in its plane only
    assert window.editor.stack.count() == 1


def _world_rotation(window, node_id: str) -> np.ndarray:
    m = window.project.scene_graph.world_matrix(node_id)[:3, :3]
    return m / np.linalg.norm(m, axis=0)


def _arc(window, qtbot, handle: str, degrees: float, modifiers=Qt.NoModifier, release: bool = True) -> None:
    """Drag a ring's handle round the gizmo's centre on screen, by ``degrees``."""
    gizmo = window.tools.gizmo
    w, h = window.viewport.canvas.size
    centre = gm.project(window.viewport.camera.view, gizmo.pivot, w, h)[0, :2]
    start = np.array(gizmo.handle_point(handle))
    assert gizmo.handle_at(*start).name == handle
    mouse(window, "press", *start, modifiers)
    steps = 10
    for k in range(1, steps + 1):
        qtbot.wait(15)
        a = math.radians(degrees) * k / steps
        r = start - centre
        p = centre + np.array([r[0] * math.cos(a) - r[1] * math.sin(a), r[0] * math.sin(a) + r[1] * math.cos(a)])
        mouse(window, "move", *p, modifiers)
    if release:
        qtbot.wait(15)
        mouse(window, "release", *p, modifiers)


def _from_above(window, name: str) -> None:
    centre = window.project.scene_graph.world_matrix(node(window, name).id)[:3, 3]
    window.apply_camera(window.viewport.camera.view.model_copy(update={
        "target": tuple(centre), "eye": tuple(centre + np.array([0.15, 0.7, 0.4])), "up": (0.0, 1.0, 0.0),
        "projection": "perspective"}))


def test_a_ring_drag_with_snapping_turns_by_an_exact_multiple_of_15_degrees(window, qtbot) -> None:
    key(window, qtbot, Qt.Key_E)
    assert window.tools.mode == "rotate"
    _from_above(window, "Shade")
    shade_id, = select(window, "Shade")
    before = node(window, "Shade").transform.to_json()
    r0 = _world_rotation(window, shade_id)
    _arc(window, qtbot, "ry", -52, modifiers=Qt.ControlModifier)   # Ctrl: snapping on for this drag
    turn = _world_rotation(window, shade_id) @ r0.T
    angle = math.degrees(math.atan2(turn[0, 2], turn[0, 0]))
    assert abs(turn[1, 1] - 1) < 1e-9   # about world Y only
    assert angle != 0 and abs(angle / 15 - round(angle / 15)) < 1e-9, angle
    assert abs(abs(angle) - 52) < 15
    # the origin stays: a single part turns about its own origin
    assert np.allclose(node(window, "Shade").transform.translation, before["translation"], atol=1e-12)
    window.editor.stack.undo()
    assert node(window, "Shade").transform.to_json() == before


def test_without_snapping_a_ring_follows_the_pointer(window, qtbot) -> None:
    window.tools.set_mode("rotate")
    _from_above(window, "Shade")
    shade_id, = select(window, "Shade")
    r0 = _world_rotation(window, shade_id)
    _arc(window, qtbot, "ry", -37)
    turn = _world_rotation(window, shade_id) @ r0.T
    angle = math.degrees(math.atan2(turn[0, 2], turn[0, 0]))
    assert abs(angle / 15 - round(angle / 15)) > 1e-3   # not snapped
    assert 20 < abs(angle) < 60


def test_uniform_scale_keeps_proportions(window, qtbot) -> None:
    key(window, qtbot, Qt.Key_R)
    assert window.tools.mode == "scale"
    window.run(_set_scale(window, "Shade", (1.0, 2.0, 0.5)))
    select(window, "Shade")
    before = np.array(node(window, "Shade").transform.scale)
    start = window.tools.gizmo.handle_point("su")
    assert window.tools.gizmo.handle_at(*start).name == "su"
    drag(window, qtbot, start, (start[0] + 40, start[1] - 30))
    after = np.array(node(window, "Shade").transform.scale)
    ratio = after / before
    assert ratio[0] > 1.2 and np.allclose(ratio, ratio[0], rtol=0, atol=1e-12), ratio


def _set_scale(window, name: str, scale):
    from dstudio_desktop.core.commands import SetNodeField

    t = node(window, name).transform
    return SetNodeField(node(window, name).id, "transform", t.model_copy(update={"scale": scale}))


def test_an_axis_scale_handle_stretches_one_axis(window, qtbot) -> None:
    window.tools.set_mode("scale")
    front_view(window, "Shade")
    select(window, "Shade")
    start = window.tools.gizmo.handle_point("sx")
    drag(window, qtbot, start, (start[0] + 45, start[1]))
    scale = node(window, "Shade").transform.scale
    assert scale[0] > 1.2 and scale[1] == 1.0 and scale[2] == 1.0


def test_esc_mid_drag_puts_the_part_back(window, qtbot) -> None:
    front_view(window, "Shade")
    select(window, "Shade")
    before = transform_json(window, "Shade")
    start = window.tools.gizmo.handle_point("tx")
    drag(window, qtbot, start, (start[0] + 80, start[1]), release=False)
    assert transform_json(window, "Shade") != before   # it moves live while dragging
    assert window.tools.screen.label_text("value").startswith("Move X")
    key(window, qtbot, Qt.Key_Escape)
    assert transform_json(window, "Shade") == before
    qtbot.wait(15)
    mouse(window, "move", start[0] + 120, start[1])   # the rest of this drag does nothing
    qtbot.wait(15)
    mouse(window, "release", start[0] + 120, start[1])
    assert transform_json(window, "Shade") == before
    assert window.editor.stack.count() == 0
    assert window.tools.screen.label_text("value") is None


def test_snapping_moves_in_grid_steps(window, qtbot) -> None:
    window.tools.snap_action.setChecked(True)
    front_view(window, "Shade")
    shade_id, = select(window, "Shade")
    x0 = window.project.scene_graph.world_matrix(shade_id)[0, 3]
    start = window.tools.gizmo.handle_point("tx")
    drag(window, qtbot, start, (start[0] + 77, start[1]), release=False)
    qtbot.wait(30)
    assert "snap 10.00 mm" in window.tools.screen.label_text("value")
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / "gizmo_move_snapped.png"))
    qtbot.wait(15)
    mouse(window, "release", start[0] + 77, start[1])
    moved = window.project.scene_graph.world_matrix(shade_id)[0, 3] - x0
    step = window.tools.grid_step
    assert moved > 0 and abs(moved / step - round(moved / step)) < 1e-9


def test_a_multi_selection_moves_together_in_one_undo_step(window, qtbot) -> None:
    front_view(window, "Shade")
    ids = select(window, "Shade", "Base")
    graph = window.project.scene_graph
    before = {i: graph.world_matrix(i)[:3, 3].copy() for i in ids}
    json_before = {i: graph.find(i).transform.to_json() for i in ids}
    gizmo = window.tools.gizmo
    assert np.allclose(gizmo.pivot, np.mean(list(before.values()), axis=0))   # the median point
    start = gizmo.handle_point("tx")
    drag(window, qtbot, start, (start[0] + 60, start[1]))
    deltas = [graph.world_matrix(i)[:3, 3] - before[i] for i in ids]
    assert deltas[0][0] > 1e-3 and np.allclose(deltas[0], deltas[1], atol=1e-12)
    assert window.editor.stack.count() == 1
    window.editor.stack.undo()
    assert {i: graph.find(i).transform.to_json() for i in ids} == json_before


def test_rotating_a_selection_about_its_median_point_or_each_origin(window, qtbot) -> None:
    window.tools.set_mode("rotate")
    _from_above(window, "Shade")
    ids = select(window, "Shade", "Base")
    graph = window.project.scene_graph
    origins = np.array([graph.world_matrix(i)[:3, 3] for i in ids])
    _arc(window, qtbot, "ry", -40)
    after = np.array([graph.world_matrix(i)[:3, 3] for i in ids])
    assert np.allclose(after.mean(axis=0), origins.mean(axis=0), atol=1e-12)   # the median point stays
    assert abs(np.linalg.norm(after[0] - after[1]) - np.linalg.norm(origins[0] - origins[1])) < 1e-12
    window.editor.stack.undo()
    window.tools.set_pivot("individual")
    turned = [_world_rotation(window, i) for i in ids]
    _arc(window, qtbot, "ry", -40)
    assert np.allclose([graph.world_matrix(i)[:3, 3] for i in ids], origins, atol=1e-12)   # each turns in place
    for i, r0 in zip(ids, turned, strict=True):
        turn = _world_rotation(window, i) @ r0.T
        assert abs(turn[1, 1] - 1) < 1e-9 and abs(math.degrees(math.atan2(turn[0, 2], turn[0, 0]))) > 10


def test_local_orientation_moves_along_the_part_s_own_axis(window, qtbot) -> None:
    from dstudio_desktop.core.commands import SetNodeField

    shade = node(window, "Shade")
    turned = shade.transform.model_copy(update={"rotation": (0.0, math.sin(math.radians(15)), 0.0,
                                                             math.cos(math.radians(15)))})
    window.run(SetNodeField(shade.id, "transform", turned))
    window.tools.set_orientation("local")
    front_view(window, "Shade")
    select(window, "Shade")
    axis = _world_rotation(window, shade.id)[:, 0]
    assert np.allclose(window.tools.gizmo.frame[:, 0], axis, atol=1e-12)
    before = window.project.scene_graph.world_matrix(shade.id)[:3, 3]
    start = window.tools.gizmo.handle_point("tx")
    end = np.array(start) + 60 * gm.screen_direction(window.viewport.camera.view, before, axis,
                                                     *window.viewport.canvas.size)[:2] / np.linalg.norm(
        gm.screen_direction(window.viewport.camera.view, before, axis, *window.viewport.canvas.size))
    drag(window, qtbot, start, tuple(end))
    moved = window.project.scene_graph.world_matrix(shade.id)[:3, 3] - before
    assert np.linalg.norm(moved) > 1e-3
    assert np.allclose(moved / np.linalg.norm(moved), axis, atol=1e-9)


def test_locked_parts_are_not_moved(window, qtbot) -> None:
    from dstudio_desktop.core.commands import SetNodeField

    shade, base = node(window, "Shade"), node(window, "Base")
    window.run(SetNodeField(shade.id, "locked", True))
    front_view(window, "Shade")
    select(window, "Shade")
    assert window.tools.gizmo.mode is None   # nothing to move
    select(window, "Shade", "Base")
    shade_before, base_before = shade.transform.to_json(), base.transform.to_json()
    assert np.allclose(window.tools.gizmo.pivot, window.project.scene_graph.world_matrix(base.id)[:3, 3])
    start = window.tools.gizmo.handle_point("tx")
    drag(window, qtbot, start, (start[0] + 50, start[1]))
    assert shade.transform.to_json() == shade_before and base.transform.to_json() != base_before


def test_a_reviewer_cannot_drag_and_the_camera_orbits_instead(window, qtbot) -> None:
    front_view(window, "Shade")
    select(window, "Shade")
    start = window.tools.gizmo.handle_point("tx")
    window.editor.role = "reviewer"
    window.tools.refresh()
    assert window.tools.gizmo.mode is None and "view only" in window.tools.badge.text()
    before, view = transform_json(window, "Shade"), window.viewport.camera.view
    drag(window, qtbot, start, (start[0] + 80, start[1]))
    assert transform_json(window, "Shade") == before
    assert not np.allclose(window.viewport.camera.view.eye, view.eye)


def test_a_drag_off_the_gizmo_still_orbits(window, qtbot) -> None:
    front_view(window, "Shade")
    select(window, "Shade")
    before, view = transform_json(window, "Shade"), window.viewport.camera.view
    w, h = window.viewport.canvas.size
    drag(window, qtbot, (w * 0.1, h * 0.9), (w * 0.3, h * 0.9))
    assert transform_json(window, "Shade") == before
    assert not np.allclose(window.viewport.camera.view.eye, view.eye)
    assert window.editor.stack.count() == 0


def test_a_light_s_direction_handle_aims_it_in_one_undo_step(window, qtbot) -> None:
    dock = window.lighting_dock
    dock.raise_()
    dock.lights.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.tools.light_handle.centre is not None, timeout=3000)
    before = window.project.lighting_config.lights[0].direction
    ball = window.tools.light_handle.ball_px()
    assert window.tools.light_handle.hit(*ball)
    drag(window, qtbot, ball, (ball[0] + 70, ball[1] + 30))
    after = window.project.lighting_config.lights[0].direction
    assert not np.allclose(after, before, atol=1e-3)
    assert abs(np.linalg.norm(after) - 1) < 1e-9
    assert window.editor.stack.count() == 1
    window.editor.stack.undo()
    assert window.project.lighting_config.lights[0].direction == before


def test_screenshot_of_a_snapped_rotation_in_progress(window, qtbot) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.tools.set_mode("rotate")
    window.tools.snap_action.setChecked(True)
    _from_above(window, "Shade")
    window.apply_camera(cm.zoom(window.viewport.camera.view, 0.6))
    select(window, "Shade")
    _arc(window, qtbot, "ry", -50, release=False)
    qtbot.wait(50)
    text = window.tools.screen.label_text("value")
    assert text.startswith("Rotate Y") and "snap 15°" in text and "45.0°" in text
    window.grab().save(str(SHOTS / "gizmo_rotate_snapped.png"))
    key(window, qtbot, Qt.Key_Escape)
    mouse(window, "release", 0, 0)


def test_the_view_ring_turns_about_the_line_of_sight(window, qtbot) -> None:
    window.tools.set_mode("rotate")
    front_view(window, "Shade")   # looking down -Z
    shade_id, = select(window, "Shade")
    r0 = _world_rotation(window, shade_id)
    _arc(window, qtbot, "rv", 30)
    turn = _world_rotation(window, shade_id) @ r0.T
    assert abs(turn[2, 2] - 1) < 1e-9   # about Z only
    assert abs(abs(math.degrees(math.atan2(turn[1, 0], turn[0, 0]))) - 30) < 6


def test_a_ring_seen_nearly_edge_on_turns_by_the_pointer_s_travel(window, qtbot) -> None:
    window.tools.set_mode("rotate")
    front_view(window, "Shade")   # the Y ring is seen exactly edge on
    shade_id, = select(window, "Shade")
    r0 = _world_rotation(window, shade_id)
    start = window.tools.gizmo.handle_point("ry")
    assert window.tools.gizmo.handle_at(*start).name == "ry"
    drag(window, qtbot, start, (start[0] + 60, start[1]))
    turn = _world_rotation(window, shade_id) @ r0.T
    angle = math.degrees(math.atan2(turn[0, 2], turn[0, 0]))
    assert abs(turn[1, 1] - 1) < 1e-9 and 10 < abs(angle) < 90


def test_scale_snaps_to_scale_steps_with_ctrl(window, qtbot) -> None:
    window.tools.set_mode("scale")
    front_view(window, "Shade")
    select(window, "Shade")
    start = window.tools.gizmo.handle_point("sx")
    drag(window, qtbot, start, (start[0] + 37, start[1]), modifiers=Qt.ControlModifier)
    factor = node(window, "Shade").transform.scale[0]
    assert factor > 1.05 and abs(factor / 0.1 - round(factor / 0.1)) < 1e-9


def test_hovering_a_handle_lights_it_up(window, qtbot) -> None:
    front_view(window, "Shade")
    select(window, "Shade")
    x, y = window.tools.gizmo.handle_point("ty")
    mouse(window, "move", x, y, button=Qt.NoButton)
    assert window.tools.gizmo.hover == "ty"
    assert window.viewport.canvas.native.cursor().shape() == Qt.OpenHandCursor
    w, h = window.viewport.canvas.size
    qtbot.wait(15)
    mouse(window, "move", w * 0.05, h * 0.95, button=Qt.NoButton)
    assert window.tools.gizmo.hover is None

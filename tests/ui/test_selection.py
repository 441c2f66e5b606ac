"""Selecting in the viewport with real mouse events: click, Shift/Ctrl-click, box select; the
tool modes, their toolbar and the mode shown in the viewport."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.ui.test_gizmo import drag, front_view, key, mouse, node, select

pytestmark = pytest.mark.gui


def click(window, qtbot, xy, modifiers=Qt.NoModifier) -> None:
    mouse(window, "press", *xy, modifiers)
    qtbot.wait(15)
    mouse(window, "release", *xy, modifiers)


def screen_rect(window, name: str) -> tuple[float, float, float, float]:
    """The part's outline on the canvas, through vispy's own transforms (not the code under test)."""
    n = node(window, name)
    view = window.viewport.scene_view.node_views[n.id]
    positions = view.context.mesh_source(n.asset_id).positions
    mapped = view.visual.get_transform("visual", "canvas").map(positions)
    xy = mapped[:, :2] / mapped[:, 3:4]
    return xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()


def centre_of(window, name: str) -> tuple[float, float]:
    x0, y0, x1, y1 = screen_rect(window, name)
    return (x0 + x1) / 2, (y0 + y1) / 2


def selected_names(window) -> set[str]:
    return {n.name for n in window.selected_nodes()}


def outliner_names(window) -> set[str]:
    return {item.text(0) for item in window.outliner.tree.selectedItems()}


def test_click_shift_click_and_ctrl_click(window, qtbot) -> None:
    key(window, qtbot, Qt.Key_Q)
    assert window.tools.mode == "select"
    shade, base = centre_of(window, "Shade"), centre_of(window, "Base")
    click(window, qtbot, shade)
    assert selected_names(window) == {"Shade"} == outliner_names(window)
    click(window, qtbot, base, Qt.ShiftModifier)
    assert selected_names(window) == {"Shade", "Base"}
    assert window.tools.active_id == node(window, "Base").id
    click(window, qtbot, shade, Qt.ControlModifier)
    assert selected_names(window) == {"Base"}
    click(window, qtbot, shade, Qt.ControlModifier)
    assert selected_names(window) == {"Base", "Shade"}
    w, h = window.viewport.canvas.size
    click(window, qtbot, (w * 0.05, h * 0.95))   # empty space clears
    assert selected_names(window) == set() == outliner_names(window)


def test_clicks_select_in_the_transform_modes_too(window, qtbot) -> None:
    window.tools.set_mode("rotate")
    click(window, qtbot, centre_of(window, "Base"))
    assert selected_names(window) == {"Base"}
    assert window.tools.gizmo.mode == "rotate"
    click(window, qtbot, centre_of(window, "Shade"), Qt.ShiftModifier)
    assert selected_names(window) == {"Base", "Shade"}


def test_box_select_takes_exactly_the_parts_inside(window, qtbot) -> None:
    window.tools.set_mode("select")
    rects = {name: screen_rect(window, name) for name in ("Base", "Arm", "Shade", "Bulb")}
    x0 = min(rects["Shade"][0], rects["Bulb"][0]) - 3
    y0 = min(rects["Shade"][1], rects["Bulb"][1]) - 3
    x1 = max(rects["Shade"][2], rects["Bulb"][2]) + 3
    y1 = max(rects["Shade"][3], rects["Bulb"][3]) + 3

    def inside(r):
        return x0 <= r[0] and r[2] <= x1 and y0 <= r[1] and r[3] <= y1

    expected = {name for name, r in rects.items() if inside(r)}
    assert expected == {"Shade", "Bulb"}   # the arm reaches below the box, the base is far below
    drag(window, qtbot, (x0, y0), (x1, y1))
    assert selected_names(window) == expected
    # a box around the base alone, with Shift, adds it; with Ctrl it goes again
    bx = rects["Base"]
    drag(window, qtbot, (bx[0] - 3, bx[1] - 3), (bx[2] + 3, bx[3] + 3), modifiers=Qt.ShiftModifier)
    assert selected_names(window) == {"Shade", "Bulb", "Base"}
    drag(window, qtbot, (bx[2] + 3, bx[3] + 3), (bx[0] - 3, bx[1] - 3), modifiers=Qt.ControlModifier)
    assert selected_names(window) == {"Shade", "Bulb"}
    # a box that cuts through a part leaves it out
    cut = rects["Shade"]
    drag(window, qtbot, (cut[0] - 3, cut[1] - 3), ((cut[0] + cut[2]) / 2, cut[3] + 3))
    assert selected_names(window) == set()


def test_a_selection_of_several_parts_shows_in_the_outliner(window, qtbot) -> None:
    window.tools.set_mode("select")
    click(window, qtbot, centre_of(window, "Shade"))
    click(window, qtbot, centre_of(window, "Base"), Qt.ShiftModifier)
    assert outliner_names(window) == {"Shade", "Base"}


def test_box_select_shows_the_box_and_esc_cancels_it(window, qtbot) -> None:
    window.tools.set_mode("select")
    select(window, "Arm")
    w, h = window.viewport.canvas.size
    drag(window, qtbot, (w * 0.05, h * 0.05), (w * 0.95, h * 0.95), release=False)
    assert window.tools.screen.box_lines.visible
    key(window, qtbot, Qt.Key_Escape)
    assert not window.tools.screen.box_lines.visible
    mouse(window, "release", w * 0.95, h * 0.95)
    assert selected_names(window) == {"Arm"}


def test_alt_drag_orbits_in_select_mode(window, qtbot) -> None:
    window.tools.set_mode("select")
    eye = window.viewport.camera.view.eye
    w, h = window.viewport.canvas.size
    drag(window, qtbot, (w * 0.4, h * 0.5), (w * 0.6, h * 0.5), modifiers=Qt.AltModifier)
    assert not np.allclose(window.viewport.camera.view.eye, eye)
    assert selected_names(window) == set()


def test_selecting_in_the_outliner_puts_the_gizmo_on_it(window, qtbot) -> None:
    window.tools.set_mode("move")
    shade = node(window, "Shade")
    window.outliner.tree.setCurrentItem(window.outliner._items[shade.id])
    assert selected_names(window) == {"Shade"}
    assert np.allclose(window.tools.gizmo.pivot, window.project.scene_graph.world_matrix(shade.id)[:3, 3])


def test_the_toolbar_offers_every_mode_with_its_key_and_the_viewport_shows_the_active_one(window, qtbot) -> None:
    bar = window.tools.toolbar
    actions = {a.text(): a for a in bar.actions() if a.isCheckable()}
    for name, k in (("Select", "Q"), ("Move", "W"), ("Rotate", "E"), ("Scale", "R"), ("Measure", "M")):
        assert actions[name].shortcut().toString() == k
        assert f"({k})" in actions[name].toolTip() and not actions[name].icon().isNull()
    assert window.annotate_action in bar.actions() and not window.annotate_action.icon().isNull()
    assert "Shift+A" in window.annotate_action.toolTip()
    front_view(window, "Shade")
    assert window.tools.badge.isVisible() and window.tools.badge.text().startswith("Move (W)")
    window.annotate_action.trigger()   # Review > Annotate (Shift+A) is a mode like the others
    assert window.tools.mode == "annotate" and window.tools.badge.text().startswith("Annotate")
    window.annotate_action.trigger()   # and switching it off goes back to the tool before it
    assert window.tools.mode == "move" and window.annotate_action.isChecked() is False
    key(window, qtbot, Qt.Key_M)
    assert window.tools.mode == "measure" and window.tools.badge.text().startswith("Measure (M)")
    key(window, qtbot, Qt.Key_W)
    assert window.tools.mode == "move" and actions["Move"].isChecked()
    key(window, qtbot, Qt.Key_W)   # choosing the current tool again keeps it
    assert window.tools.mode == "move" and actions["Move"].isChecked()

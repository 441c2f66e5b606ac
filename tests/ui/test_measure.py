"""Measuring between points picked on surfaces, in the project's display unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PySide6.QtCore import Qt

from dstudio_desktop.core.commands import SetNodeField
from tests.ui.test_gizmo import SHOTS, key
from tests.ui.test_selection import click

pytestmark = pytest.mark.gui


def _import_cube(window, qtbot, tmp_path: Path):
    part = tmp_path / "cube20.stl"
    trimesh.creation.box((20, 20, 20)).export(part)   # millimetres, as STL is read
    window.import_paths([str(part)])
    qtbot.waitUntil(lambda: any(n.name == "cube20" for n in window.project.scene_graph.nodes), timeout=20000)
    cube = next(n for n in window.project.scene_graph.nodes if n.name == "cube20")
    # off to the side of the lamp, in the air, wherever the import put it
    window.run(SetNodeField(cube.id, "transform", cube.transform.model_copy(update={"translation": (0.25, 0.1, 0.0)})))
    view = window.viewport.scene_view.node_views[cube.id]
    lo, hi = view.context.mesh_source(cube.asset_id).bounds()
    world = window.project.scene_graph.world_matrix(cube.id)
    centre = world[:3, :3] @ ((np.asarray(lo) + np.asarray(hi)) / 2) + world[:3, 3]
    return cube, centre


def _look_at(window, centre, offset, up=(0.0, 1.0, 0.0)) -> tuple[float, float]:
    """Put the eye at ``centre + offset`` looking at the centre: it lands mid-canvas."""
    view = window.viewport.camera.view.model_copy(update={
        "target": tuple(centre), "eye": tuple(np.asarray(centre) + offset), "up": up,
        "projection": "perspective", "near": 0.001, "far": 100.0})
    window.apply_camera(view)
    w, h = window.viewport.canvas.size
    return w / 2, h / 2


def test_measuring_between_opposite_faces_of_a_20_mm_cube(window, qtbot, tmp_path) -> None:
    cube, centre = _import_cube(window, qtbot, tmp_path)
    window.set_selection([])
    key(window, qtbot, Qt.Key_M)
    assert window.tools.mode == "measure"
    click(window, qtbot, _look_at(window, centre, np.array([0.0, 0.0, 0.12])))   # the front face
    assert len(window.tools.measure_points) == 1 and window.tools.measurement_text() is None
    click(window, qtbot, _look_at(window, centre, np.array([0.0, 0.0, -0.12])))  # round the back
    assert window.tools.measurement_text() == "20.00 mm"
    assert window.tools.screen.label_text("measure") == "20.00 mm"   # drawn in the viewport
    assert "Distance 20.00 mm" in window.statusBar().currentMessage()
    assert window.selected_nodes() == []   # measuring does not select
    assert window.editor.stack.count() == 2   # the import and the move: measuring changes nothing

    # seen from the side, for the picture, then Esc clears it
    _look_at(window, centre, np.array([0.07, 0.05, 0.09]))
    qtbot.wait(50)
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SHOTS / "measure_20mm_cube.png"))
    key(window, qtbot, Qt.Key_Escape)
    assert window.tools.measure_points == [] and window.tools.screen.label_text("measure") is None


def test_the_unit_follows_the_project_and_a_third_click_starts_again(window, qtbot, tmp_path) -> None:
    cube, centre = _import_cube(window, qtbot, tmp_path)
    window.tools.set_mode("measure")
    window.project.canvas_state.display_units = "cm"
    front = _look_at(window, centre, np.array([0.0, 0.0, 0.12]))
    click(window, qtbot, front)
    click(window, qtbot, _look_at(window, centre, np.array([0.0, -0.12, 0.0]), up=(0.0, 0.0, 1.0)))   # the bottom face
    # front face centre to bottom face centre: the hypotenuse of 10 mm and 10 mm
    assert window.tools.measured == pytest.approx(np.hypot(0.01, 0.01), abs=1e-4)
    assert window.tools.measurement_text().endswith(" cm")
    window.set_display_units("in")   # View > Units: the label follows at once
    assert window.tools.screen.label_text("measure") == f"{window.tools.measured / 0.0254:.3f} in"
    click(window, qtbot, _look_at(window, centre, np.array([0.0, 0.0, 0.12])))
    assert len(window.tools.measure_points) == 1 and window.tools.measured is None


def test_measuring_is_drawn_only_in_measure_mode(window, qtbot, tmp_path) -> None:
    cube, centre = _import_cube(window, qtbot, tmp_path)
    window.tools.set_mode("measure")
    click(window, qtbot, _look_at(window, centre, np.array([0.0, 0.0, 0.12])))
    click(window, qtbot, _look_at(window, centre, np.array([0.12, 0.0, 0.0])))
    assert window.tools.measure.root.visible
    window.tools.set_mode("move")
    assert not window.tools.measure.root.visible and window.tools.screen.label_text("measure") is None
    window.tools.set_mode("measure")
    assert window.tools.measure.root.visible and window.tools.screen.label_text("measure") is not None

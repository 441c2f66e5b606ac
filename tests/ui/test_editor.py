"""Issue 3's walk-through on the real window: import, click to select, recolour, undo, presets, versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from dstudio_desktop.core import camera_math as cm

from .conftest import press

pytestmark = pytest.mark.gui


def _click(window, x: float, y: float) -> None:
    native = window.viewport.canvas.native
    pos = QPointF(x, y)
    for kind, button, buttons in ((QMouseEvent.MouseButtonPress, Qt.LeftButton, Qt.LeftButton),
                                  (QMouseEvent.MouseButtonRelease, Qt.LeftButton, Qt.NoButton)):
        QApplication.sendEvent(native, QMouseEvent(kind, pos, native.mapToGlobal(pos), button, buttons, Qt.NoModifier))


def _screen_of(window, node_id: str) -> tuple[float, float]:
    view = window.viewport.scene_view.node_views[node_id]
    mesh = view.context.mesh_source(view.node.asset_id)
    mapped = view.visual.get_transform("visual", "canvas").map(mesh.bounds().mean(axis=0))
    return mapped[0] / mapped[3], mapped[1] / mapped[3]


def _pixel(window, xy) -> np.ndarray:
    image = window.viewport.render()
    scale = image.shape[1] / window.viewport.canvas.size[0]
    return image[int(xy[1] * scale), int(xy[0] * scale), :3].astype(int)


def test_import_pick_recolour_undo(window, qtbot, tmp_path: Path) -> None:
    part = tmp_path / "block.stl"
    trimesh.creation.box((60, 60, 60)).apply_translation((150, 0, 30)).export(part)  # 15 cm to the side
    window.import_paths([str(part)])
    qtbot.waitUntil(lambda: any(n.name == "block" for n in window.project.scene_graph.nodes), timeout=20000)
    block = next(n for n in window.project.scene_graph.nodes if n.name == "block")
    window.fit_all()
    xy = _screen_of(window, block.id)
    _click(window, *xy)
    assert window.viewport.scene_view.selection == {block.id}
    assert window.selection_label.text() == "Selected: block"
    window.set_selection([])
    before = _pixel(window, xy)

    # a part with no material gets one from the library, then its base colour changes
    window.set_selection([block.id])
    window.material_dock.assign_from_library()
    window.material_dock.set_colour("base_color_factor", (0.05, 0.2, 0.9))
    assert window.isWindowModified()  # the title shows unsaved changes until the autosave
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=10000)
    stored = window.ws.load_project(window.project.id)
    stored_block = stored.scene_graph.find(block.id)
    assert stored.material_overrides.get(stored_block.material_id).base_color_factor[:3] == (0.05, 0.2, 0.9)
    window.set_selection([])  # no highlight tint in the measurement
    blue = _pixel(window, xy)
    # the pixel moves toward the chosen blue: blue now dominates, red fell (the lit face was near-white before)
    assert blue[2] - blue[0] > 100 and before[0] - blue[0] > 100, (before, blue)
    window.editor.stack.undo()  # the colour
    window.editor.stack.undo()  # the assignment
    assert np.abs(_pixel(window, xy) - before).max() <= 3
    window.editor.stack.redo()
    window.editor.stack.redo()
    assert np.abs(_pixel(window, xy) - blue).max() <= 3


def test_camera_preset_round_trip(window, qtbot) -> None:
    window.camera_dock.save_view("Hero")
    saved = window.project.camera_presets.get("Hero")
    assert saved is not None
    window.apply_camera(cm.orbit(window.viewport.camera.view, 1.2, 0.4))
    assert not np.allclose(window.viewport.camera.view.eye, saved.eye, atol=1e-3)
    window.camera_dock.apply(saved.id)
    qtbot.waitUntil(lambda: window.camera_dock.animation.state() == window.camera_dock.animation.State.Stopped)
    view = window.viewport.camera.view
    for field in ("eye", "target", "up"):
        assert np.allclose(getattr(view, field), getattr(saved, field), atol=1e-6)
    assert abs(view.fov - saved.fov) < 1e-6 and view.projection == saved.projection
    window.editor.stack.undo()
    assert window.project.camera_presets.get("Hero") is None


def test_save_and_restore_a_version(window, qtbot) -> None:
    from dstudio_desktop.core.commands import SetNodeField

    window.versions_dock.save("before the change")
    shade = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Shade")
    window.run(SetNodeField(shade.id, "name", "Lampshade"))
    window.versions_dock.save("renamed")
    numbers = [window.versions_dock.list.topLevelItem(i).text(0) for i in range(window.versions_dock.list.topLevelItemCount())]
    assert numbers == ["3", "2", "1"]
    thumbs = [a for a in window.ws.list_assets(window.project.id) if a.asset_type == "thumbnail"]
    assert sorted(a.metadata["version_number"] for a in thumbs) == [2, 3]
    from io import BytesIO

    from PIL import Image
    thumb = np.asarray(Image.open(BytesIO(window.ws.asset_bytes(thumbs[0]))))
    assert thumb.shape[:2] == (160, 256) and thumb.std() > 10
    # it is the whole view on screen, scaled down (not a crop of it)
    from PIL import ImageOps

    pixels = window.viewport.render()[..., :3]
    screen = ImageOps.pad(Image.fromarray(pixels), (256, 160), Image.LANCZOS, color=tuple(pixels[0, 0]))
    assert np.abs(np.asarray(screen, float) - thumb[..., :3]).mean() < 3
    assert window.viewport.canvas.size != (256, 160)  # the window was not resized to make it
    items = [window.versions_dock.list.topLevelItem(i) for i in range(3)]
    assert [not item.icon(0).isNull() for item in items] == [True, True, False]  # the sample's v1 has none
    window.versions_dock.restore(2)
    names = [n.name for n, _ in window.project.scene_graph.walk()]
    assert "Shade" in names and "Lampshade" not in names
    assert window.versions_dock.list.topLevelItem(0).text(0) == "4"
    assert not window.versions_dock.list.topLevelItem(0).icon(0).isNull()  # the restored state's own thumbnail
    assert window.ws.get_version(window.project.id, 4).snapshot == window.ws.get_version(window.project.id, 2).snapshot


def test_after_a_resize_clicks_land_where_the_camera_says(window, qtbot) -> None:
    """The projection follows the viewport's new aspect ratio (it once kept the old one)."""
    import math

    window.resize(900, 1000)
    qtbot.wait(200)
    QApplication.processEvents()
    shade = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Shade")
    view = window.viewport.camera.view
    w, h = window.viewport.canvas.size
    local = window.viewport.scene_view.mesh_source(shade.asset_id).bounds().mean(axis=0)
    centre = window.project.scene_graph.world_matrix(shade.id) @ np.array([*local, 1.0])
    x, y, z, _ = cm.view_matrix(view) @ centre
    t = math.tan(math.radians(view.fov) / 2)
    px, py = ((x / -z) / (t * w / h) + 1) / 2 * w, (1 - (y / -z) / t) / 2 * h
    assert np.allclose(_screen_of(window, shade.id), (px, py), atol=2)
    _click(window, px, py)
    assert window.viewport.scene_view.selection == {shade.id}


def test_outliner_edits_are_commands(window, qtbot) -> None:
    tree = window.outliner

    def item(node_id):
        qtbot.wait(1)  # rebuilds of the tree happen on the next turn of the event loop
        return tree._items[node_id]

    arm = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Arm")
    item(arm.id).setText(0, "Stem")
    assert window.project.scene_graph.find(arm.id).name == "Stem"
    item(arm.id).setCheckState(1, Qt.Unchecked)
    assert window.project.scene_graph.find(arm.id).visible is False
    assert window.viewport.scene_view.node_views[arm.id].visual.visible is False
    item(arm.id).setCheckState(2, Qt.Checked)  # locked
    item(arm.id).setText(0, "Refused")
    assert window.project.scene_graph.find(arm.id).name == "Stem"
    assert item(arm.id).text(0) == "Stem"
    base = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Base")
    window.set_selection([base.id])
    qtbot.wait(1)
    press(qtbot, tree.tree, Qt.Key_D, Qt.ControlModifier)  # the Edit menu's keys, with focus in the outliner
    assert [n.name for n, _ in window.project.scene_graph.walk()].count("Base copy") == 1
    window.set_selection([base.id])
    qtbot.wait(1)
    press(qtbot, tree.tree, Qt.Key_G, Qt.ControlModifier)
    group = window.project.scene_graph.parent_of(base.id)
    assert group is not None and group.name == "Group"
    tree.tree.moved.emit(base.id, None, 0)  # what a drop to the top of the tree sends
    assert window.project.scene_graph.nodes[0].id == base.id
    for _ in range(6):
        window.editor.stack.undo()
    assert window.project.scene_graph.find(arm.id).name == "Arm"
    assert [n.name for n in window.project.scene_graph.nodes] == ["Desk lamp"]
    assert item(arm.id).text(0) == "Arm"


def test_lighting_environment_and_properties_docks(window) -> None:
    window.lighting_dock.apply_preset("outdoor")
    assert window.project.lighting_config.active_preset == "outdoor"
    assert [l.name for l in window.project.lighting_config.lights] == ["Sun"]  # noqa: E741
    window.editor.stack.undo()
    assert window.project.lighting_config.active_preset == "studio"

    shade = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Shade")
    xy = _screen_of(window, shade.id)
    before = _pixel(window, xy).sum()
    window.environment_dock.exposure.setValue(1.5)
    window.environment_dock.exposure.editingFinished.emit()
    assert window.project.environment_config.exposure == 1.5
    assert _pixel(window, xy).sum() > before + 30

    window.set_selection([shade.id])
    spin = window.properties_dock.fields["translation"][0]
    spin.setValue(250)  # millimetres, the project's display unit
    spin.editingFinished.emit()
    assert window.project.scene_graph.find(shade.id).transform.translation[0] == pytest.approx(0.25)
    assert "triangles" in window.properties_dock.facts.text()
    window.editor.stack.undo()
    assert window.project.scene_graph.find(shade.id).transform.translation[0] == 0.0
    assert window.properties_dock.fields["translation"][0].value() == 0.0


def test_f_frames_the_selection(window) -> None:
    bulb = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Bulb")
    window.set_selection([bulb.id])
    window.fit_all()
    centre = np.array(window.viewport.camera.view.target)
    world = window.project.scene_graph.world_matrix(bulb.id)
    assert np.allclose(centre, world[:3, 3], atol=1e-3)  # the bulb is centred, not the lamp


def test_docks_show_the_opened_project(window) -> None:
    """Docks made before any project was open fill in when one opens."""
    # the studio preset: a key and a fill light, with the studio environment lighting the rest
    assert window.lighting_dock.lights.count() == len(window.project.lighting_config.lights) == 2
    assert window.lighting_dock.ambient.value() == window.project.lighting_config.ambient_intensity
    assert window.environment_dock.tone.currentData() == window.project.environment_config.tone_mapping
    assert window.camera_dock.list.count() == 3


def test_import_prepares_drawing_data_off_the_gui_thread(window, qtbot, tmp_path: Path, monkeypatch) -> None:
    import threading

    from dstudio_desktop.render import prepare

    threads: list[str] = []
    real = prepare.prepare_display

    def spy(mesh, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(mesh, *args, **kwargs)

    monkeypatch.setattr(prepare, "prepare_display", spy)
    part = tmp_path / "ball.stl"
    trimesh.creation.icosphere(subdivisions=4, radius=40).export(part)
    window.import_paths([str(part)])
    qtbot.waitUntil(lambda: any(n.name == "ball" for n in window.project.scene_graph.nodes), timeout=20000)
    assert threads and all(name != threading.main_thread().name for name in threads), threads


def test_precomputed_normals_match_vispys() -> None:
    from vispy.geometry import MeshData as VispyMeshData

    from dstudio_desktop.meshio import MeshData
    from dstudio_desktop.render.prepare import prepare_display

    sphere = trimesh.creation.icosphere(subdivisions=5)  # 20k triangles: plain averaged normals below too
    display = prepare_display(MeshData(sphere.vertices, sphere.faces).validated("s"))
    # drawn indexed now: one normal per vertex, as vispy computes them per vertex
    theirs = VispyMeshData(vertices=display.vertices, faces=display.faces).get_vertex_normals()
    assert np.allclose(display.normals, theirs, atol=1e-4)

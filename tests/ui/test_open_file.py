"""`dstudio open part.glb` (a file manager's double-click): the file is read while the window
is made, stored as a new project, and shown; a file that cannot be read leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh


@pytest.fixture
def settings_dir(tmp_path: Path):
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QSettings.setDefaultFormat(QSettings.IniFormat)


def _start(qtbot, target: Path):
    from dstudio_desktop.ui.app import prepare_window

    app, window, open_it = prepare_window(str(target))
    return window, open_it


def test_a_model_file_opens_as_a_new_project_with_its_part_drawn(qtbot, home, settings_dir, tmp_path) -> None:
    part = tmp_path / "bracket.glb"
    shape = trimesh.creation.annulus(r_min=0.02, r_max=0.05, height=0.03, sections=48)
    shape.export(part)
    window, open_it = _start(qtbot, part)
    qtbot.addWidget(window)
    window.resize(900, 600)
    window.show()
    open_it()
    qtbot.waitUntil(lambda: window.viewport.scene_view is not None and bool(window.viewport.scene_view.node_views),
                    timeout=30000)
    assert window.project.name == "bracket"
    stored = window.ws.load_project(window.project.id)
    nodes = [n for n, _ in stored.scene_graph.walk()]
    assert len(nodes) == 1 and nodes[0].asset_id
    asset = window.ws.get_asset(nodes[0].asset_id)
    assert asset.metadata["triangle_count"] == len(shape.faces) and asset.metadata["source_file"] == "bracket.glb"
    # drawn: the part's pixels differ from the empty background at the centre
    image = window.viewport.render()
    centre = image[image.shape[0] // 2 - 40:image.shape[0] // 2 + 40, image.shape[1] // 2 - 40:image.shape[1] // 2 + 40]
    corner = image[:20, :20].reshape(-1, 3).mean(axis=0)
    assert np.abs(centre.reshape(-1, 3).astype(float) - corner).sum(axis=1).max() > 60
    qtbot.waitUntil(lambda: window.sync_status._session_read, timeout=5000)  # the keyring was read after it
    window.close()


def test_a_file_that_cannot_be_read_is_named_and_nothing_is_stored(qtbot, home, settings_dir, tmp_path,
                                                                    monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    said = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda parent, title, text: said.append(text)))
    broken = tmp_path / "broken.stl"
    broken.write_bytes(b"solid x\nfacet normal 0 0 1\n outer loop\n vertex 0 0 nan\n")
    window, open_it = _start(qtbot, broken)
    qtbot.addWidget(window)
    window.show()
    open_it()
    qtbot.waitUntil(lambda: bool(said), timeout=30000)
    assert "broken.stl" in said[0] and "Traceback" not in said[0]
    assert window.project is None
    assert window.ws.list_projects() == []
    window.close()


def test_a_large_part_is_shaded_by_its_faces_first_and_smoothly_once_its_normals_are_made(
        qtbot, home, settings_dir, tmp_path, monkeypatch) -> None:
    """A large mesh without normals of its own is drawn before its smooth normals are made
    (each face's normal, from the shader); they are made after the first frame and swapped
    in; an image rendered to keep is always shaded smoothly. The threshold is lowered so a
    coarse ball counts as large: its facets show where a 2M-triangle part's would not."""
    from dstudio_desktop.render import prepare

    monkeypatch.setattr(prepare, "DEFER_NORMALS_ABOVE", 300)
    part = tmp_path / "ball.glb"
    ball = trimesh.creation.icosphere(subdivisions=2, radius=0.05)   # 320 faces, no normals in the file
    ball.export(part)
    window, open_it = _start(qtbot, part)
    qtbot.addWidget(window)
    window.resize(1500, 900)
    window.viewport.canvas.native.setFixedSize(640, 480)   # the two images compared are of one size
    window.show()
    qtbot.waitExposed(window)
    open_it()
    qtbot.waitUntil(lambda: window.viewport.scene_view is not None and bool(window.viewport.scene_view.node_views),
                    timeout=30000)
    view = next(iter(window.viewport.scene_view.node_views.values()))
    assert view.full.buffers.normals is None and view.full.shading.face_normals
    faceted = window.viewport.canvas.render(alpha=False)     # as the first frames draw it
    qtbot.waitUntil(lambda: not view.full.shading.face_normals, timeout=20000)   # made after a frame, swapped in
    assert view.full.buffers.normals is not None
    smooth = window.viewport.canvas.render(alpha=False)
    assert faceted.shape == smooth.shape
    differs = np.abs(faceted.astype(int) - smooth.astype(int)).max(axis=2)
    assert (differs > 8).sum() > 200     # the facets showed: the face normals were what shaded it
    # ... and shaded it as the smooth normals do on the whole (4 levels apart on average where
    # the ball is; a constant normal instead of the faces' own is 21 apart)
    ball_pixels = np.abs(smooth.astype(int) - smooth[:10, :10].reshape(-1, 3).mean(axis=0)).max(axis=2) > 60
    assert ball_pixels.sum() > 10_000 and differs[ball_pixels].mean() < 8
    expected = prepare.vertex_normals(view.full.buffers.display.vertices, view.full.buffers.display.faces)
    assert np.allclose(view.full.buffers.display.normals, expected)
    scene_view = window.viewport.scene_view
    scene_view.reset()   # views made again from the kept drawing data: smooth at once
    assert not next(iter(scene_view.node_views.values())).full.shading.face_normals
    view.full.buffers.display.normals = None   # as if they were not made yet: an image to keep makes them now
    scene_view.reset()
    assert next(iter(scene_view.node_views.values())).full.shading.face_normals
    kept = window.viewport.render()
    assert not next(iter(scene_view.node_views.values())).full.shading.face_normals
    assert np.abs(kept.astype(int) - smooth.astype(int)).max() <= 2
    window.close()

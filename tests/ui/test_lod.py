"""Large meshes draw a decimated stand-in while the user moves the camera and the full mesh
once it rests; images rendered for files and thumbnails are always of the full mesh. The
threshold is lowered here so the sample lamp's parts count as large."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from dstudio_desktop.render import scene_view as scene_module

pytestmark = pytest.mark.gui


def _wheel(widget) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt.NoButton, Qt.NoModifier,
                        Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_stand_ins_while_moving_full_meshes_at_rest(window, qtbot, monkeypatch):
    monkeypatch.setattr(scene_module, "LOD_TRIANGLES", 150)   # the base, shade and bulb; not the arm (128)
    monkeypatch.setattr(scene_module, "LOD_TARGET", 60)
    scene_view = window.viewport.scene_view
    scene_view.reset()   # rebuild the views under the lowered threshold: the stand-ins start now
    large = [v for v in scene_view.node_views.values() if v.triangles > 150]
    small = [v for v in scene_view.node_views.values() if v.triangles <= 150]
    assert len(large) == 3 and small
    qtbot.waitUntil(lambda: all(v.node.asset_id in scene_view._coarse for v in large), timeout=20000)
    assert all(len(scene_view.coarse_display(v.node.asset_id).faces) < v.triangles for v in large)

    eye = window.viewport.camera.view.eye
    _wheel(window.viewport.canvas.native)
    assert window.viewport.camera.view.eye != eye            # the wheel zoomed
    for view in large:
        assert view.coarse_on and view.coarse[0].visible and not view.visual.visible
    for view in small:   # small parts are always drawn in full
        assert not view.coarse_on and view.coarse is None and view.visual.visible
    qtbot.waitUntil(lambda: not any(v.coarse_on for v in large), timeout=5000)   # the camera rested
    assert all(v.visual.visible and not v.coarse[0].visible for v in large)

    _wheel(window.viewport.canvas.native)
    assert all(v.coarse_on for v in large)
    window.viewport.render()                                   # an image is always of the full meshes
    assert not any(v.coarse_on for v in large)


def test_an_assembly_over_the_budget_stands_in_part_by_part(window, qtbot, monkeypatch):
    """No part is large, but the scene is over the moving-frame budget: while the camera moves
    each part is drawn at its share of it."""
    monkeypatch.setattr(scene_module, "SCENE_BUDGET", 1000)     # the lamp has 1,984 triangles
    monkeypatch.setattr(scene_module, "MIN_STAND_IN", 16)
    scene_view = window.viewport.scene_view
    scene_view.reset()
    views = list(scene_view.node_views.values())
    assert all(v.triangles <= scene_module.LOD_TRIANGLES for v in views)
    total = scene_view.triangle_count()
    targets = {v.node.name: scene_view.stand_in_target(v.triangles) for v in views}
    assert all(t is not None and t <= v.triangles * 1000 / total + 1 for v, t in zip(views, targets.values(),
                                                                                         strict=True)), targets
    window.viewport.render()   # a frame drawn: the stand-ins are made in the background now
    qtbot.waitUntil(lambda: all(v.node.asset_id in scene_view._coarse for v in views), timeout=20000)
    standing = [v for v in views if scene_view.coarse_display(v.node.asset_id) is not None]
    assert len(standing) >= 2
    _wheel(window.viewport.canvas.native)
    assert all(v.coarse_on for v in standing)
    drawn = sum(len(scene_view.coarse_display(v.node.asset_id).faces) if v.coarse_on else v.triangles for v in views)
    assert drawn < 0.8 * total
    qtbot.waitUntil(lambda: not any(v.coarse_on for v in views), timeout=5000)


def test_a_draft_with_few_pixels_for_its_triangles_draws_the_coarser_stand_ins(window, qtbot, monkeypatch):
    """Each stand-in has a coarser one beside it; a moving frame draws the coarser ones when
    its draft has too few pixels for the finer ones' triangles, and the finer ones otherwise."""
    monkeypatch.setattr(scene_module, "LOD_TRIANGLES", 150)
    monkeypatch.setattr(scene_module, "LOD_TARGET", 60)
    monkeypatch.setattr(scene_module, "MIN_STAND_IN", 8)
    scene_view = window.viewport.scene_view
    scene_view.reset()
    large = [v for v in scene_view.node_views.values() if v.triangles > 150]
    qtbot.waitUntil(lambda: all(v.node.asset_id in scene_view._coarse for v in large), timeout=20000)
    for view in large:
        fine, coarser = scene_view.stand_ins(view.node.asset_id)
        assert len(coarser.faces) < len(fine.faces) < view.triangles

    monkeypatch.setattr(scene_module, "DRAFT_PIXELS_PER_TRIANGLE", 1)   # pixels to spare
    _wheel(window.viewport.canvas.native)
    for view in large:
        assert view.coarse_on and view.coarse_level == 0
        assert view.stand_ins[0].visual.visible and not view.visual.visible
    qtbot.waitUntil(lambda: not any(v.coarse_on for v in large), timeout=5000)

    monkeypatch.setattr(scene_module, "DRAFT_PIXELS_PER_TRIANGLE", 10**6)   # too few pixels
    _wheel(window.viewport.canvas.native)
    for view in large:
        assert view.coarse_on and view.coarse_level == 1
        assert view.stand_ins[1].visual.visible and not view.stand_ins[0].visual.visible
        assert not view.visual.visible
    qtbot.waitUntil(lambda: not any(v.coarse_on for v in large), timeout=5000)
    assert all(v.visual.visible and not any(d.visual.visible for d in v.stand_ins.values()) for v in large)

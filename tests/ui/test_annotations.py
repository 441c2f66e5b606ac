"""Pins and the review panel on the real window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QInputDialog

from dstudio_desktop.core import camera_math as cm
from dstudio_desktop.core import commands

pytestmark = pytest.mark.gui


def _click(window, x: float, y: float) -> None:
    native = window.viewport.canvas.native
    pos = QPointF(x, y)
    for kind, buttons in ((QMouseEvent.MouseButtonPress, Qt.LeftButton), (QMouseEvent.MouseButtonRelease, Qt.NoButton)):
        QApplication.sendEvent(native, QMouseEvent(kind, pos, native.mapToGlobal(pos), Qt.LeftButton, buttons,
                                                   Qt.NoModifier))


def _true_hit(window, x: float, y: float):
    """The first surface point under the pixel, by brute force over every triangle in the world."""
    w, h = window.viewport.canvas.size
    origin, direction = cm.ray_through(window.viewport.camera.view, x, y, w, h)
    best = (np.inf, None)
    for node, world in window.project.scene_graph.world_matrices():
        if node.kind != "mesh":
            continue
        mesh = window.viewport.scene_view.mesh_source(node.asset_id)
        tri = (mesh.positions[mesh.faces].astype(float) @ world[:3, :3].T) + world[:3, 3]
        e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
        p = np.cross(direction, e2)
        det = (e1 * p).sum(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = origin - tri[:, 0]
            u = (s * p).sum(1) / det
            q = np.cross(s, e1)
            v = (q @ direction) / det
            t = (q * e2).sum(1) / det
        t[~((u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0) & np.isfinite(t))] = np.inf
        if t.min() < best[0]:
            best = (t.min(), node.id)
    return origin + direction * best[0], best[1]


def _scene_size(window) -> float:
    lo, hi = window.viewport.scene_view.bounds()
    return float(np.linalg.norm(hi - lo))


def test_a_pin_lands_on_the_surface_under_the_click_and_its_view_comes_back(window, qtbot, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Shade colour too saturated", True))
    window.annotate_action.setChecked(True)
    w, h = window.viewport.canvas.size
    x, y = int(w * 0.52), int(h * 0.16)  # a pixel on the shade in the default three-quarter view
    true_point, true_node = _true_hit(window, x, y)
    assert true_node is not None
    view_when_made = window.viewport.camera.view
    _click(window, x, y)
    annotation = window.ws.list_annotations(window.project.id)[-1]
    assert annotation.content == "Shade colour too saturated"
    assert annotation.position.node_id == true_node
    assert np.linalg.norm(np.subtract(annotation.position.point, true_point)) < 1e-4 * _scene_size(window)
    assert annotation.camera_state == view_when_made
    assert annotation.author_id == window.ws.local_profile()["id"]
    assert [p.key for p in window.viewport.pins.pins] == [annotation.id]
    # a click in annotate mode does not select
    assert window.selected_nodes() == []

    window.viewport.camera.set_view(cm.orbit(view_when_made, 1.1, 0.4), notify=True)
    window.review_dock.show_annotation(annotation.id, animate=False)
    restored = window.viewport.camera.view
    for field in ("eye", "target", "up"):
        assert np.allclose(getattr(restored, field), getattr(view_when_made, field), atol=1e-6)
    assert (restored.fov, restored.projection) == (view_when_made.fov, view_when_made.projection)
    assert window.viewport.pins.selected == annotation.id

    # the animated flight ends exactly there too
    window.viewport.camera.set_view(cm.orbit(view_when_made, -0.7, 0.2), notify=True)
    window.review_dock.show_annotation(annotation.id)
    qtbot.waitUntil(lambda: np.allclose(window.viewport.camera.view.eye, view_when_made.eye, atol=1e-6), timeout=5000)


def test_resolving_hides_it_under_the_open_filter_and_replies_thread(window, monkeypatch):
    window.annotate_action.setChecked(True)
    w, h = window.viewport.canvas.size
    window.place_pin(w * 0.52, h * 0.16, text="first")
    window.place_pin(w * 0.5, h * 0.8, text="second")
    dock = window.review_dock
    dock.status.setCurrentText("Open")
    assert [t.annotation.content for t in dock.visible_threads()] == ["first", "second"]
    dock.list.setCurrentItem(dock.list.topLevelItem(0))
    dock.reply("agreed")
    dock.set_resolved(True)
    assert [t.annotation.content for t in dock.visible_threads()] == ["second"]
    assert dock.list.topLevelItemCount() == 1
    dock.status.setCurrentText("Resolved")
    assert [t.annotation.content for t in dock.visible_threads()] == ["first"]
    assert dock.list.topLevelItem(0).child(0).text(5) == "agreed"
    dock.status.setCurrentIndex(0)
    dock.search.setText("SECOND")
    assert [t.annotation.content for t in dock.visible_threads()] == ["second"]


def test_a_reviewer_annotates_but_cannot_edit(window, monkeypatch):
    messages: list[str] = []
    monkeypatch.setattr(window, "show_error", messages.append)
    window.ws.set_role(window.project.id, "reviewer")
    window.open_project(window.project.id)
    shade = next(n for n, _ in window.project.scene_graph.walk() if n.name == "Shade")
    assert not window.run(commands.SetNodeField(shade.id, "name", "Lampshade"))
    assert shade.name == "Shade" and window.editor.stack.count() == 0
    w, h = window.viewport.canvas.size
    window.place_pin(w * 0.52, h * 0.16, text="reviewers may annotate")
    assert [a.content for a in window.ws.list_annotations(window.project.id)] == ["reviewers may annotate"]
    window.versions_dock.save("not allowed")
    assert messages and "reviewer may not change the scene" in messages[-1]

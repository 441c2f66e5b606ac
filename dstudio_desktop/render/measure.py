"""The measuring overlay: the points picked on surfaces, the line between them and its length.

Points are world points (exact ray hits); the markers keep a constant size on screen and the
label sits at the line's midpoint in canvas pixels, laid out again whenever the camera moves,
so it reads at any zoom. The text is the caller's (a length in the project's display unit).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from vispy import scene

from ..core import gizmo_math as gm
from .gizmo import OVERLAY_ORDER, ScreenOverlay
from .lazy_visual import LazyVisual

POINT_PX = 11
LINE_COLOUR = (1.0, 0.86, 0.2, 1.0)
HIDDEN_COLOUR = (1.0, 0.86, 0.2, 0.5)


class MeasureOverlay:
    """Zero, one or two measured points with the line between them and a label."""

    def __init__(self, viewport, screen: ScreenOverlay) -> None:
        self.viewport = viewport
        self.screen = screen
        self.root = scene.Node(parent=viewport.view.scene)
        self.root.order = OVERLAY_ORDER + 1
        # the line twice: faint where a part hides it, bright where it is in sight
        self.hidden_line = LazyVisual(lambda: scene.visuals.Line(
            parent=self.root, width=2.0, method="gl", antialias=True, color=HIDDEN_COLOUR), 0, depth_test=False)
        self.line = LazyVisual(lambda: scene.visuals.Line(
            parent=self.root, width=2.5, method="gl", antialias=True, color=LINE_COLOUR), 1, depth_test=True)
        self.markers = LazyVisual(lambda: scene.visuals.Markers(parent=self.root), 2, depth_test=False)
        self.points: list[np.ndarray] = []
        self.text: Optional[str] = None
        self.enabled = True     # drawn at all (measuring is the active mode)
        self.root.visible = False
        viewport.camera.view_set.connect(self._relayout)
        viewport.canvas.events.resize.connect(self._relayout)

    def set_points(self, points: list[np.ndarray], text: Optional[str] = None) -> None:
        """Show ``points`` (world), joined when there are two, with ``text`` at the midpoint."""
        self.points = [np.asarray(p, float) for p in points]
        self.text = text
        self.layout()

    def set_enabled(self, on: bool) -> None:
        """Draw the measurement or not (its points are kept for when measuring resumes)."""
        self.enabled = on
        self.layout()

    def _relayout(self, *_: Any) -> None:
        if self.points and self.enabled:
            self.layout()

    def label_anchor(self) -> Optional[tuple[float, float]]:
        """Where the label goes: the pixel of the midpoint, nudged off the line."""
        if len(self.points) < 2:
            return None
        w, h = self.viewport.canvas.size
        mid = gm.project(self.viewport.camera.view, (self.points[0] + self.points[1]) / 2, max(w, 1), max(h, 1))[0]
        return float(mid[0]) + 10, float(mid[1]) + 10

    def layout(self) -> None:
        shown = bool(self.points) and self.enabled
        self.root.visible = shown
        if not shown:
            self.screen.label("measure", None)
            self.viewport.canvas.update()
            return
        pts = np.array(self.points, np.float32)
        self.markers.set_data(pts, face_color=(1, 1, 1, 1), edge_color=(0.05, 0.05, 0.05, 1), size=POINT_PX,
                              edge_width=2)
        for line, colour in ((self.line, LINE_COLOUR), (self.hidden_line, HIDDEN_COLOUR)):
            if len(pts) == 2:
                line.set_data(pos=pts, color=colour)
            line.visible = len(pts) == 2
        anchor = self.label_anchor()
        self.screen.label("measure", self.text if anchor else None, *(anchor or (0, 0)), colour=LINE_COLOUR)
        self.viewport.canvas.update()

    def close(self) -> None:
        self.viewport.camera.view_set.disconnect(self._relayout)
        self.viewport.canvas.events.resize.disconnect(self._relayout)
        self.root.parent = None


__all__ = ["MeasureOverlay"]

"""Annotation pins: numbered markers a fixed number of pixels wide, so they read at any zoom.

Pins draw over the scene; a pin the surface hides from the current eye (a ray from the eye
to the pin hits a part first) is drawn dimmed. Pins from another version are dimmed too and
labelled with their version number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from vispy import scene

from .lazy_visual import LazyVisual

PIN_PX = 22
BRIGHT = np.array([1.0, 0.78, 0.1, 1.0])
SELECTED = np.array([0.2, 0.85, 1.0, 1.0])
DIM_ALPHA = 0.35
OTHER_VERSION_ALPHA = 0.55

# (origin, direction) -> distance along direction (in units of |direction|) to the first part hit
RayCaster = Callable[[np.ndarray, np.ndarray], Optional[float]]


@dataclass
class Pin:
    """One annotation as drawn: where it sits, its label, and how bright to draw it."""

    key: str
    position: np.ndarray   # world point on the surface
    normal: np.ndarray
    label: str
    current: bool = True   # made on the version shown
    hidden: bool = False   # behind a surface from the current eye


class PinLayer:
    """The pins of the shown annotations, drawn over the scene at a constant pixel size."""

    def __init__(self, parent: scene.Node) -> None:
        self.root = scene.Node(parent=parent)
        self.root.order = 100  # after the scene (its background would cover pins drawn before it)
        self.markers = LazyVisual(lambda: scene.visuals.Markers(parent=self.root), 0, depth_test=False)
        self.labels = LazyVisual(lambda: scene.visuals.Text(parent=self.root, font_size=9, bold=True, color="black"),
                                 1, depth_test=False)
        self.pins: list[Pin] = []
        self.selected: Optional[str] = None
        self.lift = 0.0
        self.root.visible = False

    def set_pins(self, pins: list[Pin], scene_size: float) -> None:
        self.pins = pins
        self.lift = scene_size * 0.002
        self._update()

    def select(self, key: Optional[str]) -> None:
        self.selected = key
        self._update()

    def points(self) -> np.ndarray:
        return np.array([p.position + p.normal * self.lift for p in self.pins], dtype=np.float64).reshape(-1, 3)

    def occlude(self, eye: np.ndarray, cast: RayCaster) -> None:
        """Mark the pins a part hides from ``eye``."""
        changed = False
        for pin, point in zip(self.pins, self.points(), strict=True):
            direction = point - np.asarray(eye, float)
            hit = cast(np.asarray(eye, float), direction)
            hidden = hit is not None and hit < 1.0 - 1e-6
            changed |= hidden != pin.hidden
            pin.hidden = hidden
        if changed:
            self._update()

    def _update(self) -> None:
        self.root.visible = bool(self.pins)
        if not self.pins:
            return
        colours = np.array([SELECTED if p.key == self.selected else BRIGHT for p in self.pins])
        # the highlighted pin is never dimmed: it is the one the reviewer is looking for
        alpha = np.array([1.0 if p.key == self.selected else
                          (DIM_ALPHA if p.hidden else 1.0) * (1.0 if p.current else OTHER_VERSION_ALPHA)
                          for p in self.pins])
        colours[:, 3] = alpha
        edge = np.zeros((len(self.pins), 4))
        edge[:, 3] = alpha
        sizes = np.array([PIN_PX * (1.3 if p.key == self.selected else 1.0) for p in self.pins])
        pos = self.points().astype(np.float32)
        self.markers.set_data(pos, face_color=colours, edge_color=edge, size=sizes, edge_width=1.5)
        self.labels.text, self.labels.pos = [p.label for p in self.pins], pos
        self.labels.color = np.column_stack([np.zeros((len(self.pins), 3)), alpha])

    def close(self) -> None:
        self.root.parent = None


def annotation_pins(threads, project, version_numbers: dict[str, int], shown_version_id: Optional[str],
                    include_resolved: bool = True) -> list[Pin]:
    """Pins for annotation threads whose part still exists in ``project``."""
    node_ids = {n.id for n, _ in project.scene_graph.walk()}
    pins = []
    for t in threads:
        a = t.annotation
        if a.position is None or a.position.node_id not in node_ids or (a.resolved and not include_resolved):
            continue
        current = shown_version_id is None or a.version_id in (None, shown_version_id)
        label = str(t.number) if current else f"v{version_numbers.get(a.version_id, '?')}·{t.number}"
        pins.append(Pin(a.id, np.asarray(a.position.point, float), np.asarray(a.position.normal, float), label, current))
    return pins

"""Transform gizmos drawn over the scene, a constant size on screen, and their hit tests.

Move shows three axis arrows and three plane squares, rotate three axis rings and a view ring,
scale three axis handles and a uniform handle in the middle (after pygfx's ``TransformGizmo``
and three.js's ``TransformControls``). The gizmo is laid out again whenever the camera moves or
the canvas is resized, ``SIZE_PX`` pixels long whatever the zoom; hit tests work on the same
geometry projected to the screen, so what is drawn is what can be grabbed. A light's direction
handle and the screen overlay (the mode badge, the value shown while dragging, the selection
box) live here too. Numbers come from ``core.gizmo_math``; this module only draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from vispy import scene

from ..core import CameraView
from ..core import camera_math as cm
from ..core import gizmo_math as gm
from .lazy_visual import LazyVisual

SIZE_PX = 110          # arrow length on screen
TOLERANCE_PX = 8       # how near a handle the pointer must be to grab it
AXIS_COLOURS = np.array([(0.95, 0.27, 0.33, 1.0), (0.47, 0.82, 0.22, 1.0), (0.27, 0.55, 1.0, 1.0)])
VIEW_RING = (0.85, 0.85, 0.88, 1.0)
WHITE = (1.0, 1.0, 1.0, 1.0)
HIGHLIGHT = (1.0, 0.86, 0.2, 1.0)
LIGHT_COLOUR = (1.0, 0.83, 0.35, 1.0)
RING_SEGMENTS = 96
OVERLAY_ORDER = 1000   # drawn after the scene and the annotation pins


@dataclass(frozen=True)
class Handle:
    """A grabbable part of the gizmo: ``kind`` translate/rotate/scale/light; ``axes`` the gizmo
    axes it moves along (translate, scale), turns about (rotate; empty: the view ring) or, for
    the uniform scale handle, all three."""

    name: str
    kind: str
    axes: tuple[int, ...]


HANDLES: dict[str, Handle] = {h.name: h for h in (
    Handle("tx", "translate", (0,)), Handle("ty", "translate", (1,)), Handle("tz", "translate", (2,)),
    Handle("tyz", "translate", (1, 2)), Handle("tzx", "translate", (0, 2)), Handle("txy", "translate", (0, 1)),
    Handle("rx", "rotate", (0,)), Handle("ry", "rotate", (1,)), Handle("rz", "rotate", (2,)),
    Handle("rv", "rotate", ()),
    Handle("sx", "scale", (0,)), Handle("sy", "scale", (1,)), Handle("sz", "scale", (2,)),
    Handle("su", "scale", (0, 1, 2)),
    Handle("light", "light", ()),
)}
MODE_HANDLES = {
    "move": ("tx", "ty", "tz", "tyz", "tzx", "txy"),
    "rotate": ("rx", "ry", "rz", "rv"),
    "scale": ("sx", "sy", "sz", "su"),
}


@dataclass
class Feedback:
    """What a drag under way adds to the drawing: guides along the axes, the swept angle with
    the snap ticks, the grid ticks along an axis."""

    handle: str
    angle: float = 0.0                       # rotate: swept so far (radians)
    start: Optional[np.ndarray] = None       # rotate: world direction from the pivot where the drag began
    axis: Optional[np.ndarray] = None        # rotate: the world axis turned about
    snap_step: float = 0.0                   # rotate: radians; translate: metres (0: no snapping)
    origin: Optional[np.ndarray] = None      # translate: the pivot where the drag began


class _Shapes:
    """Lines and filled triangles gathered for one frame, then handed to two visuals."""

    def __init__(self) -> None:
        self.line_pos: list[np.ndarray] = []
        self.line_col: list[np.ndarray] = []
        self.tri_pos: list[np.ndarray] = []
        self.tri_col: list[np.ndarray] = []

    def segments(self, points: np.ndarray, colour) -> None:
        pts = np.asarray(points, float).reshape(-1, 3)
        self.line_pos.append(pts)
        self.line_col.append(np.tile(np.asarray(colour, float), (len(pts), 1)))

    def polyline(self, points: np.ndarray, colour) -> None:
        pts = np.asarray(points, float)
        self.segments(np.repeat(pts, 2, axis=0)[1:-1], colour)

    def triangles(self, vertices: np.ndarray, faces: np.ndarray, colour) -> None:
        tris = np.asarray(vertices, float)[np.asarray(faces)].reshape(-1, 3)
        self.tri_pos.append(tris)
        self.tri_col.append(np.tile(np.asarray(colour, float), (len(tris) // 3, 1)))

    def upload(self, lines: Any, mesh: Any) -> None:
        if self.line_pos:
            lines.set_data(pos=np.concatenate(self.line_pos).astype(np.float32),
                           color=np.concatenate(self.line_col).astype(np.float32), connect="segments")
            lines.visible = True
        else:
            lines.visible = False
        if self.tri_pos:
            verts = np.concatenate(self.tri_pos).astype(np.float32)
            mesh.set_data(vertices=verts, faces=np.arange(len(verts), dtype=np.uint32).reshape(-1, 3),
                          face_colors=np.concatenate(self.tri_col).astype(np.float32))
            mesh.visible = True
        else:
            mesh.visible = False


def _overlay_visuals(parent: scene.Node, width: float) -> tuple[LazyVisual, LazyVisual]:
    """Lines and filled triangles over everything, each made when first drawn."""
    mesh = LazyVisual(lambda: scene.visuals.Mesh(parent=parent), 0, depth_test=False, cull_face=False)
    lines = LazyVisual(lambda: scene.visuals.Line(parent=parent, width=width, method="gl", antialias=True), 1,
                       depth_test=False, cull_face=False)
    return lines, mesh


def _perpendiculars(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    axis = axis / np.linalg.norm(axis)
    helper = np.array([1.0, 0, 0]) if abs(axis[0]) < 0.9 else np.array([0, 1.0, 0])
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    return u, np.cross(axis, u)


def _circle(centre: np.ndarray, u: np.ndarray, v: np.ndarray, radius: float, n: int = RING_SEGMENTS,
            start: float = 0.0, sweep: float = 2 * math.pi) -> np.ndarray:
    t = start + np.linspace(0.0, sweep, n + 1)
    return centre + radius * (np.cos(t)[:, None] * u + np.sin(t)[:, None] * v)


def _cone(base: np.ndarray, tip: np.ndarray, radius: float, n: int = 14) -> tuple[np.ndarray, np.ndarray]:
    u, v = _perpendiculars(tip - base)
    ring = _circle(base, u, v, radius, n)[:-1]
    vertices = np.vstack([ring, tip, base])
    faces = [(i, (i + 1) % n, n) for i in range(n)] + [((i + 1) % n, i, n + 1) for i in range(n)]
    return vertices, np.array(faces)


def _box(centre: np.ndarray, axes: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    vertices = centre + half * corners @ axes.T
    faces = np.array([(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
                      (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)])
    return vertices, faces


class Gizmo:
    """The move, rotate or scale gizmo of a selection, drawn over the scene of ``viewport``."""

    def __init__(self, viewport) -> None:
        self.viewport = viewport
        self.root = scene.Node(parent=viewport.view.scene)
        self.root.order = OVERLAY_ORDER
        self.lines, self.mesh = _overlay_visuals(self.root, 3.0)
        self.mode: Optional[str] = None
        self.pivot = np.zeros(3)
        self.frame = np.eye(3)
        self.hover: Optional[str] = None
        self.active: Optional[str] = None
        self.feedback: Optional[Feedback] = None
        self.length = 1.0              # world length of an arrow now
        self._hits: dict[str, tuple[str, Any]] = {}
        self.root.visible = False
        viewport.camera.view_set.connect(self._relayout)
        viewport.canvas.events.resize.connect(self._relayout)

    # -- state ----------------------------------------------------------------

    def place(self, mode: Optional[str], pivot: Optional[np.ndarray] = None,
              frame: Optional[np.ndarray] = None) -> None:
        """Show the gizmo of ``mode`` (move, rotate, scale) at ``pivot`` with its axes the columns
        of ``frame``; ``None`` hides it."""
        self.mode = mode if mode in MODE_HANDLES and pivot is not None else None
        if self.mode is not None:
            self.pivot = np.asarray(pivot, float)
            self.frame = np.asarray(frame if frame is not None else np.eye(3), float)
        else:
            self.hover = self.active = None
            self.feedback = None
        self.layout()

    def set_hover(self, name: Optional[str]) -> None:
        if name != self.hover:
            self.hover = name
            self.layout()

    def set_feedback(self, active: Optional[str], feedback: Optional[Feedback] = None) -> None:
        self.active, self.feedback = active, feedback
        self.layout()

    def handles(self) -> tuple[str, ...]:
        """The handles shown now (an arrow pointing at the viewer or a square seen edge on is
        hidden: it could not be dragged meaningfully)."""
        return tuple(self._hits)

    # -- geometry ---------------------------------------------------------------

    def _relayout(self, *_: Any) -> None:
        if self.mode is not None:
            self.layout()

    def _size(self) -> tuple[float, float]:
        w, h = self.viewport.canvas.size
        return float(max(w, 1)), float(max(h, 1))

    def layout(self) -> None:
        """Rebuild the drawing and the hit areas for the current camera."""
        self._hits = {}
        if self.mode is None:
            self.root.visible = False
            self.viewport.canvas.update()
            return
        view = self.viewport.camera.view
        w, h = self._size()
        self.length = length = SIZE_PX * gm.world_per_pixel(view, self.pivot, h)
        right, up, forward = cm.frame(view)
        toward_eye = np.asarray(view.eye, float) - self.pivot if view.projection == "perspective" else -forward
        toward_eye /= np.linalg.norm(toward_eye)
        shapes = _Shapes()
        p = self.pivot
        axes = [self.frame[:, i] for i in range(3)]
        centre_px = gm.project(view, p, w, h)[0, :2]

        def colour(name: str, base) -> tuple:
            return HIGHLIGHT if name in (self.hover, self.active) else tuple(base)

        def screen(points: np.ndarray) -> np.ndarray:
            return gm.project(view, points, w, h)[:, :2]

        if self.mode in ("move", "scale"):
            for i, axis in enumerate(axes):
                name = ("t" if self.mode == "move" else "s") + "xyz"[i]
                tip_px = screen(p + axis * length)[0]
                if np.linalg.norm(tip_px - centre_px) < 0.25 * SIZE_PX:
                    continue   # pointing at the viewer
                c = colour(name, AXIS_COLOURS[i])
                shapes.segments([p + axis * length * 0.12, p + axis * length * 0.8], c)
                if self.mode == "move":
                    shapes.triangles(*_cone(p + axis * length * 0.78, p + axis * length, length * 0.065), c)
                else:
                    shapes.triangles(*_box(p + axis * length * 0.86, self.frame, length * 0.055), c)
                self._hits[name] = ("segment", screen(np.array([p + axis * length * 0.15, p + axis * length])))
        if self.mode == "move":
            for i, name in enumerate(("tyz", "tzx", "txy")):
                normal = axes[i]
                if abs(float(np.dot(normal, toward_eye))) < 0.2:
                    continue   # edge on
                a, b = [axes[j] for j in range(3) if j != i]
                # the square sits in the quarter of its plane that faces the viewer
                a = a if np.dot(a, toward_eye) >= -1e-9 else -a
                b = b if np.dot(b, toward_eye) >= -1e-9 else -b
                lo, hi = 0.25 * length, 0.47 * length
                quad = np.array([p + a * lo + b * lo, p + a * hi + b * lo, p + a * hi + b * hi, p + a * lo + b * hi])
                c = colour(name, AXIS_COLOURS[i])
                shapes.triangles(quad, np.array([(0, 1, 2), (0, 2, 3)]), (*c[:3], 0.45 if name != self.hover else 0.7))
                shapes.polyline(np.vstack([quad, quad[:1]]), c)
                self._hits[name] = ("polygon", screen(quad))
        if self.mode == "rotate":
            radius = 0.8 * length
            for i, name in enumerate(("rx", "ry", "rz")):
                u, v = _perpendiculars(axes[i])
                ring = _circle(p, u, v, radius)
                shapes.polyline(ring, colour(name, AXIS_COLOURS[i]))
                self._hits[name] = ("polyline", screen(ring))
            view_ring = _circle(p, right, up, length)
            shapes.polyline(view_ring, colour("rv", VIEW_RING))
            self._hits["rv"] = ("polyline", screen(view_ring))
        if self.mode == "scale":
            half = 0.11 * length
            square = np.array([p + (-right - up) * half, p + (right - up) * half, p + (right + up) * half,
                               p + (-right + up) * half])
            c = colour("su", WHITE)
            shapes.triangles(square, np.array([(0, 1, 2), (0, 2, 3)]), (*c[:3], 0.35))
            shapes.polyline(np.vstack([square, square[:1]]), c)
            self._hits["su"] = ("polygon", screen(square))
        self._draw_feedback(shapes, view, length)
        shapes.upload(self.lines, self.mesh)
        self.root.visible = True
        self.viewport.canvas.update()

    def _draw_feedback(self, shapes: _Shapes, view: CameraView, length: float) -> None:
        fb = self.feedback
        if fb is None or fb.handle not in HANDLES:
            return
        handle = HANDLES[fb.handle]
        p = self.pivot
        if handle.kind in ("translate", "scale") and handle.name != "su":
            origin = fb.origin if fb.origin is not None else p
            for i in handle.axes:
                axis = self.frame[:, i]
                guide = (*AXIS_COLOURS[i][:3], 0.55)
                shapes.segments([origin - axis * length * 6, origin + axis * length * 6], guide)
                if handle.kind == "translate" and fb.snap_step > 0:
                    w, h = self._size()
                    step_px = fb.snap_step / gm.world_per_pixel(view, origin, h)
                    if step_px >= 5:   # ticks closer than that would only blur the line
                        # across the axis as seen: the screen's up (or right) without its part along the axis
                        right, up, _ = cm.frame(view)
                        u = up - axis * np.dot(up, axis)
                        if np.linalg.norm(u) < 0.3:
                            u = right - axis * np.dot(right, axis)
                        u /= np.linalg.norm(u)
                        n = min(int(length * 3 / fb.snap_step), 60)
                        tick = u * length * 0.04
                        for k in range(-n, n + 1):
                            q = origin + axis * fb.snap_step * k
                            shapes.segments([q - tick, q + tick], guide)
        if handle.kind == "rotate" and fb.axis is not None and fb.start is not None:
            axis = fb.axis / np.linalg.norm(fb.axis)
            radius = 0.8 * length if handle.axes else length
            u = fb.start - axis * np.dot(fb.start, axis)
            if np.linalg.norm(u) < 1e-12:
                return
            u /= np.linalg.norm(u)
            v = np.cross(axis, u)
            colour = AXIS_COLOURS[handle.axes[0]] if handle.axes else np.array(VIEW_RING)
            n = max(int(abs(fb.angle) / (2 * math.pi) * RING_SEGMENTS), 2)
            arc = _circle(p, u, v, radius, n, 0.0, fb.angle)
            fan = np.vstack([p, arc])
            shapes.triangles(fan, np.array([(0, k, k + 1) for k in range(1, len(arc))]), (*colour[:3], 0.28))
            shapes.segments([p, arc[0], p, arc[-1]], HIGHLIGHT)
            if fb.snap_step > 0:
                count = int(round(2 * math.pi / fb.snap_step))
                for k in range(count):
                    t = k * fb.snap_step
                    d = math.cos(t) * u + math.sin(t) * v
                    inner = 0.9 if k % max(1, int(round(math.radians(90) / fb.snap_step))) else 0.82
                    shapes.segments([p + d * radius * inner, p + d * radius], (1, 1, 1, 0.9))

    # -- hit tests --------------------------------------------------------------

    def handle_at(self, x: float, y: float) -> Optional[Handle]:
        """The handle under canvas pixel (x, y), or None."""
        best: tuple[float, Optional[str]] = (TOLERANCE_PX, None)
        point = np.array([x, y], float)
        for name, (shape, data) in self._hits.items():
            if shape == "segment":
                d = gm.segment_distance(point, data[0], data[1])
            elif shape == "polyline":
                d = gm.polyline_distance(point, data)
            else:
                d = 0.0 if gm.inside_polygon(point, data) else gm.polyline_distance(point, np.vstack([data, data[:1]]))
            if d < best[0] or (d == best[0] == 0.0):
                best = (d, name)
        return HANDLES[best[1]] if best[1] else None

    def handle_point(self, name: str) -> tuple[float, float]:
        """A pixel on handle ``name`` (for tests and for the cursor's first grab)."""
        shape, data = self._hits[name]
        if shape == "segment":
            q = data[0] + (data[1] - data[0]) * 0.7
        elif shape == "polygon":
            q = data.mean(axis=0)
        else:
            q = data[len(data) // 8]
        return float(q[0]), float(q[1])

    def close(self) -> None:
        self.viewport.camera.view_set.disconnect(self._relayout)
        self.viewport.canvas.events.resize.disconnect(self._relayout)
        self.root.parent = None


class LightHandle:
    """A directional or spot light's direction as an arrow through ``centre`` with a ball where
    the light comes from: drag the ball to aim the light."""

    def __init__(self, viewport) -> None:
        self.viewport = viewport
        self.root = scene.Node(parent=viewport.view.scene)
        self.root.order = OVERLAY_ORDER
        self.lines, self.mesh = _overlay_visuals(self.root, 2.5)
        self.centre: Optional[np.ndarray] = None
        self.direction = np.array([0.0, -1.0, 0.0])
        self.hot = False
        self.length = 1.0
        self._ball_px: Optional[np.ndarray] = None
        self.root.visible = False
        viewport.camera.view_set.connect(self._relayout)
        viewport.canvas.events.resize.connect(self._relayout)

    def place(self, centre: Optional[np.ndarray], direction: Optional[np.ndarray] = None) -> None:
        self.centre = None if centre is None else np.asarray(centre, float)
        if direction is not None:
            d = np.asarray(direction, float)
            self.direction = d / np.linalg.norm(d)
        self.layout()

    def set_hot(self, hot: bool) -> None:
        if hot != self.hot:
            self.hot = hot
            self.layout()

    def _relayout(self, *_: Any) -> None:
        if self.centre is not None:
            self.layout()

    def ball(self) -> np.ndarray:
        """Where the ball sits in the world: where the light comes from."""
        return self.centre - self.direction * self.length

    def layout(self) -> None:
        if self.centre is None:
            self.root.visible = False
            self._ball_px = None
            self.viewport.canvas.update()
            return
        view = self.viewport.camera.view
        w, h = self.viewport.canvas.size
        self.length = 1.2 * SIZE_PX * gm.world_per_pixel(view, self.centre, max(h, 1))
        colour = HIGHLIGHT if self.hot else LIGHT_COLOUR
        shapes = _Shapes()
        ball = self.ball()
        right, up, _ = cm.frame(view)
        shapes.segments([ball, self.centre - self.direction * self.length * 0.18], colour)
        shapes.triangles(*_cone(self.centre - self.direction * self.length * 0.2, self.centre,
                                self.length * 0.06), colour)
        shapes.triangles(*_box(ball, np.column_stack([right, up, np.cross(right, up)]), self.length * 0.06), colour)
        shapes.polyline(_circle(ball, right, up, self.length * 0.1, 32), colour)
        shapes.upload(self.lines, self.mesh)
        self._ball_px = gm.project(view, ball, max(w, 1), max(h, 1))[0, :2]
        self.root.visible = True
        self.viewport.canvas.update()

    def ball_px(self) -> Optional[tuple[float, float]]:
        return None if self._ball_px is None else (float(self._ball_px[0]), float(self._ball_px[1]))

    def hit(self, x: float, y: float) -> bool:
        return self._ball_px is not None and float(np.linalg.norm(self._ball_px - (x, y))) <= TOLERANCE_PX + 4

    def close(self) -> None:
        self.viewport.camera.view_set.disconnect(self._relayout)
        self.viewport.canvas.events.resize.disconnect(self._relayout)
        self.root.parent = None


@dataclass
class _Label:
    text: Any
    back: Any
    border: Any
    shown: bool = False
    pos: tuple[float, float] = (0.0, 0.0)
    lines: list[str] = field(default_factory=list)


class ScreenOverlay:
    """Things drawn in canvas pixels over everything: labels with a dark plate behind them (the
    active mode's badge, the value shown while dragging) and the selection box."""

    FONT_PT = 10

    def __init__(self, viewport) -> None:
        self.viewport = viewport
        self.root = scene.Node(parent=viewport.view)
        self.root.order = OVERLAY_ORDER + 10
        self.box_lines, self.box_fill = _overlay_visuals(self.root, 1.5)
        self.box_lines.visible = self.box_fill.visible = False
        self._labels: dict[str, _Label] = {}

    def label(self, key: str, text: Optional[str], x: float = 0.0, y: float = 0.0,
              colour=(1.0, 1.0, 1.0, 1.0), right: bool = False) -> None:
        """Show ``text`` with its top-left (``right``: top-right) corner at pixel (x, y); None hides it."""
        item = self._labels.get(key)
        if item is None and not text:
            return  # nothing to hide (making the visuals costs a font load: 0.08 s of opening the window)
        if item is None:
            back = scene.visuals.Mesh(parent=self.root)
            border = scene.visuals.Line(parent=self.root, width=1.0, method="gl")
            words = scene.visuals.Text(parent=self.root, font_size=self.FONT_PT, color=colour,
                                       anchor_x="left", anchor_y="bottom")
            for order, visual in enumerate((back, border, words)):
                visual.set_gl_state("translucent", depth_test=False, cull_face=False)
                visual.order = 10 + order
            item = self._labels[key] = _Label(words, back, border)
        if not text:
            item.shown = False
            for visual in (item.text, item.back, item.border):
                visual.visible = False
            self.viewport.canvas.update()
            return
        item.text.text, item.text.color = text, colour
        lines = text.split("\n")
        item.lines = lines
        scale = self._px_per_pt()
        width = max(len(t) for t in lines) * self.FONT_PT * 0.56 * scale + 14
        height = len(lines) * self.FONT_PT * 1.45 * scale + 8
        x0, y0 = float(x) - (width if right else 0.0), float(y)
        cw, ch = self.viewport.canvas.size
        x0 = min(max(x0, 2.0), max(cw - width - 2.0, 2.0))   # kept on the canvas
        y0 = min(max(y0, 2.0), max(ch - height - 2.0, 2.0))
        item.text.pos = (x0 + 7, y0 + 5)
        corners = np.array([(x0, y0, 0), (x0 + width, y0, 0), (x0 + width, y0 + height, 0), (x0, y0 + height, 0)],
                           np.float32)
        item.back.set_data(vertices=corners, faces=np.array([(0, 1, 2), (0, 2, 3)], np.uint32),
                           color=(0.06, 0.06, 0.08, 0.78))
        item.border.set_data(pos=np.vstack([corners, corners[:1]]), color=(*colour[:3], 0.5))
        item.shown, item.pos = True, (x0, y0)
        for visual in (item.text, item.back, item.border):
            visual.visible = True
        self.viewport.canvas.update()

    def label_text(self, key: str) -> Optional[str]:
        item = self._labels.get(key)
        return item.text.text if item is not None and item.shown else None

    def _px_per_pt(self) -> float:
        # vispy draws text sizes in points at the canvas's dpi
        dpi = getattr(self.viewport.canvas, "dpi", None) or 96
        return dpi / 72

    def box(self, rect: Optional[tuple[float, float, float, float]]) -> None:
        """The selection box from one corner to the other (None hides it)."""
        if rect is None:
            self.box_lines.visible = self.box_fill.visible = False
        else:
            x0, y0, x1, y1 = rect
            corners = np.array([(x0, y0, 0), (x1, y0, 0), (x1, y1, 0), (x0, y1, 0)], np.float32)
            self.box_fill.set_data(vertices=corners, faces=np.array([(0, 1, 2), (0, 2, 3)], np.uint32),
                                   color=(0.35, 0.62, 1.0, 0.16))
            self.box_lines.set_data(pos=np.vstack([corners, corners[:1]]), color=(0.55, 0.75, 1.0, 0.95))
            self.box_lines.visible = self.box_fill.visible = True
        self.viewport.canvas.update()

    def close(self) -> None:
        self.root.parent = None


__all__ = ["Feedback", "Gizmo", "HANDLES", "Handle", "LightHandle", "MODE_HANDLES", "SIZE_PX", "ScreenOverlay"]

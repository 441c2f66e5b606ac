"""A vispy camera whose state is exactly a ``CameraView`` (eye, target, up, fov, projection).

vispy's turntable and arcball cameras keep their own parameterisation (and
private fields), so a saved preset could only be approximated. This camera
renders the model's view as it is, and turns mouse drags into ``camera_math``
operations. Its psygnal signals report what happened: ``moved`` a view the model
should store, ``clicked`` a click (not a drag), ``view_set`` every view shown and
``interacting`` the user moving the camera (these two for the viewport itself).

A tool (a gizmo handle, a selection box) can take a drag before the camera does: every press
is offered through ``pressed`` first, and a listener that calls ``Pointer.claim()`` receives
that drag's moves (``dragged``) and its release (``released``) while the camera stays put and
reports no click. A press nobody claims orbits, pans and zooms as always.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from psygnal import Signal
from vispy.scene.cameras import BaseCamera
from vispy.util import keys
from vispy.visuals.transforms import MatrixTransform

from ..core import CameraView
from ..core import camera_math as cm


@dataclass
class Pointer:
    """A mouse press, move or release over the canvas, in canvas pixels (y down)."""

    x: float
    y: float
    button: int                  # 1 left, 2 right, 3 middle (vispy's numbering); 0 for a move
    modifiers: frozenset[str]    # "shift", "control", "alt", "meta"
    claimed: bool = False

    def claim(self) -> None:
        """Take this press's drag away from the camera (only meaningful on ``pressed``)."""
        self.claimed = True


def _pointer(event) -> Pointer:
    mouse = event.mouse_event
    names = frozenset(str(getattr(k, "name", k)).lower() for k in (mouse.modifiers or ()))
    return Pointer(float(event.pos[0]), float(event.pos[1]), int(getattr(mouse, "button", 0) or 0), names)


class ViewCamera(BaseCamera):
    """Orbit (left drag), pan (middle drag or shift+left), zoom (wheel or right drag)."""

    # (not ``view_changed``: that is BaseCamera's method asking vispy to redraw)
    moved = Signal(object)         # CameraView to keep in the model: user input, or set_view(notify=True)
    clicked = Signal(float, float)  # canvas pixel of a left click that did not drag
    view_set = Signal(object)      # every new CameraView, notified or not, so the renderer follows
    interacting = Signal()         # the user is moving the camera (mouse, wheel, trackpad)
    pressed = Signal(object)       # Pointer of every press, before the camera acts; claim() takes the drag
    dragged = Signal(object)       # Pointer of each move of a claimed drag
    released = Signal(object)      # Pointer of the release that ends a claimed drag

    def __init__(self, view: Optional[CameraView] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.transform = MatrixTransform()
        self._view = view or CameraView()
        self._drag_start: Optional[CameraView] = None
        self._claimed = False   # a tool took the current drag

    @property
    def view(self) -> CameraView:
        return self._view

    def set_view(self, view: CameraView, notify: bool = False) -> None:
        self._view = view
        self.view_changed()
        self.view_set.emit(view)
        if notify:
            self.moved.emit(view)

    def _change(self, view: CameraView) -> None:
        """A change the user makes with the mouse, wheel or trackpad."""
        self.interacting.emit()
        self.set_view(view, notify=True)

    # vispy calls this whenever the view or the viewbox size changes
    def _update_transform(self, event=None) -> None:
        if self._viewbox is None:
            return
        w, h = self._viewbox.size
        if w == 0 or h == 0:
            return
        view = self._view
        right, up, forward = cm.frame(view)
        cam_to_world = np.eye(4)
        cam_to_world[0, :3], cam_to_world[1, :3], cam_to_world[2, :3] = right, up, -forward
        cam_to_world[3, :3] = view.eye
        self.transform.matrix = cam_to_world  # vispy matrices act on row vectors
        aspect = w / h
        if view.projection == "perspective":
            self._projection.set_perspective(view.fov, aspect, view.near, view.far)
        else:
            half_h = cm.view_height(view) / 2
            self._projection.set_ortho(-half_h * aspect, half_h * aspect, -half_h, half_h, view.near, view.far)
        self._viewbox_tr.set_mapping([[-1, 1], [1, -1]], [[0, 0], self._viewbox.size])
        path = [n.transform for n in self._viewbox.scene.node_path_to_child(self)[1:]]
        camera_tr = self._transform_cache.get(path).inverse
        full = self._transform_cache.get([self._viewbox_tr, self._projection, camera_tr])
        self._transform_cache.roll()
        self._set_scene_transform(full)

    def viewbox_resize_event(self, event) -> None:
        # BaseCamera ignores resizes; without this the projection keeps the old aspect ratio
        self.view_changed()

    def _wheel(self, event) -> None:
        """A mouse wheel zooms. Two fingers on a trackpad orbit, with Shift pan, with Ctrl zoom
        (pinching zooms too, as a gesture)."""
        modifiers = event.mouse_event.modifiers
        if not _from_trackpad(event.mouse_event.native) or keys.CONTROL in modifiers:
            self._change(cm.zoom(self._view, 1.1 ** -event.delta[1]))
            return
        h = max(self._viewbox.size[1], 1)
        pixels = event.mouse_event.native.pixelDelta()
        dx, dy = (pixels.x(), pixels.y()) if not pixels.isNull() else (event.delta[0] * 20, event.delta[1] * 20)
        if keys.SHIFT in modifiers:
            self._change(cm.pan(self._view, dx / h, -dy / h))
        else:
            self._change(cm.orbit(self._view, -dx / h * math.pi, -dy / h * math.pi))

    def viewbox_mouse_event(self, event) -> None:
        if event.handled or not self.interactive:
            return
        if event.type == "mouse_wheel":
            self._wheel(event)
            event.handled = True
        elif event.type == "gesture_zoom":
            self._change(cm.zoom(self._view, max(0.1, 1 - event.scale)))
            event.handled = True
        elif event.type == "mouse_press":
            pointer = _pointer(event)
            self.pressed.emit(pointer)
            self._claimed = pointer.claimed
            self._drag_start = None if pointer.claimed else self._view
            event.handled = True
        elif self._claimed and event.type in ("mouse_move", "mouse_release"):
            if event.type == "mouse_release":
                self._claimed = False
                self.released.emit(_pointer(event))
            elif event.press_event is not None:
                self.dragged.emit(_pointer(event))
            event.handled = True
        elif event.type == "mouse_release":
            self._drag_start = None
            press = event.press_event
            if press is not None and event.button == 1 and \
                    np.linalg.norm(np.subtract(event.pos[:2], press.pos[:2])) < 4:
                self.clicked.emit(float(event.pos[0]), float(event.pos[1]))
        elif event.type == "mouse_move" and event.press_event is not None and self._drag_start is not None:
            h = max(self._viewbox.size[1], 1)
            d = (np.asarray(event.pos[:2]) - np.asarray(event.press_event.pos[:2])) / h
            shift = keys.SHIFT in event.mouse_event.modifiers
            if 1 in event.buttons and not shift:
                self._change(cm.orbit(self._drag_start, d[0] * math.pi, d[1] * math.pi))
            elif 3 in event.buttons or (1 in event.buttons and shift):
                self._change(cm.pan(self._drag_start, -d[0], d[1]))
            elif 2 in event.buttons:
                self._change(cm.zoom(self._drag_start, math.exp(d[1] * 2)))
            event.handled = True


def _from_trackpad(native) -> bool:
    """Trackpads scroll in phases with pixel deltas; a wheel clicks in angle steps with neither.

    vispy's wheel event carries neither the phase nor the pixel delta, so they are read from the
    backend's own event; by name, because render/ does not import Qt."""
    if native is None or not hasattr(native, "phase"):
        return False
    return native.phase().name != "NoScrollPhase" or not native.pixelDelta().isNull()

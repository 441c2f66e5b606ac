"""The 3D viewport: a vispy SceneCanvas with our camera and a project's scene view.

The same class draws inside the main window and renders headless images, so a
thumbnail and the viewport can never disagree.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
from psygnal import Signal

from .. import settings
from ..core import CameraView, Project
from ..core import camera_math as cm
from .camera import ViewCamera
from .draft_canvas import DraftCanvas
from .pins import PinLayer
from .prepare import MeshSource, PreparedAsset
from .scene_view import SceneView

SETTLE_S = 0.3   # seconds the camera rests before large meshes are drawn in full again
NORMALS_POLL_S = 0.05   # how often the viewport looks whether deferred smooth normals are made



class _Transparent:
    """While in effect, the environment view leaves its background out."""

    def __init__(self, env) -> None:
        self.env = env

    def __enter__(self):
        if self.env is not None:
            self.env.set_transparent(True)
        return self

    def __exit__(self, *exc) -> None:
        if self.env is not None:
            self.env.set_transparent(False)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def _check(cancel, check) -> None:
    if cancel is None:
        return
    if callable(cancel):
        if cancel():
            from ..errors import Cancelled

            raise Cancelled("rendering the image")
        return
    check(cancel, "rendering the image")


def _downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Box-filter an sRGB RGBA uint8 image by ``factor``: colours averaged in linear light,
    weighted by alpha, so edges against a transparent background keep their colour."""
    if factor == 1:
        return image
    from ..core.color import linear_to_srgb, srgb_to_linear

    h, w = image.shape[0] // factor, image.shape[1] // factor
    rgba = image[:h * factor, :w * factor].astype(np.float32) / 255.0
    alpha = rgba[..., 3:4]
    linear = srgb_to_linear(rgba[..., :3]) * alpha
    blocks = lambda a: a.reshape(h, factor, w, factor, a.shape[-1]).mean(axis=(1, 3))  # noqa: E731
    a = blocks(alpha)
    colour = blocks(linear) / np.maximum(a, 1e-6)
    out = np.concatenate([linear_to_srgb(colour), a], axis=-1)
    return np.clip(np.round(out * 255), 0, 255).astype(np.uint8)


def _max_renderbuffer() -> int:
    try:
        from vispy.gloo import gl

        return int(gl.glGetParameter(gl.GL_MAX_RENDERBUFFER_SIZE)) or 4096
    except Exception:  # noqa: BLE001 - no context yet: assume a modest limit
        return 4096


class Viewport:
    """A canvas showing one project (or none) through a ``ViewCamera``, with annotation pins;
    ``frame_drawn`` reports each frame's draw time in milliseconds."""

    frame_drawn = Signal(float)

    def __init__(self, size: tuple[int, int] = (960, 640), show: bool = False, parent=None) -> None:
        self.canvas = DraftCanvas(keys=None, size=size, show=show, parent=parent, bgcolor=(0.1, 0.1, 0.12, 1),
                                        config={"samples": settings.msaa_samples()})
        # no border: vispy's default 1-pixel one would frame every image in the canvas colour
        self.view = self.canvas.central_widget.add_view(border_width=0)
        self.camera = ViewCamera()
        self.view.camera = self.camera
        self.camera.view_set.connect(self._view_changed)
        self.camera.interacting.connect(self._interacting)
        self._settle_timer = None
        self._background_timer = None
        self._normals_timer = None
        self.scene_view: Optional[SceneView] = None
        self.pins = PinLayer(self.view.scene)
        self.frame_ms = 0.0
        self._draw_started = 0.0
        self.canvas.before_draft = self._before_draft
        self.canvas.events.draw.connect(self._before_draw, position="first")
        self.canvas.events.draw.connect(self._after_draw, position="last")

    def _view_changed(self, view: CameraView) -> None:
        if self.scene_view is not None:
            self.scene_view.apply_camera(view)
        self.occlude_pins()

    def _interacting(self) -> None:
        """While the user moves the camera, large meshes draw their stand-ins and frames are
        drafts at reduced resolution (``DraftCanvas``); full meshes at full resolution come
        back once the camera has rested for SETTLE_S."""
        if self.scene_view is None:
            return
        self.scene_view.set_coarse(True, self.canvas.draft_pixels())
        self.canvas.drafting = True
        if self._settle_timer is None:
            from vispy import app

            self._settle_timer = app.Timer(SETTLE_S, connect=self._settle, iterations=1, app=self.canvas.app)
        self._settle_timer.stop()
        self._settle_timer.start()

    def _settle(self, event=None) -> None:
        was_draft = self.canvas.drafting
        self.canvas.drafting = False
        stand_ins = self.scene_view is not None and self.scene_view.set_coarse(False)
        if stand_ins or was_draft:
            self.canvas.update()

    def occlude_pins(self) -> None:
        """Dim the pins that a part hides from the current eye."""
        if self.pins.pins and self.scene_view is not None:
            self.pins.occlude(np.asarray(self.camera.view.eye, float), self._cast)

    def _cast(self, origin: np.ndarray, direction: np.ndarray) -> Optional[float]:
        hit = self.scene_view.pick(origin, direction, include_locked=True)
        return None if hit is None else float(np.linalg.norm(hit[1] - origin) / np.linalg.norm(direction))

    def show_pins(self, pins, selected: Optional[str] = None) -> None:
        self.pins.set_pins(pins, self.scene_size())
        self.pins.select(selected)
        self.occlude_pins()
        self.canvas.update()

    def _before_draft(self) -> None:
        if self.scene_view is not None and self.scene_view.environment is not None:
            self.scene_view.environment.update_shadows(self.canvas)

    def _before_draw(self, event=None) -> None:
        self._draw_started = time.perf_counter()

    def _after_draw(self, event=None) -> None:
        self.frame_ms = (time.perf_counter() - self._draw_started) * 1000
        if self.canvas.drafting:
            self.canvas.adapt(self.frame_ms)
        if self.scene_view is not None and not self.scene_view.background_started:
            # after this paint has been shown (a 0 s timer), not inside it: the frame reaches the
            # screen before any background job can hold the interpreter
            from vispy import app

            self._background_timer = app.Timer(0.0, connect=self._start_background, iterations=1,
                                               app=self.canvas.app, start=True)
        self.frame_drawn.emit(self.frame_ms)

    def _start_background(self, event=None) -> None:
        if self.scene_view is not None:
            self.scene_view.start_background_work()
            if self.scene_view.normals_pending:
                self._watch_normals()

    def _watch_normals(self) -> None:
        """Look every NORMALS_POLL_S whether deferred smooth normals are made, until none is left."""
        if self._normals_timer is None:
            from vispy import app

            self._normals_timer = app.Timer(NORMALS_POLL_S, connect=self._apply_normals, app=self.canvas.app)
        if not self._normals_timer.running:
            self._normals_timer.start()

    def _apply_normals(self, event=None) -> None:
        view = self.scene_view
        if view is None or not view.normals_pending:
            self._normals_timer.stop()
        if view is not None and view.apply_made_normals():
            self.canvas.update()

    def set_project(self, project: Optional[Project], mesh_source: Optional[MeshSource] = None,
                    prepared: Optional[dict[str, PreparedAsset]] = None) -> None:
        if self.scene_view is not None:
            self.scene_view.close()
            self.scene_view = None
        if project is not None and mesh_source is not None:
            self.scene_view = SceneView(project, mesh_source, self.view.scene, prepared)
            default = project.camera_presets.default()
            start = project.canvas_state.camera or (default.view() if default else None)
            self.camera.set_view(start or self.fit_view(CameraView()))
        self.canvas.update()

    def fit_view(self, base: CameraView) -> CameraView:
        bounds = self.scene_view.bounds() if self.scene_view else None
        if bounds is None:
            return base
        return cm.fit(base, *bounds, aspect=self.aspect())

    def aspect(self) -> float:
        width, height = self.canvas.size
        return width / max(height, 1)

    def render(self, size: Optional[tuple[int, int]] = None, transparent: bool = False) -> np.ndarray:
        """An RGB(A) uint8 image of the current view, off-screen; ``size`` does not resize the window.
        Always of the full meshes, never the stand-ins drawn while the camera moves. With
        ``transparent`` the background is left out: RGBA, alpha 0 where it would be."""
        if self.scene_view is not None:
            self.scene_view.set_coarse(False)
            self.scene_view.make_normals_now()   # an image made to keep is shaded smoothly
        size = None if size is None or tuple(size) == tuple(self.canvas.size) else tuple(size)
        if size is not None:  # vispy draws a larger framebuffer's content into its corner: scale after
            from PIL import Image

            image = self.render(None, transparent)
            return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))
        if not transparent:
            return self.canvas.render(size=size, alpha=False)
        with self._transparent():
            return self.canvas.render(size=size, bgcolor=(0, 0, 0, 0), alpha=True)

    def render_image(self, supersample: int = 1, transparent: bool = False, progress=None, cancel=None,
                     tile_rows: int = 512) -> np.ndarray:
        """An image of the whole canvas, ``supersample`` times smaller on each side than the
        canvas (each pixel the mean of supersample x supersample samples, averaged in linear
        light): make the canvas that many times the image's size. Drawn in bands of
        ``tile_rows`` canvas rows so a 4K image fits in any GL implementation's limits;
        ``progress(fraction, text)`` after each band, and ``cancel`` (a callable or an object with
        ``cancelled``) is checked between them (raising ``Cancelled``).

        (vispy's render(size=...) maps the canvas onto a larger framebuffer wrongly, drawing into
        one corner; rendering each band at its own size avoids that.)"""
        from ..core.progress import check

        if self.scene_view is not None:
            self.scene_view.set_coarse(False)
            self.scene_view.make_normals_now()   # an image made to keep is shaded smoothly
        supersample = max(1, int(supersample))
        width, height = (int(v) for v in self.canvas.size)
        tile_rows = max(supersample, min(tile_rows, _max_renderbuffer()) // supersample * supersample)
        bands = []
        rows = list(range(0, height, tile_rows))
        with self._transparent() if transparent else _nothing():
            for i, y in enumerate(rows):
                _check(cancel, check)
                h = min(tile_rows, height - y)
                # vispy's region counts rows from the bottom of the canvas, as GL does
                band = self.canvas.render(region=(0, height - y - h, width, h),
                                          bgcolor=(0, 0, 0, 0) if transparent else None, alpha=True)
                bands.append(_downsample(band, supersample))
                if progress is not None:
                    progress((i + 1) / len(rows), f"drawing band {i + 1} of {len(rows)}")
        image = np.concatenate(bands, axis=0)
        return image if transparent else np.ascontiguousarray(image[..., :3])

    def _transparent(self):
        env = self.scene_view.environment if self.scene_view is not None else None
        return _Transparent(env)

    def scene_size(self) -> float:
        bounds = self.scene_view.bounds() if self.scene_view else None
        return float(np.linalg.norm(np.subtract(bounds[1], bounds[0]))) if bounds is not None else 1.0

    def close(self) -> None:
        for timer in (self._settle_timer, self._background_timer, self._normals_timer):
            if timer is not None:
                timer.stop()
        self._settle_timer = self._background_timer = self._normals_timer = None
        # whoever subscribed (a window, the other half of a comparison) may outlive this viewport
        for signal in (self.frame_drawn, self.camera.moved, self.camera.clicked, self.camera.view_set,
                       self.camera.interacting):
            signal.disconnect()
        self.pins.close()
        self.set_project(None)
        self.canvas.close()

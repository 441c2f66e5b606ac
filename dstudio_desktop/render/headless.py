"""Render a project to an image without a window (thumbnails, product shots, ``dstudio render``).

The GL context comes from whatever is there, tried in this order unless one is asked for:

- ``pyside6`` when the process runs a Qt application (the editor itself) or has an X or
  Wayland display and Qt installed: the same path the viewport draws through;
- ``egl``: EGL on Mesa's surfaceless platform, which needs no display server at all;
- ``osmesa``: Mesa's off-screen renderer (libOSMesa), likewise.

Once a process has drawn through one it keeps it (vispy selects an application backend once,
so a process that later opens a window must not have chosen EGL first).
``render_scene`` reports which it used through ``info``.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import sys
from pathlib import Path
from typing import Optional

import numpy as np

from ..core import Project
from ..errors import DStudioError, NotFoundError
from .prepare import MeshSource

BACKENDS = ("egl", "osmesa", "pyside6")
MAX_SIZE = 8192                       # pixels on a side of the finished image
_chosen: Optional[str] = None


class NoGraphicsError(DStudioError):
    """No way to draw here: no EGL, no OSMesa and no display."""


def _qt_running() -> bool:
    widgets = sys.modules.get("PySide6.QtWidgets")   # looked up, not imported: render/ imports no Qt
    return widgets is not None and widgets.QApplication.instance() is not None


def _display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _current_vispy_app() -> Optional[str]:
    if "vispy.app" not in sys.modules:   # not imported: importing it would load libGL (see _try)
        return None
    from vispy.app import _default_app

    app = _default_app.default_app
    return None if app is None else app.backend_name.lower()


def _egl_works() -> Optional[str]:
    """Whether EGL gives a display on Mesa's surfaceless platform (probed with ctypes, before
    vispy loads any GL library); None when it does, else why not."""
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    name = ctypes.util.find_library("EGL")
    if name is None:
        return "libEGL is not installed (Debian: libegl1, libegl-mesa0)"
    try:
        egl = ctypes.CDLL(name)
        egl.eglGetDisplay.restype = ctypes.c_void_p
        egl.eglGetDisplay.argtypes = [ctypes.c_void_p]
        egl.eglInitialize.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        egl.eglTerminate.argtypes = [ctypes.c_void_p]
        display = egl.eglGetDisplay(None)
        if not display or not egl.eglInitialize(display, None, None):
            return "EGL has no usable display here"
        egl.eglTerminate(display)
    except (OSError, AttributeError) as err:
        return str(err)
    return None


def _try(backend: str) -> Optional[str]:
    """Select ``backend`` for vispy; None when it works, else why not."""
    if backend == "egl":
        # Mesa picks its platform from this; surfaceless needs no X or Wayland server
        why = _egl_works()
        if why is not None:
            return why
    if backend == "osmesa":
        lib = ctypes.util.find_library("OSMesa")
        if lib is None:
            return "libOSMesa is not installed (Debian: libosmesa6)"
        if "vispy.gloo.gl" in sys.modules and os.environ.get("VISPY_GL_LIB") != lib:
            return "OpenGL was already loaded from libGL in this process"
        os.environ["VISPY_GL_LIB"] = lib
    if backend == "pyside6" and not _display() and not _qt_running():
        return "no display ($DISPLAY and $WAYLAND_DISPLAY are unset)"
    try:
        from vispy import app as vispy_app  # only now: importing vispy.app loads the GL library

        vispy_app.use_app(backend)
    except Exception as err:  # noqa: BLE001 - vispy raises RuntimeError or ImportError with the reason
        return str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    return None


def choose_backend(prefer: Optional[str] = None) -> str:
    """The GL backend this process draws with (chosen now if it has none); see the module."""
    global _chosen
    current = _current_vispy_app()
    if current is not None:
        _chosen = "pyside6" if "pyside" in current or "qt" in current else current
        return _chosen
    if _qt_running():
        order = ["pyside6"]
    elif prefer:
        order = [prefer]
    elif _display() and importlib.util.find_spec("PySide6") is not None:
        order = ["pyside6", "egl", "osmesa"]
    else:
        order = ["egl", "osmesa"]
    reasons = []
    for backend in order:
        why = _try(backend)
        if why is None:
            _chosen = backend
            return backend
        reasons.append(f"{backend}: {why}")
    raise NoGraphicsError("cannot draw here: " + "; ".join(reasons))


def render_scene(project: Project, mesh_source: MeshSource, size: tuple[int, int] = (960, 640),
                 camera: Optional[str] = None, view=None, pins=None, selected_pin: Optional[str] = None, *,
                 supersample: int = 1, transparent: bool = False, progress=None, cancel=None,
                 backend: Optional[str] = None, info: Optional[dict] = None) -> np.ndarray:
    """An image of the project from a camera preset (by name), an explicit ``view``, or the
    project's default view; with annotation ``pins`` drawn when given. Meshes (and, from an
    ``AssetSource``, texture and environment images) come from ``mesh_source``.

    ``supersample`` draws n x n samples per pixel; ``transparent`` leaves the background out
    (RGBA); ``progress(fraction, text)`` and ``cancel`` follow the drawing band by band;
    ``backend`` asks for one GL backend (else chosen as the module says); ``info`` receives
    ``backend`` and ``renderer`` (the GL renderer's name)."""
    width, height = (int(v) for v in size)
    if not (0 < width <= MAX_SIZE and 0 < height <= MAX_SIZE):
        raise DStudioError(f"an image of {width}x{height} is not possible (1 to {MAX_SIZE} pixels a side)")
    if not 1 <= int(supersample) <= 4:
        raise DStudioError(f"supersampling must be 1 to 4, not {supersample}")
    chosen = choose_backend(backend)
    from .viewport import Viewport

    if progress is not None:
        progress(0.0, "preparing the scene")
    ss = int(supersample)
    viewport = Viewport(size=(width * ss, height * ss), show=False)   # drawn at ss x the size, averaged down
    try:
        viewport.set_project(project, mesh_source)
        if camera is not None:
            preset = project.camera_presets.get(camera)
            if preset is None:
                names = ", ".join(p.name for p in project.camera_presets.presets) or "none saved"
                raise NotFoundError(f"project {project.name!r} has no camera preset {camera!r} ({names})")
            viewport.camera.set_view(preset.view())
        if view is not None:
            viewport.camera.set_view(view)
        if pins:
            viewport.show_pins(pins, selected_pin)
        image = viewport.render_image(supersample=ss, transparent=transparent, progress=progress, cancel=cancel)
        if info is not None:
            info["backend"] = chosen
            info["renderer"] = _renderer()
        return image
    finally:
        viewport.close()


def _renderer() -> str:
    try:
        from vispy.gloo import gl

        return str(gl.glGetParameter(gl.GL_RENDERER))
    except Exception:  # noqa: BLE001 - informative only
        return "unknown"


def save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    try:
        Image.fromarray(image).save(path)
    except OSError as err:
        raise DStudioError(f"{path}: cannot write the image: {err}") from None


__all__ = ["BACKENDS", "NoGraphicsError", "choose_backend", "render_scene", "save_png"]

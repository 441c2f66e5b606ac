"""Render a project to an image without a window (thumbnails, ``dstudio render``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..core import Project
from ..errors import DStudioError, NotFoundError
from .prepare import MeshSource


def render_scene(project: Project, mesh_source: MeshSource, size: tuple[int, int] = (960, 640),
                 camera: Optional[str] = None, view=None, pins=None, selected_pin: Optional[str] = None) -> np.ndarray:
    """An image of the project from a camera preset (by name), an explicit ``view``, or the
    project's default view; with annotation ``pins`` drawn when given. Meshes come from
    ``mesh_source`` (asset id -> MeshData)."""
    from vispy import app as vispy_app

    vispy_app.use_app("pyside6")
    from .viewport import Viewport

    viewport = Viewport(size=size, show=False)
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
        return viewport.render(size)
    finally:
        viewport.close()


def save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    try:
        Image.fromarray(image).save(path)
    except OSError as err:
        raise DStudioError(f"{path}: cannot write the image: {err}") from None

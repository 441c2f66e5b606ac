"""Pictures of a project without a window: ``dstudio render``, the review report's views."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..store import Workspace
from .models import load_mesh


def render_project(ws: Workspace, key: str, size: tuple[int, int] = (960, 640), camera: Optional[str] = None,
                   view=None, pins=None, selected_pin: Optional[str] = None) -> np.ndarray:
    """The stored project rendered from a camera preset (by name), ``view``, or its default view."""
    from ..render.headless import render_scene

    project = ws.load_project(key)
    return render_scene(project, lambda asset_id: load_mesh(ws, asset_id), size, camera, view, pins, selected_pin)

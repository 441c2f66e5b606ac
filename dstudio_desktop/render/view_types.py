"""The model type -> view class table: the one place that says which view draws which model.

A new kind of model gets drawn by adding its view here (napari's ``_vispy/utils/visual.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import EnvironmentConfig, LightingConfig, Node
from .environment_view import EnvironmentView
from .lighting_view import LightingView
from .node_view import NodeView

if TYPE_CHECKING:
    from .scene_view import SceneView

VIEW_TYPES: dict[type, type] = {Node: NodeView, EnvironmentConfig: EnvironmentView, LightingConfig: LightingView}


def make_view(model: Any, context: SceneView) -> Any:
    """A new view of ``model``, connected to its events, drawing under ``context``."""
    return VIEW_TYPES[type(model)](model, context)


__all__ = ["VIEW_TYPES", "make_view"]

"""The view of ``lighting_config``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import LightingConfig

if TYPE_CHECKING:
    from .scene_view import SceneView


class LightingView:
    """Feeds ``lighting_config`` into every mesh's shading filter; draws nothing itself."""

    def __init__(self, lighting: LightingConfig, context: SceneView) -> None:
        self.lighting = lighting
        self.context = context
        lighting.events.all.connect(self.reset)
        self.reset()

    def reset(self, *_: Any) -> None:
        self.context.apply_lighting(self.lighting)

    def close(self) -> None:
        self.lighting.events.all.disconnect(self.reset)

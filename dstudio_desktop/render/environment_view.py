"""The view of ``environment_config``: the background gradient, the ground grid, and the
exposure and tone mapping handed to every mesh's shading."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from vispy import scene
from vispy.gloo import VertexBuffer
from vispy.visuals import Visual

from ..core import EnvironmentConfig

if TYPE_CHECKING:
    from .scene_view import SceneView


class _GradientVisual(Visual):
    """A full-viewport quad behind everything, coloured bottom to top."""

    _VERT = """
    attribute vec2 a_pos;
    varying float v_t;
    void main() { gl_Position = vec4(a_pos, 0.9999, 1.0); v_t = (a_pos.y + 1.0) / 2.0; }
    """
    _FRAG = """
    varying float v_t;
    void main() { gl_FragColor = mix($bottom, $top, v_t); }
    """

    def __init__(self) -> None:
        super().__init__(vcode=self._VERT, fcode=self._FRAG)
        self._draw_mode = "triangle_strip"
        quad = np.array([[-1, -1], [1, -1], [-1, 1], [1, 1]], dtype=np.float32)
        self.shared_program["a_pos"] = VertexBuffer(quad)
        self.set_gl_state(depth_test=False, blend=False)
        self.set_colors((0, 0, 0, 1), (0, 0, 0, 1))

    def set_colors(self, bottom: tuple, top: tuple) -> None:
        self.shared_program.frag["bottom"] = tuple(bottom)
        self.shared_program.frag["top"] = tuple(top)
        self.update()

    def _prepare_transforms(self, view) -> None:
        pass  # the quad is already in clip space: no scene transform applies


GradientBackground = scene.visuals.create_visual_node(_GradientVisual)


class EnvironmentView:
    """Background, ground grid and exposure from ``environment_config``."""

    def __init__(self, env: EnvironmentConfig, context: SceneView) -> None:
        self.env = env
        self.context = context
        self.background = GradientBackground(parent=context.root)
        self.background.order = -100
        self.grid = scene.visuals.Line(parent=context.root, connect="segments", antialias=True)
        self.grid.order = -50
        self.grid.set_gl_state("translucent", depth_test=True)  # parts hide the grid behind them
        env.events.all.connect(self.reset)
        env.background.events.all.connect(self.reset)
        env.grid.events.all.connect(self.reset)
        self.reset()

    def reset(self, *_: Any) -> None:
        bg, grid = self.env.background, self.env.grid
        if bg.mode == "gradient":
            self.background.set_colors((*bg.bottom_color, 1.0), (*bg.top_color, 1.0))
        else:  # image backgrounds draw their colour until image assets render
            self.background.set_colors((*bg.color, 1.0), (*bg.color, 1.0))
        n = max(1, int(round(grid.extent / grid.spacing)))
        ticks = np.linspace(-grid.extent, grid.extent, 2 * n + 1)
        segs = []
        for t in ticks:
            segs += [(t, 0, -grid.extent), (t, 0, grid.extent), (-grid.extent, 0, t), (grid.extent, 0, t)]
        self.grid.set_data(pos=np.asarray(segs, np.float32), color=(*grid.color, 0.5), width=1)
        self.grid.visible = grid.visible
        self.context.apply_environment(self.env)

    def close(self) -> None:
        self.env.events.all.disconnect(self.reset)
        self.env.background.events.all.disconnect(self.reset)
        self.env.grid.events.all.disconnect(self.reset)
        self.background.parent = None
        self.grid.parent = None

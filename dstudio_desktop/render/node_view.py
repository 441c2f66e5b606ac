"""The view of one mesh or point-cloud scene node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from vispy import scene
from vispy.visuals.transforms import MatrixTransform

from ..core import Node
from ..core.color import linear_to_srgb
from .pbr import MeshBuffers, Outline, depth_program, make_mesh
from .prepare import DisplayData
from .shading import PbrShading
from .textures import resources_for

if TYPE_CHECKING:
    from .scene_view import SceneView

OUTLINE = (1.0, 0.55, 0.1, 1.0)   # the selection outline (sRGB, as drawn)


class _Drawn:
    """One drawn version of a mesh (the full mesh, or its stand-in): buffers, the visual,
    its outline when selected, and its shadow-pass program."""

    def __init__(self, display: DisplayData, context: SceneView) -> None:
        self.buffers = MeshBuffers(display)
        self.visual = make_mesh(self.buffers, resources_for(context), context.root)
        self.outline: Optional[Any] = None
        self._depth = None
        self._root = context.root

    @property
    def shading(self) -> PbrShading:
        return self.visual.shading

    def depth(self):
        if self._depth is None:
            self._depth = depth_program(self.buffers)
        return self._depth

    def place(self, world: np.ndarray) -> None:
        self.visual.transform.matrix = world.T   # vispy matrices act on row vectors
        self.visual.set_world(world)
        if self.outline is not None:
            self.outline.transform.matrix = world.T

    def set_outline(self, rgba: Optional[tuple], visible: bool) -> None:
        if rgba is None:
            if self.outline is not None:
                self.outline.visible = False
            return
        if self.outline is None:
            self.outline = Outline(self.buffers, parent=self._root)
            self.outline.transform = MatrixTransform(self.visual.transform.matrix)
        self.outline.set_color(rgba)
        self.outline.visible = visible

    def use_normals(self, normals: np.ndarray) -> None:
        """Shade smoothly with the normals made after the first frame."""
        if self.buffers.normals is None:
            self.visual.use_normals(self.buffers.set_normals(normals))

    def close(self) -> None:
        self.visual.parent = None
        if self.outline is not None:
            self.outline.parent = None


class NodeView:
    """Draws one mesh or point-cloud node with its material under the project's lights and
    environment (and, for a large mesh, a decimated stand-in while the camera moves); a
    selected part gets an outline, its own colour untouched."""

    def __init__(self, node: Node, context: SceneView) -> None:
        self.node = node
        self.context = context
        mesh = context.mesh_source(node.asset_id)
        self.triangles = mesh.triangle_count
        self.full: Optional[_Drawn] = None
        self.stand_ins: dict[int, _Drawn] = {}   # by level (SceneView.coarse_display), made when first used
        self.coarse_on = False
        self.coarse_level = 0
        self.shown = True
        self._world = np.eye(4)
        self._highlight: Optional[tuple] = None
        self.filter: Optional[PbrShading] = None
        if mesh.is_pointcloud:
            self.visual = scene.visuals.Markers(parent=context.root)
            colors = np.full((mesh.vertex_count, 4), 0.85, np.float32) if mesh.colors is None else \
                np.hstack([linear_to_srgb(np.asarray(mesh.colors)[:, :3]), np.asarray(mesh.colors)[:, 3:4]]).astype(np.float32)
            self.visual.set_data(mesh.positions, face_color=colors, edge_width=0, size=3)
            self.visual.transform = MatrixTransform()
        else:
            self.full = _Drawn(context.display(node.asset_id, mesh), context)
            self.visual = self.full.visual
            self.filter = self.full.shading
        self._material = None
        node.events.material_id.connect(self._bind_material)
        node.events.visible.connect(self._visible)
        self.reset()

    @property
    def coarse(self) -> Optional[tuple[Any, PbrShading]]:
        """(visual, shading) of the stand-in last drawn (or made) once one exists."""
        drawn = self.stand_ins.get(self.coarse_level)
        return None if drawn is None else (drawn.visual, drawn.shading)

    @property
    def filters(self) -> list[PbrShading]:
        return [d.shading for d in self._drawn()]

    def _drawn(self) -> list[_Drawn]:
        return ([] if self.full is None else [self.full]) + list(self.stand_ins.values())

    def update(self) -> None:
        for d in self._drawn():
            d.visual.update()
        if self.full is None:
            self.visual.update()

    def reset(self) -> None:
        self._bind_material()
        self._visible()

    def _bind_material(self, *_: Any) -> None:
        if self._material is not None:
            self._material.events.all.disconnect(self._material_changed)
        self._material = self.context.project.material_overrides.get(self.node.material_id) if self.node.material_id else None
        if self._material is not None:
            self._material.events.all.connect(self._material_changed)
        self._material_changed()

    def _material_changed(self, *_: Any) -> None:
        for d in self._drawn():
            d.shading.set_material(self._material, has_tangents=d.buffers.has_tangents)
            d.visual.apply_material_state()
        self.update()

    def _visible(self, *_: Any) -> None:
        self.shown = self.context.effectively_visible(self.node)
        if self.full is None:
            self.visual.visible = self.shown
            return
        self.full.visual.visible = self.shown and not self.coarse_on
        for level, drawn in self.stand_ins.items():
            drawn.visual.visible = self.shown and self.coarse_on and level == self.coarse_level
        self._show_outline()

    def _show_outline(self) -> None:
        for d in self._drawn():
            d.set_outline(self._highlight, d.visual.visible)

    def place(self, world: np.ndarray) -> None:
        self._world = world
        if self.full is None:
            self.visual.transform.matrix = world.T   # vispy matrices act on row vectors
            return
        for d in self._drawn():
            d.place(world)

    @property
    def world(self) -> np.ndarray:
        return self._world

    def shadow_caster(self):
        """(depth program, index buffer, world matrix) of what casts this part's shadow, or None."""
        if self.full is None or not self.shown:
            return None
        return self.full.depth(), self.full.buffers.indices, self._world

    def set_highlight(self, on: bool, other: Optional[tuple] = None) -> None:
        """Selected: an outline in the scene view's highlight colour around the part; selected by
        someone else (``other``, their colour) and not by you: an outline in their colour."""
        rgba = None
        if on:
            colour = self.context.highlight[0] if self.context.highlight else OUTLINE
            rgba = (colour[0], colour[1], colour[2], 1.0)
        elif other is not None:
            rgba = (other[0], other[1], other[2], 1.0)
        self._highlight = rgba
        self._show_outline()
        self.update()

    def use_coarse(self, on: bool, level: int = 0) -> bool:
        """Draw the stand-in at ``level`` (the coarsest made when there is none that coarse; when
        none is ready, the full mesh) or the full mesh; True if that changed anything."""
        if on and self.full is not None:
            levels = self.context.stand_ins(self.node.asset_id)
            level = min(level, len(levels) - 1)
            if levels and level not in self.stand_ins:
                self.stand_ins[level] = self._stand_in(levels[level])
        on = on and level in self.stand_ins
        if on == self.coarse_on and (not on or level == self.coarse_level):
            return False
        self.coarse_on = on
        if on:
            self.coarse_level = level
        self._visible()
        return True

    def _stand_in(self, display: DisplayData) -> _Drawn:
        drawn = _Drawn(display, self.context)
        # the stand-in is made late: bring its shading up to what the full mesh's already shows
        drawn.shading.set_lighting(self.context.project.lighting_config)
        drawn.shading.set_environment(self.context.project.environment_config)
        if self.context.camera_view is not None:
            drawn.shading.set_camera(self.context.camera_view)
        drawn.shading.set_material(self._material, has_tangents=drawn.buffers.has_tangents)
        drawn.visual.apply_material_state()
        drawn.place(self._world)
        return drawn

    def close(self) -> None:
        self.node.events.material_id.disconnect(self._bind_material)
        self.node.events.visible.disconnect(self._visible)
        if self._material is not None:
            self._material.events.all.disconnect(self._material_changed)
        if self.full is None:
            self.visual.parent = None
        for d in self._drawn():
            d.close()

"""The view of one mesh or point-cloud scene node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from vispy import scene
from vispy.visuals.transforms import MatrixTransform

from ..core import Node
from .prepare import DisplayData
from .shading import LitMaterialFilter

if TYPE_CHECKING:
    from .scene_view import SceneView


def mesh_visual(display: DisplayData, parent: scene.Node) -> tuple[Any, LitMaterialFilter]:
    """A mesh visual of ``display`` with the project's shading filter attached."""
    visual = scene.visuals.Mesh(vertices=display.vertices, faces=display.faces, color=(1, 1, 1, 1),
                                vertex_colors=display.colors, parent=parent)
    # the normals were computed with the rest of the drawing data, off the GUI thread
    shading = LitMaterialFilter(normals=display.normals)
    visual.attach(shading)
    visual.transform = MatrixTransform()
    return visual, shading


class NodeView:
    """Draws one mesh or point-cloud node with its material under the project's lights (and,
    for a large mesh, a decimated stand-in while the camera moves)."""

    def __init__(self, node: Node, context: SceneView) -> None:
        self.node = node
        self.context = context
        mesh = context.mesh_source(node.asset_id)
        self.triangles = mesh.triangle_count
        self.filter: Optional[LitMaterialFilter] = None
        self.coarse: Optional[tuple[Any, LitMaterialFilter]] = None   # (visual, filter), made when first used
        self.coarse_on = False
        self.shown = True
        self._world = np.eye(4)
        self._highlighted = False
        if mesh.is_pointcloud:
            self.visual = scene.visuals.Markers(parent=context.root)
            colors = mesh.colors if mesh.colors is not None else np.full((mesh.vertex_count, 4), 0.85, np.float32)
            self.visual.set_data(mesh.positions, face_color=colors, edge_width=0, size=3)
            self.visual.transform = MatrixTransform()
        else:
            self.visual, self.filter = mesh_visual(context.display(node.asset_id, mesh), context.root)
        self._material = None
        node.events.material_id.connect(self._bind_material)
        node.events.visible.connect(self._visible)
        self.reset()

    @property
    def filters(self) -> list[LitMaterialFilter]:
        return [f for f in (self.filter, self.coarse[1] if self.coarse else None) if f is not None]

    def update(self) -> None:
        self.visual.update()
        if self.coarse is not None:
            self.coarse[0].update()

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
        for shading in self.filters:
            shading.set_material(self._material)
        self.update()

    def _visible(self, *_: Any) -> None:
        self.shown = self.context.effectively_visible(self.node)
        self.visual.visible = self.shown and not self.coarse_on
        if self.coarse is not None:
            self.coarse[0].visible = self.shown and self.coarse_on

    def place(self, world: np.ndarray) -> None:
        self._world = world
        self.visual.transform.matrix = world.T  # vispy matrices act on row vectors
        if self.coarse is not None:
            self.coarse[0].transform.matrix = world.T

    def set_highlight(self, on: bool) -> None:
        self._highlighted = on
        for shading in self.filters:
            shading.set_highlight(*(self.context.highlight if on else (None,)))
        self.update()

    def use_coarse(self, on: bool) -> bool:
        """Draw the stand-in (when it is ready) or the full mesh; True if that changed anything."""
        if on and self.coarse is None and self.filter is not None:
            display = self.context.coarse_display(self.node.asset_id)
            if display is None:
                return False
            visual, shading = mesh_visual(display, self.context.root)
            self.coarse = (visual, shading)
            # the stand-in is made late: bring its filter up to what the full mesh's already shows
            shading.set_lighting(self.context.project.lighting_config)
            shading.set_environment(self.context.project.environment_config)
            if self.context.camera_view is not None:
                shading.set_camera(self.context.camera_view)
            shading.set_material(self._material)
            shading.set_highlight(*(self.context.highlight if self._highlighted else (None,)))
            self.place(self._world)
        on = on and self.coarse is not None
        if on == self.coarse_on:
            return False
        self.coarse_on = on
        self._visible()
        return True

    def close(self) -> None:
        self.node.events.material_id.disconnect(self._bind_material)
        self.node.events.visible.disconnect(self._visible)
        if self._material is not None:
            self._material.events.all.disconnect(self._material_changed)
        self.visual.parent = None
        if self.coarse is not None:
            self.coarse[0].parent = None

"""vispy views of the model: one view class per model class, found through ``VIEW_TYPES``.

A view subscribes to its model's events when made, ``reset()`` replays every
handler (after a bulk change), and ``close()`` disconnects and unparents it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import trimesh
from vispy import scene
from vispy.gloo import VertexBuffer
from vispy.visuals import Visual
from vispy.visuals.transforms import MatrixTransform

from ..core import EnvironmentConfig, LightingConfig, Node, Project, SceneGraph
from ..core.picking import MeshPicker, face_normal
from ..meshio import MeshData
from .shading import LitMaterialFilter

MeshSource = Callable[[str], MeshData]
# Crease-aware normals (trimesh's smooth_shaded) take ~7 s per million triangles; above this
# size meshes are drawn with averaged normals so they open quickly.
SMOOTH_SHADING_LIMIT = 300_000
# Meshes above this size get a decimated stand-in, drawn while the user moves the camera, so
# orbiting stays fluid; the full mesh is drawn again when the camera rests. Made in the
# background after the mesh first appears, so it never delays opening.
LOD_TRIANGLES = 500_000
LOD_TARGET = 150_000
HIGHLIGHT = (1.0, 0.62, 0.1, 0.6)


@dataclass
class DisplayData:
    """What drawing a mesh needs: float32 vertices, uint32 faces, a normal per face corner
    (the order vispy's de-indexed mesh uses), and a colour per vertex when the mesh has them
    (a scan). Made off the GUI thread for large imports."""

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    colors: Optional[np.ndarray] = None


def prepare_display(mesh: MeshData) -> DisplayData:
    vertices, faces = display_arrays(mesh)
    a, b, c = (vertices[faces[:, k]] for k in range(3))   # float32 is plenty for a direction
    face_normals = np.cross(b - a, c - a)  # length = 2 x area: area-weighted
    normals = np.zeros((len(vertices), 3))
    for corner in range(3):
        for axis in range(3):
            normals[:, axis] += np.bincount(faces[:, corner], weights=face_normals[:, axis], minlength=len(vertices))
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)
    per_corner = normals.astype(np.float32)[faces].reshape(-1, 3)
    colors = None if mesh.colors is None else np.ascontiguousarray(mesh.colors, np.float32)
    return DisplayData(vertices, faces, per_corner, colors)


@dataclass
class PreparedAsset:
    """Everything showing and picking one asset needs, made off the GUI thread when it is large."""

    mesh: MeshData
    display: Optional[DisplayData]
    picker: Optional[MeshPicker]


def coarse_display(mesh: MeshData, triangles: int) -> Optional[DisplayData]:
    """Drawing data for a quadric-decimated stand-in of ``mesh`` (about ``triangles``), with
    each kept vertex's colour taken from the nearest original vertex; None when decimation
    cannot make it much lighter (then the mesh is always drawn in full)."""
    import fast_simplification

    if triangles >= mesh.triangle_count:
        return None
    positions, faces = fast_simplification.simplify(np.asarray(mesh.positions, np.float32), mesh.faces,
                                                    target_count=triangles)
    if len(faces) > 0.7 * mesh.triangle_count:
        return None
    colors = None
    if mesh.colors is not None:
        from scipy.spatial import cKDTree

        colors = mesh.colors[cKDTree(mesh.positions).query(positions)[1]]
    return prepare_display(MeshData(positions=np.asarray(positions, np.float32), faces=np.asarray(faces, np.uint32),
                                    colors=colors, name=mesh.name))


def prepare_asset(mesh: MeshData, picker: bool = True) -> PreparedAsset:
    """Drawing data, and the picking structure unless ``picker`` is False (then the scene
    view builds it in the background once the part is on screen)."""
    if mesh.is_pointcloud:
        return PreparedAsset(mesh, None, None)
    return PreparedAsset(mesh, prepare_display(mesh), MeshPicker(mesh.positions, mesh.faces) if picker else None)


def display_arrays(mesh: MeshData) -> tuple[np.ndarray, np.ndarray]:
    """float32 vertices and uint32 faces for drawing, split at hard edges so they shade crisply
    (not when the vertices carry colours: those stay one per vertex, as the file has them)."""
    if mesh.triangle_count <= SMOOTH_SHADING_LIMIT and mesh.colors is None:
        smooth = trimesh.Trimesh(mesh.positions, mesh.faces, process=False).smooth_shaded
        return np.ascontiguousarray(smooth.vertices, np.float32), np.ascontiguousarray(smooth.faces, np.uint32)
    return mesh.positions, mesh.faces


def _mesh_visual(display: DisplayData, parent: scene.Node) -> tuple[Any, LitMaterialFilter]:
    visual = scene.visuals.Mesh(vertices=display.vertices, faces=display.faces, color=(1, 1, 1, 1),
                                vertex_colors=display.colors, parent=parent)
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
            self.visual, self.filter = _mesh_visual(context.display(node.asset_id, mesh), context.root)
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
            visual, shading = _mesh_visual(display, self.context.root)
            self.coarse = (visual, shading)
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
        pass


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


VIEW_TYPES: dict[type, type] = {Node: NodeView, EnvironmentConfig: EnvironmentView, LightingConfig: LightingView}


def make_view(model: Any, context: SceneView) -> Any:
    return VIEW_TYPES[type(model)](model, context)


class SceneView:
    """All the views of one project under a vispy scene node."""

    def __init__(self, project: Project, mesh_source: MeshSource, parent: scene.Node,
                 prepared: Optional[dict[str, PreparedAsset]] = None) -> None:
        self.project = project
        self._load_mesh = mesh_source
        self._meshes: dict[str, MeshData] = {}
        self.mesh_source: MeshSource = self._mesh
        self.root = scene.Node(parent=parent)
        self.node_views: dict[str, NodeView] = {}
        self._watched: list[Node] = []
        self.environment: Optional[EnvironmentView] = None
        self.lighting: Optional[LightingView] = None
        self.selection: set[str] = set()
        self._display: dict[str, DisplayData] = {}
        self._coarse: dict[str, Optional[DisplayData]] = {}   # made stand-ins; None: none worth having
        self._coarse_pending: set[str] = set()
        self._pickers: dict[str, MeshPicker] = {}
        self.camera_view = None
        self.highlight: tuple = (HIGHLIGHT, 0.3)  # colour and centre tint of selected parts
        for asset_id, asset in (prepared or {}).items():
            self.preload(asset_id, asset)
        project.changed.connect(self._document_replaced)
        self.reset()

    def _document_replaced(self, name: str) -> None:
        """A command swapped a whole document: rebuild only the views that draw it."""
        if name == "scene_graph":
            self.reset()
        elif name == "lighting_config" and self.lighting is not None:
            self.lighting.close()
            self.lighting = make_view(self.project.lighting_config, self)
        elif name == "environment_config" and self.environment is not None:
            self.environment.close()
            self.environment = make_view(self.project.environment_config, self)
        elif name == "material_overrides":
            for view in self.node_views.values():
                view._bind_material()

    def display(self, asset_id: str, mesh: MeshData) -> DisplayData:
        """Drawing data per asset, kept so rebuilding the views after an edit costs no recomputation."""
        if asset_id not in self._display:
            self._display[asset_id] = prepare_display(mesh)
        return self._display[asset_id]

    def coarse_display(self, asset_id: str) -> Optional[DisplayData]:
        """The asset's decimated stand-in: None until a background thread has made it, or
        when the asset is too small to want one."""
        if asset_id in self._coarse or asset_id in self._coarse_pending:
            return self._coarse.get(asset_id)
        mesh = self._mesh(asset_id)
        if mesh.is_pointcloud or mesh.triangle_count <= LOD_TRIANGLES:
            self._coarse[asset_id] = None
            return None
        self._coarse_pending.add(asset_id)
        target = LOD_TARGET

        def make() -> None:
            self._coarse[asset_id] = coarse_display(mesh, target)
            self._coarse_pending.discard(asset_id)

        threading.Thread(target=make, name=f"coarse {asset_id}", daemon=True).start()
        return None

    def prepare_stand_ins(self) -> None:
        """Start making the stand-ins of large meshes (called once the scene has been drawn, so
        the work does not compete with the first frame)."""
        if self._stand_ins_asked:
            return
        self._stand_ins_asked = True
        for view in self.node_views.values():
            if view.filter is not None and view.triangles > LOD_TRIANGLES:
                self.coarse_display(view.node.asset_id)

    def set_coarse(self, on: bool) -> bool:
        """Draw large meshes' stand-ins (while the camera moves) or the full meshes; True if
        anything changed, so the caller knows to redraw."""
        changed = False
        for view in self.node_views.values():
            changed |= view.use_coarse(on)
        return changed

    def preload(self, asset_id: str, prepared: PreparedAsset) -> None:
        """Hand over geometry a worker thread already loaded and prepared."""
        self._meshes[asset_id] = prepared.mesh
        if prepared.display is not None:
            self._display[asset_id] = prepared.display
        if prepared.picker is not None:
            self._pickers[asset_id] = prepared.picker
        elif prepared.display is not None:
            mesh = prepared.mesh

            def build() -> None:  # a click before it is done builds its own (same result)
                self._pickers.setdefault(asset_id, MeshPicker(mesh.positions, mesh.faces))

            threading.Thread(target=build, name=f"picker {asset_id}", daemon=True).start()

    def _mesh(self, asset_id: str) -> MeshData:
        """The asset's geometry, loaded once (or handed over by ``preload``)."""
        if asset_id not in self._meshes:
            self._meshes[asset_id] = self._load_mesh(asset_id)
        return self._meshes[asset_id]

    def pick(self, origin: np.ndarray, direction: np.ndarray,
             include_locked: bool = False) -> Optional[tuple[str, np.ndarray, np.ndarray]]:
        """The nearest visible mesh node the world ray hits (locked ones only when asked), the
        hit point and the surface normal there (facing the ray), in world coordinates."""
        best: Optional[tuple[float, str, int, np.ndarray]] = None
        for node, world in self.project.scene_graph.world_matrices():
            view = self.node_views.get(node.id)
            if view is None or view.filter is None or not view.shown or (node.locked and not include_locked):
                continue
            inv = np.linalg.inv(world)
            local_origin = inv[:3, :3] @ origin + inv[:3, 3]
            local_dir = inv[:3, :3] @ direction  # unnormalised, so t stays a world-space distance
            if node.asset_id not in self._pickers:
                mesh = self.mesh_source(node.asset_id)
                self._pickers[node.asset_id] = MeshPicker(mesh.positions, mesh.faces)
            hit = self._pickers[node.asset_id].intersect(local_origin, local_dir)
            if hit is not None and (best is None or hit[0] < best[0]):
                best = (hit[0], node.id, hit[1], world)
        if best is None:
            return None
        t, node_id, face, world = best
        mesh = self.mesh_source(self.project.scene_graph.find(node_id).asset_id)
        normal = np.linalg.inv(world[:3, :3]).T @ face_normal(mesh.positions, mesh.faces, face)
        normal /= np.linalg.norm(normal)
        if normal @ direction > 0:  # a face seen from behind (open or double-sided surfaces)
            normal = -normal
        return node_id, origin + direction * t, normal

    def effectively_visible(self, node: Node) -> bool:
        current: Optional[Node] = node
        while current is not None:
            if not current.visible:
                return False
            current = self._parents.get(current.id)
        return True

    def reset(self) -> None:
        """Rebuild every view from the model (after a project or version is loaded)."""
        self._close_views()
        self._stand_ins_asked = False
        # the tree's shape only changes by replacing the scene graph, which comes back here
        self._parents: dict[str, Optional[Node]] = {n.id: p for n, p in self.project.scene_graph.walk()}
        for node, _ in self.project.scene_graph.walk():
            node.events.transform.connect(self.place_all)
            node.events.visible.connect(self._visibility)
            self._watched.append(node)
            if node.kind in ("mesh", "pointcloud") and node.asset_id:
                self.node_views[node.id] = make_view(node, self)
        self.lighting = make_view(self.project.lighting_config, self)
        self.environment = make_view(self.project.environment_config, self)
        self.place_all()
        self.set_selection(self.selection)
        if self.camera_view is not None:
            self.apply_camera(self.camera_view)

    def place_all(self, *_: Any) -> None:
        for node, world in self.project.scene_graph.world_matrices():
            if node.id in self.node_views:
                self.node_views[node.id].place(world)

    def _visibility(self, *_: Any) -> None:
        for view in self.node_views.values():
            view._visible()

    def apply_lighting(self, lighting: LightingConfig) -> None:
        for view in self.node_views.values():
            for shading in view.filters:
                shading.set_lighting(lighting)
            view.update()

    def apply_camera(self, view) -> None:
        """Where the eye is, for the specular and reflection terms."""
        self.camera_view = view
        for node_view in self.node_views.values():
            for shading in node_view.filters:
                shading.set_camera(view)

    def apply_environment(self, env: EnvironmentConfig) -> None:
        for view in self.node_views.values():
            for shading in view.filters:
                shading.set_environment(env)
            view.update()

    def set_selection(self, node_ids: set[str]) -> None:
        self.selection = set(node_ids)
        graph = self.project.scene_graph
        lit: set[str] = set()
        for node_id in node_ids:
            node = graph.find(node_id)
            if node is not None:
                lit |= {n.id for n, _ in SceneGraph.model_construct(nodes=[node]).walk()}
        for node_id, view in self.node_views.items():
            view.set_highlight(node_id in lit)

    def triangle_count(self) -> int:
        return sum(v.triangles for v in self.node_views.values() if v.shown)

    def bounds(self, node_ids: Optional[set[str]] = None) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """World box of the visible geometry (under ``node_ids`` when given)."""
        graph = self.project.scene_graph
        roots = [n for n in (graph.find(i) for i in node_ids) if n is not None] if node_ids else None
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        for node, world in self._world_under(roots):
            if node.id in self.node_views and self.node_views[node.id].shown:
                mesh = self.mesh_source(node.asset_id)
                b = mesh.bounds()
                corners = np.array(np.meshgrid(*zip(b[0], b[1], strict=True))).T.reshape(-1, 3)
                pts = corners @ world[:3, :3].T + world[:3, 3]
                lo, hi = np.minimum(lo, pts.min(axis=0)), np.maximum(hi, pts.max(axis=0))
        return (lo, hi) if np.isfinite(lo).all() else None

    def _world_under(self, roots: Optional[list[Node]]):
        if roots is None:
            yield from self.project.scene_graph.world_matrices()
            return
        for root in roots:
            parent = self.project.scene_graph.parent_of(root.id)
            base = self.project.scene_graph.world_matrix(parent.id) if parent else np.eye(4)
            for node, m in SceneGraph.model_construct(nodes=[root]).world_matrices():
                yield node, base @ m

    def _close_views(self) -> None:
        for node in self._watched:
            node.events.transform.disconnect(self.place_all)
            node.events.visible.disconnect(self._visibility)
        self._watched = []
        for view in self.node_views.values():
            view.close()
        self.node_views = {}
        for view in (self.environment, self.lighting):
            if view is not None:
                view.close()
        self.environment = self.lighting = None

    def close(self) -> None:
        self.project.changed.disconnect(self._document_replaced)
        self._close_views()
        self.root.parent = None


__all__ = ["SceneView", "VIEW_TYPES", "make_view"]

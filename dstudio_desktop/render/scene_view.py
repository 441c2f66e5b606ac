"""All the views of one project under a vispy scene node.

The scene view makes a view per model object through ``view_types``, keeps the drawing
data and picking structures of each asset, and owns the background work (stand-ins for
large meshes, picking structures) so none of it outlives the view.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

import numpy as np
from vispy import scene

from .. import settings
from ..core import EnvironmentConfig, LightingConfig, Node, Project, SceneGraph
from ..core.picking import MeshPicker, face_normal
from ..meshio import MeshData
from . import prepare
from .environment_view import EnvironmentView
from .lighting_view import LightingView
from .node_view import NodeView
from .prepare import DisplayData, MeshSource, PreparedAsset
from .view_types import make_view

# Meshes above this size get a decimated stand-in, drawn while the user moves the camera, so
# orbiting stays fluid; the full mesh is drawn again when the camera rests. Made in the
# background after the mesh first appears, so it never delays opening.
LOD_TRIANGLES = settings.lod_triangles()
# On llvmpipe a moving frame's cost is mostly the stand-in's triangles (~0.26 us each: 150k took
# 39 of a 54 ms frame); a moving frame is drawn at 1/2 to 1/4 of the window's resolution, where
# a part rarely covers more than 50k pixels, so more triangles than that add time, not detail.
LOD_TARGET = 50_000
# A moving frame draws about this many triangles at most: in a larger scene (an assembly of
# many mid-sized parts) every part worth it stands in at its share of the budget.
SCENE_BUDGET = 300_000
MIN_STAND_IN = 1_000
# Each stand-in has a coarser one beside it, COARSER times lighter, for draft frames drawn at so
# few pixels (a quarter of the window's side: 64k at 1280x800) that the finer one's triangles
# are mostly under a pixel: llvmpipe pays per triangle (on two slow cores, timed with glFinish,
# the 50k stand-in took 30 ms of a quarter-resolution frame's 38, a 10k one 13). A moving frame
# draws the coarser ones when the finer would give fewer than DRAFT_PIXELS_PER_TRIANGLE pixels each.
COARSER = 4
DRAFT_PIXELS_PER_TRIANGLE = 4
HIGHLIGHT = (1.0, 0.62, 0.1, 0.6)
# Decimation and BVH builds are CPU-bound numpy/C work; more threads than cores only slow the GUI.
BACKGROUND_WORKERS = max(1, min(4, os.cpu_count() or 1))


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
        self.others_selection: dict[str, tuple] = {}  # node id -> RGB of someone else selecting it
        self._display: dict[str, DisplayData] = {}
        # Background results land in these dicts (one assignment each, atomic under the GIL);
        # the GUI thread looks them up on its next draw or click.
        self._coarse: dict[str, tuple[DisplayData, ...]] = {}   # made stand-ins, finest first; (): none wanted
        self._coarse_pending: set[str] = set()
        self._pickers: dict[str, MeshPicker] = {}
        self._pickers_wanted: set[str] = set()   # built in the background after the first frame
        self._normals_pending: set[str] = set()   # assets whose deferred smooth normals are being made
        self.background_started = False
        self._pool = ThreadPoolExecutor(max_workers=BACKGROUND_WORKERS, thread_name_prefix="scene-view")
        self._closed = False
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

    def _submit(self, work: Callable[..., None], *args: Any) -> bool:
        """Run ``work`` on this view's pool; False once the view is closed (nothing is started)."""
        if self._closed:
            return False
        self._pool.submit(work, *args)
        return True

    def display(self, asset_id: str, mesh: MeshData) -> DisplayData:
        """Drawing data per asset, kept so rebuilding the views after an edit costs no recomputation."""
        if asset_id not in self._display:
            self._display[asset_id] = prepare.prepare_display(mesh, defer_normals=True)
        return self._display[asset_id]

    def coarse_display(self, asset_id: str, level: int = 0) -> Optional[DisplayData]:
        """The asset's decimated stand-in at ``level`` (0 the finest; past the coarsest made, the
        coarsest): None until the background pool has made them, or when the asset is too
        small to want one."""
        levels = self.stand_ins(asset_id)
        return levels[min(level, len(levels) - 1)] if levels else None

    def stand_ins(self, asset_id: str) -> tuple[DisplayData, ...]:
        """The asset's stand-ins, finest first; asking starts making them in the background,
        and until they are made (or when none is wanted) there are none."""
        if asset_id in self._coarse or asset_id in self._coarse_pending:
            return self._coarse.get(asset_id, ())
        mesh = self._mesh(asset_id)
        target = None if mesh.is_pointcloud else self.stand_in_target(mesh.triangle_count)
        if target is None:
            self._coarse[asset_id] = ()
            return ()
        targets = (target,) + ((target // COARSER,) if target // COARSER >= MIN_STAND_IN else ())
        self._coarse_pending.add(asset_id)
        if not self._submit(self._make_coarse, asset_id, mesh, targets):
            self._coarse_pending.discard(asset_id)
        return ()

    def stand_in_target(self, triangles: int) -> Optional[int]:
        """How many triangles a part of ``triangles`` is drawn with while the camera moves, or
        None to draw it in full: a large part always stands in; in a scene over SCENE_BUDGET
        every part does, in proportion to its size."""
        target = LOD_TARGET if triangles > LOD_TRIANGLES else None
        total = self.triangle_count()
        if total > SCENE_BUDGET:
            share = max(MIN_STAND_IN, int(triangles * SCENE_BUDGET / total))
            if share < 0.7 * triangles:   # a stand-in only where it is much lighter
                target = share if target is None else min(target, share)
        return target

    def _make_coarse(self, asset_id: str, mesh: MeshData, targets: tuple[int, ...]) -> None:
        # stored before the pending mark goes, so a reader never sees neither
        self._coarse[asset_id] = prepare.coarse_displays(mesh, targets)
        self._coarse_pending.discard(asset_id)

    def start_background_work(self) -> None:
        """Start building the picking structures handed-over parts lack and the stand-ins of
        large meshes: called once the scene has been drawn, so on two cores neither competes
        with the first frame."""
        if self.background_started:
            return
        self.background_started = True
        for asset_id in list(self._pickers_wanted):
            self._submit(self._build_picker, asset_id, self._meshes[asset_id])
        self._pickers_wanted.clear()
        for asset_id, display in list(self._display.items()):
            self._want_normals(asset_id, display)
        for view in self.node_views.values():
            if view.filter is not None and self.stand_in_target(view.triangles) is not None:
                self.coarse_display(view.node.asset_id)

    def set_coarse(self, on: bool, pixels: Optional[int] = None) -> bool:
        """Draw large meshes' stand-ins (while the camera moves) or the full meshes; True if
        anything changed, so the caller knows to redraw. ``pixels``: how many the frame is
        drawn at, which picks the stand-ins' level (see COARSER)."""
        level = 0
        if on and pixels is not None:
            drawn = 0
            for view in self.node_views.values():
                finest = self._coarse.get(view.node.asset_id)
                drawn += len(finest[0].faces) if finest else view.triangles
            level = 1 if drawn * DRAFT_PIXELS_PER_TRIANGLE > pixels else 0
        changed = False
        for view in self.node_views.values():
            changed |= view.use_coarse(on, level)
        return changed

    def preload(self, asset_id: str, prepared: PreparedAsset) -> None:
        """Hand over geometry a worker thread already loaded and prepared."""
        self._meshes[asset_id] = prepared.mesh
        if prepared.display is not None:
            self._display[asset_id] = prepared.display
        if prepared.picker is not None:
            self._pickers[asset_id] = prepared.picker
        elif prepared.display is not None and self.background_started:
            self._submit(self._build_picker, asset_id, prepared.mesh)
        elif prepared.display is not None:
            self._pickers_wanted.add(asset_id)

    def _want_normals(self, asset_id: str, display: DisplayData) -> None:
        """Make a deferred display's smooth normals in the background (``with_normals`` keeps
        them in the display, where ``apply_made_normals`` finds them)."""
        if display.normals is None and asset_id not in self._normals_pending:
            self._normals_pending.add(asset_id)
            self._submit(prepare.with_normals, display)

    @property
    def normals_pending(self) -> bool:
        return bool(self._normals_pending)

    def make_normals_now(self) -> None:
        """Make and use every deferred normal now (an image rendered to keep needs them)."""
        for asset_id, display in list(self._display.items()):
            if display.normals is None:
                prepare.with_normals(display)
                self._normals_pending.add(asset_id)
        self.apply_made_normals()

    def apply_made_normals(self) -> bool:
        """On the GUI thread: shade smoothly the parts whose deferred normals are made; True
        if any changed (the caller redraws)."""
        done = [a for a in list(self._normals_pending) if self._display[a].normals is not None]
        for asset_id in done:
            self._normals_pending.discard(asset_id)
            for view in self.node_views.values():
                if view.node.asset_id == asset_id and view.full is not None:
                    view.full.use_normals(self._display[asset_id].normals)
        return bool(done)

    def _build_picker(self, asset_id: str, mesh: MeshData) -> None:
        # a click before this is done builds its own (the same result): keep whichever came first
        self._pickers.setdefault(asset_id, MeshPicker(mesh.positions, mesh.faces))

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
        self.background_started = False   # the background work starts again after the next frame
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
        lit = self._under(node_ids)
        others: dict[str, tuple] = {}  # what other people selected, in their colours (yours wins)
        for node_id, rgba in self.others_selection.items():
            for lit_id in self._under([node_id]):
                others.setdefault(lit_id, rgba)
        for node_id, view in self.node_views.items():
            view.set_highlight(node_id in lit, others.get(node_id))

    def set_others_selection(self, colours: dict[str, tuple]) -> None:
        """Parts other people have selected (node id -> their RGB colour), outlined in that colour."""
        self.others_selection = dict(colours)
        self.set_selection(self.selection)

    def _under(self, node_ids) -> set[str]:
        graph = self.project.scene_graph
        lit: set[str] = set()
        for node_id in node_ids:
            node = graph.find(node_id)
            if node is not None:
                lit |= {n.id for n, _ in SceneGraph.model_construct(nodes=[node]).walk()}
        return lit

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
        """Disconnect from the model, drop the visuals, and end the background work: queued
        jobs are cancelled and a running one (a C call that cannot be interrupted) is waited
        for, so nothing writes into this view after it is closed."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.project.changed.disconnect(self._document_replaced)
        self._close_views()
        self.root.parent = None


__all__ = ["COARSER", "HIGHLIGHT", "LOD_TARGET", "LOD_TRIANGLES", "SCENE_BUDGET", "SceneView"]

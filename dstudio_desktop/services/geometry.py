"""Geometry entering a project: model files, a reconstruction's mesh, a part repaired for
printing (later: a cloud job's result). Each source becomes ``SceneData`` and then a
``ProjectChange`` through ``geometry_change``, the one function that turns geometry into
nodes, materials and assets; ``changes.land`` stores it atomically (or runs it on the open
editor's undo stack as one step).

Every file is parsed and validated before anything is written: either the whole import
lands or the workspace is as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ..core import Asset, Node, SceneGraph, Transform, Version, new_id
from ..core.commands import AddMaterial, AddNodes, Macro
from ..core.gizmo_math import translated
from ..core.progress import CancelToken, ProgressCallback, check, no_progress
from ..errors import DStudioError
from ..meshio import MeshData, SceneData, Texture, read_scene
from ..store import Workspace, sha256_bytes
from .changes import OpenEditor, ProjectChange, land

MESH_MEDIA_TYPE = "model/gltf-binary"


@dataclass
class ImportResult:
    project_id: str
    nodes: list[Node] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    materials: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "nodes": [{"id": n.id, "name": n.name, "kind": n.kind} for n in self.nodes],
            "assets": [{"id": a.id, "name": a.name, "sha256": a.sha256, "file_size": a.file_size} for a in self.assets],
            "materials": self.materials,
            "warnings": self.warnings,
        }


def mesh_asset(project_id: str, asset_id: str, mesh: MeshData, source: str, units: str, up: str) -> tuple[Asset, bytes]:
    from ..meshio.gltf_write import mesh_glb  # pygltflib: a tenth of a second to import, only to store

    data = mesh_glb(mesh)
    bounds = mesh.bounds()
    asset = Asset(
        id=asset_id,
        project_id=project_id,
        asset_type="pointcloud" if mesh.is_pointcloud else "mesh",
        name=mesh.name[:256] or "mesh",
        sha256=sha256_bytes(data),
        file_size=len(data),
        media_type=MESH_MEDIA_TYPE,
        metadata={
            "vertex_count": mesh.vertex_count,
            "triangle_count": mesh.triangle_count,
            "bounds": bounds.tolist(),
            "source_file": Path(source).name,
            "source_units": units,
            "source_up_axis": up,
        },
    )
    return asset, data


def texture_asset(project_id: str, asset_id: str, texture: Texture) -> tuple[Asset, bytes]:
    return (
        Asset(id=asset_id, project_id=project_id, asset_type="texture", name=texture.name[:256] or "texture",
              sha256=sha256_bytes(texture.data), file_size=len(texture.data), media_type=texture.media_type),
        texture.data,
    )


def read_geometry(paths: list[str | Path], units: Optional[str] = None, up: Optional[str] = None,
                  progress: ProgressCallback = no_progress, cancel: Optional[CancelToken] = None) -> list[SceneData]:
    """Parse and validate every file; nothing is written."""
    scenes = []
    for i, path in enumerate(paths):
        check(cancel, "import")
        progress(i / (len(paths) + 1), f"reading {Path(path).name}")
        scenes.append(read_scene(path, units=units, up=up))
    return scenes


Bounds = tuple[np.ndarray, np.ndarray]
BESIDE_GAP = 0.1  # new geometry lands this fraction of its size away from what is there


def _box_corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def _union(boxes: list[Bounds]) -> Optional[Bounds]:
    if not boxes:
        return None
    return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)


def scenes_bounds(scenes: list[SceneData]) -> Optional[Bounds]:
    boxes = []
    for scene in scenes:
        for node, world in scene.world_geometry():
            mesh = scene.meshes[node.asset_id]
            if mesh.vertex_count:
                pts = (world @ _box_corners(*mesh.bounds()).T).T[:, :3]
                boxes.append((pts.min(axis=0), pts.max(axis=0)))
    return _union(boxes)


def project_bounds(ws: Workspace, project_id: str) -> Optional[Bounds]:
    """World bounds of the project's parts from their assets' recorded bounds (no mesh is read)."""
    project = ws.load_project(project_id)
    boxes = []
    for node, world in project.scene_graph.world_matrices():
        if not node.asset_id or not node.visible:
            continue
        try:
            recorded = ws.get_asset(node.asset_id).metadata.get("bounds")
        except DStudioError:
            continue
        if isinstance(recorded, list) and np.shape(recorded) == (2, 3) and np.all(np.isfinite(recorded)):
            pts = (world @ _box_corners(*np.asarray(recorded, dtype=float)).T).T[:, :3]
            boxes.append((pts.min(axis=0), pts.max(axis=0)))
    return _union(boxes)


def place_beside(scenes: list[SceneData], existing: Optional[Bounds]) -> None:
    """New geometry that would land inside what is there moves, all of it together (an assembly
    keeps its fit), to stand beside it: to its +X side, on the same ground, centred in depth.
    Geometry that does not overlap keeps the place its file gave it."""
    new = scenes_bounds(scenes)
    if existing is None or new is None:
        return
    (elo, ehi), (nlo, nhi) = existing, new
    if np.any(nhi < elo) or np.any(nlo > ehi):
        return  # apart already
    gap = BESIDE_GAP * float(max(np.max(nhi - nlo), np.max(ehi - elo), 1e-3))
    offset = np.array([ehi[0] + gap - nlo[0], elo[1] - nlo[1], (elo[2] + ehi[2]) / 2 - (nlo[2] + nhi[2]) / 2])
    for scene in scenes:
        for node in scene.nodes:  # top-level nodes: their parent is the world
            node.transform = translated(node.transform, np.eye(4), offset)


def geometry_change(project_id: str, scenes: list[SceneData], label: str,
                    beside: Optional[Bounds] = None) -> ProjectChange:
    """The one way geometry enters a project: the scenes' materials and nodes as one command,
    with the mesh and texture assets they refer to. With ``beside`` (the bounds of what the
    project holds), new geometry that would land inside it is placed beside it."""
    place_beside(scenes, beside)
    assets: list[tuple[Asset, bytes]] = []
    for scene in scenes:
        for asset_id, mesh in scene.meshes.items():
            assets.append(mesh_asset(project_id, asset_id, mesh, scene.source, scene.units, scene.up))
        for asset_id, tex in scene.textures.items():
            assets.append(texture_asset(project_id, asset_id, tex))
    steps: list[Any] = [AddMaterial(m.to_json()) for s in scenes for m in s.materials]
    steps.append(AddNodes(nodes=[n.to_json() for s in scenes for n in s.nodes]))
    return ProjectChange(project_id, Macro(steps, label), assets)


def import_label(paths: list[str | Path]) -> str:
    return "Import " + ", ".join(Path(p).name for p in paths)


def _result(project_id: str, scenes: list[SceneData], change: ProjectChange) -> ImportResult:
    result = ImportResult(project_id=project_id, assets=[a for a, _ in change.assets])
    for scene in scenes:
        result.nodes.extend(scene.nodes)
        result.materials += len(scene.materials)
        result.warnings.extend(scene.warnings)
    return result


def import_files(ws: Workspace, project_key: str, paths: list[str | Path], units: Optional[str] = None,
                 up: Optional[str] = None, progress: ProgressCallback = no_progress,
                 cancel: Optional[CancelToken] = None, editor: Optional[OpenEditor] = None,
                 label: Optional[str] = None) -> ImportResult:
    """Read every file, then add all of them to the project in one transaction."""
    project_id = ws.resolve_project(project_key)
    scenes = read_geometry(paths, units, up, progress, cancel)
    progress(len(paths) / (len(paths) + 1), "storing")
    check(cancel, "import")
    change = geometry_change(project_id, scenes, label or import_label(paths), beside=project_bounds(ws, project_id))
    land(ws, change, editor)
    progress(1.0, "done")
    return _result(project_id, scenes, change)


def add_reconstruction(ws: Workspace, project_key: str, glb: str | Path, report: dict[str, Any],
                       editor: Optional[OpenEditor] = None,
                       picture: Optional[Callable[[ImportResult], np.ndarray]] = None,
                       progress: ProgressCallback = no_progress,
                       cancel: Optional[CancelToken] = None) -> tuple[ImportResult, Version]:
    """A finished reconstruction into the project: its mesh as an asset and a node (one step),
    then a version, with ``picture(result)`` (a render showing the new part) as its thumbnail.

    A cloud job's report names the asset row its worker made on the server (``report["asset"]``:
    its id and created_at); the mesh's asset takes that identity, so the project has one asset
    row for the result, not the worker's and a second one of its own."""
    from .versions import save_version

    adopt = report.get("asset") if isinstance(report.get("asset"), dict) else None
    if adopt is None:
        result = import_files(ws, project_key, [glb], progress=progress, cancel=cancel, editor=editor,
                              label=reconstruction_label(report))
    else:
        result = _import_adopting(ws, project_key, Path(glb), adopt, reconstruction_label(report), editor,
                                  progress, cancel)
    version = save_version(ws, result.project_id, reconstruction_notes(report),
                           picture=picture(result) if picture is not None else None)
    return result, version


def _import_adopting(ws: Workspace, project_key: str, glb: Path, adopt: dict[str, Any], label: str,
                     editor: Optional[OpenEditor], progress: ProgressCallback,
                     cancel: Optional[CancelToken]) -> ImportResult:
    """``import_files`` of one mesh whose asset keeps the id (and creation time) of a row the
    server already has; its metadata keeps what the server's row said beside the mesh's facts."""
    project_id = ws.resolve_project(project_key)
    scenes = read_geometry([glb], progress=progress, cancel=cancel)
    meshes = scenes[0].meshes
    if len(scenes) != 1 or len(meshes) != 1 or scenes[0].textures:
        raise DStudioError(f"{glb.name}: a reconstruction's result is one mesh, not {len(meshes)}")
    old_id, new_asset_id = next(iter(meshes)), str(adopt["id"])
    meshes[new_asset_id] = meshes.pop(old_id)
    for node, _ in SceneGraph.model_construct(nodes=scenes[0].nodes).walk():
        if node.asset_id == old_id:
            node.asset_id = new_asset_id
    check(cancel, "import")
    change = geometry_change(project_id, scenes, label, beside=project_bounds(ws, project_id))
    change.assets = [(asset.model_copy(update={
        "created_at": str(adopt.get("created_at") or asset.created_at),
        "metadata": {**dict(adopt.get("metadata") or {}), **asset.metadata}}), data)
        for asset, data in change.assets]
    land(ws, change, editor)
    progress(1.0, "done")
    return _result(project_id, scenes, change)


def reconstruction_label(report: dict[str, Any]) -> str:
    return f"Reconstruct {Path(report.get('images_folder') or 'reconstruction').name}"


def reconstruction_notes(report: dict[str, Any]) -> str:
    return (f"Reconstructed from {report.get('num_registered', '?')} photos "
            f"in {Path(report.get('images_folder') or 'reconstruction').name} ({report.get('quality', '?')} quality)")


def repaired_part(project_id: str, vertices: np.ndarray, faces: np.ndarray, name: str) -> ProjectChange:
    """A part repaired for printing (millimetres, Z up, as the printer sees it) as a new node
    and asset beside the original, which stays as it was."""
    from ..meshio.formats import axis_conversion

    label = f"{name} (repaired)"[:256]
    mesh = MeshData(positions=vertices, faces=faces, name=label).validated(label)
    asset_id = new_id()
    node = Node(name=label, kind="mesh", asset_id=asset_id, transform=Transform.from_matrix(axis_conversion("mm", "z")))
    scene = SceneData(nodes=[node], meshes={asset_id: mesh}, source=label, units="mm", up="z")
    return geometry_change(project_id, [scene], f"Repair {name}")

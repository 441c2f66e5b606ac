"""Bringing model files into projects and projects out to files.

The glue between ``meshio`` (files) and ``store`` (the workspace), shared by the
CLI and the UI. An import parses and validates every file before it writes
anything, then stores assets, nodes and materials in one transaction: either the
whole import lands or the workspace is as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import trimesh

from .core import Asset, Node, Project, SceneGraph, Transform
from .core.progress import CancelToken, ProgressCallback, check, no_progress
from .errors import NotFoundError
from .meshio import MeshData, SceneData, Texture, read_scene, write_scene
from .meshio.gltf_read import read_gltf_bytes
from .meshio.gltf_write import mesh_glb
from .store import Workspace, sha256_bytes

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


def read_imports(paths: list[str | Path], units: Optional[str] = None, up: Optional[str] = None,
                 progress: ProgressCallback = no_progress, cancel: Optional[CancelToken] = None) -> list[SceneData]:
    """Parse and validate every file; nothing is written."""
    scenes = []
    for i, path in enumerate(paths):
        check(cancel, "import")
        progress(i / (len(paths) + 1), f"reading {Path(path).name}")
        scenes.append(read_scene(path, units=units, up=up))
    return scenes


def import_assets(project_id: str, scenes: list[SceneData]) -> list[tuple[Asset, bytes]]:
    """The mesh and texture assets the scenes' nodes and materials refer to."""
    assets: list[tuple[Asset, bytes]] = []
    for scene in scenes:
        for asset_id, mesh in scene.meshes.items():
            assets.append(mesh_asset(project_id, asset_id, mesh, scene.source, scene.units, scene.up))
        for asset_id, tex in scene.textures.items():
            assets.append(texture_asset(project_id, asset_id, tex))
    return assets


def import_files(ws: Workspace, project_key: str, paths: list[str | Path], units: Optional[str] = None,
                 up: Optional[str] = None, progress: ProgressCallback = no_progress,
                 cancel: Optional[CancelToken] = None) -> ImportResult:
    """Read every file, then add all of them to the project in one transaction."""
    project = ws.load_project(project_key)
    result = ImportResult(project_id=project.id)
    scenes = read_imports(paths, units, up, progress, cancel)
    progress(len(paths) / (len(paths) + 1), "storing")
    check(cancel, "import")
    new_assets = import_assets(project.id, scenes)
    for scene in scenes:
        project.scene_graph.nodes = [*project.scene_graph.nodes, *scene.nodes]
        project.material_overrides.materials = [*project.material_overrides.materials, *scene.materials]
        result.nodes.extend(scene.nodes)
        result.materials += len(scene.materials)
        result.warnings.extend(scene.warnings)
    check(cancel, "import")
    ws.save_project(project, new_assets)
    result.assets = [a for a, _ in new_assets]
    progress(1.0, "done")
    return result


def project_scene(ws: Workspace, project: Project, node_id: Optional[str] = None) -> SceneData:
    """The project (or one node's subtree, placed where it is in the world) as ``SceneData``."""
    if node_id is None:
        nodes = project.scene_graph.nodes
    else:
        node = project.scene_graph.find(node_id) or next(
            (n for n, _ in project.scene_graph.walk() if n.name == node_id), None
        )
        if node is None:
            raise NotFoundError(f"project {project.name!r} has no node {node_id!r}")
        parent = project.scene_graph.parent_of(node.id)
        world = node.transform
        if parent is not None:
            world = Transform.from_matrix(project.scene_graph.world_matrix(node.id))
        nodes = [node.model_copy(update={"transform": world})]
    graph = SceneGraph.model_construct(nodes=nodes)
    scene = SceneData(nodes=nodes, materials=list(project.material_overrides.materials), source=project.name)
    for asset_id in graph.asset_ids():
        scene.meshes[asset_id] = load_mesh(ws, asset_id)
    for mat in project.material_overrides.materials:
        for tex_id in mat.texture_asset_ids():
            asset = ws.get_asset(tex_id)
            scene.textures[tex_id] = Texture(name=asset.name, data=ws.asset_bytes(asset), media_type=asset.media_type)
    return scene


def load_mesh(ws: Workspace, asset_id: str) -> MeshData:
    asset = ws.get_asset(asset_id)
    stored = read_gltf_bytes(ws.asset_bytes(asset), name=f"asset {asset.name}")
    mesh = next(iter(stored.meshes.values()))
    mesh.name = asset.name
    return mesh


def export_project(ws: Workspace, key: str, out: str | Path, node_id: Optional[str] = None,
                   units: Optional[str] = None, up: Optional[str] = None) -> list[Path]:
    project = ws.load_project(key)
    return write_scene(project_scene(ws, project, node_id), out, units=units, up=up)


def describe(scene: SceneData) -> dict[str, Any]:
    """Facts about a scene: counts, world bounds in metres, watertightness per mesh."""
    counts = scene.counts()
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    meshes = []
    for node, world in scene.world_geometry():
        mesh = scene.meshes[node.asset_id]
        pts = mesh.positions.astype(np.float64) @ world[:3, :3].T + world[:3, 3]
        lo, hi = np.minimum(lo, pts.min(axis=0)), np.maximum(hi, pts.max(axis=0))
        meshes.append({
            "node": node.name,
            "node_id": node.id,
            "kind": node.kind,
            "vertices": mesh.vertex_count,
            "triangles": mesh.triangle_count,
            "watertight": _watertight(mesh),
        })
    return {
        **counts,
        "bounds": [lo.tolist(), hi.tolist()] if meshes else None,
        "size": (hi - lo).tolist() if meshes else None,
        "units": "m",
        "watertight": bool(meshes) and all(m["watertight"] for m in meshes if m["kind"] == "mesh"),
        "meshes": meshes,
        "material_names": [m.name for m in scene.materials],
    }


def _watertight(mesh: MeshData) -> bool:
    if mesh.is_pointcloud:
        return False
    merged = trimesh.Trimesh(mesh.positions, mesh.faces, process=False)
    merged.merge_vertices()
    return bool(merged.is_watertight)

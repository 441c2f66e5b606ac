"""Projects out of the workspace: a project (or one part) as ``SceneData``, stored meshes,
export to model files, and the facts ``dstudio info`` prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..core import Project, SceneGraph, Transform
from ..core.records import utc_now
from ..errors import NotFoundError, PermissionDenied
from ..meshio import MeshData, SceneData, Texture, write_scene
from ..meshio.gltf_read import read_gltf_bytes
from ..store import Workspace


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


def export_local(ws: Workspace, key: str, out: str | Path, node_id: Optional[str] = None,
                 units: Optional[str] = None, up: Optional[str] = None) -> list[Path]:
    """An export on this computer (free), as the CLI and the app make it: the files written, and
    the export recorded in the project's history through the sync outbox (sent by the next
    sync, whenever that is). A reviewer's or viewer's export is written and not recorded: the
    history is its editors'."""
    started = utc_now()
    written = export_project(ws, key, out, node_id=node_id, units=units, up=up)
    try:
        ws.record_export(key, Path(out).suffix.lstrip(".") or "glb", sum(p.stat().st_size for p in written), started)
    except PermissionDenied:
        pass
    return written


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
    import trimesh  # here: the window imports this module, and trimesh costs a second

    merged = trimesh.Trimesh(mesh.positions, mesh.faces, process=False)
    merged.merge_vertices()
    return bool(merged.is_watertight)

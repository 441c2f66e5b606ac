"""Drawing data for meshes, made with numpy alone.

Everything here runs on worker threads (imports, project opening, stand-ins) and in
headless or cloud code, so this module imports no GL or Qt library (an import check in
tests/render holds it to that): the views in this package turn its arrays into visuals on
the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import trimesh

from ..core.picking import MeshPicker
from ..meshio import MeshData

MeshSource = Callable[[str], MeshData]
# Crease-aware normals (trimesh's smooth_shaded) take ~7 s per million triangles; above this
# size meshes are drawn with averaged normals so they open quickly.
SMOOTH_SHADING_LIMIT = 300_000


@dataclass
class DisplayData:
    """What drawing a mesh needs: float32 vertices, uint32 faces, a normal per face corner
    (the order a de-indexed GL mesh uses), and a colour per vertex when the mesh has them
    (a scan). Made off the GUI thread for large imports."""

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    colors: Optional[np.ndarray] = None


@dataclass
class PreparedAsset:
    """Everything showing and picking one asset needs, made off the GUI thread when it is large."""

    mesh: MeshData
    display: Optional[DisplayData]
    picker: Optional[MeshPicker]


def prepare_display(mesh: MeshData) -> DisplayData:
    """Drawing data with area-weighted vertex normals, laid out per face corner."""
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


__all__ = ["DisplayData", "MeshSource", "PreparedAsset", "coarse_display", "display_arrays", "prepare_asset",
           "prepare_display"]

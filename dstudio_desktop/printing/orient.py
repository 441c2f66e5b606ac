"""Automatic orientation: a few ways to stand the part on the bed, scored, the best offered.

Candidates are the six axis-aligned rests and the largest flat faces of the convex hull; each
is scored by the area that would need support (faces pointing down more steeply than the
overhang angle, not lying on the bed) and by the height (taller prints take longer and wobble).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh
from scipy.spatial import ConvexHull, QhullError

OVERHANG_DEG = 45.0       # steeper than this from vertical needs support (Cura's and PrusaSlicer's default)
HEIGHT_WEIGHT = 0.25      # one mm of height weighs as much as this many mm² of support per mm of size
HULL_CANDIDATES = 6       # the largest flat faces of the hull tried besides the axes


@dataclass(frozen=True)
class Orientation:
    rotation: np.ndarray       # 4x4, applied to the part before it is placed on the bed
    support_mm2: float
    height_mm: float
    score: float

    def describe(self) -> str:
        return f"{self.support_mm2:.0f} mm² needing support, {self.height_mm:.1f} mm tall"


def _down_rotations(mesh: trimesh.Trimesh) -> list[np.ndarray]:
    normals = [np.array(v, float) for v in ((0, 0, -1), (0, 0, 1), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0))]
    # the hull's flat sides: its triangles grouped by (rounded) normal, largest area first
    # (trimesh's ``facets`` would do it exactly, but takes seconds on a finely curved hull)
    try:
        hull = ConvexHull(np.asarray(mesh.vertices))
    except (QhullError, ValueError):
        hull = None   # flat or degenerate: the axis rests are enough
    if hull is None:
        return _unique_rotations(normals)
    tri = hull.points[hull.simplices]
    hull_area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    keys, inverse = np.unique(np.round(hull.equations[:, :3], 3), axis=0, return_inverse=True)
    area = np.bincount(inverse.ravel(), weights=hull_area, minlength=len(keys))
    for k in np.argsort(area)[::-1][:HULL_CANDIDATES]:
        n = keys[k]
        normals.append(n / np.linalg.norm(n))
    return _unique_rotations(normals)


def _unique_rotations(normals: list[np.ndarray]) -> list[np.ndarray]:
    rotations: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    for n in normals:
        if any(np.dot(n, s) > 0.999 for s in seen):
            continue
        seen.append(n)
        rotations.append(trimesh.geometry.align_vectors(n, [0.0, 0.0, -1.0]))
    return rotations


def score(mesh: trimesh.Trimesh, rotation: np.ndarray) -> Orientation:
    normals = mesh.face_normals @ rotation[:3, :3].T
    z = (mesh.triangles_center @ rotation[:3, :3].T)[:, 2]
    vertices_z = mesh.vertices @ rotation[2, :3]
    bottom, height = float(vertices_z.min()), float(np.ptp(vertices_z))
    overhang = normals[:, 2] < -np.cos(np.radians(90 - OVERHANG_DEG))
    on_bed = z - bottom < 0.05
    support = float(mesh.area_faces[overhang & ~on_bed].sum())
    size = float(max(mesh.extents.max(), 1e-6))
    return Orientation(rotation, support, height, support / size + HEIGHT_WEIGHT * height)


def best_orientation(mesh: trimesh.Trimesh) -> tuple[Orientation, Orientation]:
    """(current, best): the best is the current one unless another rest scores clearly better."""
    current = score(mesh, np.eye(4))
    best = min((score(mesh, r) for r in _down_rotations(mesh)), key=lambda o: o.score)
    return current, (best if best.score < current.score * 0.9 - 1e-9 else current)

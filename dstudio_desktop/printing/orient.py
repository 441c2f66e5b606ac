"""Automatic orientation: a few ways to stand the part on the bed, scored, the best offered.

Candidates are the six axis-aligned rests and the part's largest flat sides that it can stand
on: its faces grouped by normal, a group counting only where it lies on the part's extreme
plane in that direction (nothing of the part beyond it), by the area that would touch the bed.
Each is scored by the area that would need support (faces pointing down more steeply than the
overhang angle, not lying on the bed) and by the height (taller prints take longer and wobble).
Numpy alone (no trimesh, no qhull: scipy costs a third of a second to import, and the advice is
worked out beside the slicer on the same two cores). A rest that touches the bed only at edges
or points, which a convex hull would also offer, is not a candidate: it would not stand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mesh_figures import Part

OVERHANG_DEG = 45.0       # steeper than this from vertical needs support (Cura's and PrusaSlicer's default)
HEIGHT_WEIGHT = 0.25      # one mm of height weighs as much as this many mm² of support per mm of size
SIDE_CANDIDATES = 6       # the largest flat sides tried besides the axes
SIDE_GROUPS_TRIED = 64    # normal groups (largest area first) looked at for those sides
NORMAL_STEP = 1e-3        # normals closer than this (per component) are one side
ON_PLANE_MM = 0.05        # a face this close to the extreme plane touches the bed


@dataclass(frozen=True)
class Orientation:
    rotation: np.ndarray       # 4x4, applied to the part before it is placed on the bed
    support_mm2: float
    height_mm: float
    score: float

    def describe(self) -> str:
        return f"{self.support_mm2:.0f} mm² needing support, {self.height_mm:.1f} mm tall"


def rotation_to_down(normal: np.ndarray) -> np.ndarray:
    """The 4x4 rotation that turns ``normal`` (unit) to -Z: the side it points out of goes on the bed."""
    a, b = np.asarray(normal, dtype=float), np.array([0.0, 0.0, -1.0])
    out = np.eye(4)
    c = float(np.dot(a, b))
    if c < -1 + 1e-12:   # pointing up: half a turn about X
        out[:3, :3] = np.diag([1.0, -1.0, -1.0])
        return out
    v = np.cross(a, b)
    skew = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    out[:3, :3] = np.eye(3) + skew + skew @ skew / (1.0 + c)
    return out


def flat_sides(part: Part, count: int = SIDE_CANDIDATES) -> list[np.ndarray]:
    """Up to ``count`` unit normals of the sides the part can stand on, the largest contact first."""
    face = part.face
    if not len(part.faces):
        return []
    steps = np.round(face.normals / NORMAL_STEP).astype(np.int64) + (1 << 20)   # each component in 21 bits
    key = (steps[0] << 42) | (steps[1] << 21) | steps[2]
    keys, group = np.unique(key, return_inverse=True)
    area = np.bincount(group, weights=face.areas, minlength=len(keys))
    vertex_cols = part.vertex_columns
    sides: list[tuple[float, np.ndarray]] = []
    for k in np.argsort(area)[::-1][:SIDE_GROUPS_TRIED]:
        members = np.flatnonzero(group == k)
        n = face.normals[:, members].mean(axis=1)
        length = float(np.linalg.norm(n))
        if length < 0.5 or area[k] <= 0:
            continue
        n = n / length
        extreme = float(np.max(vertex_cols[0] * n[0] + vertex_cols[1] * n[1] + vertex_cols[2] * n[2]))
        centers = face.centers[:, members]
        reach = centers[0] * n[0] + centers[1] * n[1] + centers[2] * n[2]
        contact = float(face.areas[members][reach >= extreme - ON_PLANE_MM].sum())
        if contact > 0:
            sides.append((contact, n))
    sides.sort(key=lambda s: -s[0])
    return [n for _, n in sides[:count]]


def _down_rotations(part: Part) -> list[np.ndarray]:
    normals = [np.array(v, float) for v in ((0, 0, -1), (0, 0, 1), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0))]
    return _unique_rotations(normals + flat_sides(part))


def _unique_rotations(normals: list[np.ndarray]) -> list[np.ndarray]:
    rotations: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    for n in normals:
        if any(np.dot(n, s) > 0.999 for s in seen):
            continue
        seen.append(n)
        rotations.append(rotation_to_down(n))
    return rotations


def _height(columns: np.ndarray, r: np.ndarray) -> np.ndarray:
    return columns[0] * r[0] + columns[1] * r[1] + columns[2] * r[2]


def score(part, rotation: np.ndarray) -> Orientation:
    """How much support and height ``part`` (a ``Part`` or a trimesh) needs when turned by ``rotation``."""
    part = Part.of(part)
    up = rotation[2, :3]    # only the new Z of each normal, centre and vertex matters
    face = part.face
    normal_z = _height(face.normals, up)
    center_z = _height(face.centers, up)
    vertex_z = _height(part.vertex_columns, up)
    bottom, height = float(vertex_z.min()), float(vertex_z.max() - vertex_z.min())
    overhang = normal_z < -np.cos(np.radians(90 - OVERHANG_DEG))
    on_bed = center_z - bottom < 0.05
    support = float(np.sum(face.areas, where=overhang & ~on_bed))
    size = float(max(part.extents.max(), 1e-6))
    return Orientation(rotation, support, height, support / size + HEIGHT_WEIGHT * height)


def best_orientation(part) -> tuple[Orientation, Orientation]:
    """(current, best) for a ``Part`` or a trimesh: the best is the current one unless another
    rest scores clearly better."""
    part = Part.of(part)
    current = score(part, np.eye(4))
    best = min((score(part, r) for r in _down_rotations(part)), key=lambda o: o.score)
    return current, (best if best.score < current.score * 0.9 - 1e-9 else current)

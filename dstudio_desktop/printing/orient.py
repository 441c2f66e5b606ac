"""Automatic orientation: a few ways to stand the part on the bed, scored, the best offered.

Candidates are the six axis-aligned rests and the largest flat faces of the convex hull; each
is scored by the area that would need support (faces pointing down more steeply than the
overhang angle, not lying on the bed) and by the height (taller prints take longer and wobble).
Numpy and qhull only (no trimesh): the advice is worked out beside the slicer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mesh_figures import Part

OVERHANG_DEG = 45.0       # steeper than this from vertical needs support (Cura's and PrusaSlicer's default)
HEIGHT_WEIGHT = 0.25      # one mm of height weighs as much as this many mm² of support per mm of size
HULL_CANDIDATES = 6       # the largest flat faces of the hull tried besides the axes
# Above this many points that may lie on the hull, the hull is taken of a sample of them (qhull
# takes seconds on a finely curved part of a million triangles, whose hull has as many tiny
# sides, none worth standing on). The sample keeps the corners of the part's largest faces and
# a regular share of the rest, so a large flat side (many vertices, or a few large faces) keeps
# its plane.
HULL_POINTS = 10_000
# the 13 directions (and their opposites) whose extreme vertices bound the points that can be on the hull
_DIRECTIONS = np.array([d for d in np.ndindex(3, 3, 3) if d != (1, 1, 1)], dtype=float)[:13] - 1.0


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


def hull_points(part: Part) -> np.ndarray:
    """The vertices that may lie on the convex hull (at most ``HULL_POINTS`` of them).

    Points strictly inside the hull of the extreme vertices in 26 directions cannot be on the
    hull and are dropped (the Akl-Toussaint heuristic: exact)."""
    cols = part.vertex_columns
    reach = [cols[0] * d[0] + cols[1] * d[1] + cols[2] * d[2] for d in _DIRECTIONS]
    extremes = np.unique([i for r in reach for i in (int(r.argmin()), int(r.argmax()))])
    points = part.vertices
    keep = np.ones(len(points), dtype=bool)
    if len(extremes) >= 4:
        from scipy.spatial import ConvexHull, QhullError
        try:
            inner = ConvexHull(points[extremes])
        except (QhullError, ValueError):
            inner = None
        if inner is not None:
            tol = 1e-9 * max(float(part.extents.max()), 1e-9)
            keep[:] = False
            for a, b, c, d in inner.equations:
                keep |= cols[0] * a + cols[1] * b + cols[2] * c + d >= -tol
            keep[extremes] = True
    candidates = np.flatnonzero(keep)
    if len(candidates) <= HULL_POINTS:
        return points[candidates]
    largest = np.argsort(part.face.areas)[::-1][:HULL_POINTS // 6]
    corners = np.unique(part.faces[largest].ravel())
    corners = corners[keep[corners]]
    step = max(1, len(candidates) // max(HULL_POINTS - len(corners), 1))
    return points[np.union1d(np.union1d(corners, candidates[::step]), extremes)]


def _down_rotations(part: Part) -> list[np.ndarray]:
    normals = [np.array(v, float) for v in ((0, 0, -1), (0, 0, 1), (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0))]
    # the hull's flat sides: its triangles grouped by (rounded) normal, largest area first
    # (trimesh's ``facets`` would do it exactly, but takes seconds on a finely curved hull)
    from scipy.spatial import ConvexHull, QhullError
    try:
        hull = ConvexHull(hull_points(part))
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

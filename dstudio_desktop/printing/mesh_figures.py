"""The figures the printability checks and the orientation advice are made of, with numpy alone.

A part's edges are counted by one sort of their vertex-pair keys (watertight, non-manifold,
winding, and the face adjacency the shells are found from), its faces' areas, normals and
centres by one chunked pass: what trimesh works out for the same answers costs several times
more on a million triangles (cache hashing, copies, grouping rows of arrays), and the checks
run beside the slicer on the same two cores. The meanings are trimesh's own (tests compare
them with it): an edge is two vertex indices, an edge used by exactly two faces joins them,
winding is consistent when every such pair runs its edge in opposite directions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

DEGENERATE_AREA_MM2 = 1e-10
CHUNK = 1 << 18     # faces per pass of the face figures: ~20 MB of float64 triangles at a time
# odd 64-bit constants that spread a coordinate's bits over the whole hash (splitmix/xxhash primes)
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))


def weld(triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(vertices float64, faces int64) of a triangle soup ``(n, 3, 3)``, as an STL stores it:
    corners with identical coordinates become one vertex (exactly; -0.0 is 0.0).

    The corners are grouped by a 64-bit hash of their coordinates' bits, one sort; the groups
    are then compared coordinate by coordinate, and a hash collision (two different corners
    with one hash) falls back to sorting the coordinates themselves."""
    points = np.array(triangles, copy=True).reshape(-1, 3)   # contiguous, and the caller's stays as it was
    points += points.dtype.type(0)                   # -0.0 + 0.0 == +0.0: one bit pattern for zero
    bits = points.view(np.uint32 if points.dtype.itemsize == 4 else np.uint64)
    key = bits[:, 0].astype(np.uint64) * _MIX[0]
    key ^= bits[:, 1].astype(np.uint64) * _MIX[1]
    key ^= bits[:, 2].astype(np.uint64) * _MIX[2]
    order = np.argsort(key)
    ordered = np.sort(key)    # a second (SIMD) sort is cheaper than gathering key[order]
    same_key = ordered[1:] == ordered[:-1]
    sorted_points = np.take(points, order, axis=0)
    if not np.array_equal(same_key, _same_rows(sorted_points)):
        order = np.lexsort(points.T)                  # a collision: the exact, slower grouping
        sorted_points = points[order]
        same_key = _same_rows(sorted_points)
    new = np.r_[True, ~same_key]
    wide = len(new) >= 2**31
    group = np.cumsum(new, dtype=np.int64 if wide else np.int32) - 1   # int32: ~30x faster
    index = np.empty(len(points), dtype=group.dtype)
    index[order] = group
    return sorted_points[new].astype(np.float64), index.reshape(-1, 3)


def _same_rows(points: np.ndarray) -> np.ndarray:
    """Is each row equal to the one before it? Column by column (``all(axis=1)`` over rows of
    three is several times slower)."""
    same = points[1:, 0] == points[:-1, 0]
    same &= points[1:, 1] == points[:-1, 1]
    same &= points[1:, 2] == points[:-1, 2]
    return same


@dataclass(frozen=True)
class EdgeFigures:
    boundary: int              # edges used by one face: the border of a hole
    non_manifold: int          # edges used by three faces or more
    winding_consistent: bool   # every edge two faces share is run in opposite directions by them
    shells: int                # groups of faces joined through edges used by exactly two faces


def edge_figures(faces: np.ndarray, vertex_count: int) -> EdgeFigures:
    faces = np.asarray(faces, dtype=np.int64)
    face_count = len(faces)
    start = faces.ravel()
    end = np.empty_like(faces)     # each face's next corner (slices: a fancy index is ~20x slower)
    end[:, :2], end[:, 2] = faces[:, 1:], faces[:, 0]
    end = end.ravel()
    nv = max(vertex_count, 1)
    key_bits, index_bits = (nv * nv - 1).bit_length(), max(len(start) - 1, 1).bit_length()
    lo, hi = np.minimum(start, end), np.maximum(start, end)
    if key_bits + 1 + index_bits <= 64:
        # One uint64 per edge: its vertex pair, whether it runs downwards, its index. Sorting
        # that (SIMD) groups each edge's uses, runs up before down, with no gathers after.
        packed = (lo.astype(np.uint64) * np.uint64(nv) + hi.astype(np.uint64)) << np.uint64(index_bits + 1)
        packed |= (start > end).astype(np.uint64) << np.uint64(index_bits)
        packed |= np.arange(len(start), dtype=np.uint64)
        packed.sort()
        ordered = packed >> np.uint64(index_bits + 1)
        order = (packed & np.uint64((1 << index_bits) - 1)).astype(np.int64)
        down = ((packed >> np.uint64(index_bits)) & np.uint64(1)).astype(bool)
    else:   # too many vertices to pack: an argsort and gathers, the same answers
        key = lo * nv + hi
        order = np.argsort(key)
        ordered = key[order]
        down = (start > end)[order]
    firsts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[firsts, len(ordered)])
    paired = firsts[counts == 2]
    # the two faces run a shared edge in opposite directions (an edge from a vertex to itself,
    # of a degenerate face, runs both ways at once, as trimesh counts it)
    loop = ordered[paired] % np.asarray(nv + 1, dtype=ordered.dtype) == 0
    winding = bool(face_count) and bool(np.all((down[paired] != down[paired + 1]) | loop))
    a, b = order[paired] // 3, order[paired + 1] // 3
    return EdgeFigures(int((counts == 1).sum()), int((counts > 2).sum()), winding, components(a, b, face_count))


def components(a: np.ndarray, b: np.ndarray, count: int) -> int:
    """How many groups ``count`` nodes joined by the links ``a[i]``-``b[i]`` make. Each round
    hooks the larger of a link's two roots onto the smaller, then jumps pointers until every
    node points at its root (a few rounds: each at least halves the roots a link joins). Numpy
    alone: scipy's graph module costs a third of a second to import, beside the slicer."""
    labels = np.arange(count)
    while True:
        la, lb = labels[a], labels[b]
        joining = la != lb
        if not joining.any():
            return int(np.count_nonzero(labels == np.arange(count)))
        a, b, la, lb = a[joining], b[joining], la[joining], lb[joining]
        np.minimum.at(labels, np.maximum(la, lb), np.minimum(la, lb))
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped


@dataclass
class FaceFigures:
    """Per face, as columns (``(3, n)``: one contiguous row per axis, so a direction's
    component is three multiply-adds, not a strided or BLAS product)."""

    areas: np.ndarray
    normals: np.ndarray        # unit normals; zero for a face with no area
    centers: np.ndarray
    signed_volume: float       # negative when the faces point inwards

    @property
    def degenerate(self) -> int:
        return int((self.areas < DEGENERATE_AREA_MM2).sum())


def face_figures(vertices: np.ndarray, faces: np.ndarray) -> FaceFigures:
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces)
    n = len(faces)
    areas = np.empty(n)
    normals = np.empty((3, n))
    centers = np.empty((3, n))
    volume = 0.0
    for s in range(0, n, CHUNK):
        tri = vertices[faces[s:s + CHUNK]]
        v0, v1, v2 = tri[:, 0], tri[:, 1], tri[:, 2]
        a, b = v1 - v0, v2 - v0
        cross = np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1],
                          a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                          a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]])
        norm = np.sqrt((cross * cross).sum(axis=0))
        areas[s:s + CHUNK] = 0.5 * norm
        normals[:, s:s + CHUNK] = cross / np.where(norm > 0, norm, 1.0)
        centers[:, s:s + CHUNK] = ((v0 + v1 + v2) / 3.0).T
        # v0 . (v1 - v0) x (v2 - v0) == v0 . v1 x v2: the tetrahedron to the origin, times six
        volume += float(np.einsum("ij,ji->", v0, cross))
    return FaceFigures(areas, normals, centers, volume / 6.0)


class Part:
    """A part's vertices and faces with its figures worked out once, on first use, for all
    the checks and every orientation scored."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray):
        self.vertices = np.asarray(vertices, dtype=np.float64)
        self.faces = np.asarray(faces, dtype=np.int64)
        self._edges: EdgeFigures | None = None
        self._face: FaceFigures | None = None
        self._columns: np.ndarray | None = None
        self._extents: np.ndarray | None = None
        # one lock per figure: two threads may work out different figures at once (the edges
        # and the orientation advice's face figures), never the same one twice
        self._locks = {name: threading.Lock() for name in ("_edges", "_face", "_columns", "_extents")}

    def _once(self, name: str, make: Callable[[], Any]) -> Any:
        value = getattr(self, name)
        if value is None:
            with self._locks[name]:
                value = getattr(self, name)
                if value is None:
                    value = make()
                    setattr(self, name, value)
        return value

    @classmethod
    def of(cls, mesh) -> Part:
        """A trimesh (or anything with ``vertices`` and ``faces``), or a ``Part`` as it is."""
        return mesh if isinstance(mesh, Part) else cls(mesh.vertices, mesh.faces)

    @property
    def edges(self) -> EdgeFigures:
        return self._once("_edges", lambda: edge_figures(self.faces, len(self.vertices)))

    @property
    def face(self) -> FaceFigures:
        return self._once("_face", lambda: face_figures(self.vertices, self.faces))

    @property
    def vertex_columns(self) -> np.ndarray:
        """``(3, V)``: the vertices one axis per row."""
        return self._once("_columns", lambda: np.ascontiguousarray(self.vertices.T))

    @property
    def extents(self) -> np.ndarray:
        """The axis-aligned box's sides, of the vertices the faces use (as trimesh's ``extents``)."""
        return self._once("_extents", self._used_extents)

    def _used_extents(self) -> np.ndarray:
        if not len(self.faces):
            return np.zeros(3)
        used = np.zeros(len(self.vertices), dtype=bool)
        used[self.faces.ravel()] = True
        cols = self.vertex_columns if used.all() else self.vertex_columns[:, used]
        return np.array([c.max() - c.min() for c in cols])

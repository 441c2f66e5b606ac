"""Exact ray/triangle picking, fast on millions of triangles.

Triangles are sorted along a Morton curve and cut into chunks with bounding
boxes (a one-level BVH): a ray tests every chunk box at once, then only the
triangles of the chunks it crosses, nearest chunk first.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .extent import extent

CHUNK = 1024


def _spread(v: np.ndarray) -> np.ndarray:
    """Insert two zero bits between each of the low 10 bits (for 30-bit Morton codes)."""
    v = v.astype(np.uint32) & 0x3FF
    v = (v | (v << 16)) & 0x030000FF
    v = (v | (v << 8)) & 0x0300F00F
    v = (v | (v << 4)) & 0x030C30C3
    v = (v | (v << 2)) & 0x09249249
    return v


class MeshPicker:
    def __init__(self, positions: np.ndarray, faces: np.ndarray) -> None:
        # float32 as the positions are (a chunk is tested in float64): a 2M-triangle part's
        # structure is 72 MB, where float64 copies of it took 500 MB at their peak
        positions = np.asarray(positions, dtype=np.float32)
        faces = np.asarray(faces)
        centre = (positions[faces[:, 0]] + positions[faces[:, 1]] + positions[faces[:, 2]]) / 3
        lo, hi = extent(centre)
        q = ((centre - lo) / np.maximum(hi - lo, 1e-30) * 1023).astype(np.uint32)
        del centre
        order = np.argsort(_spread(q[:, 0]) | (_spread(q[:, 1]) << 1) | (_spread(q[:, 2]) << 2), kind="stable")
        self.face_index = order
        self.tri = positions[faces[order]]
        n_chunks = (len(order) + CHUNK - 1) // CHUNK
        self.box_lo = np.empty((n_chunks, 3), np.float64)
        self.box_hi = np.empty((n_chunks, 3), np.float64)
        whole = len(order) // CHUNK
        if whole:
            boxes = self.tri[:whole * CHUNK].reshape(whole, CHUNK * 3, 3)
            self.box_lo[:whole], self.box_hi[:whole] = boxes.min(axis=1), boxes.max(axis=1)
        if whole < n_chunks:  # the last, shorter chunk
            rest = self.tri[whole * CHUNK:].reshape(-1, 3)
            self.box_lo[whole], self.box_hi[whole] = rest.min(axis=0), rest.max(axis=0)

    def intersect(self, origin: np.ndarray, direction: np.ndarray) -> Optional[tuple[float, int]]:
        """(t, face) of the nearest hit with t > 0 along origin + t * direction, or None."""
        origin, direction = np.asarray(origin, float), np.asarray(direction, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / direction
            t1, t2 = (self.box_lo - origin) * inv, (self.box_hi - origin) * inv
        t1, t2 = np.nan_to_num(t1, nan=-np.inf), np.nan_to_num(t2, nan=np.inf)
        near = np.minimum(t1, t2).max(axis=1)
        far = np.maximum(t1, t2).min(axis=1)
        hit_chunks = np.flatnonzero(far >= np.maximum(near, 0.0))
        best: Optional[tuple[float, int]] = None
        for chunk in hit_chunks[np.argsort(near[hit_chunks])]:
            if best is not None and near[chunk] > best[0]:
                break
            sl = slice(chunk * CHUNK, min((chunk + 1) * CHUNK, len(self.tri)))
            t = _ray_triangles(origin, direction, self.tri[sl].astype(np.float64))
            if np.isfinite(t).any():
                i = int(np.argmin(t))
                if best is None or t[i] < best[0]:
                    best = (float(t[i]), int(self.face_index[sl.start + i]))
        return best


def _ray_triangles(origin: np.ndarray, direction: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Möller–Trumbore for one ray against many triangles; inf where there is no hit."""
    v0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-18
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - v0
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-12)
    return np.where(hit, t, np.inf)


def closest_point(positions: np.ndarray, faces: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, int, float]:
    """The point of the mesh nearest to ``p``: (point, face index, distance). Vectorised over
    every triangle with the region tests of Ericson's closest-point-on-triangle."""
    p = np.asarray(p, dtype=np.float64)
    tri = np.asarray(positions, dtype=np.float64)[np.asarray(faces)]
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = np.einsum("ij,ij->i", ab, ap), np.einsum("ij,ij->i", ac, ap)
    bp, cp = p - b, p - c
    d3, d4 = np.einsum("ij,ij->i", ab, bp), np.einsum("ij,ij->i", ac, bp)
    d5, d6 = np.einsum("ij,ij->i", ab, cp), np.einsum("ij,ij->i", ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1.0 / (va + vb + vc)
        v, w = vb * denom, vc * denom
        result = a + ab * v[:, None] + ac * w[:, None]  # inside the face
        t_ab = d1 / (d1 - d3)
        t_ac = d2 / (d2 - d6)
        t_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
    regions = [
        ((d1 <= 0) & (d2 <= 0), a),
        ((d3 >= 0) & (d4 <= d3), b),
        ((d6 >= 0) & (d5 <= d6), c),
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + ab * t_ab[:, None]),
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + ac * t_ac[:, None]),
        ((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0), b + (c - b) * t_bc[:, None]),
    ]
    done = np.zeros(len(tri), bool)
    for mask, point in regions:  # the first region that applies wins, as in the scalar version
        take = mask & ~done
        result[take] = point[take]
        done |= take
    dist = np.linalg.norm(result - p, axis=1)
    dist[~np.isfinite(dist)] = np.inf
    best = int(np.argmin(dist))
    return result[best], best, float(dist[best])


def face_normal(positions: np.ndarray, faces: np.ndarray, face: int) -> np.ndarray:
    a, b, c = np.asarray(positions, dtype=np.float64)[np.asarray(faces)[face]]
    n = np.cross(b - a, c - a)
    return n / max(np.linalg.norm(n), 1e-30)

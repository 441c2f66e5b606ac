"""Will this mesh print? Findings with a suggested fix for each, before any slicing.

Works on the part as the printer sees it: millimetres, Z up, one merged mesh.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
import trimesh

# Parts outside these heights are almost certainly in the wrong unit (metres read as mm, or mm as m).
MIN_PLAUSIBLE_MM = 0.5
MAX_PLAUSIBLE_MM = 2000.0
DEGENERATE_AREA_MM2 = 1e-10
# The exact self-intersection test costs ~10 s per million triangles here; above this it is skipped, and said so.
SELF_INTERSECTION_LIMIT = 500_000


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error" refuses to slice; "warning" slices but tells; "info" is a fact
    message: str
    suggestion: str
    count: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def _edge_counts(mesh: trimesh.Trimesh) -> np.ndarray:
    """How many faces use each distinct edge (1 = border of a hole, 2 = manifold, 3+ = non-manifold)."""
    edges = mesh.edges_sorted.astype(np.int64)
    keys = np.sort(edges[:, 0] * len(mesh.vertices) + edges[:, 1])
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.diff(np.r_[starts, len(keys)])


def _signed_volume(mesh: trimesh.Trimesh) -> float:
    tri = mesh.vertices[mesh.faces]
    return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


def self_intersections(vertices: np.ndarray, faces: np.ndarray, max_candidates: int = 40_000_000) -> int:
    """How many pairs of non-adjacent triangles cross each other (coplanar overlaps are not counted)."""
    tri = vertices[faces]
    lo, hi = tri.min(axis=1), tri.max(axis=1)
    extent = (hi - lo).max(axis=1)
    cell = max(float(np.median(extent)), float((hi.max(0) - lo.min(0)).max()) / 4096, 1e-9)
    while True:
        first = np.floor((lo - lo.min(0)) / cell).astype(np.int64)
        last = np.floor((hi - lo.min(0)) / cell).astype(np.int64)
        span = last - first + 1
        per_tri = span.prod(axis=1)
        if per_tri.sum() <= max_candidates:
            break
        cell *= 2
    tri_ids = np.repeat(np.arange(len(faces)), per_tri)
    local = np.arange(len(tri_ids)) - np.repeat(np.cumsum(per_tri) - per_tri, per_tri)
    sy, sz = span[tri_ids, 1], span[tri_ids, 2]
    cx = first[tri_ids, 0] + local // (sy * sz)
    cy = first[tri_ids, 1] + (local // sz) % sy
    cz = first[tri_ids, 2] + local % sz
    dims = last.max(axis=0) + 1
    key = (cx * dims[1] + cy) * dims[2] + cz
    order = np.argsort(key, kind="stable")
    key, tri_ids = key[order], tri_ids[order]
    # every pair of triangles that share a cell
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    group_end = np.repeat(ends, ends - starts)
    partners = group_end - np.arange(len(key)) - 1
    if partners.sum() == 0:
        return 0
    a_pos = np.repeat(np.arange(len(key)), partners)
    b_pos = a_pos + 1 + (np.arange(len(a_pos)) - np.repeat(np.cumsum(partners) - partners, partners))
    a, b = tri_ids[a_pos], tri_ids[b_pos]
    # cheap filters first (boxes overlap, no shared vertex), so the de-duplication sees few pairs
    keep = (a != b) & np.all(lo[a] <= hi[b], axis=1) & np.all(lo[b] <= hi[a], axis=1)
    a, b = a[keep], b[keep]
    shared = (faces[a][:, :, None] == faces[b][:, None, :]).any(axis=(1, 2))
    a, b = a[~shared], b[~shared]
    pair = np.unique(np.minimum(a, b) * len(faces) + np.maximum(a, b))
    a, b = pair // len(faces), pair % len(faces)
    hits = 0
    for s in range(0, len(a), 500_000):
        ta, tb = tri[a[s:s + 500_000]], tri[b[s:s + 500_000]]
        crossing = _edges_cross(ta, tb) | _edges_cross(tb, ta)
        hits += int(crossing.sum())
    return hits


def _edges_cross(edges_of: np.ndarray, tri: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Does any edge of each triangle in ``edges_of`` pass through the matching triangle in ``tri``?"""
    v0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    out = np.zeros(len(tri), dtype=bool)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        origin, direction = edges_of[:, i], edges_of[:, j] - edges_of[:, i]
        p = np.cross(direction, e2)
        det = np.einsum("ij,ij->i", e1, p)
        ok = np.abs(det) > eps * np.linalg.norm(e1, axis=1) * np.linalg.norm(direction, axis=1) + 1e-300
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        t_vec = origin - v0
        u = np.einsum("ij,ij->i", t_vec, p) * inv
        q = np.cross(t_vec, e1)
        v = np.einsum("ij,ij->i", direction, q) * inv
        t = np.einsum("ij,ij->i", e2, q) * inv
        out |= ok & (u > 1e-7) & (v > 1e-7) & (u + v < 1 - 1e-7) & (t > 1e-7) & (t < 1 - 1e-7)
    return out


def check(mesh: trimesh.Trimesh, build_volume_mm: Optional[tuple[float, float, float]] = None,
          printer_name: str = "the printer") -> list[Finding]:
    """Every printability finding for ``mesh`` (mm, Z up, vertices merged)."""
    findings: list[Finding] = []
    counts = _edge_counts(mesh)
    boundary = int((counts == 1).sum())
    non_manifold = int((counts > 2).sum())
    if boundary:
        findings.append(Finding("open_mesh", "warning", f"the mesh is not watertight: {boundary} edges border a hole",
                                "fill the holes (--repair holes) or close them in the modelling tool", boundary))
    if non_manifold:
        findings.append(Finding("non_manifold_edges", "warning", f"{non_manifold} edges are shared by more than two faces",
                                "separate the touching parts, or merge them into one solid in the modelling tool",
                                non_manifold))
    if not mesh.is_winding_consistent:
        findings.append(Finding("inconsistent_winding", "warning", "neighbouring faces are wound in opposite directions",
                                "fix the normals (--repair normals)"))
    elif boundary == 0 and non_manifold == 0 and _signed_volume(mesh) < 0:
        findings.append(Finding("inverted_normals", "warning", "the faces point inwards (negative volume)",
                                "fix the normals (--repair normals)"))
    degenerate = int((mesh.area_faces < DEGENERATE_AREA_MM2).sum())
    if degenerate:
        findings.append(Finding("degenerate_faces", "info", f"{degenerate} faces have no area",
                                "remove them (--repair degenerate); slicers usually ignore them", degenerate))
    shells = int(trimesh.graph.connected_components(mesh.face_adjacency, nodes=np.arange(len(mesh.faces)),
                                                    min_len=1).__len__())
    if shells > 1:
        findings.append(Finding("multiple_shells", "info", f"the part is made of {shells} separate shells",
                                "fine if intended (several parts on one plate); otherwise join them", shells))
    crossings = self_intersections(mesh.vertices, mesh.faces) if len(mesh.faces) <= SELF_INTERSECTION_LIMIT else 0
    if len(mesh.faces) > SELF_INTERSECTION_LIMIT:
        findings.append(Finding("self_intersections_not_checked", "info",
                                f"self-intersections were not checked: the part has over {SELF_INTERSECTION_LIMIT:,} triangles",
                                "check it in the modelling tool if the slice looks wrong"))
    if crossings:
        findings.append(Finding("self_intersections", "warning", f"{crossings} pairs of faces cut through each other",
                                "union the intersecting parts in the modelling tool; slicers may fill or drop the overlap",
                                crossings))
    size = mesh.extents
    height = float(size[2])
    if height < MIN_PLAUSIBLE_MM or size.max() > MAX_PLAUSIBLE_MM:
        factor = "1000 (metres read as millimetres?)" if height < MIN_PLAUSIBLE_MM else "0.001 (millimetres read as metres?)"
        findings.append(Finding("implausible_units", "warning",
                                f"the part is {height:.4g} mm tall, which is almost certainly the wrong unit",
                                f"scale by {factor}, or import with --units"))
    if build_volume_mm is not None and np.any(size > np.asarray(build_volume_mm) + 1e-6):
        dims = " x ".join(f"{v:.1f}" for v in size)
        vol = " x ".join(f"{v:.0f}" for v in build_volume_mm)
        scale = float(np.min(np.asarray(build_volume_mm) / size)) * 0.95
        findings.append(Finding("exceeds_build_volume", "error",
                                f"the part is {dims} mm but {printer_name} builds at most {vol} mm",
                                f"scale to fit (--scale-to-fit, x{scale:.3g}), orient it differently, or split it"))
    return findings

"""Will this mesh print? Findings with a suggested fix for each, before any slicing.

Works on the part as the printer sees it: millimetres, Z up, one merged mesh.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from .mesh_figures import Part

# A part smaller than this (its longest side) or more than this many times the bed is asked
# about: it was most likely modelled in another unit (cm, inches, metres read as mm; or um).
MIN_PLAUSIBLE_MM = 10.0
MAX_BED_FACTOR = 10.0
# the units a file may really have been in, as the scale that turns its numbers into mm
LIKELY_UNITS = (("centimetres", 10.0), ("inches", 25.4), ("metres", 1000.0),
                ("tenths of a millimetre", 0.1), ("micrometres", 0.001))
# The exact self-intersection test costs ~10 s per million triangles here; above this it is skipped, and said so.
SELF_INTERSECTION_LIMIT = 500_000


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error" refuses to slice; "warning" slices but tells; "info" is a fact
    message: str
    suggestion: str        # what to do, in words a window can show (no command-line flags)
    count: int = 0
    cli: str = ""          # the same advice as ``dstudio slice`` options, for the command line
    scale: float = 0.0     # implausible_units: the scale the likely unit asks for

    def to_json(self) -> dict:
        return asdict(self)


def self_intersections(vertices: np.ndarray, faces: np.ndarray, max_candidates: int = 40_000_000) -> int:
    """How many pairs of non-adjacent triangles cross each other (coplanar overlaps are not counted).

    Triangles are binned by their boxes into a grid; a pair sharing a cell is a candidate, kept
    only in the one cell holding the corner where their boxes' overlap starts, so no pair is
    tested twice and no de-duplication (a sort of millions) is needed. The filters go axis by
    axis on one coordinate column at a time, each on the pairs the last one left."""
    faces = np.asarray(faces)
    tri = vertices[faces]
    lo, hi = tri.min(axis=1), tri.max(axis=1)
    origin = lo.min(0)
    extent = (hi - lo).max(axis=1)
    cell = max(float(np.median(extent)) * 2, float((hi.max(0) - origin).max()) / 4096, 1e-9)
    while True:
        first = np.floor((lo - origin) / cell).astype(np.int64)
        last = np.floor((hi - origin) / cell).astype(np.int64)
        span = last - first + 1
        per_tri = span.prod(axis=1)
        if per_tri.sum() <= max_candidates:
            break
        cell *= 2
    # int32 indices where they fit: the pair arrays are tens of millions long, and half the
    # bytes is half the time
    small = np.int32 if max(int(per_tri.sum()), len(faces)) < 2**31 else np.int64
    first, last, span, per_tri = (v.astype(small) for v in (first, last, span, per_tri))
    tri_ids = np.repeat(np.arange(len(faces), dtype=small), per_tri)
    local = np.arange(len(tri_ids), dtype=small) - np.repeat(np.cumsum(per_tri, dtype=small) - per_tri, per_tri)
    sy, sz = span[tri_ids, 1], span[tri_ids, 2]
    cells = (first[tri_ids, 0] + local // (sy * sz), first[tri_ids, 1] + (local // sz) % sy,
             first[tri_ids, 2] + local % sz)
    dims = last.max(axis=0).astype(np.int64) + 1
    key = (cells[0] * dims[1] + cells[1]) * dims[2] + cells[2]
    order = np.argsort(key, kind="stable")
    key, tri_ids = key[order], tri_ids[order]
    cells = tuple(c[order] for c in cells)
    # every pair of triangles that share a cell
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    partners = np.repeat(ends, ends - starts) - np.arange(len(key)) - 1
    if partners.sum() == 0:
        return 0
    pairs = int(partners.sum())
    wide = np.int32 if pairs < 2**31 else np.int64
    partners = partners.astype(wide)
    a_pos = np.repeat(np.arange(len(key), dtype=wide), partners)
    b_pos = np.arange(pairs, dtype=wide)
    b_pos -= np.repeat(np.cumsum(partners, dtype=wide) - partners, partners)
    b_pos += a_pos
    b_pos += 1
    a, b = tri_ids[a_pos], tri_ids[b_pos]
    del b_pos
    for axis in range(3):
        lo_x, hi_x, first_x = (np.ascontiguousarray(v[:, axis]) for v in (lo, hi, first))
        keep = (lo_x[a] <= hi_x[b]) & (lo_x[b] <= hi_x[a])
        keep &= np.maximum(first_x[a], first_x[b]) == cells[axis][a_pos]
        a, b, a_pos = a[keep], b[keep], a_pos[keep]
    # neighbours (a shared corner) touch without crossing
    corners_a = [np.ascontiguousarray(faces[:, i])[a] for i in range(3)]
    apart = np.ones(len(a), dtype=bool)
    for i in range(3):
        corner_b = np.ascontiguousarray(faces[:, i])[b]
        for corner_a in corners_a:
            apart &= corner_a != corner_b
    a, b = a[apart], b[apart]
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


def check(mesh, build_volume_mm: Optional[tuple[float, float, float]] = None,
          printer_name: str = "the printer") -> list[Finding]:
    """Every printability finding for ``mesh`` (a ``Part`` or a trimesh; mm, Z up, vertices merged)."""
    part = Part.of(mesh)
    findings: list[Finding] = []
    edges = part.edges
    boundary, non_manifold = edges.boundary, edges.non_manifold
    if boundary:
        findings.append(Finding("open_mesh", "warning", f"the mesh is not watertight: {boundary} edges border a hole",
                                "fill the holes (the holes repair) or close them in the modelling tool", boundary,
                                "--repair holes"))
    if non_manifold:
        findings.append(Finding("non_manifold_edges", "warning", f"{non_manifold} edges are shared by more than two faces",
                                "separate the touching parts, or merge them into one solid in the modelling tool",
                                non_manifold))
    if not edges.winding_consistent:
        findings.append(Finding("inconsistent_winding", "warning", "neighbouring faces are wound in opposite directions",
                                "fix the normals (the normals repair)", cli="--repair normals"))
    elif boundary == 0 and non_manifold == 0 and part.face.signed_volume < 0:
        findings.append(Finding("inverted_normals", "warning", "the faces point inwards (negative volume)",
                                "fix the normals (the normals repair)", cli="--repair normals"))
    degenerate = part.face.degenerate
    if degenerate:
        findings.append(Finding("degenerate_faces", "info", f"{degenerate} faces have no area",
                                "remove them (the degenerate repair); slicers usually ignore them", degenerate,
                                "--repair degenerate"))
    shells = edges.shells
    if shells > 1:
        findings.append(Finding("multiple_shells", "info", f"the part is made of {shells} separate shells",
                                "fine if intended (several parts on one plate); otherwise join them", shells))
    faces = part.faces
    crossings = self_intersections(part.vertices, faces) if len(faces) <= SELF_INTERSECTION_LIMIT else 0
    if len(faces) > SELF_INTERSECTION_LIMIT:
        findings.append(Finding("self_intersections_not_checked", "info",
                                f"self-intersections were not checked: the part has over {SELF_INTERSECTION_LIMIT:,} triangles",
                                "check it in the modelling tool if the slice looks wrong"))
    if crossings:
        findings.append(Finding("self_intersections", "warning", f"{crossings} pairs of faces cut through each other",
                                "union the intersecting parts in the modelling tool; slicers may fill or drop the overlap",
                                crossings))
    size = part.extents
    units = implausible_units(size, build_volume_mm)
    if units is not None:
        findings.append(units)
    if build_volume_mm is not None:
        too_big = fits_printer(size, build_volume_mm, printer_name)
        if too_big is not None:
            findings.append(too_big)
    return findings


def implausible_units(size: np.ndarray, build_volume_mm: Optional[tuple[float, float, float]]) -> Optional[Finding]:
    """A question when the part is tiny or huge for a printer: the unit it was most likely made in
    (the first of ``LIKELY_UNITS`` whose scale makes it a plausible size)."""
    bed = np.asarray(build_volume_mm if build_volume_mm is not None else (200.0, 200.0, 200.0))
    longest = float(size.max())
    if longest <= 0 or MIN_PLAUSIBLE_MM <= longest <= MAX_BED_FACTOR * float(bed.max()):
        return None
    small = longest < MIN_PLAUSIBLE_MM
    # a tiny part's likely unit makes it fit the bed; a huge one's makes it a plausible size
    # (fitting it is then the scale-to-fit's business)
    fits = [(name, factor) for name, factor in LIKELY_UNITS
            if (factor > 1) == small and longest * factor >= MIN_PLAUSIBLE_MM
            and (np.all(size * factor <= bed) if small else longest * factor <= MAX_BED_FACTOR * float(bed.max()))]
    dims = " x ".join(f"{v:.3g}" for v in size)
    what = "small" if small else "large"
    if not fits:
        return Finding("implausible_units", "warning", f"the part is {dims} mm, implausibly {what} for a print",
                       "check the unit it was modelled in", cli="--scale or --units")
    name, factor = fits[0]
    return Finding("implausible_units", "warning",
                   f"the part is {dims} mm, implausibly {what}: was it modelled in {name}?",
                   f"scale it by {factor:g} (from {name} to millimetres), or keep it as it is",
                   cli=f"--scale {factor:g}", scale=factor)



def fits_printer(size: np.ndarray, build_volume_mm: tuple[float, float, float],
                 printer_name: str = "the printer") -> Optional[Finding]:
    """The refusal for a part larger than the printer builds, or None when it fits."""
    if not np.any(size > np.asarray(build_volume_mm) + 1e-6):
        return None
    dims = " x ".join(f"{v:.1f}" for v in size)
    vol = " x ".join(f"{v:.0f}" for v in build_volume_mm)
    scale = float(np.min(np.asarray(build_volume_mm) / size)) * 0.95
    return Finding("exceeds_build_volume", "error", f"the part is {dims} mm but {printer_name} builds at most {vol} mm",
                   f"scale it down to fit (x{scale:.3g}), orient it differently, or split it", cli="--scale-to-fit")

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


# A box's side, per axis, as its place among this many steps of the cell it is listed in: 0 when
# it starts in an earlier cell, LEVELS - 1 when it ends in a later one. Nine bits and a guard
# bit per axis pack a whole box end into 30 bits, so one subtraction compares three axes.
LEVELS = 512
_FIELD = 10
_GUARD = np.uint32(sum(1 << (_FIELD * k + _FIELD - 1) for k in range(3)))
_ONES = np.uint32(sum(1 << (_FIELD * k) for k in range(3)))


def self_intersections(vertices: np.ndarray, faces: np.ndarray, max_candidates: int = 40_000_000) -> int:
    """How many pairs of non-adjacent triangles cross each other (coplanar overlaps are not counted).

    Triangles are binned by their boxes into a grid; a pair sharing a cell is a candidate, kept
    only in the one cell holding the corner where their boxes' overlap starts, so no pair is
    tested twice and no de-duplication (a sort of millions) is needed. The boxes are compared
    as packed places within their cell (rounded outwards, so the test only ever keeps too
    many), every candidate pair in a few passes over 32-bit words."""
    faces = np.asarray(faces)
    corner = [np.ascontiguousarray(faces[:, i], dtype=np.int64) for i in range(3)]
    lo, hi = [], []
    for axis in range(3):
        # float32 (as an STL stores them): rounding keeps order, so boxes that overlap still do
        column = np.ascontiguousarray(vertices[:, axis], dtype=np.float32)
        c0, c1, c2 = column[corner[0]], column[corner[1]], column[corner[2]]
        lo.append(np.minimum(np.minimum(c0, c1), c2))
        hi.append(np.maximum(np.maximum(c0, c1), c2))
    origin = [float(v.min()) for v in lo]
    extent = np.maximum(np.maximum(hi[0] - lo[0], hi[1] - lo[1]), hi[2] - lo[2])
    size = max(float(h.max()) - o for h, o in zip(hi, origin, strict=True))
    cell = max(float(np.median(extent)) * 2, size / 4096, 1e-9)
    while True:
        first = [np.floor((v - o) / cell).astype(np.int64) for v, o in zip(lo, origin, strict=True)]
        last = [np.floor((v - o) / cell).astype(np.int64) for v, o in zip(hi, origin, strict=True)]
        span = [b - a + 1 for a, b in zip(first, last, strict=True)]
        per_tri = span[0] * span[1] * span[2]
        if per_tri.sum() <= max_candidates:
            break
        cell *= 2
    # one entry per triangle and cell it reaches, sorted by cell
    tri_ids = np.repeat(np.arange(len(faces)), per_tri)
    local = np.arange(len(tri_ids)) - np.repeat(np.cumsum(per_tri) - per_tri, per_tri)
    sy, sz = span[1][tri_ids], span[2][tri_ids]
    cells = [first[0][tri_ids] + local // (sy * sz), first[1][tri_ids] + (local // sz) % sy,
             first[2][tri_ids] + local % sz]
    del local, sy, sz
    dims = [int(v.max()) + 1 for v in last]
    key = (cells[0] * dims[1] + cells[1]) * dims[2] + cells[2]
    order = np.argsort(key, kind="stable")
    key, tri_ids = key[order], tri_ids[order]
    low, high = _packed_places(lo, hi, first, last, [c[order] for c in cells], tri_ids, origin, cell)
    del cells, order
    # every pair of entries in one cell (positions in the sorted entries)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    partners = np.repeat(ends, ends - starts) - np.arange(len(key)) - 1
    pairs = int(partners.sum())
    if pairs == 0:
        return 0
    # int64 positions: numpy gathers with them twice as fast as with int32, which it converts
    a = np.repeat(np.arange(len(key)), partners)
    b = np.arange(pairs)
    b -= np.repeat(np.cumsum(partners) - partners, partners)
    b += a
    b += 1
    low_a, low_b = low[a], low[b]
    # On every axis, a starts before b ends and b before a ends (a field's guard bit survives
    # the subtraction exactly when what is taken from it is not larger), and one of the two
    # starts in this cell (the one cell the pair is counted in).
    meet = (high[b] | _GUARD) - low_a
    meet &= (high[a] | _GUARD) - low_b
    meet &= (low_a | low_b | _GUARD) - _ONES
    keep = (meet & _GUARD) == _GUARD
    del low_a, low_b, meet
    a, b = tri_ids[a[keep]], tri_ids[b[keep]]
    # neighbours (a shared corner) touch without crossing
    corners_a = [c[a] for c in corner]
    apart = np.ones(len(a), dtype=bool)
    for c in corner:
        corner_b = c[b]
        for corner_a in corners_a:
            apart &= corner_a != corner_b
    a, b = a[apart], b[apart]
    columns = [np.ascontiguousarray(vertices[:, k], dtype=np.float64) for k in range(3)]
    hits = 0
    for s in range(0, len(a), 500_000):
        ta = [[columns[k][c[a[s:s + 500_000]]] for k in range(3)] for c in corner]
        tb = [[columns[k][c[b[s:s + 500_000]]] for k in range(3)] for c in corner]
        hits += int(np.count_nonzero(_edges_cross(ta, tb) | _edges_cross(tb, ta)))
    return hits


def _packed_places(lo, hi, first, last, cells, tri_ids, origin, cell):
    """Each entry's box as (starts, ends): per axis, the place in the entry's cell, packed."""
    low = np.zeros(len(tri_ids), dtype=np.uint32)
    high = np.zeros(len(tri_ids), dtype=np.uint32)
    steps = (LEVELS - 3) / cell
    for axis in range(3):
        at = cells[axis]
        start = origin[axis] + at * cell
        low_place = np.clip(np.floor((lo[axis][tri_ids] - start) * steps) + 1, 1, LEVELS - 2)
        high_place = np.clip(np.ceil((hi[axis][tri_ids] - start) * steps) + 1, 1, LEVELS - 2)
        low_place[first[axis][tri_ids] < at] = 0
        high_place[last[axis][tri_ids] > at] = LEVELS - 1
        low |= low_place.astype(np.uint32) << np.uint32(_FIELD * axis)
        high |= high_place.astype(np.uint32) << np.uint32(_FIELD * axis)
    return low, high


def triangle_columns(triangles: np.ndarray) -> list[list[np.ndarray]]:
    """``(n, 3, 3)`` triangles as ``[corner][axis]`` columns, the form ``_edges_cross`` takes."""
    return [[np.ascontiguousarray(triangles[:, i, k], dtype=np.float64) for k in range(3)] for i in range(3)]


def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _edges_cross(edges_of: list, tri: list, eps: float = 1e-9) -> np.ndarray:
    """Does any edge of each triangle in ``edges_of`` pass through the matching triangle in
    ``tri``? Both as ``[corner][axis]`` columns (a column is three multiply-adds away from a
    dot product, where ``np.cross`` on rows of three is several times slower)."""
    v0 = tri[0]
    e1 = [tri[1][k] - v0[k] for k in range(3)]
    e2 = [tri[2][k] - v0[k] for k in range(3)]
    e1_length = np.sqrt(_dot(e1, e1))
    out = np.zeros(len(v0[0]), dtype=bool)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        origin = edges_of[i]
        direction = [edges_of[j][k] - origin[k] for k in range(3)]
        p = _cross(direction, e2)
        det = _dot(e1, p)
        ok = np.abs(det) > eps * e1_length * np.sqrt(_dot(direction, direction)) + 1e-300
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        t_vec = [origin[k] - v0[k] for k in range(3)]
        u = _dot(t_vec, p) * inv
        q = _cross(t_vec, e1)
        v = _dot(direction, q) * inv
        t = _dot(e2, q) * inv
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

"""A plate: several parts on one bed, sliced together into one G-code.

Parts either keep where the user placed them (their positions relative to each other; the
group is centred on the bed and each part stands on it), or are arranged: packed in rows
with a gap between their footprints, the rows centred on the bed. The placed parts go to the
slicer as one mesh, so CuraEngine and PrusaSlicer see the same plate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from ..errors import DStudioError

GAP_MM = 6.0   # between arranged parts: room for the skirt line and the nozzle to pass


@dataclass
class PlatePart:
    name: str
    mesh: trimesh.Trimesh    # in the printer's frame, mm, Z up; placed on the bed once ``placed``


def _shelves(sizes: np.ndarray, width: float) -> tuple[list[tuple[float, float]], float, float]:
    """Footprint corners for each size (widest first into rows across ``width``), with the
    packing's total width and depth."""
    order = np.argsort(-sizes[:, 1], kind="stable")
    corners: list[tuple[float, float]] = [(0.0, 0.0)] * len(sizes)
    x = y = row_depth = used_width = 0.0
    for k in order:
        w, d = sizes[k]
        if x > 0 and x + w > width:
            x, y = 0.0, y + row_depth + GAP_MM
            row_depth = 0.0
        corners[k] = (x, y)
        used_width = max(used_width, x + w)
        x += w + GAP_MM
        row_depth = max(row_depth, d)
    return corners, used_width, y + row_depth


def arrange(parts: list[PlatePart], bed: tuple[float, float, float]) -> list[PlatePart]:
    """Each part stood on the bed and packed beside the others without overlapping."""
    sizes = np.array([p.mesh.extents[:2] for p in parts])
    corners, total_w, total_d = _shelves(sizes, bed[0])
    if total_w > bed[0] + 1e-6 or total_d > bed[1] + 1e-6:
        raise DStudioError(f"the {len(parts)} parts do not fit side by side on the {bed[0]:g} x {bed[1]:g} mm bed "
                           f"(they need {total_w:.0f} x {total_d:.0f} mm); slice them on separate plates")
    origin = np.array([(bed[0] - total_w) / 2, (bed[1] - total_d) / 2])
    out = []
    for part, (cx, cy) in zip(parts, corners, strict=True):
        lo = part.mesh.bounds[0]
        shift = np.array([origin[0] + cx - lo[0], origin[1] + cy - lo[1], -lo[2]])
        out.append(PlatePart(part.name, part.mesh.copy().apply_translation(shift)))
    return out


def keep_placed(parts: list[PlatePart], bed: tuple[float, float, float]) -> list[PlatePart]:
    """The parts where the user put them relative to each other, the group centred on the bed;
    the group as a whole is dropped onto the bed (a part resting on another stays there)."""
    lo = np.min([p.mesh.bounds[0] for p in parts], axis=0)
    hi = np.max([p.mesh.bounds[1] for p in parts], axis=0)
    shift = np.array([bed[0] / 2 - (lo[0] + hi[0]) / 2, bed[1] / 2 - (lo[1] + hi[1]) / 2, -lo[2]])
    return [PlatePart(p.name, p.mesh.copy().apply_translation(shift)) for p in parts]


def overlapping(parts: list[PlatePart]) -> list[tuple[str, str]]:
    """Pairs of parts whose footprints overlap (fine for parts meant to touch, told otherwise)."""
    pairs = []
    for i, a in enumerate(parts):
        for b in parts[i + 1:]:
            if np.all(a.mesh.bounds[0][:2] < b.mesh.bounds[1][:2]) and np.all(b.mesh.bounds[0][:2] < a.mesh.bounds[1][:2]):
                pairs.append((a.name, b.name))
    return pairs


def plate_mesh(parts: list[PlatePart]) -> trimesh.Trimesh:
    meshes = [p.mesh for p in parts]
    return trimesh.util.concatenate(meshes) if len(meshes) > 1 else meshes[0]

"""Clean-up of a fused surface: floaters (small separate pieces) removed, the result
decimated to a face budget, and a colour per vertex from the photos that see it."""

from __future__ import annotations

import numpy as np

from .dense import View

FLOATER_SHARE = 0.02   # pieces with fewer faces than this share of the largest piece are noise


def remove_floaters(mesh):
    """(the mesh without its small pieces, how many pieces were dropped)."""
    import trimesh

    pieces = mesh.split(only_watertight=False)
    if len(pieces) <= 1:
        return mesh, 0
    largest = max(len(p.faces) for p in pieces)
    kept = [p for p in pieces if len(p.faces) >= FLOATER_SHARE * largest]
    return trimesh.util.concatenate(kept), len(pieces) - len(kept)


def decimate(mesh, faces: int):
    if len(mesh.faces) <= faces:
        return mesh
    return mesh.simplify_quadric_decimation(face_count=faces)


def vertex_colours(mesh, views: list[View], depths: list[np.ndarray]) -> np.ndarray:
    """sRGB colours (Nx3 in 0..1) averaged over the views that see each vertex, weighted by
    how squarely they see it; vertices no view sees take their nearest seen neighbour's."""
    from scipy.spatial import cKDTree

    points = np.asarray(mesh.vertices)
    normals = np.asarray(mesh.vertex_normals)
    total = np.zeros((len(points), 3))
    weight = np.zeros(len(points))
    for view, depth in zip(views, depths, strict=True):
        cam = points @ view.R.T + view.t
        z = cam[:, 2]
        uv = cam @ view.K.T
        with np.errstate(divide="ignore", invalid="ignore"):
            x, y = uv[:, 0] / uv[:, 2], uv[:, 1] / uv[:, 2]
        h, w = depth.shape
        ok = (z > 0) & (x >= 0) & (x < w - 1) & (y >= 0) & (y < h - 1)
        xi, yi = x[ok].astype(int), y[ok].astype(int)
        seen = depth[yi, xi]
        towards = view.centre - points[ok]
        facing = (normals[ok] * towards).sum(1) / np.maximum(np.linalg.norm(towards, axis=1), 1e-12)
        visible = (seen > 0) & (np.abs(seen - z[ok]) < 0.02 * z[ok]) & (facing > 0.1)
        idx = np.flatnonzero(ok)[visible]
        wgt = facing[visible]
        total[idx] += view.image[yi[visible], xi[visible]] * wgt[:, None]
        weight[idx] += wgt
    seen = weight > 0
    colours = np.full((len(points), 3), 0.7)
    colours[seen] = total[seen] / weight[seen, None]
    if seen.any() and not seen.all():
        _, nearest = cKDTree(points[seen]).query(points[~seen])
        colours[~seen] = colours[seen][nearest]
    return colours

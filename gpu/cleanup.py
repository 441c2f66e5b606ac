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


def stand_on_ground(mesh, cut: float, tolerance: float):
    """The fused volume was cut just above the ground (at height ``cut``, so the floor stays out
    of the object) and closed by a flat cap there: move that cap down to y = 0, so the object
    stands on the ground as it did in the photos instead of floating a sliver above it. The
    band below ``cut + tolerance`` is stretched down, not flattened: wall vertices in it keep
    their order, so no face folds onto the cap and a closed mesh stays closed."""
    vertices = np.array(mesh.vertices)
    top = cut + tolerance
    band = vertices[:, 1] <= top
    if band.any():
        low = vertices[band, 1].min()
        if top - low > 1e-12:
            vertices[band, 1] = (vertices[band, 1] - low) * (top / (top - low))
        else:
            vertices[band, 1] = 0.0
        mesh.vertices = vertices
    return mesh


def decimate(mesh, faces: int):
    """``mesh`` with about ``faces`` faces. Quadric decimation can pinch a closed surface into
    edges shared by four faces (seen on the synthetic and path-traced scenes at 40k faces): a closed
    mesh is then decimated less, twice the faces each time, and kept as it was at worst, so
    the result stays printable as it comes."""
    closed = mesh.is_watertight
    while len(mesh.faces) > faces:
        fewer = mesh.simplify_quadric_decimation(face_count=faces)
        if not closed or fewer.is_watertight:
            return fewer
        faces *= 2
    return mesh


def _visible_depth(points: np.ndarray, view: View, shrink: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project ``points`` into ``view``: (pixel coordinates, depth, whether each is the nearest
    surface there). Visibility comes from a z-buffer of the points themselves on a grid
    ``shrink`` times coarser than the view's image; cells no point landed in take their
    neighbours' minimum, so gaps between projected points do not let hidden ones through."""
    from scipy.ndimage import minimum_filter

    xy, z = view.project(points)
    h, w = view.image.shape[:2]
    inside = (z > 0) & (xy[:, 0] >= 0) & (xy[:, 0] < w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] < h - 1)
    gh, gw = h // shrink + 1, w // shrink + 1
    cell = np.zeros(len(points), int)
    cell[inside] = (xy[inside, 1] // shrink).astype(int) * gw + (xy[inside, 0] // shrink).astype(int)
    zbuf = np.full(gh * gw, np.inf)
    np.minimum.at(zbuf, cell[inside], z[inside])
    zbuf = zbuf.reshape(gh, gw)
    zbuf = np.where(np.isinf(zbuf), minimum_filter(zbuf, size=3), zbuf).ravel()
    visible = inside & (z <= zbuf[cell] * 1.02)
    return xy, z, visible


def _sample(image: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` (HxWx3) at pixel coordinates ``xy`` (corner origin)."""
    x = np.clip(xy[:, 0] - 0.5, 0, image.shape[1] - 1.001)
    y = np.clip(xy[:, 1] - 0.5, 0, image.shape[0] - 1.001)
    x0, y0 = x.astype(int), y.astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def vertex_colours(mesh, views: list[View]) -> np.ndarray:
    """sRGB colours (Nx3 in 0..1) averaged over the views that see each vertex, weighted by how
    squarely they see it, from the full-resolution photos; vertices no view sees take their
    nearest seen neighbour's."""
    from PIL import Image
    from scipy.spatial import cKDTree

    points = np.asarray(mesh.vertices)
    normals = np.asarray(mesh.vertex_normals)
    total = np.zeros((len(points), 3))
    weight = np.zeros(len(points))
    for view in views:
        xy, _, visible = _visible_depth(points, view)
        towards = view.centre - points[visible]
        facing = (normals[visible] * towards).sum(1) / np.maximum(np.linalg.norm(towards, axis=1), 1e-12)
        keep = facing > 0.2
        idx = np.flatnonzero(visible)[keep]
        image, scale = view.image, 1.0
        if view.source is not None and view.source.exists():
            with Image.open(view.source) as im:
                image = np.asarray(im.convert("RGB"), np.float32) / 255
            scale = view.scale_to(image.shape[:2])
        wgt = facing[keep] ** 2
        total[idx] += _sample(image, xy[idx] * scale) * wgt[:, None]
        weight[idx] += wgt
    seen = weight > 0
    colours = np.full((len(points), 3), 0.7)
    colours[seen] = total[seen] / weight[seen, None]
    if seen.any() and not seen.all():
        _, nearest = cKDTree(points[seen]).query(points[~seen])
        colours[~seen] = colours[seen][nearest]
    return colours

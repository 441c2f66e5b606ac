"""A base-colour texture for a reconstructed mesh, baked from the registered photos.

    UV atlas (xatlas) -> texels rasterised onto the surface -> one photo chosen per face
    -> seam levelling -> texels sampled from the chosen photos -> chart edges dilated

View selection follows the design of Waechter et al.'s texturing (the one COLMAP's users
reach for): each face takes the photo that sees it largest on screen (so frontally and from
near) and sharpest, among those where a depth test says it is not hidden; neighbouring
faces are nudged towards one label so charts of one photo are large and seams few. Seams
left between photos of different exposure or shading are levelled by adding to each photo
a smooth correction that brings it, at every vertex, to the all-view average there: both
sides of a seam then meet the same colour. Each texel then averages (levelled) every photo
that sees its face (BLEND_SHARE 0: none left out for scoring low), weighted by the square
root of the photo's score: a single photo's own noise (a phone's, or a path tracer's) and its
highlights are otherwise copied into the texture. On the path-traced set one photo per face
gave a held-out error of 0.0470 and the photos scoring at least half the best, weighted by
score, 0.0456; on a later mesh of the same set those gave 0.04421 and all the photos so
weighted 0.04400 (the best 8, 5 or 3 photos of each face: 0.04382, 0.04395, 0.04419 after the
JPEG change below).

The texture is stored as JPEG at quality 98 without chroma subsampling: an atlas packs
unrelated charts side by side, and 4:2:0's half-resolution colour bleeds across their edges
(held-out error 0.04400 at quality 92 with 4:2:0, 0.04381 with 4:4:4, 0.04370 at 98 with
4:4:4, whose file is about 1.1 MB for 1024 x 1024 texels)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .cleanup import _sample
from .dense import View

SEAM_SMOOTHING_ROUNDS = 6    # label smoothing passes; each lets a face follow its neighbours' photo
BLEND = True                 # texels from every photo that sees the face at least BLEND_SHARE as well as its best
BLEND_SHARE = 0.0
BLEND_POWER = 0.5            # a photo's weight in a texel: its score to this power
JPEG_QUALITY = 98
NEAR_BEST = 0.6              # a face may take a neighbour's photo if it scores at least this share of its best


@dataclass
class Baked:
    vertex_map: np.ndarray   # (N',) the mesh vertex each atlas vertex copies
    faces: np.ndarray        # (M, 3) into the atlas vertices, in the mesh's face order
    uvs: np.ndarray          # (N', 2) glTF TEXCOORD_0: (0, 0) is the image's top-left corner
    image: np.ndarray        # (size, size, 3) uint8, sRGB
    labels: np.ndarray       # (M,) the view each face was textured from; -1 for none

    def jpeg(self, quality: int = JPEG_QUALITY) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(self.image).save(buf, format="JPEG", quality=quality, subsampling=0)   # 4:4:4
        return buf.getvalue()


ATLAS_PIECE_FACES = 500   # faces per piece the surface is cut into before it is unwrapped (see atlas)


def atlas(vertices: np.ndarray, faces: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertex map, faces in ``faces``' order, uvs in 0..1) of a UV atlas of ``size`` texels
    on the side.

    xatlas's chart building grows faster than the face count (a 106k-face scan: 22 s whole,
    8.9 s for half of it), while a scan's charts are small anyway (~17 faces each). So the
    surface is first cut into compact pieces of at most ATLAS_PIECE_FACES faces (halving
    along the longest side of their centres), each unwrapped as a mesh of its own and all
    packed into one atlas: 2.3-2.8 s for the same scan, with 14% more charts."""
    import xatlas

    centres = vertices[faces].mean(1)
    packer = xatlas.Atlas()
    pieces = _pieces(centres, np.arange(len(faces)), ATLAS_PIECE_FACES)
    piece_vertices = []
    for piece in pieces:
        used, local = np.unique(faces[piece], return_inverse=True)
        piece_vertices.append(used)
        packer.add_mesh(np.ascontiguousarray(vertices[used], np.float32),
                        np.ascontiguousarray(local.reshape(-1, 3), np.uint32))
    pack = xatlas.PackOptions()
    pack.resolution = size
    pack.padding = 2          # texels between charts: room for the bilinear filter and the dilation
    pack.bilinear = True
    charts = xatlas.ChartOptions()
    charts.max_iterations = 1   # the default 4 refines chart shapes for 3x the time; a scan's charts need not be pretty
    packer.generate(charts, pack)
    vertex_map, uvs = [], []
    out_faces = np.empty((len(faces), 3), np.int64)
    count = 0
    for i, (piece, used) in enumerate(zip(pieces, piece_vertices, strict=True)):
        vmap, piece_faces, piece_uvs = packer[i]
        vertex_map.append(used[vmap])
        uvs.append(piece_uvs)
        out_faces[piece] = piece_faces.astype(np.int64) + count
        count += len(vmap)
    return (np.concatenate(vertex_map).astype(np.int64), out_faces,
            np.concatenate(uvs).astype(np.float64))


def _pieces(centres: np.ndarray, index: np.ndarray, most: int) -> list[np.ndarray]:
    """``index`` (faces by their ``centres``) cut in halves along the longest side until each
    piece has at most ``most``."""
    if len(index) <= most:
        return [index]
    c = centres[index]
    half = len(index) // 2
    order = np.argpartition(c[:, np.argmax(np.ptp(c, 0))], half)
    return _pieces(centres, index[order[:half]], most) + _pieces(centres, index[order[half:]], most)


def rasterise(uv_faces: np.ndarray, size: int, chunk: int = 60_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The texels whose centres fall in each UV triangle (``uv_faces`` (M, 3, 2) in 0..1):
    (flat texel index, face, barycentric weights (K, 3))."""
    tri = uv_faces * size
    found_texels, found_faces, found_bary = [], [], []
    for start in range(0, len(tri), chunk):
        t = tri[start:start + chunk]
        lo = np.clip(np.floor(t.min(1) - 0.5), 0, size - 1).astype(np.int64)
        hi = np.clip(np.ceil(t.max(1) - 0.5), 0, size - 1).astype(np.int64)
        wide = hi - lo + 1
        counts = wide[:, 0] * wide[:, 1]
        face = np.repeat(np.arange(len(t)), counts)
        step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        x = lo[face, 0] + step % wide[face, 0]
        y = lo[face, 1] + step // wide[face, 0]
        a, b, c = t[face, 0], t[face, 1], t[face, 2]
        p = np.stack([x + 0.5, y + 0.5], 1)
        v0, v1, v2 = b - a, c - a, p - a
        d00, d01, d11 = (v0 * v0).sum(1), (v0 * v1).sum(1), (v1 * v1).sum(1)
        d20, d21 = (v2 * v0).sum(1), (v2 * v1).sum(1)
        denom = d00 * d11 - d01 * d01
        with np.errstate(divide="ignore", invalid="ignore"):
            w1 = (d11 * d20 - d01 * d21) / denom
            w2 = (d00 * d21 - d01 * d20) / denom
        w0 = 1 - w1 - w2
        inside = (w0 >= -1e-3) & (w1 >= -1e-3) & (w2 >= -1e-3) & np.isfinite(w1)
        found_texels.append(y[inside] * size + x[inside])
        found_faces.append(face[inside] + start)
        found_bary.append(np.clip(np.stack([w0, w1, w2], 1)[inside], 0, 1))
    texels, faces, bary = (np.concatenate(a) for a in (found_texels, found_faces, found_bary))
    bary /= bary.sum(1, keepdims=True)
    return texels, faces, bary


def zbuffer(points: np.ndarray, view: View, shape: tuple[int, int], shrink: int = 2) -> Callable:
    """A depth test for ``view`` from a z-buffer of dense surface ``points`` splatted on a grid
    ``shrink`` times coarser than ``shape`` (the photo's height and width); empty cells take
    their neighbours' nearest depth, so gaps between splats do not let hidden points through.
    Returns visible(xy, z) for pixel coordinates of that photo."""
    from scipy.ndimage import minimum_filter

    h, w = shape
    xy, z = _project(view, points, shape)
    gh, gw = h // shrink + 1, w // shrink + 1
    inside = (z > 0) & (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    cells = (xy[inside, 1] // shrink).astype(np.int64) * gw + (xy[inside, 0] // shrink).astype(np.int64)
    buf = np.full(gh * gw, np.inf)
    np.minimum.at(buf, cells, z[inside])
    buf = buf.reshape(gh, gw)
    buf = np.where(np.isinf(buf), minimum_filter(buf, size=3), buf)

    def visible(pxy: np.ndarray, pz: np.ndarray, tolerance: float = 0.01) -> np.ndarray:
        ok = (pz > 0) & (pxy[:, 0] >= 0) & (pxy[:, 0] < w - 1) & (pxy[:, 1] >= 0) & (pxy[:, 1] < h - 1)
        out = np.zeros(len(pz), bool)
        cx = (pxy[ok, 0] // shrink).astype(np.int64)
        cy = (pxy[ok, 1] // shrink).astype(np.int64)
        out[ok] = pz[ok] <= buf[cy, cx] * (1 + tolerance)
        return out

    return visible


def _project(view: View, points: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates in the photo of ``shape`` (the view's K is for its working image)."""
    xy, z = view.project(points)
    return xy * view.scale_to(shape), z


def _photo(view: View) -> np.ndarray:
    from PIL import Image

    if view.source is not None and view.source.exists():
        with Image.open(view.source) as im:
            return np.asarray(im.convert("RGB"), np.float32) / 255
    return view.image


def _sharpness(photo: np.ndarray) -> float:
    """The variance of the Laplacian of the photo's grey: larger for sharper photos."""
    from scipy.ndimage import laplace

    return float(laplace(photo.mean(2)).var())


def bake(mesh, views: list[View], size: int = 1024, progress: Callable[[float, str], None] = lambda f, m: None,
         check: Optional[Callable[[], None]] = None) -> Baked:
    """A texture of ``size`` x ``size`` texels for ``mesh`` (a trimesh in the views' frame)."""
    from scipy.ndimage import distance_transform_edt, gaussian_filter

    check = check or (lambda: None)
    vertices = np.asarray(mesh.vertices, np.float64)
    faces = np.asarray(mesh.faces, np.int64)
    normals = np.asarray(mesh.face_normals, np.float64)
    progress(0.0, "unwrapping the surface into a UV atlas")
    vmap, atlas_faces, uvs = atlas(vertices, faces, size)
    check()
    progress(0.25, f"{len(faces)} faces in the atlas; choosing a photo per face")
    texels, texel_face, bary = rasterise(uvs[atlas_faces], size)
    corners = vertices[faces]                                     # (M, 3, 3)
    positions = np.einsum("kj,kjd->kd", bary, corners[texel_face])
    centroids = corners.mean(1)
    # the points each face is tested at: its centroid and corners pulled a little inwards
    probes = np.concatenate([centroids[:, None], 0.8 * corners + 0.2 * centroids[:, None]], 1)   # (M, 4, 3)

    photos, tests, scores = [], [], np.zeros((len(faces), len(views)))
    sharp = []
    for j, view in enumerate(views):
        check()
        photo = _photo(view)
        photos.append(photo)
        sharp.append(_sharpness(photo))
        test = zbuffer(positions[::2], view, photo.shape[:2])
        tests.append(test)
        xy, z = _project(view, probes.reshape(-1, 3), photo.shape[:2])
        seen = test(xy, z).reshape(-1, 4).sum(1) >= 3
        towards = view.centre - centroids
        facing = (normals * towards).sum(1) / np.maximum(np.linalg.norm(towards, axis=1), 1e-12)
        pxy = xy.reshape(-1, 4, 2)[:, 1:]
        area = 0.5 * np.abs((pxy[:, 1, 0] - pxy[:, 0, 0]) * (pxy[:, 2, 1] - pxy[:, 0, 1])
                            - (pxy[:, 2, 0] - pxy[:, 0, 0]) * (pxy[:, 1, 1] - pxy[:, 0, 1]))
        scores[:, j] = np.where(seen & (facing > 0.15), area * facing, 0.0)
        progress(0.25 + 0.35 * (j + 1) / len(views), f"scored the faces in {j + 1} of {len(views)} photos")
    scores *= (np.array(sharp) / max(sharp))[None] ** 0.5
    labels = _smooth_labels(mesh, scores)

    check()
    progress(0.65, "levelling the seams between photos")
    blurred = [gaussian_filter(p, sigma=(1.5, 1.5, 0)) for p in photos]
    consensus = _vertex_consensus(vertices, mesh.vertex_normals, views, blurred, tests)
    # each face's photos: its label, and with BLEND the others that see it nearly as well,
    # weighted by their scores (a photo's own noise averages out as a vertex colour's does,
    # while the detail stays at texel size)
    best = scores.max(1)
    weights = (np.where((scores >= BLEND_SHARE * best[:, None]) & (scores > 0), scores, 0.0) ** BLEND_POWER
               if BLEND else np.zeros_like(scores))
    has = labels >= 0
    weights[np.flatnonzero(has), labels[has]] = np.maximum(scores[np.flatnonzero(has), labels[has]], 1e-12) ** BLEND_POWER

    progress(0.8, "sampling the photos into the texture")
    total = np.zeros((len(texels), 3))
    weight = np.zeros(len(texels))
    for j, view in enumerate(views):
        check()
        used = np.flatnonzero(weights[:, j] > 0)
        if len(used) == 0:
            continue
        # the correction at each face corner that brings this photo to the consensus there
        xy, _ = _project(view, corners[used].reshape(-1, 3), photos[j].shape[:2])
        correction = np.zeros((len(faces), 3, 3))
        correction[used] = (consensus[faces[used].reshape(-1)] - _sample(blurred[j], xy)).reshape(-1, 3, 3)
        mine = np.flatnonzero(weights[texel_face, j] > 0)
        xy, z = _project(view, positions[mine], photos[j].shape[:2])
        shown = tests[j](xy, z, tolerance=0.02)
        mine, xy = mine[shown], xy[shown]
        shift = np.einsum("kj,kjc->kc", bary[mine], correction[texel_face[mine]])
        w = weights[texel_face[mine], j]
        total[mine] += (_sample(photos[j], xy) + shift) * w[:, None]
        weight[mine] += w
    image = np.zeros((size * size, 3))
    filled = np.zeros(size * size, bool)
    seen = weight > 0
    image[texels[seen]] = total[seen] / weight[seen, None]
    filled[texels[seen]] = True
    texel_label = np.where(seen, labels[texel_face], -1)
    # faces no photo sees, and texels hidden in their face's photo, take the consensus colour
    bare = np.flatnonzero(texel_label < 0)
    image[texels[bare]] = np.einsum("kj,kjc->kc", bary[bare], consensus[faces[texel_face[bare]]])
    filled[texels[bare]] = True
    image = image.reshape(size, size, 3)
    filled = filled.reshape(size, size)
    # past the charts' edges, the nearest texel inside: bilinear filtering and mip-maps
    # then never blend in black
    _, (iy, ix) = distance_transform_edt(~filled, return_indices=True)
    image = image[iy, ix]
    progress(1.0, "texture baked")
    return Baked(vmap, atlas_faces, uvs.astype(np.float32),
                 (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8), labels)


def _smooth_labels(mesh, scores: np.ndarray) -> np.ndarray:
    """One photo per face: its best, then a few passes in which a face takes the photo most of
    its neighbours have when that photo scores near its best (fewer, larger charts per photo)."""
    best = scores.max(1)
    labels = np.where(best > 0, scores.argmax(1), -1)
    share = scores / np.maximum(best, 1e-12)[:, None]
    allowed = share >= NEAR_BEST
    pairs = np.asarray(mesh.face_adjacency)
    if len(pairs) == 0:
        return labels
    a, b = np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]])
    for _ in range(SEAM_SMOOTHING_ROUNDS):
        votes = np.zeros_like(scores)
        known = labels[b] >= 0
        np.add.at(votes, (a[known], labels[b][known]), 1.0)
        candidate = np.where(allowed, share + 0.5 * votes, -np.inf)
        labels = np.where(best > 0, candidate.argmax(1), -1)
    return labels


def _vertex_consensus(vertices: np.ndarray, vertex_normals, views: list[View], photos: list[np.ndarray],
                      tests: list[Callable]) -> np.ndarray:
    """Each vertex's colour averaged over the photos that see it, weighted by how squarely;
    vertices no photo sees take their nearest seen neighbour's."""
    from scipy.spatial import cKDTree

    normals = np.asarray(vertex_normals, np.float64)
    total = np.zeros((len(vertices), 3))
    weight = np.zeros(len(vertices))
    for view, photo, test in zip(views, photos, tests, strict=True):
        xy, z = _project(view, vertices, photo.shape[:2])
        seen = test(xy, z, tolerance=0.015)
        towards = view.centre - vertices
        facing = (normals * towards).sum(1) / np.maximum(np.linalg.norm(towards, axis=1), 1e-12)
        use = np.flatnonzero(seen & (facing > 0.2))
        wgt = facing[use] ** 2
        total[use] += _sample(photo, xy[use]) * wgt[:, None]
        weight[use] += wgt
    known = weight > 0
    out = np.full((len(vertices), 3), 0.7)
    out[known] = total[known] / weight[known, None]
    if known.any() and not known.all():
        _, nearest = cKDTree(vertices[known]).query(vertices[~known])
        out[~known] = out[known][nearest]
    return out

"""Drawing data for meshes, made with numpy alone.

Everything here runs on worker threads (imports, project opening, stand-ins) and in
headless or cloud code, so this module imports no GL or Qt library (an import check in
tests/render holds it to that): the views in this package turn its arrays into visuals on
the GUI thread.

Meshes are drawn indexed (one vertex per vertex, not three per face as vispy's MeshVisual
uploads them), with per-vertex normals, texture coordinates and tangents when the mesh has
UVs, so a textured, normal-mapped part and a 2M-triangle scan take the same path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..core.picking import MeshPicker
from ..meshio import MeshData

MeshSource = Callable[[str], MeshData]
ImageSource = Callable[[str], bytes]
# Meshes up to this size are split at their creases so hard edges shade crisply; above it they
# are drawn with averaged normals (a scan has no creases worth the time).
SMOOTH_SHADING_LIMIT = 300_000
CREASE_DEG = 30.0  # faces meeting at a sharper angle than this show an edge (trimesh's default too)
# A mesh above this size without normals of its own is first drawn with each face's normal (the
# shader's, from screen-space derivatives: its triangles are a pixel or two across), and its
# smooth normals are made after that first frame (a third of a second on 2M triangles).
DEFER_NORMALS_ABOVE = 500_000


class AssetSource:
    """Where a scene view gets its assets: meshes by asset id (called like a ``MeshSource``)
    and, with ``image``, the bytes of texture and environment images by asset id."""

    def __init__(self, mesh: MeshSource, image: Optional[ImageSource] = None) -> None:
        self._mesh = mesh
        self._image = image

    def __call__(self, asset_id: str) -> MeshData:
        return self._mesh(asset_id)

    def image(self, asset_id: str) -> Optional[bytes]:
        """The image asset's bytes, or None when this source has no images (or not that one)."""
        if self._image is None:
            return None
        try:
            return self._image(asset_id)
        except Exception:  # noqa: BLE001 - a missing texture draws the factor alone, never fails a frame
            return None


def image_source(source) -> Optional[Callable[[str], Optional[bytes]]]:
    """The image lookup of a mesh source when it has one (an ``AssetSource``), else None."""
    return getattr(source, "image", None)


@dataclass
class DisplayData:
    """What drawing a mesh needs, indexed: float32 vertices, uint32 faces, a unit normal per
    vertex, and when the mesh has them a linear RGBA colour per vertex (a scan), texture
    coordinates and tangents (xyz, handedness in w). Made off the GUI thread for large imports."""

    vertices: np.ndarray
    faces: np.ndarray
    normals: Optional[np.ndarray]   # None until made, for a large mesh drawn first (``defer_normals``)
    colors: Optional[np.ndarray] = None
    uvs: Optional[np.ndarray] = None
    tangents: Optional[np.ndarray] = None


@dataclass
class PreparedAsset:
    """Everything showing and picking one asset needs, made off the GUI thread when it is large."""

    mesh: MeshData
    display: Optional[DisplayData]
    picker: Optional[MeshPicker]


def vertex_normals(vertices: np.ndarray, faces: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
    """Area-weighted unit normals per vertex (float32). Summed a slice of faces at a time with
    ``bincount`` (``np.add.at`` took twice as long): the temporaries stay a few MB and are
    reused, where whole-mesh ones for a 2M-triangle part were hundreds of MB of fresh pages."""
    sums = np.zeros((3, len(vertices)), np.float64)
    for start in range(0, len(faces), chunk):
        part = faces[start:start + chunk]
        a = vertices[part[:, 0]]
        face_normals = np.cross(vertices[part[:, 1]] - a, vertices[part[:, 2]] - a)  # length = 2 x area
        for corner in range(3):
            for axis in range(3):
                sums[axis] += np.bincount(part[:, corner], weights=face_normals[:, axis], minlength=len(vertices))
    normals = sums.T.astype(np.float32)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)
    return normals


def tangents(vertices: np.ndarray, normals: np.ndarray, uvs: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per-vertex tangents from the UV layout (Lengyel's method: accumulated per face,
    orthogonalised against the normal), with the bitangent's sign in w as glTF stores it."""
    v = vertices.astype(np.float64)
    t = uvs.astype(np.float64)
    i0, i1, i2 = faces[:, 0], faces[:, 1], faces[:, 2]
    e1, e2 = v[i1] - v[i0], v[i2] - v[i0]
    d1, d2 = t[i1] - t[i0], t[i2] - t[i0]
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
    r = np.where(np.abs(det) > 1e-20, 1.0 / np.where(det == 0, 1, det), 0.0)[:, None]
    # glTF's v runs down the image while its normal maps' green points up it (MikkTSpace is
    # computed on flipped v), so the bitangent glTF means is -dP/dv: the sign in w follows that
    sdir = (e1 * d2[:, 1:2] - e2 * d1[:, 1:2]) * r
    tdir = (e2 * d1[:, 0:1] - e1 * d2[:, 0:1]) * r
    tan = np.zeros_like(v)
    bit = np.zeros_like(v)
    for corner in (i0, i1, i2):
        for axis in range(3):
            tan[:, axis] += np.bincount(corner, weights=sdir[:, axis], minlength=len(v))
            bit[:, axis] += np.bincount(corner, weights=tdir[:, axis], minlength=len(v))
    n = normals.astype(np.float64)
    tan -= n * np.sum(n * tan, axis=1, keepdims=True)
    length = np.linalg.norm(tan, axis=1, keepdims=True)
    # where the UVs give no direction, any tangent perpendicular to the normal will do
    fallback = np.cross(n, np.where(np.abs(n[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
    tan = np.where(length > 1e-12, tan / np.maximum(length, 1e-30), fallback / np.maximum(
        np.linalg.norm(fallback, axis=1, keepdims=True), 1e-30))
    w = np.where(np.sum(np.cross(n, tan) * -bit, axis=1) < 0.0, -1.0, 1.0)
    return np.ascontiguousarray(np.hstack([tan, w[:, None]]), dtype=np.float32)


def defers_normals(mesh: MeshData) -> bool:
    return mesh.normals is None and mesh.uvs is None and mesh.triangle_count > DEFER_NORMALS_ABOVE


def prepare_display(mesh: MeshData, defer_normals: bool = False) -> DisplayData:
    """Indexed drawing data: the file's normals when it has them (else area-weighted ones,
    split at hard edges for smaller meshes without UVs or colours), UVs and tangents. With
    ``defer_normals`` a large mesh without normals of its own comes without them (None):
    the caller makes them after the first frame (``with_normals``)."""
    colors = None if mesh.colors is None else np.ascontiguousarray(mesh.colors, np.float32)
    if defer_normals and defers_normals(mesh):
        return DisplayData(*display_arrays(mesh), None, colors)
    if mesh.normals is not None:
        vertices, faces = np.ascontiguousarray(mesh.positions, np.float32), np.ascontiguousarray(mesh.faces, np.uint32)
        normals = np.asarray(mesh.normals, np.float32)
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        normals = np.where(length > 1e-12, normals / np.maximum(length, 1e-30), 0.0).astype(np.float32)
        if not (length > 1e-12).all():   # a file with zero normals somewhere: fill those from the faces
            computed = vertex_normals(vertices, faces)
            normals = np.where(length > 1e-12, normals, computed).astype(np.float32)
        uvs = mesh.uvs
    elif mesh.uvs is not None or colors is not None:
        vertices, faces = np.ascontiguousarray(mesh.positions, np.float32), np.ascontiguousarray(mesh.faces, np.uint32)
        normals = vertex_normals(vertices, faces)
        uvs = mesh.uvs
    else:
        vertices, faces = display_arrays(mesh)
        normals = vertex_normals(vertices, faces)
        uvs = None
    tan = None
    if uvs is not None:
        uvs = np.ascontiguousarray(uvs, np.float32)
        tan = mesh.tangents if mesh.tangents is not None and mesh.normals is not None else \
            tangents(vertices, normals, uvs, faces)
        tan = np.ascontiguousarray(tan, np.float32)
    return DisplayData(vertices, faces, np.ascontiguousarray(normals), colors, uvs, tan)


def with_normals(display: DisplayData) -> np.ndarray:
    """The display's normals, made now (and kept in it) when they were deferred."""
    if display.normals is None:
        display.normals = vertex_normals(display.vertices, display.faces)
    return display.normals


def outline_normals(display: DisplayData) -> np.ndarray:
    """Normals averaged over vertices at the same position, so a selection outline drawn by
    pushing the surface out along them has no gaps at hard edges."""
    vertices = display.vertices
    if len(vertices) > 2_000_000:
        return with_normals(display)
    _, inverse = np.unique(vertices, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    summed = np.zeros((inverse.max() + 1, 3), np.float64)
    for axis in range(3):
        summed[:, axis] = np.bincount(inverse, weights=with_normals(display)[:, axis])
    out = summed[inverse]
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-30)
    return out.astype(np.float32)


def coarse_displays(mesh: MeshData, targets: tuple[int, ...]) -> tuple[DisplayData, ...]:
    """Drawing data for quadric-decimated stand-ins of ``mesh``, one per target (finest first,
    each decimated from the one before), with each kept vertex's colour and UV taken from the
    nearest original vertex. A stand-in not much lighter than the mesh it comes from is left
    out (and what would come after it): empty when the mesh is always drawn in full."""
    from .decimate import DecimationFailed, simplify

    made = []
    positions, faces, count = mesh.positions, mesh.faces, mesh.triangle_count
    for target in targets:
        if target >= count:
            break
        try:
            positions, faces = simplify(positions, faces, target)
        except DecimationFailed:
            break  # drawn at the finer level while the camera moves: slower, never wrong
        if len(faces) > 0.7 * count:
            break
        count = len(faces)
        made.append((np.asarray(positions, np.float32), np.asarray(faces, np.uint32)))
    displays = []
    tree = None
    for positions, faces in made:
        colors = uvs = None
        if mesh.colors is not None or mesh.uvs is not None:
            from scipy.spatial import cKDTree

            if tree is None:
                tree = cKDTree(mesh.positions)
            nearest = tree.query(positions)[1]
            colors = None if mesh.colors is None else mesh.colors[nearest]
            uvs = None if mesh.uvs is None else mesh.uvs[nearest]
        displays.append(prepare_display(MeshData(positions=positions, faces=faces, colors=colors, uvs=uvs,
                                                 name=mesh.name)))
    return tuple(displays)


def prepare_asset(mesh: MeshData, picker: bool = True, defer_normals: bool = False) -> PreparedAsset:
    """Drawing data, and the picking structure unless ``picker`` is False (then the scene
    view builds it in the background once the part is on screen); ``defer_normals`` as for
    ``prepare_display``."""
    if mesh.is_pointcloud:
        return PreparedAsset(mesh, None, None)
    return PreparedAsset(mesh, prepare_display(mesh, defer_normals),
                         MeshPicker(mesh.positions, mesh.faces) if picker else None)


def display_arrays(mesh: MeshData) -> tuple[np.ndarray, np.ndarray]:
    """float32 vertices and uint32 faces for drawing, split at hard edges so they shade crisply
    (not when the vertices carry colours: those stay one per vertex, as the file has them)."""
    vertices = np.ascontiguousarray(mesh.positions, np.float32)
    faces = np.ascontiguousarray(mesh.faces, np.uint32)
    if mesh.triangle_count <= SMOOTH_SHADING_LIMIT and mesh.colors is None:
        return split_at_creases(vertices, faces)
    return vertices, faces


def split_at_creases(vertices: np.ndarray, faces: np.ndarray, angle_deg: float = CREASE_DEG
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The mesh with a vertex of its own for each fan of faces that meet it smoothly: two faces
    sharing an edge stay joined at its ends when their normals are within ``angle_deg``. In
    numpy and one connected-components pass (trimesh's smooth_shaded took 7 s a million faces:
    70 s for a 200-part assembly)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_faces = len(faces)
    a = vertices[faces[:, 0]].astype(np.float64)
    normals = np.cross(vertices[faces[:, 1]] - a, vertices[faces[:, 2]] - a)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)
    # each face's three edges as (low vertex, high vertex), with the corners at their two ends
    ends = np.stack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], axis=1).reshape(-1, 2).astype(np.int64)
    corner_ends = (np.arange(n_faces)[:, None, None] * 3 + np.array([[0, 1], [1, 2], [2, 0]])).reshape(-1, 2)
    flip = ends[:, 0] > ends[:, 1]
    ends[flip] = ends[flip][:, ::-1]
    corner_ends[flip] = corner_ends[flip][:, ::-1]
    key = ends[:, 0] * (int(ends.max()) + 1) + ends[:, 1]
    order = np.argsort(key, kind="stable")
    same = key[order][1:] == key[order][:-1]   # consecutive edges in sorted order that are one edge
    first, second = order[:-1][same], order[1:][same]
    smooth = np.einsum("ij,ij->i", normals[first // 3], normals[second // 3]) >= np.cos(np.radians(angle_deg))
    if smooth.all() and 2 * len(first) == len(key):
        return vertices, faces  # closed and smooth all over (a scan, a torus): nothing to split
    first, second = first[smooth], second[smooth]
    joined_a = np.concatenate([corner_ends[first, 0], corner_ends[first, 1]])
    joined_b = np.concatenate([corner_ends[second, 0], corner_ends[second, 1]])
    corners = 3 * n_faces
    graph = coo_matrix((np.ones(len(joined_a), np.int8), (joined_a, joined_b)), shape=(corners, corners))
    _, label = connected_components(graph, directed=False)
    # one output vertex per group of corners, at the position of the vertex they share
    _, first_corner, new_faces = np.unique(label, return_index=True, return_inverse=True)
    new_vertices = vertices[faces.reshape(-1)[first_corner]]
    return np.ascontiguousarray(new_vertices, np.float32), new_faces.reshape(-1, 3).astype(np.uint32)


__all__ = ["AssetSource", "DEFER_NORMALS_ABOVE", "DisplayData", "ImageSource", "MeshSource", "PreparedAsset",
           "coarse_displays", "defers_normals", "display_arrays", "image_source", "split_at_creases", "outline_normals",
           "prepare_asset", "prepare_display", "tangents", "vertex_normals", "with_normals"]

"""A finished reconstruction's thumbnail, drawn on the worker without Qt, vispy or any GL.

A worker machine has no display and may have no GPU or EGL, and the worker must import with
PySide6 and vispy absent, so the app's headless renderer (vispy) is not available here. The
mesh is drawn by a small software renderer in numpy instead: points sampled densely over the
surface (by area, so every part of it is covered), each coloured by its vertex colours and lit
by a head light and a key light (Lambert, then sRGB), splatted into a z-buffer from a three-quarter view
above the object, then downsampled (supersampling smooths the splats' edges). Enough for a
picture in a list; the app renders its own views of the mesh once it lands."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

SIZE = 256             # pixels on a side of the finished thumbnail
SUPERSAMPLE = 2
SAMPLES = 250_000      # surface points splatted (a few per pixel of the drawing)
BACKGROUND = (242, 242, 242)


def _camera(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A world-to-camera rotation and the camera's position: three-quarter view from above (y up)."""
    centre = bounds.mean(axis=0)
    radius = float(np.linalg.norm(bounds[1] - bounds[0])) / 2 or 1.0
    direction = np.array([1.0, 0.8, 1.2])
    eye = centre + direction / np.linalg.norm(direction) * radius * 2.6
    forward = centre - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return np.stack([right, up, -forward]), eye


def render(mesh, size: int = SIZE) -> np.ndarray:
    """An RGB image (size x size x 3, uint8) of a trimesh ``Trimesh``."""
    import trimesh

    full = size * SUPERSAMPLE
    image = np.empty((full, full, 3), np.float32)
    image[:] = BACKGROUND
    if len(mesh.faces) == 0:
        return image[::SUPERSAMPLE, ::SUPERSAMPLE].astype(np.uint8)
    points, faces = trimesh.sample.sample_surface(mesh, SAMPLES, seed=3)
    normals = mesh.face_normals[faces]
    if mesh.visual.kind == "vertex":
        colours = mesh.visual.vertex_colors[mesh.faces[faces], :3].astype(np.float32).mean(axis=1)
    else:
        colours = np.full((len(points), 3), 180.0, np.float32)
    rotation, eye = _camera(mesh.bounds)
    view = (points - eye) @ rotation.T          # camera space: looking down -z
    depth = -view[:, 2]
    ahead = depth > 1e-6
    view, depth, normals, colours = view[ahead], depth[ahead], normals[ahead], colours[ahead]
    # perspective, scaled so the object's bounding sphere fills most of the picture
    projected = view[:, :2] / depth[:, None]
    extent = np.abs(projected).max() or 1.0
    pixels = ((projected / extent) * 0.46 + 0.5) * (full - 1)
    col = np.clip(np.round(pixels[:, 0]).astype(np.int64), 0, full - 1)
    row = np.clip(np.round((full - 1) - pixels[:, 1]).astype(np.int64), 0, full - 1)
    # light: a head light (the camera's direction) and a key light from above, both two-sided
    to_camera = -rotation[2]
    key = np.array([0.3, 1.0, 0.4]) / np.linalg.norm([0.3, 1.0, 0.4])
    shade = 0.25 + 0.5 * np.abs(normals @ to_camera) + 0.35 * np.clip(normals @ key, 0, None)
    linear = np.clip(colours / 255.0 * shade[:, None], 0, 1)  # a GLB's vertex colours are linear
    lit = 255 * np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    # z-buffer: each point a 2x2 splat; the nearest splat of each pixel wins
    r = np.concatenate([np.clip(row + dr, 0, full - 1) for dr in (0, 1) for _ in (0, 1)])
    c = np.concatenate([np.clip(col + dc, 0, full - 1) for _ in (0, 1) for dc in (0, 1)])
    z = np.tile(depth, 4).astype(np.float32)
    nearest = np.full((full, full), np.inf, np.float32)
    np.minimum.at(nearest, (r, c), z)
    won = z <= nearest[r, c]
    image[r[won], c[won]] = np.tile(lit, (4, 1))[won]
    small = image.reshape(size, SUPERSAMPLE, size, SUPERSAMPLE, 3).mean(axis=(1, 3))
    return np.clip(small, 0, 255).astype(np.uint8)


def thumbnail_png(glb: Path, size: int = SIZE) -> bytes:
    """The thumbnail of the mesh in ``glb``, as PNG bytes."""
    import trimesh
    from PIL import Image

    mesh = trimesh.load(glb, file_type="glb", force="mesh")
    out = io.BytesIO()
    Image.fromarray(render(mesh, size)).save(out, format="PNG", optimize=True)
    return out.getvalue()

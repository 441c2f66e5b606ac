"""How a reconstruction's colours look from a camera, for scoring them against a photo that
was not used to make them: the surface is sampled densely, each sample coloured from the
texture (or the vertex colours), and the samples splatted through a z-buffer into the
camera's image. The same renderer scores both kinds of colour, so their errors compare."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class Surface:
    """A mesh with either a texture (uvs per vertex and an sRGB image) or sRGB vertex colours."""

    vertices: np.ndarray
    faces: np.ndarray
    uvs: Optional[np.ndarray] = None
    image: Optional[np.ndarray] = None       # HxWx3 in 0..1, sRGB
    colours: Optional[np.ndarray] = None     # Nx3 in 0..1, sRGB

    @classmethod
    def from_trimesh(cls, mesh) -> Surface:
        """From a mesh loaded from our GLB: textured, or with (linear) vertex colours."""
        visual = mesh.visual
        if visual.kind == "texture" and getattr(visual.material, "baseColorTexture", None) is not None:
            image = np.asarray(visual.material.baseColorTexture.convert("RGB"), np.float64) / 255
            # trimesh flips glTF's v on load (its uv origin is the bottom-left corner)
            uv = np.asarray(visual.uv, np.float64).copy()
            uv[:, 1] = 1 - uv[:, 1]
            return cls(np.asarray(mesh.vertices), np.asarray(mesh.faces), uvs=uv, image=image)
        linear = np.asarray(visual.vertex_colors, np.float64)[:, :3] / 255
        srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
        return cls(np.asarray(mesh.vertices), np.asarray(mesh.faces), colours=srgb)

    def transformed(self, scale: float, R: np.ndarray, t: np.ndarray) -> Surface:
        return Surface(scale * self.vertices @ R.T + t, self.faces, self.uvs, self.image, self.colours)

    def colour_at_vertices(self) -> np.ndarray:
        """sRGB colours (Nx3 in 0..1) at the vertices: the texture's there, or the vertex colours."""
        if self.image is None:
            return self.colours
        from .cleanup import _sample

        h, w = self.image.shape[:2]
        return _sample(self.image, self.uvs * [w, h])

    def samples(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(points, sRGB colours) of ``count`` samples spread over the surface by area."""
        rng = np.random.default_rng(seed)
        corners = self.vertices[self.faces]
        area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
        face = rng.choice(len(self.faces), count, p=area / area.sum())
        r1, r2 = np.sqrt(rng.uniform(size=count)), rng.uniform(size=count)
        bary = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], 1)
        points = np.einsum("kj,kjd->kd", bary, corners[face])
        if self.image is not None:
            uv = np.einsum("kj,kjd->kd", bary, self.uvs[self.faces[face]])
            h, w = self.image.shape[:2]
            from .cleanup import _sample

            colours = _sample(self.image, np.stack([uv[:, 0] * w, uv[:, 1] * h], 1))
        else:
            colours = np.einsum("kj,kjc->kc", bary, self.colours[self.faces[face]])
        return points, colours


def render(points: np.ndarray, colours: np.ndarray, K: np.ndarray, R: np.ndarray, centre: np.ndarray,
           width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(HxWx3 image, HxW coverage mask) of coloured ``points`` seen by the camera (world to
    camera ``R``, OpenCV axes): the nearest sample in each pixel wins."""
    cam = (points - centre) @ R.T
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = cam @ K.T
        x, y = uv[:, 0] / uv[:, 2], uv[:, 1] / uv[:, 2]
    ok = (z > 0) & (x >= 0) & (x < width) & (y >= 0) & (y < height)
    cell = y[ok].astype(np.int64) * width + x[ok].astype(np.int64)
    order = np.lexsort((z[ok], cell))   # per pixel, nearest first
    cell, first = cell[order], np.ones(len(order), bool)
    first[1:] = cell[1:] != cell[:-1]
    image = np.zeros((height * width, 3))
    covered = np.zeros(height * width, bool)
    image[cell[first]] = colours[ok][order][first]
    covered[cell[first]] = True
    return image.reshape(height, width, 3), covered.reshape(height, width)


def colour_error(surface: Surface, photo: np.ndarray, K: np.ndarray, R: np.ndarray, centre: np.ndarray,
                 mask: np.ndarray, samples: int = 3_000_000) -> tuple[float, float, np.ndarray]:
    """(mean absolute sRGB error over the ``mask`` pixels the surface covers, the share of
    ``mask`` it covers, the render) of ``surface`` against ``photo`` (HxWx3 in 0..1)."""
    points, colours = surface.samples(samples)
    h, w = photo.shape[:2]
    image, covered = render(points, colours, K, R, centre, w, h)
    from scipy.ndimage import binary_erosion

    # the object's outline is where a slightly wrong surface shows the ground instead: not a colour question
    inner = binary_erosion(mask, iterations=2) & covered
    error = float(np.abs(image[inner] - photo[inner]).mean()) if inner.any() else float("nan")
    return error, float(covered[mask].mean()) if mask.any() else 0.0, image

"""Scoring a reconstruction against known geometry: a similarity alignment of the reported
camera centres to the true ones (Umeyama), then precision, recall and F-score of the
aligned surface at a distance tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(s, R, t) minimising the squared distances of ``s R src + t`` to ``dst`` (Umeyama 1991)."""
    src, dst = np.asarray(src, float), np.asarray(dst, float)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[2, 2] = -1
    R = U @ D @ Vt
    var = (a ** 2).sum() / len(src)
    s = float(np.trace(np.diag(S) @ D) / var)
    return s, R, mu_d - s * R @ mu_s


@dataclass
class Score:
    precision: float
    recall: float
    tolerance: float
    alignment_rms: float     # of the camera centres after alignment, in true units

    @property
    def f_score(self) -> float:
        if self.precision + self.recall == 0:
            return 0.0
        return 2 * self.precision * self.recall / (self.precision + self.recall)


def score(mesh_points: np.ndarray, truth_points: np.ndarray, centres: np.ndarray, true_centres: np.ndarray,
          tolerance: float, seen: np.ndarray | None = None) -> Score:
    """``mesh_points`` sampled on the reconstruction (its own coordinates) against
    ``truth_points`` sampled on the whole true surface; the centres tie the two frames
    together. Precision is against the whole surface; recall only over the ``seen`` truth
    points (a mask; all when None), since no method recovers what no photo shows."""
    from scipy.spatial import cKDTree

    s, R, t = similarity(centres, true_centres)
    aligned = s * mesh_points @ R.T + t
    residual = s * centres @ R.T + t - true_centres
    to_truth, _ = cKDTree(truth_points).query(aligned)
    to_mesh, _ = cKDTree(aligned).query(truth_points if seen is None else truth_points[seen])
    return Score(float((to_truth < tolerance).mean()), float((to_mesh < tolerance).mean()), tolerance,
                 float(np.sqrt((residual ** 2).sum(1).mean())))


FRACTIONS = (0.01, 0.02, 0.03, 0.05)   # of the object's size: the tolerances results are reported at


def scores(mesh_points: np.ndarray, truth_points: np.ndarray, centres: np.ndarray, true_centres: np.ndarray,
           size: float, seen: np.ndarray | None = None, fractions: tuple[float, ...] = FRACTIONS
           ) -> dict[float, Score]:
    """``score`` at each fraction of ``size`` (one alignment, one pair of nearest-point queries)."""
    from scipy.spatial import cKDTree

    s, R, t = similarity(centres, true_centres)
    aligned = s * mesh_points @ R.T + t
    residual = s * centres @ R.T + t - true_centres
    rms = float(np.sqrt((residual ** 2).sum(1).mean()))
    to_truth, _ = cKDTree(truth_points).query(aligned)
    to_mesh, _ = cKDTree(aligned).query(truth_points if seen is None else truth_points[seen])
    return {f: Score(float((to_truth < f * size).mean()), float((to_mesh < f * size).mean()), f * size, rms)
            for f in fractions}


def splat(points: np.ndarray, colours: np.ndarray, K: np.ndarray, R: np.ndarray, centre: np.ndarray,
          width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A z-buffered image of coloured points (dense samples of a surface, in the camera's world)
    seen by an OpenCV camera: (HxWx3 colours, HxW mask of covered pixels). Each point covers
    its pixel; points hidden behind nearer ones are dropped and the gaps filled from neighbours."""
    cam = (points - centre) @ R.T
    front = cam[:, 2] > 1e-6
    cam, colours = cam[front], np.asarray(colours, float)[front]
    pix = cam @ K.T
    u = np.floor(pix[:, 0] / pix[:, 2]).astype(int)
    v = np.floor(pix[:, 1] / pix[:, 2]).astype(int)
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    u, v, z, colours = u[inside], v[inside], cam[inside, 2], colours[inside]
    order = np.argsort(-z)                   # far first, so the nearest point is written last
    depth = np.full((height, width), np.inf)
    image = np.zeros((height, width, 3))
    depth[v[order], u[order]] = z[order]
    image[v[order], u[order]] = colours[order]
    # a far-side point seen through a gap between near samples is hidden: drop points well
    # behind the nearest depth round them, then fill the holes from their neighbours
    from scipy.ndimage import minimum_filter

    depth[depth > 1.03 * minimum_filter(depth, size=5)] = np.inf
    for _ in range(2):
        for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            shifted_d = np.roll(depth, (dy, dx), axis=(0, 1))
            shifted_c = np.roll(image, (dy, dx), axis=(0, 1))
            hole = ~np.isfinite(depth) & np.isfinite(shifted_d)
            depth[hole], image[hole] = shifted_d[hole], shifted_c[hole]
    return image, np.isfinite(depth)

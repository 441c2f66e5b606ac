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

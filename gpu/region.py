"""Where the object is, from the cameras and the sparse points: the point the cameras look
at, the ground it stands on (the dominant plane with every camera on one side of it), and a
box around the points above the ground near that point. The output frame has the ground at
y = 0, +Y up, and the object's footprint centred on the origin, as glTF and our scenes are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dstudio_desktop.errors import DStudioError

from .sfm import RegisteredView

GROUND_MIN_SHARE = 0.15     # of the sparse points, for a plane to count as the ground


@dataclass
class Region:
    rotation: np.ndarray     # SfM world to output frame: x' = rotation @ x + offset
    offset: np.ndarray
    lo: np.ndarray           # the object's box in the output frame
    hi: np.ndarray
    ground: bool             # whether a ground plane was found (and the box stands on it)

    def apply(self, points: np.ndarray) -> np.ndarray:
        return points @ self.rotation.T + self.offset

    def view(self, view: RegisteredView) -> RegisteredView:
        """``view`` with its pose in the output frame."""
        R = view.R @ self.rotation.T
        return RegisteredView(view.name, view.K, R, view.t - R @ self.offset, view.image_path)

    def to_json(self) -> dict:
        return {"lo": self.lo.tolist(), "hi": self.hi.tolist(), "ground_plane": self.ground}


def look_at_point(views: list[RegisteredView]) -> np.ndarray:
    """The point closest, in least squares, to every camera's optical axis."""
    A, b = np.zeros((3, 3)), np.zeros(3)
    for v in views:
        d = v.R[2]
        P = np.eye(3) - np.outer(d, d)
        A += P
        b += P @ v.centre
    return np.linalg.lstsq(A, b, rcond=None)[0]


def dominant_plane(points: np.ndarray, threshold: float, rng: np.random.Generator, up: np.ndarray,
                   trials: int = 400) -> tuple[np.ndarray, float, np.ndarray]:
    """RANSAC: (unit normal, d, inlier mask) of the plane n.x + d = 0 holding most points,
    among planes within 45 degrees of level (``up`` is roughly up): a floor or table, not a wall."""
    best = (np.array([0.0, 1.0, 0.0]), 0.0, np.zeros(len(points), bool))
    for _ in range(trials):
        a, b, c = points[rng.choice(len(points), 3, replace=False)]
        n = np.cross(b - a, c - a)
        norm = np.linalg.norm(n)
        if norm < 1e-12:
            continue
        n /= norm
        if abs(n @ up) < 0.7:
            continue
        inliers = np.abs(points @ n - n @ a) < threshold
        if inliers.sum() > best[2].sum():
            best = (n, -n @ a, inliers)
    n, _, inliers = best
    if inliers.sum() >= 3:  # refit to every inlier
        centroid = points[inliers].mean(0)
        n = np.linalg.svd(points[inliers] - centroid)[2][2]
        inliers = np.abs((points - centroid) @ n) < threshold
        return n, -n @ centroid, inliers
    return best


def find(views: list[RegisteredView], points: np.ndarray, margin: float = 0.5, seed: int = 0) -> Region:
    """A generous first box from the sparse points: they are few on smooth or curved parts,
    so the box is padded by ``margin`` of its size; ``tighten`` narrows it to the dense points."""
    centres = np.array([v.centre for v in views])
    target = look_at_point(views)
    reach = float(np.median(np.linalg.norm(centres - target, axis=1)))
    rng = np.random.default_rng(seed)
    ground = False
    up = -np.mean([v.R[1] for v in views], axis=0)  # cameras' own up, when there is no ground
    up /= np.linalg.norm(up)
    height_of = None
    if len(points) >= 30:
        n, d, inliers = dominant_plane(points, 0.006 * reach, rng, up)
        sides = np.sign(centres @ n + d)
        if inliers.mean() >= GROUND_MIN_SHARE and abs(sides.sum()) == len(sides):
            ground = True
            up = n * sides[0]
            d = d * sides[0]
            height_of = lambda p: p @ up + d  # noqa: E731
    if height_of is None:
        height_of = lambda p: (p - target) @ up  # noqa: E731
    near = np.linalg.norm(points - target, axis=1) < 0.6 * reach
    above = height_of(points) > 0.015 * reach if ground else np.ones(len(points), bool)
    chosen = points[near & above]
    if len(chosen) < 20:
        raise DStudioError("could not find the object: too few points gather where the cameras look "
                           f"({len(chosen)}); keep the object in the middle of every photo")
    # a frame with +Y up; x from the first camera's right, flattened onto the ground
    x = views[0].R[0] - (views[0].R[0] @ up) * up
    x /= np.linalg.norm(x)
    rotation = np.stack([x, up, np.cross(x, up)])
    local = chosen @ rotation.T
    lo, hi = np.percentile(local, 0.5, axis=0), np.percentile(local, 99.5, axis=0)
    pad = margin * (hi - lo).max()
    lo, hi = lo - pad, hi + pad
    floor = -d if ground else lo[1]   # the ground's height in the rotated frame
    if ground:
        # the box stands just above the ground: the floor is not part of the object
        lo[1] = floor + 0.01 * (hi - lo).max()
    offset = -np.array([(lo[0] + hi[0]) / 2, floor, (lo[2] + hi[2]) / 2])
    return Region(rotation, offset, lo + offset, hi + offset, ground)


def tighten(region: Region, points: np.ndarray, cells: int = 40, margin: float = 0.05) -> Region:
    """``region`` narrowed to where the dense ``points`` (output frame) gather: cells of a
    coarse grid that hold a fair share of them, the connected groups of such cells that hold
    a fair share of the points (several objects may stand side by side), and a small margin.
    Scattered wrong depths do not fill cells, so they do not widen it."""
    from scipy import ndimage

    inside = np.all((points >= region.lo) & (points <= region.hi), axis=1)
    chosen = points[inside]
    if len(chosen) < 1000:
        return region
    size = (region.hi - region.lo).max() / cells
    shape = np.maximum(np.ceil((region.hi - region.lo) / size).astype(int), 1)
    index = np.minimum(((chosen - region.lo) / size).astype(int), shape - 1)
    counts = np.zeros(shape, int)
    np.add.at(counts, tuple(index.T), 1)
    occupied = counts >= max(3, 2e-4 * len(chosen))
    labels, found = ndimage.label(occupied, structure=np.ones((3, 3, 3)))
    if found == 0:
        return region
    weight = ndimage.sum(counts, labels, index=np.arange(1, found + 1))
    groups = 1 + np.flatnonzero(weight >= 0.05 * weight.sum())
    cells_kept = np.argwhere(np.isin(labels, groups))
    lo = region.lo + cells_kept.min(0) * size
    hi = region.lo + (cells_kept.max(0) + 1) * size
    pad = margin * (hi - lo).max()
    lo, hi = np.maximum(lo - pad, region.lo), np.minimum(hi + pad, region.hi)
    if region.ground:
        lo[1] = region.lo[1]
    return Region(region.rotation, region.offset, lo, hi, region.ground)

"""Dense depth on the CPU (or CUDA when torch has it): plane-sweep stereo with normalised
cross-correlation. For each reference view, fronto-parallel planes at depths uniform in
inverse depth are swept through its nearest neighbour views; each neighbour is warped onto
the reference by the plane, scored by windowed NCC, the best half of the neighbours
averaged (robust to occlusion), and the best plane refined to sub-plane depth by a parabola.
Depths that several neighbours' own depth maps confirm survive the consistency check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np


@dataclass
class View:
    name: str
    K: np.ndarray          # 3x3, for ``image``'s size
    R: np.ndarray          # world to camera
    t: np.ndarray          # world to camera
    image: np.ndarray      # HxWx3 float32 in 0..1
    near: float
    far: float
    source: Optional[Path] = None   # the full-resolution (undistorted) photo, for colour

    @property
    def centre(self) -> np.ndarray:
        return -self.R.T @ self.t

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pixel coordinates with the corner origin, depth) of world ``points`` in this view."""
        cam = points @ self.R.T + self.t
        uv = cam @ self.K.T
        with np.errstate(divide="ignore", invalid="ignore"):
            return uv[:, :2] / uv[:, 2:3], cam[:, 2]


def load_views(registered, lo: np.ndarray, hi: np.ndarray, sparse: np.ndarray, max_side: int) -> list[View]:
    """The registered views (poses in the frame of the box ``lo``..``hi``) with their images
    scaled to ``max_side`` pixels, and depth ranges that hold the ``sparse`` points inside
    the box that each view sees (the box's own range when it sees too few)."""
    from PIL import Image

    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    sparse = sparse[np.all((sparse >= lo) & (sparse <= hi), axis=1)]
    views = []
    for r in registered:
        with Image.open(r.image_path) as im:
            im = im.convert("RGB")
            width, height = im.size
            scale = min(1.0, max_side / max(im.size))
            if scale < 1:
                im = im.resize((round(width * scale), round(height * scale)), Image.BILINEAR)
            image = np.asarray(im, np.float32) / 255
        # pixel corners at 0 (COLMAP's convention), so scaling the image scales K's rows
        scale_x, scale_y = im.width / width, im.height / height
        K = r.K.copy()
        K[0] *= scale_x
        K[1] *= scale_y
        z = (corners @ r.R.T + r.t)[:, 2]
        near, far = max(float(z.min()), 1e-3 * float(z.max())), float(z.max())
        cam = sparse @ r.R.T + r.t
        uv = cam @ K.T
        with np.errstate(divide="ignore", invalid="ignore"):
            framed = (cam[:, 2] > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < image.shape[1] * uv[:, 2]) \
                & (uv[:, 1] >= 0) & (uv[:, 1] < image.shape[0] * uv[:, 2])
        if framed.sum() >= 20:
            lo_z, hi_z = np.percentile(cam[framed, 2], [1, 99])
            spread = hi_z - lo_z
            near, far = max(near, lo_z - 0.25 * spread), min(far, hi_z + 0.25 * spread)
        views.append(View(r.name, K, r.R, r.t, image, near * 0.97, far * 1.03, r.image_path))
    return views


def neighbours(views: list[View], index: int, count: int = 4) -> list[int]:
    """The views looking at the same thing from a useful baseline (5 to 45 degrees apart)."""
    ref = views[index]
    forward = ref.R[2]
    scored = []
    for j, other in enumerate(views):
        if j == index:
            continue
        angle = np.degrees(np.arccos(np.clip(forward @ other.R[2], -1, 1)))
        if 4 <= angle <= 50:
            scored.append((abs(angle - 18), j))
    return [j for _, j in sorted(scored)[:count]]


def depth_map(views: list[View], index: int, planes: int = 96, window: int = 7, device: str = "cpu",
              check: Optional[Callable[[], None]] = None) -> tuple[np.ndarray, np.ndarray]:
    """(depth, score) for view ``index``; depth is 0 where nothing was found."""
    import torch
    import torch.nn.functional as F

    dev = torch.device("cuda" if torch.cuda.is_available() and device != "cpu" else "cpu")
    ref = views[index]
    others = neighbours(views, index)
    h, w = ref.image.shape[:2]

    def grey(im):  # centred on zero, so the summed-area tables keep their float32 precision
        g = im.mean(axis=2)
        return torch.from_numpy((g - g.mean()).astype(np.float32)).to(dev)[None, None]

    I_ref = grey(ref.image)
    half = window // 2

    def pool(x):  # a box mean by summed-area table: ~8x faster than avg_pool2d on the CPU
        c = F.pad(x, (half + 1, half, half + 1, half)).cumsum(-1).cumsum(-2)
        return (c[..., window:, window:] - c[..., :-window, window:] - c[..., window:, :-window]
                + c[..., :-window, :-window]) / (window * window)

    mu_i = pool(I_ref)
    var_i = (pool(I_ref * I_ref) - mu_i ** 2).clamp_min(1e-6)
    v, u = torch.meshgrid(torch.arange(h, device=dev) + 0.5, torch.arange(w, device=dev) + 0.5, indexing="ij")
    pix = torch.stack([u.flatten(), v.flatten(), torch.ones(h * w, device=dev)], 1)
    rays = pix @ torch.from_numpy(np.linalg.inv(ref.K).T.astype(np.float32)).to(dev)  # z = 1
    inv_depths = torch.linspace(1 / ref.near, 1 / ref.far, planes, device=dev)
    R_r, t_r = (torch.from_numpy(a.astype(np.float32)).to(dev) for a in (ref.R, ref.t))
    # the neighbours as one batch: N images, their intrinsics and poses stacked
    # neighbours may differ in size (photos from two cameras): pad them to one canvas; each
    # keeps its own pixel grid from the top-left corner, and "inside" uses its real size
    greys = [grey(views[j].image) for j in others]
    canvas_h, canvas_w = max(g.shape[2] for g in greys), max(g.shape[3] for g in greys)
    J = torch.cat([F.pad(g, (0, canvas_w - g.shape[3], 0, canvas_h - g.shape[2])) for g in greys])
    real = torch.tensor([[g.shape[3], g.shape[2]] for g in greys], device=dev, dtype=torch.float32)[:, None, :]
    stack = lambda key: torch.from_numpy(np.stack([getattr(views[j], key) for j in others]).astype(np.float32)).to(dev)  # noqa: E731
    Ks, Rs, ts = stack("K"), stack("R"), stack("t")
    size = torch.tensor([J.shape[3], J.shape[2]], device=dev, dtype=torch.float32)
    keep = max(1, (len(others) + 1) // 2)
    # a plane at depth d maps a reference ray r to d * (K R R_r^T r) + K (t - R R_r^T t_r) in
    # each neighbour: precompute both terms so a plane costs one multiply-add
    relative = Rs @ R_r.T
    along = torch.einsum("pk,njk->npj", rays, Ks @ relative)
    offset = (Ks @ (ts - relative @ t_r)[..., None]).squeeze(-1)[:, None, :]
    scores = torch.empty(planes, h * w, device=dev)
    for p in range(planes):
        if check is not None:
            check()
        uvz = along * (1.0 / inv_depths[p]) + offset
        z = uvz[..., 2:3]
        pixel = uvz[..., :2] / z.clamp_min(1e-6)
        grid = pixel / size * 2 - 1
        Jw = F.grid_sample(J, grid.view(-1, h, w, 2), align_corners=False, padding_mode="zeros")
        mu_j, mean_jj, mean_ij = pool(torch.cat([Jw, Jw * Jw, I_ref * Jw], 1)).unbind(1)
        mu_j, mean_jj, mean_ij = mu_j[:, None], mean_jj[:, None], mean_ij[:, None]
        var_j = (mean_jj - mu_j ** 2).clamp_min(1e-6)
        ncc = (mean_ij - mu_i * mu_j) / torch.sqrt(var_i * var_j)
        inside = (pixel >= 0).all(-1) & (pixel < real).all(-1) & (z[..., 0] > 0)
        ncc = torch.where(inside.view(-1, 1, h, w), ncc, torch.full_like(ncc, -1)).view(len(others), -1)
        scores[p] = ncc.topk(keep, dim=0).values.mean(0)
    best, arg = scores.max(0)
    # sub-plane refinement in inverse depth by a parabola through the neighbouring planes
    lo, hi = (arg - 1).clamp(0, planes - 1), (arg + 1).clamp(0, planes - 1)
    s0, s1, s2 = scores.gather(0, lo[None])[0], best, scores.gather(0, hi[None])[0]
    denom = s0 - 2 * s1 + s2
    shift = torch.where(denom.abs() > 1e-6, 0.5 * (s0 - s2) / denom, torch.zeros_like(denom)).clamp(-0.5, 0.5)
    step = inv_depths[1] - inv_depths[0]
    inv = inv_depths[arg] + shift * step
    depth = (1.0 / inv).view(h, w)
    score = best.view(h, w)
    depth[score < 0.5] = 0
    depth[(var_i < 1e-4).view(h, w)] = 0  # featureless (sky, a blank wall): any depth fits
    return depth.cpu().numpy(), score.cpu().numpy()


def points(views: list[View], depths: list[np.ndarray], step: int = 2) -> np.ndarray:
    """Every ``step``-th pixel's depth as a point in the views' frame."""
    out = []
    for view, depth in zip(views, depths, strict=True):
        d = depth[::step, ::step]
        v, u = np.mgrid[0:depth.shape[0]:step, 0:depth.shape[1]:step] + 0.5
        ok = d > 0
        rays = np.stack([u[ok], v[ok], np.ones(ok.sum())], 1) @ np.linalg.inv(view.K).T
        out.append((rays * d[ok][:, None] - view.t) @ view.R)
    return np.concatenate(out) if out else np.zeros((0, 3))


def consistent(views: list[View], depths: list[np.ndarray], index: int, planes: int, needed: int = 2) -> np.ndarray:
    """The pixels of view ``index`` whose depth other views' depth maps agree with, to within
    two plane steps (or 1%, whichever is larger)."""
    ref, depth = views[index], depths[index]
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w] + 0.5
    valid = depth > 0
    rays = np.stack([u[valid], v[valid], np.ones(valid.sum())], 1) @ np.linalg.inv(ref.K).T
    world = (rays * depth[valid][:, None] - ref.t) @ ref.R
    votes = np.zeros(valid.sum(), int)
    step = (1 / ref.near - 1 / ref.far) / planes   # in inverse depth; relative depth step = depth * step
    tolerance = max(0.01, 2 * step * float(np.median(depth[valid])) if valid.any() else 0.01)
    for j in neighbours(views, index, 6):
        d = depths[j]
        xy, z = views[j].project(world)
        with np.errstate(invalid="ignore"):
            x, y = xy[:, 0].astype(int), xy[:, 1].astype(int)
        ok = (z > 0) & (x >= 0) & (x < d.shape[1]) & (y >= 0) & (y < d.shape[0])
        seen = np.zeros_like(z)
        seen[ok] = d[y[ok], x[ok]]
        votes += (ok & (seen > 0) & (np.abs(seen - z) < tolerance * z)).astype(int)
    keep = np.zeros_like(valid)
    keep[valid] = votes >= needed
    return keep

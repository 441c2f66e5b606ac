"""Dense depth on the CPU (or CUDA when torch has it): plane-sweep stereo with normalised
cross-correlation. For each reference view, fronto-parallel planes at depths uniform in
inverse depth are swept through its nearest neighbour views; each neighbour is warped onto
the reference by the plane, scored by windowed NCC, the best half of the neighbours
averaged (robust to occlusion), and the best plane refined to sub-plane depth by a parabola.
Depths that several neighbours' own depth maps confirm survive the consistency check.
``depth_map(refine=N)`` sweeps coarse to fine instead (half resolution, then N hypotheses per
pixel): a third of the work, finer depths where it finds them, but fewer of them."""

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

    def scale_to(self, shape: tuple[int, ...]) -> np.ndarray:
        """(x, y) factors from pixel coordinates in ``image`` to those in a photo of ``shape``
        (corner origin). Per axis: the working image's sides are rounded separately (798 x 598
        became 400 x 300), and the width's factor for both put the photo's bottom rows half a
        pixel off."""
        return np.array([shape[1] / self.image.shape[1], shape[0] / self.image.shape[0]])

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


class _Sweep:
    """Scores depth hypotheses for one reference view against its neighbours at one image
    scale: each neighbour warped onto the reference by the plane through each pixel's
    hypothesis, windowed NCC, the best half of the neighbours averaged."""

    def __init__(self, views: list[View], index: int, others: list[int], window: int, shrink: int, dev) -> None:
        import torch
        import torch.nn.functional as F

        self.dev, self.window = dev, window
        ref = views[index]

        def grey(im):   # centred on zero, so box sums keep their float32 precision
            g = im.mean(axis=2)
            t = torch.from_numpy((g - g.mean()).astype(np.float32)).to(dev)[None, None]
            return F.avg_pool2d(t, shrink) if shrink > 1 else t

        def scaled(K):  # pixel corners at 0: shrinking the image by s scales K's first two rows by 1/s
            K = K.astype(np.float64).copy()
            K[:2] /= shrink
            return K

        self.I = grey(ref.image)
        self.h, self.w = self.I.shape[2:]
        h, w = self.h, self.w
        n = len(others)
        # a box mean as two 1-D convolutions over every channel at once: ~3x faster on the CPU
        # than summed-area tables (two cumsums) and avg_pool2d
        self.channels = 3 * n
        self.row = torch.full((self.channels, 1, 1, window), 1.0 / window, device=dev)
        self.col = torch.full((self.channels, 1, window, 1), 1.0 / window, device=dev)
        mean = self.pool(torch.cat([self.I, self.I * self.I], 1))
        self.mu_i = mean[0, 0]
        self.var_i = (mean[0, 1] - self.mu_i ** 2).clamp_min(1e-6)
        v, u = torch.meshgrid(torch.arange(h, device=dev) + 0.5, torch.arange(w, device=dev) + 0.5, indexing="ij")
        pix = torch.stack([u.flatten(), v.flatten(), torch.ones(h * w, device=dev)], 1)
        self.rays = pix @ torch.from_numpy(np.linalg.inv(scaled(ref.K)).T.astype(np.float32)).to(dev)   # z = 1
        # the neighbours as one batch, each with a channel of ones beside its grey: after the
        # warp that channel is 1 where the whole bilinear footprint fell inside the photo.
        # Neighbours may differ in size (two cameras): padded to one canvas, each keeps its own
        # pixel grid from the top-left corner and its ones end where its image does
        greys = [grey(views[j].image) for j in others]
        canvas_h, canvas_w = max(g.shape[2] for g in greys), max(g.shape[3] for g in greys)
        self.J = torch.cat([F.pad(torch.cat([g, torch.ones_like(g)], 1),
                                  (0, canvas_w - g.shape[3], 0, canvas_h - g.shape[2])) for g in greys])
        self.size = torch.tensor([canvas_w, canvas_h], device=dev, dtype=torch.float32)
        as_t = lambda a: torch.from_numpy(np.asarray(a, np.float32)).to(dev)   # noqa: E731
        Ks = as_t(np.stack([scaled(views[j].K) for j in others]))
        Rs, ts = as_t(np.stack([views[j].R for j in others])), as_t(np.stack([views[j].t for j in others]))
        R_r, t_r = as_t(ref.R), as_t(ref.t)
        # a plane at depth d maps a reference ray r to d * (K R R_r^T r) + K (t - R R_r^T t_r) in
        # each neighbour: both terms precomputed, so a hypothesis costs one multiply-add
        relative = Rs @ R_r.T
        self.along = torch.einsum("pk,njk->npj", self.rays, Ks @ relative)
        self.offset = (Ks @ (ts - relative @ t_r)[..., None]).squeeze(-1)[:, None, :]
        self.n, self.keep = n, max(1, (n + 1) // 2)

    def pool(self, x):
        import torch.nn.functional as F

        half, c = self.window // 2, x.shape[1]
        x = F.conv2d(F.pad(x, (half, half, 0, 0), mode="replicate"), self.row[:c], groups=c)
        return F.conv2d(F.pad(x, (0, 0, half, half), mode="replicate"), self.col[:c], groups=c)

    def score(self, depth):
        """The score of ``depth`` (a number, or one per pixel: (h*w,)) at every pixel."""
        import torch
        import torch.nn.functional as F

        h, w, n = self.h, self.w, self.n
        d = depth if isinstance(depth, float) else depth[None, :, None]
        uvz = self.along * d + self.offset
        pixel = uvz[..., :2] / uvz[..., 2:3].clamp_min(1e-6)
        warped = F.grid_sample(self.J, (pixel / self.size * 2 - 1).view(n, h, w, 2), align_corners=False,
                               padding_mode="zeros")
        Jw, inside = warped[:, :1], warped[:, 1] > 0.999
        stats = self.pool(torch.cat([Jw, Jw * Jw, self.I * Jw], 1).view(1, self.channels, h, w)).view(n, 3, h, w)
        mu_j, mean_jj, mean_ij = stats[:, 0], stats[:, 1], stats[:, 2]
        var_j = (mean_jj - mu_j * mu_j).clamp_min(1e-6)
        ncc = (mean_ij - self.mu_i * mu_j) / torch.sqrt(self.var_i * var_j)
        ncc = ncc.masked_fill_(~inside, -1.0).view(n, -1)
        return _mean_of_best(ncc, self.keep)


def _mean_of_best(values, keep: int):
    """The mean of the ``keep`` largest along dim 0; for two of four by min/max alone (5x
    faster than topk on the CPU)."""
    import torch

    if values.shape[0] == 4 and keep == 2:
        a, b, c, d = values.unbind(0)
        lo1, hi1, lo2, hi2 = torch.minimum(a, b), torch.maximum(a, b), torch.minimum(c, d), torch.maximum(c, d)
        return 0.5 * (torch.maximum(hi1, hi2) + torch.maximum(torch.minimum(hi1, hi2), torch.maximum(lo1, lo2)))
    return values.topk(keep, dim=0).values.mean(0)


def _best_of(scores, inv, planes: int):
    """(best score, its inverse depth refined between hypotheses by a parabola) per pixel, from
    ``scores`` (P, HW) at inverse depths ``inv`` (P, HW) spaced evenly along P."""
    import torch

    best, arg = scores.max(0)
    lo, hi = (arg - 1).clamp(0, planes - 1), (arg + 1).clamp(0, planes - 1)
    s0, s2 = scores.gather(0, lo[None])[0], scores.gather(0, hi[None])[0]
    denom = s0 - 2 * best + s2
    shift = torch.where(denom.abs() > 1e-6, 0.5 * (s0 - s2) / denom, torch.zeros_like(denom)).clamp(-0.5, 0.5)
    step = inv[1] - inv[0]
    return best, inv.gather(0, arg[None])[0] + shift * step


def depth_map(views: list[View], index: int, planes: int = 96, window: int = 7, device: str = "cpu",
              check: Optional[Callable[[], None]] = None, refine: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(depth, score) for view ``index``; depth is 0 where nothing was found.

    ``refine`` 0: ``planes`` fronto-parallel planes swept at full resolution. Otherwise coarse
    to fine: the ``planes`` at half resolution (a quarter of the pixels, and a plane step there
    is twice as many full-resolution pixels of parallax, so half as many planes see as much),
    then ``refine`` hypotheses per full-resolution pixel spanning what the coarse depths round
    it (3x3) say, two coarse steps wider: about a third of the work of one full sweep."""
    import torch
    import torch.nn.functional as F

    dev = torch.device("cuda" if torch.cuda.is_available() and device != "cpu" else "cpu")
    ref = views[index]
    others = neighbours(views, index)
    check = check or (lambda: None)
    levels = [2, 1] if refine else [1]
    inv_all = torch.linspace(1 / ref.near, 1 / ref.far, planes, device=dev)
    estimate, estimate_shape = None, (0, 0)
    for shrink in levels:
        sweep = _Sweep(views, index, others, window, shrink, dev)
        hw = sweep.h * sweep.w
        if estimate is None:
            inv = inv_all[:, None].expand(planes, hw)
            count = planes
        else:
            # the coarse estimate's range round each pixel, brought to this level's grid
            coarse_step = float(inv_all[0] - inv_all[1])
            est = estimate.view(1, 1, *estimate_shape)
            size = (sweep.h, sweep.w)
            nearest = F.interpolate(F.max_pool2d(est, 3, stride=1, padding=1), size=size, mode="nearest")
            farthest = -F.interpolate(F.max_pool2d(-est, 3, stride=1, padding=1), size=size, mode="nearest")
            nearest = (nearest.flatten() + coarse_step).clamp(max=float(inv_all[0]))
            farthest = (farthest.flatten() - coarse_step).clamp(min=float(inv_all[-1]))
            count = refine
            fraction = torch.linspace(0, 1, count, device=dev)[:, None]
            inv = nearest[None] + (farthest - nearest)[None] * fraction     # near to far, as the coarse sweep
        scores = torch.empty(count, hw, device=dev)
        for p in range(count):
            check()
            scores[p] = sweep.score(float(1.0 / inv[p, 0]) if estimate is None else 1.0 / inv[p])
        best, estimate = _best_of(scores, inv, count)
        estimate_shape = (sweep.h, sweep.w)
    h, w = estimate_shape
    depth = (1.0 / estimate).view(h, w)
    score = best.view(h, w)
    depth[score < 0.5] = 0
    depth[sweep.var_i < 1e-4] = 0  # featureless (sky, a blank wall): any depth fits
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

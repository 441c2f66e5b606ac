"""From depth maps to a surface: a truncated signed distance volume over the object's box,
averaged over every view, and its zero level set by marching cubes. Voxels that views see only
hidden behind a surface count as inside, so parts no camera saw (the inside, an underside
on the ground) close instead of leaving holes; voxels nothing saw count as outside; a box
standing on the ground is closed by a flat floor at its bottom face."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from dstudio_desktop.errors import DStudioError

from .dense import View


@dataclass
class Volume:
    tsdf: np.ndarray     # signed distance over truncation, negative inside
    origin: np.ndarray   # the corner of voxel (0, 0, 0)
    voxel: float


def fuse(views: list[View], depths: list[np.ndarray], lo: np.ndarray, hi: np.ndarray, resolution: int = 160,
         truncation_voxels: float = 3.0, close_bottom: bool = False, device: str = "cpu",
         progress: Callable[[float], None] = lambda f: None, check: Optional[Callable[[], None]] = None) -> Volume:
    """The signed distance volume over the box ``lo``..``hi``, in the views' frame (on the
    GPU when ``device`` is cuda)."""
    import torch

    dev = torch.device(device)
    voxel = float((hi - lo).max()) / resolution
    shape = tuple(int(s) for s in np.maximum(np.ceil((hi - lo) / voxel).astype(int), 2))
    axes = [torch.tensor(lo[i] + (np.arange(shape[i]) + 0.5) * voxel, dtype=torch.float32, device=dev)
            for i in range(3)]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    trunc = truncation_voxels * voxel
    total = torch.zeros(len(grid), device=dev)
    weight = torch.zeros(len(grid), device=dev)
    hidden = torch.zeros(len(grid), dtype=torch.int32, device=dev)   # views that see a surface in front of it
    as_tensor = lambda a: torch.as_tensor(np.asarray(a, np.float32), device=dev)  # noqa: E731
    for i, (view, depth) in enumerate(zip(views, depths, strict=True)):
        if check is not None:
            check()
        cam = grid @ as_tensor(view.R).T + as_tensor(view.t)
        z = cam[:, 2]
        uv = cam @ as_tensor(view.K).T
        h, w = depth.shape
        x = torch.floor(uv[:, 0] / uv[:, 2])
        y = torch.floor(uv[:, 1] / uv[:, 2])
        ok = (z > 0) & (x >= 0) & (x < w) & (y >= 0) & (y < h)
        idx = torch.nonzero(ok).squeeze(1)
        measured = as_tensor(depth)[y[idx].long(), x[idx].long()]
        sdf = measured - z[idx]
        hidden[idx[(measured > 0) & (sdf <= -trunc)]] += 1
        use = (measured > 0) & (sdf > -trunc)  # far behind the surface: this view cannot say
        idx, sdf = idx[use], sdf[use]
        total[idx] += torch.clamp(sdf / trunc, -1, 1)
        weight[idx] += 1
        progress((i + 1) / len(views))
    # a voxel only ever seen hidden (an object's core, an underside on the ground) is inside;
    # one nothing saw is outside
    tsdf = torch.where(weight > 0, total / weight.clamp_min(1),
                       torch.where(hidden > 0, -1.0, 1.0)).reshape(shape).cpu().numpy()
    if close_bottom:
        tsdf = np.concatenate([np.ones_like(tsdf[:, :1]), tsdf], axis=1)
        lo = lo - np.array([0, voxel, 0])
    return Volume(tsdf, lo, voxel)


def surface(volume: Volume):
    """The zero level set of ``volume`` as a trimesh (marching cubes)."""
    import trimesh
    from skimage.measure import marching_cubes

    tsdf, voxel = volume.tsdf, volume.voxel
    if tsdf.min() >= 0 or tsdf.max() <= 0:
        raise DStudioError("the depth maps do not describe a surface in the object's region; the photos may "
                           "show too little texture, or the object may be too small in them")
    verts, faces, _, _ = marching_cubes(tsdf, level=0.0, spacing=(voxel, voxel, voxel))
    # negative inside, positive outside: skimage winds these faces with normals pointing outwards
    return trimesh.Trimesh(verts + volume.origin + voxel / 2, faces, process=True)

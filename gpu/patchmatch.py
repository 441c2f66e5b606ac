"""Dense depth with COLMAP's PatchMatch stereo, for pycolmap builds with CUDA (the PyPI wheel
is CPU-only and its ``patch_match_stereo`` raises): used instead of our plane sweep when the
device is CUDA and pycolmap can. Depth maps come back in each undistorted camera's frame,
which the output frame's rigid move leaves unchanged, so they drop into the same fusion."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from dstudio_desktop.core.progress import CancelToken
from dstudio_desktop.errors import DStudioError

from .dense import View
from .sfm import colmap_cancellation


def available(device: str) -> bool:
    import pycolmap

    return device == "cuda" and bool(pycolmap.has_cuda)


def read_array(path: Path) -> np.ndarray:
    """A COLMAP dense array (``W&H&C&``, then float32 with x fastest, then y, then channel) as
    H x W (x C), read as COLMAP's own read_write_dense.py does."""
    data = Path(path).read_bytes()
    fields, offset = [], 0
    for _ in range(3):
        end = data.index(b"&", offset)
        fields.append(int(data[offset:end]))
        offset = end + 1
    width, height, channels = fields
    values = np.frombuffer(data, np.float32, count=width * height * channels, offset=offset)
    array = values.reshape((width, height, channels), order="F").transpose(1, 0, 2)
    return array[:, :, 0] if channels == 1 else array


def depth_maps(undistorted: Path, views: list[View], max_image_size: int,
               cancel: Optional[CancelToken] = None) -> list[np.ndarray]:
    """PatchMatch (with geometric consistency) over the undistorted workspace, each depth map
    resampled to its view's image size; 0 where PatchMatch found nothing."""
    import pycolmap
    from PIL import Image

    options = pycolmap.PatchMatchOptions()
    options.max_image_size = max_image_size
    options.geom_consistency = True
    with colmap_cancellation(cancel) as token:
        pycolmap.patch_match_stereo(undistorted, options=options, cancellation_token=token)
    out = []
    for view in views:
        path = undistorted / "stereo" / "depth_maps" / f"{view.name}.geometric.bin"
        if not path.exists():
            raise DStudioError(f"PatchMatch stereo wrote no depth map for {view.name}")
        depth = read_array(path)
        h, w = view.image.shape[:2]
        if depth.shape != (h, w):
            depth = np.asarray(Image.fromarray(depth.astype(np.float32), mode="F").resize((w, h), Image.NEAREST))
        out.append(np.where(np.isfinite(depth) & (depth > 0), depth, 0).astype(np.float32))
    return out

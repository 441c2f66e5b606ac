"""Structure from motion with pycolmap: SIFT features, matching chosen by the set's size,
incremental mapping, and undistortion to pinhole views for dense stereo. The largest model
is kept; images it does not hold, and any smaller models, are reported as dropped."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from dstudio_desktop.core.progress import CancelToken, ProgressCallback
from dstudio_desktop.errors import DStudioError

EXHAUSTIVE_UP_TO = 150   # images; beyond this every pair costs too much, so neighbours in name order are matched


@dataclass
class RegisteredView:
    name: str
    K: np.ndarray          # pinhole intrinsics of the undistorted image
    R: np.ndarray          # world to camera
    t: np.ndarray
    image_path: Path       # the undistorted image

    @property
    def centre(self) -> np.ndarray:
        return -self.R.T @ self.t


@dataclass
class SparseModel:
    views: list[RegisteredView]
    points: np.ndarray                  # Nx3
    colours: np.ndarray                 # Nx3 uint8
    mean_reprojection_error: float
    unregistered: list[str] = field(default_factory=list)
    dropped_models: list[int] = field(default_factory=list)   # sizes of the smaller models not kept


@contextmanager
def colmap_cancellation(cancel: CancelToken | None) -> Iterator[object]:
    """A pycolmap cancellation token that follows ``cancel``, so Cancel reaches into C++."""
    import pycolmap

    token = pycolmap.CancellationToken()
    done = threading.Event()

    def follow() -> None:
        while not done.wait(0.1):
            if cancel is not None and cancel.cancelled:
                token.cancel()
                return

    watcher = threading.Thread(target=follow, daemon=True)
    watcher.start()
    try:
        yield token
    finally:
        done.set()
        watcher.join()
    if cancel is not None:
        cancel.check("reconstruction")


def run(image_dir: Path, names: list[str], work: Path, *, max_image_size: int, max_features: int,
        use_cuda: bool, progress: ProgressCallback, cancel: CancelToken | None) -> SparseModel:
    import pycolmap

    work.mkdir(parents=True, exist_ok=True)
    database = work / "database.db"
    database.unlink(missing_ok=True)
    device = pycolmap.Device.cuda if use_cuda else pycolmap.Device.cpu

    extraction = pycolmap.FeatureExtractionOptions()
    extraction.max_image_size = max_image_size
    extraction.sift.max_num_features = max_features
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "SIMPLE_RADIAL"
    progress(0.0, f"finding features in {len(names)} images")
    # one camera for the set when every photo has the same size (the usual case: intrinsics are
    # shared and better constrained); one per photo when they differ (two cameras, or crops)
    from PIL import Image

    sizes = set()
    for name in names:
        with Image.open(image_dir / name) as im:
            sizes.add(im.size)
    mode = pycolmap.CameraMode.SINGLE if len(sizes) == 1 else pycolmap.CameraMode.PER_IMAGE
    with colmap_cancellation(cancel) as token:
        pycolmap.extract_features(database, image_dir, image_names=names, camera_mode=mode,
                                  reader_options=reader, extraction_options=extraction, device=device,
                                  cancellation_token=token)
    progress(0.35, "matching features")
    with colmap_cancellation(cancel) as token:
        if len(names) <= EXHAUSTIVE_UP_TO:
            pycolmap.match_exhaustive(database, device=device, cancellation_token=token)
        else:
            pairing = pycolmap.SequentialPairingOptions()
            pairing.overlap = 20
            pycolmap.match_sequential(database, pairing_options=pairing, device=device, cancellation_token=token)

    progress(0.6, "placing cameras")
    registered = [0]

    def next_image() -> None:
        registered[0] += 1
        progress(0.6 + 0.3 * min(registered[0] / len(names), 1.0), f"placed {registered[0]} of {len(names)} cameras")

    options = pycolmap.IncrementalPipelineOptions()
    options.num_threads = -1
    sparse = work / "sparse"
    sparse.mkdir(exist_ok=True)
    with colmap_cancellation(cancel) as token:
        models = pycolmap.incremental_mapping(database, image_dir, sparse, options=options,
                                              next_image_callback=next_image, cancellation_token=token)
    if not models:
        raise DStudioError(f"{image_dir}: the photos could not be tied together (no two views share enough "
                           "features); take photos with more overlap, about 60-80% between neighbours")
    ranked = sorted(models.items(), key=lambda kv: kv[1].num_reg_images(), reverse=True)
    best_id, best = ranked[0]
    kept = sparse / "kept"
    kept.mkdir(exist_ok=True)
    best.write(kept)

    progress(0.92, "undistorting images")
    undistorted = work / "undistorted"
    with colmap_cancellation(cancel) as token:
        pycolmap.undistort_images(undistorted, kept, image_dir, cancellation_token=token)
    rec = pycolmap.Reconstruction(undistorted / "sparse")
    views = []
    for image in rec.images.values():
        if not image.has_pose:
            continue
        pose = image.cam_from_world().matrix()
        views.append(RegisteredView(image.name, np.array(rec.cameras[image.camera_id].calibration_matrix()),
                                    np.array(pose[:, :3]), np.array(pose[:, 3]), undistorted / "images" / image.name))
    if not views:
        raise DStudioError(f"{image_dir}: no camera could be placed")  # a cancel raised on leaving its block
    views.sort(key=lambda v: v.name)
    registered_names = {v.name for v in views}
    points = np.array([p.xyz for p in rec.points3D.values()]).reshape(-1, 3)
    colours = np.array([p.color for p in rec.points3D.values()], dtype=np.uint8).reshape(-1, 3)
    progress(1.0, f"placed {len(views)} of {len(names)} cameras, {len(points)} points")
    return SparseModel(views, points, colours, float(best.compute_mean_reprojection_error()),
                       [n for n in names if n not in registered_names],
                       [m.num_reg_images() for _, m in ranked[1:]])

"""Structure from motion with pycolmap: SIFT features, matching chosen by the set's size,
incremental mapping, a second pass for the images the first left out, and undistortion to
pinhole views for dense stereo. The largest model is kept; images it does not hold, and any
smaller models, are reported as dropped, each dropped image with the reason (how many
verified matches it has, and with which neighbours).

Matching: exhaustive up to ``EXHAUSTIVE_UP_TO`` images (every pair: a turntable's last view
meets its first); beyond, each image with its neighbours in name order, the order taken as a
loop (the last photos of a walk round the object meet the first), plus pairs at doubling
distances (COLMAP's quadratic overlap). COLMAP's own loop detection and vocabulary-tree
matching are not used: they need a vocabulary-tree file COLMAP downloads from the network;
spatial matching needs GPS positions photos of a product do not have.

Mapping: incremental up to ``GLOBAL_FROM`` images, pycolmap's global mapping (GLOMAP:
rotation averaging, then global positioning) from there, where it measured faster
(benchmarks/reconstruct_bench.py global).

Cameras: photos are grouped by the camera that took them (image size and the EXIF make,
model and focal length); each group gets one camera model. COLMAP reads the EXIF focal length
(35 mm equivalent) as the camera's prior; without it the focal length starts at 1.2 times the
longer side."""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from dstudio_desktop.core.progress import CancelToken, ProgressCallback, no_progress
from dstudio_desktop.errors import DStudioError

EXHAUSTIVE_UP_TO = 150   # images; beyond this every pair costs too much, so neighbours in name order are matched
SEQUENTIAL_OVERLAP = 15  # neighbours each side in name order, when not exhaustive
# images; from here global mapping. Measured (benchmarks/reconstruct_bench.py global --counts
# 100,300: synthetic views at 320x240, both mappers placing every view with camera-centre
# errors of 0.06-0.08% of the object's size; load average 15-25 on 2 cores): at 100, global
# took 1.44x incremental's CPU time (25 s against 17.5 s; 1.28x wall); at 300, 0.91x (126 s
# against 138 s; 0.65x wall, 546 s against 833 s). Incremental's repeated bundle adjustments
# grow faster with the set than global's, so the two cross between, near 200.
GLOBAL_FROM = 200
# the second pass: what an image needs to be placed into the model the first pass made
# (COLMAP's defaults are 30 inliers and a ratio of 0.25, tuned against false registrations in
# large unordered sets; a product set's left-over view is usually one seen at a grazing angle)
RETRY_MIN_INLIERS, RETRY_MIN_RATIO, RETRY_MIN_MATCHES = 15, 0.15, 10


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
    why_unregistered: dict[str, str] = field(default_factory=dict)
    second_pass_placed: int = 0      # images the second pass added
    matching: str = "exhaustive"     # or "sequential (loop)", or "sequential" (names with spaces: no loop)
    mapper: str = "incremental"      # or "global"
    cameras: list[dict] = field(default_factory=list)   # per camera model: its photos, size, focal, prior


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


def match_graph(database: Path) -> tuple[dict[int, str], dict[int, dict[int, int]]]:
    """Image names by id, and for each image its verified neighbours with their inlier counts."""
    import pycolmap

    db = pycolmap.Database.open(database)
    try:
        names = {image.image_id: image.name for image in db.read_all_images()}
        pair_ids, inliers = db.read_two_view_geometry_num_inliers()
    finally:
        db.close()
    graph: dict[int, dict[int, int]] = {i: {} for i in names}
    for pair_id, count in zip(pair_ids, inliers, strict=True):
        a, b = pycolmap.pair_id_to_image_pair(pair_id)
        if count > 0:
            graph[a][b] = graph[b][a] = int(count)
    return names, graph


def why_not_placed(name: str, names: dict[int, str], graph: dict[int, dict[int, int]], placed: set[str],
                   min_inliers: int) -> str:
    """One line for the report: how well an image that was not placed matched the others."""
    ids = {v: k for k, v in names.items()}
    neighbours = sorted(graph.get(ids.get(name, -1), {}).items(), key=lambda kv: -kv[1])
    if not neighbours:
        return "no verified matches with any other photo (too little texture, or a view of something else)"
    best = ", ".join(f"{names[i]} ({n}{'' if names[i] in placed else ', also unplaced'})" for i, n in neighbours[:3])
    if neighbours[0][1] < min_inliers:
        return (f"too few matches: {len(neighbours)} neighbour(s), the best with fewer than {min_inliers} inliers: "
                f"{best}")
    return f"matched ({len(neighbours)} neighbour(s), best {best}) but no pose fitted those matches"


def camera_groups(image_dir: Path, names: list[str]) -> list[list[str]]:
    """The photos grouped by the camera that took them: the same image size, EXIF make, model
    and focal length (a second phone, or a zoom changed mid-set, is another group)."""
    from PIL import Image

    groups: dict[tuple, list[str]] = {}
    for name in names:
        with Image.open(image_dir / name) as im:
            exif = im.getexif()
            shot = exif.get_ifd(0x8769)   # the Exif IFD: focal lengths live there
            key = (im.size, exif.get(0x010F), exif.get(0x0110), shot.get(0x920A), shot.get(0xA405))
        groups.setdefault(tuple(str(k) for k in key), []).append(name)
    return list(groups.values())


def loop_pairs(names: list[str], overlap: int) -> list[tuple[str, str]]:
    """Pairs of neighbours in name order, the order closed into a loop, each image also paired
    with the ones at doubling distances beyond ``overlap`` (a long way round still meets)."""
    n = len(names)
    steps = list(range(1, overlap + 1))
    step = overlap
    while step * 2 < n // 2:
        step *= 2
        steps.append(step)
    pairs = set()
    for i in range(n):
        for d in steps:
            j = (i + d) % n
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return [(names[i], names[j]) for i, j in sorted(pairs)]


def _global_mapping(database: Path, image_dir: Path, out: Path, names: list[str]) -> None:
    """In a child process (run_global): global mapping has no cancellation token in pycolmap."""
    import pycolmap

    pycolmap.logging.minloglevel = 2   # as the worker does: COLMAP's INFO lines would drown its progress
    options = pycolmap.GlobalPipelineOptions()
    options.image_names = names
    for index, model in pycolmap.global_mapping(database, image_dir, out, options=options).items():
        target = out / f"model{index}"
        target.mkdir(exist_ok=True)
        model.write(target)


GLOBAL_SECONDS_PER_IMAGE = 0.45   # measured: 300 photos in ~130 s of CPU on this 2-core machine


def run_global(database: Path, image_dir: Path, out: Path, names: list[str],
               cancel: CancelToken | None, progress: ProgressCallback = no_progress
               ) -> dict[int, object]:
    """pycolmap's global mapping, in a child process a Cancel can stop within a second (its C++
    takes no cancellation token); the models it found, read back. It says nothing until it
    ends, so ``progress`` gets the time so far and a share (0..1) that approaches 1 over the
    time a set of this size took when measured, never reaching it before the end."""
    import math
    import multiprocessing
    import time

    import pycolmap

    child = multiprocessing.get_context("spawn").Process(target=_global_mapping,
                                                         args=(database, image_dir, out, names), daemon=True)
    started = time.monotonic()
    expected = GLOBAL_SECONDS_PER_IMAGE * len(names)
    child.start()
    try:
        while child.is_alive():
            child.join(0.2)
            elapsed = time.monotonic() - started
            progress(0.95 * (1 - math.exp(-elapsed / expected)),
                     f"placing {len(names)} cameras at once (global mapping), {elapsed:.0f} s so far")
            if cancel is not None and cancel.cancelled:
                child.terminate()
                child.join()
                # a model the child was writing when stopped is half there: none is left behind
                for partial in out.glob("model*"):
                    shutil.rmtree(partial, ignore_errors=True)
                cancel.check("reconstruction")
    finally:
        if child.is_alive():
            child.kill()
    if child.exitcode != 0:
        raise DStudioError(f"{image_dir}: global mapping stopped (exit code {child.exitcode})")
    return {i: pycolmap.Reconstruction(d) for i, d in enumerate(sorted(out.glob("model*")))}


def extract(database: Path, image_dir: Path, names: list[str], reader, extraction, device,
            cancel: CancelToken | None) -> None:
    """Features for every photo; one camera model per group of photos from one camera."""
    import pycolmap

    for group in camera_groups(image_dir, names):
        with colmap_cancellation(cancel) as token:
            pycolmap.extract_features(database, image_dir, image_names=group, camera_mode=pycolmap.CameraMode.SINGLE,
                                      reader_options=reader, extraction_options=extraction, device=device,
                                      cancellation_token=token)


def match(database: Path, names: list[str], device, cancel: CancelToken | None) -> str:
    """Matches chosen by the set's size (see the module's note); returns which."""
    import pycolmap

    with colmap_cancellation(cancel) as token:
        if len(names) <= EXHAUSTIVE_UP_TO:
            pycolmap.match_exhaustive(database, device=device, cancellation_token=token)
            return "exhaustive"
        if any(" " in name for name in names):   # COLMAP's pair list splits on spaces: its own sequential pairs
            pairing = pycolmap.SequentialPairingOptions()
            pairing.overlap = SEQUENTIAL_OVERLAP
            pycolmap.match_sequential(database, pairing_options=pairing, device=device, cancellation_token=token)
            return "sequential"
        pair_list = database.with_suffix(".pairs.txt")
        pair_list.write_text("".join(f"{a} {b}\n" for a, b in loop_pairs(sorted(names), SEQUENTIAL_OVERLAP)))
        pairing = pycolmap.ImportedPairingOptions()
        pairing.match_list_path = str(pair_list)
        pycolmap.match_image_pairs(database, pairing_options=pairing, device=device, cancellation_token=token)
        return "sequential (loop)"


def cameras_of(model, database: Path) -> list[dict]:
    """Per camera model of ``model``: its photos, size, focal length, and whether the focal
    length started from the photos' EXIF (a prior) or from a guess."""
    import pycolmap

    db = pycolmap.Database.open(database)
    try:
        priors = {c.camera_id: bool(c.has_prior_focal_length) for c in db.read_all_cameras()}
        names = {im.image_id: (im.name, im.camera_id) for im in db.read_all_images()}
    finally:
        db.close()
    out = []
    for camera_id in sorted({cam for _, cam in names.values()}):
        photos = sorted(n for n, cam in names.values() if cam == camera_id)
        camera = model.cameras[camera_id] if camera_id in model.cameras else None
        out.append({"photos": len(photos), "first": photos[0],
                    "size": [camera.width, camera.height] if camera else None,
                    "focal": float(camera.mean_focal_length()) if camera else None,
                    "focal_from_exif": priors.get(camera_id, False)})
    return out


def run(image_dir: Path, names: list[str], work: Path, *, max_image_size: int, max_features: int,
        use_cuda: bool, progress: ProgressCallback, cancel: CancelToken | None,
        domain_size_pooling: bool = True) -> SparseModel:
    import pycolmap

    work.mkdir(parents=True, exist_ok=True)
    database = work / "database.db"
    database.unlink(missing_ok=True)
    device = pycolmap.Device.cuda if use_cuda else pycolmap.Device.cpu

    extraction = pycolmap.FeatureExtractionOptions()
    extraction.max_image_size = max_image_size
    extraction.sift.max_num_features = max_features
    # pooling the descriptor over several window sizes (Dong & Soatto) matches across the
    # changes of scale and viewpoint round an object better; CPU SIFT only. Measured on the
    # path-traced set at draft: 36 of 36 placed and 1,979 points with it, 32 and 435 without,
    # for 1.5x the structure stage's time
    extraction.sift.domain_size_pooling = domain_size_pooling and not use_cuda
    # COLMAP starts SIFT's scale space at octave -1 (the photo at twice its width and height): 4x the
    # pixels, and with pooling most of the time goes there. From the photo itself, on the
    # path-traced set at normal: extraction 75 -> 17 s, exhaustive matching 42 -> 7 s (fewer
    # features), and the first mapping pass placed 36 of 36 photos (2,425 points) where it had
    # placed 29 (1,944)
    extraction.sift.first_octave = 0
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = "SIMPLE_RADIAL"
    progress(0.0, f"finding features in {len(names)} images")
    extract(database, image_dir, names, reader, extraction, device, cancel)
    progress(0.35, "matching features")
    matching = match(database, names, device, cancel)

    progress(0.6, "placing cameras")
    registered = [0]

    def next_image() -> None:
        registered[0] += 1
        progress(0.6 + 0.3 * min(registered[0] / len(names), 1.0), f"placed {registered[0]} of {len(names)} cameras")

    sparse = work / "sparse"
    sparse.mkdir(exist_ok=True)
    mapper = "global" if len(names) >= GLOBAL_FROM else "incremental"
    if mapper == "global":
        progress(0.6, f"placing {len(names)} cameras at once (global mapping)")
        models = run_global(database, image_dir, sparse, names, cancel,
                            lambda share, message: progress(0.6 + 0.28 * share, message))
    else:
        options = pycolmap.IncrementalPipelineOptions()
        options.num_threads = -1
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
    first_pass = best.num_reg_images()
    if first_pass < len(names):
        # the second pass: the images left out, registered into the kept model with laxer
        # thresholds for an image's pose (its points and the others' poses stay as they are)
        progress(0.88, f"placing the {len(names) - first_pass} camera(s) left out")
        retry = pycolmap.IncrementalPipelineOptions()
        retry.num_threads = -1
        retry.min_num_matches = RETRY_MIN_MATCHES
        retry.mapper.abs_pose_min_num_inliers = RETRY_MIN_INLIERS
        retry.mapper.abs_pose_min_inlier_ratio = RETRY_MIN_RATIO
        retry.mapper.max_reg_trials = 5
        retry.multiple_models = False
        second = sparse / "second"
        second.mkdir(exist_ok=True)
        with colmap_cancellation(cancel) as token:
            again = pycolmap.incremental_mapping(database, image_dir, second, options=retry, input_path=kept,
                                                 cancellation_token=token)
        if again:
            grown = max(again.values(), key=lambda m: m.num_reg_images())
            if grown.num_reg_images() > first_pass:
                best = grown
                best.write(kept)
    second_pass_placed = best.num_reg_images() - first_pass

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
    unregistered = [n for n in names if n not in registered_names]
    why = {}
    if unregistered:
        ids, graph = match_graph(database)
        why = {n: why_not_placed(n, ids, graph, registered_names, RETRY_MIN_INLIERS) for n in unregistered}
    return SparseModel(views, points, colours, float(best.compute_mean_reprojection_error()), unregistered,
                       [m.num_reg_images() for _, m in ranked[1:]], why, second_pass_placed, matching, mapper,
                       cameras_of(best, database))

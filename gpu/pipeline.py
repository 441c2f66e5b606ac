"""Photos to a coloured mesh, as named stages that each report progress, can be cancelled,
and are timed:

    validate -> structure (SfM) -> dense (plane-sweep depth) -> fusion (TSDF)
    -> surface (marching cubes) -> clean-up (floaters, crop, decimate) -> colour -> export

The result is a GLB (one mesh, the ground at y = 0, +Y up) and a report. Its colour is a
base-colour texture baked from the photos on a UV atlas (``texture``), or at ``draft``
quality a colour per vertex. Nothing is written to ``output`` until the very end, and then atomically."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from dstudio_desktop.core.progress import CancelToken, ProgressCallback, no_progress
from dstudio_desktop.errors import DStudioError

from . import cleanup, dense, fusion, patchmatch, photoset, region, sfm, texture, video


@dataclass(frozen=True)
class Quality:
    max_image_size: int   # for feature extraction
    max_features: int
    dense_side: int       # the longer side of the images dense stereo works on
    planes: int           # depth hypotheses per view
    window: int           # pixels on the side of the NCC window
    voxels: int           # along the longest side of the object's box
    faces: int            # the decimation target
    texture: int = 0      # texels on the side of the baked base-colour texture; 0: colour per vertex
    refine: int = 0       # >0: planes swept at half resolution, then this many per pixel at full (dense.depth_map)


QUALITIES = {
    "draft": Quality(1000, 4096, 256, 40, 7, 112, 60_000),
    # coarse to fine (refine=10 after 64 planes at half resolution) cuts dense's CPU time 2.5x but
    # its sparser, noisier depths dropped the synthetic scene's F@3% from 0.955 to 0.915: not used yet
    # 40k faces was tried for the textured normal: quadric decimation pinched both scenes' closed
    # surfaces there (the path-traced one at 80k too), so cleanup.decimate keeps its ~100k faces
    "normal": Quality(1600, 8192, 400, 64, 7, 160, 200_000, texture=1024),
    # finer voxels than this follow the depth noise rather than the surface (measured: 280 scored lower)
    "high": Quality(3200, 16384, 720, 112, 11, 200, 600_000, texture=2048),
}

# each stage's share of the whole run, for one progress bar
STAGES = {"validate": 0.03, "structure": 0.17, "dense": 0.55, "fusion": 0.1, "surface": 0.04, "cleanup": 0.04,
          "colour": 0.05, "export": 0.02}


class PhotoSetRefused(DStudioError):
    """The photo set cannot be reconstructed; carries the validation report."""

    def __init__(self, report: photoset.PhotoReport) -> None:
        self.report = report
        super().__init__(report.summary())


@dataclass
class Result:
    report: dict[str, Any]
    output: Path


@dataclass
class _Stages:
    """Runs the stages in order, timing each and mapping its progress onto the whole."""

    progress: ProgressCallback
    cancel: Optional[CancelToken]
    timings: dict[str, float] = field(default_factory=dict)
    _done: float = 0.0

    def run(self, name: str, work: Callable[[Callable[[float, str], None]], Any]) -> Any:
        self.check()
        share = STAGES[name]
        start = time.perf_counter()

        def report(fraction: float, message: str) -> None:
            self.progress(min(self._done + share * max(0.0, min(fraction, 1.0)), 1.0), f"{name}: {message}")

        report(0.0, "starting")
        result = work(report)
        self.timings[name] = round(time.perf_counter() - start, 3)
        self._done += share
        self.check()
        return result

    def check(self) -> None:
        if self.cancel is not None:
            self.cancel.check("reconstruction")


def resolve_device(requested: str) -> str:
    """``auto`` is CUDA when torch sees a CUDA device, else the CPU."""
    import torch

    if requested not in ("auto", "cpu", "cuda"):
        raise DStudioError(f"unknown device {requested!r}; use auto, cpu or cuda")
    if requested == "cuda" and not torch.cuda.is_available():
        raise DStudioError("--device cuda: torch sees no CUDA device on this machine (a CPU-only build of torch, "
                           "or no NVIDIA driver); use --device cpu or auto")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _glb(mesh, colours: Optional[np.ndarray], baked: Optional[texture.Baked], name: str) -> bytes:
    """The result as GLB bytes: textured (a material with the baked base-colour texture; its
    vertices split along the atlas's seams) or with a colour per vertex."""
    from dstudio_desktop.core import Material, Node, TextureRef
    from dstudio_desktop.meshio import MeshData
    from dstudio_desktop.meshio.gltf_write import glb_bytes, mesh_glb
    from dstudio_desktop.meshio.scenedata import SceneData, Texture

    if baked is None:
        rgba = np.concatenate([_linear(colours), np.ones((len(colours), 1))], axis=1).astype(np.float32)
        return mesh_glb(MeshData(positions=np.asarray(mesh.vertices, np.float32),
                                 faces=np.asarray(mesh.faces, np.uint32), colors=rgba, name=name))
    data = MeshData(positions=np.asarray(mesh.vertices, np.float32)[baked.vertex_map],
                    faces=baked.faces.astype(np.uint32), uvs=baked.uvs, name=name)
    image_id, mesh_id = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000000"
    # photographed colour already holds the light it was shot in: a rough dielectric, no metal
    material = Material(name=f"{name} (photographed)"[:256], base_color_texture=TextureRef(asset_id=image_id),
                        metallic_factor=0.0, roughness_factor=0.9)
    node = Node(name=name[:256], kind="mesh", asset_id=mesh_id, material_id=material.id)
    return glb_bytes(SceneData(nodes=[node], materials=[material], meshes={mesh_id: data},
                               textures={image_id: Texture(f"{name} colour", baked.jpeg(), "image/jpeg")}))


def reconstruct(images: Path, output: Path, quality: str = "normal", device: str = "auto",
                report_path: Optional[Path] = None, progress: ProgressCallback = no_progress,
                cancel: Optional[CancelToken] = None) -> Result:
    import pycolmap

    images, output = Path(images), Path(output)
    if quality not in QUALITIES:
        raise DStudioError(f"unknown quality {quality!r}; use {', '.join(QUALITIES)}")
    q = QUALITIES[quality]
    device = resolve_device(device)
    colmap_cuda = device == "cuda" and bool(pycolmap.has_cuda)
    stages = _Stages(progress, cancel)
    started = time.perf_counter()

    work = Path(tempfile.mkdtemp(prefix="dstudio-reconstruct-"))
    try:
        def validate(report):
            if not video.is_video(source):
                return source, None, photoset.check_photos(source)
            # a video: the frames chosen by sharpness and motion are the photos
            chosen = video.sample_frames(source, work / "frames", progress=report, cancel=cancel)
            return chosen.folder, chosen, photoset.check_photos(chosen.folder, label=source.name, what="frame")

        source = images
        images, frames, checked = stages.run("validate", validate)
        if not checked.ok:
            raise PhotoSetRefused(checked)

        model = stages.run("structure", lambda report: sfm.run(
            images, checked.images, work, max_image_size=q.max_image_size, max_features=q.max_features,
            use_cuda=colmap_cuda, progress=report, cancel=cancel))
        box = region.find(model.views, model.points)
        placed = [box.view(v) for v in model.views]

        use_patchmatch = patchmatch.available(device)

        def dense_stage(report):
            views = dense.load_views(placed, box.lo, box.hi, box.apply(model.points), q.dense_side)
            depths = []
            if use_patchmatch:
                report(0.05, "PatchMatch stereo on the GPU")
                depths = patchmatch.depth_maps(work / "undistorted", views, q.max_image_size, cancel)
            for i in range(len(depths), len(views)):
                depth, _ = dense.depth_map(views, i, planes=q.planes, window=q.window, device=device,
                                           check=stages.check, refine=q.refine)
                depths.append(depth)
                report((i + 1) / (len(views) + 1), f"depth for {i + 1} of {len(views)} views")
            masks = [dense.consistent(views, depths, i, q.planes) for i in range(len(views))]
            report(1.0, "checked depths across views")
            return views, [d * m for d, m in zip(depths, masks, strict=True)]

        views, depths = stages.run("dense", dense_stage)
        box = region.tighten(box, dense.points(views, depths))
        volume = stages.run("fusion", lambda report: fusion.fuse(
            views, depths, box.lo, box.hi, resolution=q.voxels, close_bottom=box.ground, device=device,
            progress=lambda f: report(f, "fusing depth maps"), check=stages.check))

        def cleanup_stage(report):
            kept, dropped = cleanup.remove_floaters(surface)
            report(0.4, f"removed {dropped} floating piece(s)")
            # decimated before it is stood on the ground: decimating after moved the bottom's
            # vertices off y = 0 (some below it)
            kept = cleanup.decimate(kept, q.faces)
            if box.ground:
                kept = cleanup.stand_on_ground(kept, float(box.lo[1]), 0.75 * volume.voxel)
            return kept, dropped

        surface = stages.run("surface", lambda report: fusion.surface(volume))
        mesh, floaters = stages.run("cleanup", cleanup_stage)
        if q.texture:
            baked = stages.run("colour", lambda report: texture.bake(mesh, views, q.texture, progress=report,
                                                                     check=stages.check))
            colours = None
        else:
            baked = None
            colours = stages.run("colour", lambda report: cleanup.vertex_colours(mesh, views))

        # photos carry no scale: make the object's longest side 1 (metre, in the app) rather than
        # whatever the first camera pair's baseline happened to be
        scale = 1.0 / float(mesh.extents.max())
        mesh.apply_scale(scale)
        centres = {v.name: v.centre * scale for v in placed}
        report = {
            "images": [{"name": name, "registered": name in centres,
                        "center": centres[name].tolist() if name in centres else None}
                       for name in checked.images],
            "images_folder": str(source),
            "video": None if frames is None else {"file": str(source), "frames": frames.total,
                                                  "kept": frames.frames, "fps": frames.fps},
            "matching": model.matching,
            "mapper": model.mapper,
            "cameras": model.cameras,       # per camera model: its photos, focal length, EXIF prior or not
            "num_images": len(checked.images),
            "num_registered": len(centres),
            "num_points": int(len(model.points)),
            "mean_reprojection_error": model.mean_reprojection_error,
            "dropped_models": model.dropped_models,
            "unregistered_why": model.why_unregistered,     # per photo not placed: its matches, its neighbours
            "second_pass_placed": model.second_pass_placed,
            "findings": [{"file": f.file, "problem": f.problem} for f in checked.findings],
            "device": device,
            "feature_device": "cuda" if colmap_cuda else "cpu",
            "dense_method": "PatchMatch stereo (pycolmap, CUDA)" if use_patchmatch else f"plane sweep (torch, {device})",
            "quality": quality,
            "region": {**box.to_json(), "lo": (box.lo * scale).tolist(), "hi": (box.hi * scale).tolist()},
            "scale": "arbitrary: photos carry no scale, so the longest side of the object is 1; set its true size "
                     "in the app",
            "floaters_removed": floaters,
            "colour": (f"base-colour texture, {q.texture} x {q.texture} texels, from "
                       f"{len(set(baked.labels[baked.labels >= 0].tolist()))} photos") if baked is not None
            else "a colour per vertex",
            "vertices": int(len(mesh.vertices)),
            "faces": int(len(mesh.faces)),
            "timings": stages.timings,
        }

        def export_stage(stage_report):
            from dstudio_desktop.atomic import atomic_write

            blob = _glb(mesh, colours, baked, (source.stem if frames else images.name) or "reconstruction")
            stages.check()  # the last point a cancel is honoured: after it the files appear whole
            atomic_write(output, blob)
            report["timings"] = dict(stages.timings, export=round(time.perf_counter() - export_start, 3))
            report["seconds"] = round(time.perf_counter() - started, 3)
            if report_path is not None:
                atomic_write(Path(report_path), json.dumps(report, indent=1).encode())

        export_start = time.perf_counter()
        stages.run("export", export_stage)
        return Result(report, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)

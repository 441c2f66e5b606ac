"""The path-traced product scene: its parameters and cameras (shared by the Blender script
that renders it and by the code that scores against it), and loading the shipped set.

The frame is gpu.synthetic's: +Y up, the floor at y = 0, cameras in OpenCV's convention
(x right, y down, z forward; ``R`` maps world to camera). Blender builds the scene Z-up and
converts; the ground truth it writes is in this frame.

    python -m gpu.scenes.pathtraced render [FOLDER]    # remake the set with Blender (minutes)

The set (tests/data/pathtraced by default):
    images/view_NN.jpg      the 36 photos (two rings, JPEG like a phone's)
    heldout/held_NN.jpg     views not among the 36, for the colour error of a textured result
    scene.json              parameters, cameras (K, R, centre) of both, object size
    surface.npz             the true surface: vertices, faces (the product alone, no floor),
                            samples (points on it by area) and seen (how many of the 36 see each)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 800, 600
FOCAL = 700.0                 # pixels (a 31.5 mm lens on a 36 mm sensor: a phone's main camera)
VIEWS = 36                    # on two rings, alternating, 10 degrees apart in azimuth
RING_ELEVATIONS = (20.0, 40.0)
RADIUS = 2.2
TARGET = (0.0, 0.33, 0.0)
HELDOUT = 6                   # between the rings, away from every photo's azimuth
HELDOUT_ELEVATION = 30.0
SAMPLES = 12                  # Cycles samples per pixel (adaptive); this Debian build has no denoiser
JPEG_QUALITY = 88
SURFACE_SAMPLES = 40000
REPO = Path(__file__).resolve().parents[2]
DEFAULT_FOLDER = REPO / "tests" / "data" / "pathtraced"


@dataclass
class Camera:
    name: str
    K: np.ndarray
    R: np.ndarray        # world to camera (OpenCV)
    centre: np.ndarray

    def to_json(self) -> dict:
        return {"name": self.name, "K": self.K.tolist(), "R": self.R.tolist(), "centre": self.centre.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> Camera:
        return cls(d["name"], np.array(d["K"]), np.array(d["R"]), np.array(d["centre"]))


def intrinsics() -> np.ndarray:
    return np.array([[FOCAL, 0, WIDTH / 2], [0, FOCAL, HEIGHT / 2], [0, 0, 1.0]])


def look_at(centre: np.ndarray, target: np.ndarray) -> np.ndarray:
    forward = target - centre
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    return np.stack([right, np.cross(forward, right), forward])


def _ring_camera(name: str, azimuth_deg: float, elevation_deg: float) -> Camera:
    a, e = np.radians(azimuth_deg), np.radians(elevation_deg)
    target = np.array(TARGET)
    centre = target + RADIUS * np.array([np.cos(e) * np.cos(a), np.sin(e), np.cos(e) * np.sin(a)])
    return Camera(name, intrinsics(), look_at(centre, target), centre)


def cameras() -> list[Camera]:
    """The photos: view i at azimuth 10 i degrees, on the low ring when i is even."""
    return [_ring_camera(f"view_{i:02d}", 360.0 * i / VIEWS, RING_ELEVATIONS[i % 2]) for i in range(VIEWS)]


def heldout_cameras() -> list[Camera]:
    return [_ring_camera(f"held_{k:02d}", 5.0 + 360.0 * k / HELDOUT, HELDOUT_ELEVATION) for k in range(HELDOUT)]


def parameters() -> dict:
    return {"width": WIDTH, "height": HEIGHT, "focal": FOCAL, "views": VIEWS, "ring_elevations": RING_ELEVATIONS,
            "radius": RADIUS, "target": TARGET, "heldout": HELDOUT, "heldout_elevation": HELDOUT_ELEVATION,
            "samples": SAMPLES, "jpeg_quality": JPEG_QUALITY}


@dataclass
class Truth:
    """A rendered set read back: where its photos are and what they show."""

    folder: Path
    cameras: list[Camera]
    heldout: list[Camera]
    vertices: np.ndarray
    faces: np.ndarray
    samples: np.ndarray
    seen: np.ndarray            # per sample, how many photos see it
    object_size: float          # the longest side of the product's box
    meta: dict

    @property
    def images(self) -> Path:
        return self.folder / "images"

    def centres(self, names: list[str]) -> np.ndarray:
        by_name = {c.name: c.centre for c in self.cameras}
        return np.array([by_name[Path(n).stem] for n in names])


def load(folder: Path = DEFAULT_FOLDER) -> Truth:
    folder = Path(folder)
    meta = json.loads((folder / "scene.json").read_text())
    surface = np.load(folder / "surface.npz")
    return Truth(folder, [Camera.from_json(c) for c in meta["cameras"]],
                 [Camera.from_json(c) for c in meta["heldout_cameras"]], surface["vertices"], surface["faces"],
                 surface["samples"], surface["seen"], float(meta["object_size"]), meta)


def render(folder: Path = DEFAULT_FOLDER, *, samples: int = SAMPLES, only: int | None = None) -> float:
    """Remake the set with Blender (``blender`` on PATH); returns the seconds it took. ``only``
    renders that many photos (a quick look at the lighting), no held-out views."""
    blender = shutil.which("blender")
    if blender is None:
        raise SystemExit("blender not found (apt-get install blender; ./dev sets it up)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    script = Path(__file__).with_name("product_scene.py")
    args = [blender, "-b", "--factory-startup", "--python", str(script), "--", str(folder), str(samples)]
    if only is not None:
        args.append(str(only))
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0 or "PRODUCT_SCENE_DONE" not in proc.stdout:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
        raise SystemExit(f"blender failed ({proc.returncode}):\n{tail}")
    return time.perf_counter() - start


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "render":
        raise SystemExit(__doc__)
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_FOLDER
    only = int(sys.argv[3]) if len(sys.argv) > 3 else None
    print(f"rendered {target} in {render(target, only=only):.0f} s")


def score_result(glb: Path, report: dict, truth: Truth, count: int = 60000) -> dict:
    """A reconstruction of the set (its GLB and report) scored against the truth: photos placed,
    and precision, recall and F at each of ``evaluate.FRACTIONS`` of the object's size (recall
    over what at least two photos see)."""
    import trimesh

    from gpu import evaluate

    placed = [i for i in report["images"] if i["registered"]]
    mesh = trimesh.load(glb, force="mesh")
    samples, _ = trimesh.sample.sample_surface(mesh, count, seed=1)
    centres = np.array([i["center"] for i in placed])
    found = evaluate.scores(np.asarray(samples), truth.samples, centres, truth.centres([i["name"] for i in placed]),
                            truth.object_size, truth.seen >= 2)
    return {"registered": len(placed), "images": len(report["images"]),
            "unregistered": [i["name"] for i in report["images"] if not i["registered"]],
            "alignment_rms": next(iter(found.values())).alignment_rms,
            "scores": {f"{f:.0%}": {"precision": s.precision, "recall": s.recall, "f": s.f_score}
                       for f, s in found.items()}}


def _coloured_samples(mesh, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Points on a loaded result mesh and their sRGB colour (0..1): from its base-colour texture
    when it has one, else interpolated from its vertex colours (which the pipeline writes
    linear). gpu.appearance reads both the way the GLB means them (trimesh's own colour
    sampling does not reach a glTF material's texture)."""
    from gpu.appearance import Surface

    return Surface.from_trimesh(mesh).samples(count, seed=2)


def view_of_result(glb: Path, report: dict, truth: Truth, camera: Camera, count: int = 600_000
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The result seen from one of the truth's cameras (after aligning its camera centres to the
    true ones): its image (sRGB 0..1), the pixels it covers, and the pixels the true product covers."""
    import trimesh

    from gpu import evaluate

    placed = [i for i in report["images"] if i["registered"]]
    s, R, t = evaluate.similarity(np.array([i["center"] for i in placed]), truth.centres([i["name"] for i in placed]))
    mesh = trimesh.load(glb, force="mesh")
    points, colours = _coloured_samples(mesh, count)
    image, covered = evaluate.splat(s * points @ R.T + t, colours, camera.K, camera.R, camera.centre, WIDTH, HEIGHT)
    true_mesh = trimesh.Trimesh(truth.vertices, truth.faces, process=False)
    true_points, _ = trimesh.sample.sample_surface(true_mesh, count, seed=3)
    _, product = evaluate.splat(np.asarray(true_points), np.zeros((len(true_points), 3)), camera.K, camera.R,
                                camera.centre, WIDTH, HEIGHT)
    return image, covered, product


def colour_error(glb: Path, report: dict, truth: Truth) -> float:
    """Mean absolute sRGB error (0..1) of the result against the held-out photos, over the
    pixels where both the result and the true product are seen."""
    from PIL import Image

    errors = []
    for cam in truth.heldout:
        image, covered, product = view_of_result(glb, report, truth, cam)
        photo = np.asarray(Image.open(truth.folder / "heldout" / f"{cam.name}.jpg").convert("RGB"), float) / 255
        both = covered & product
        errors.append(np.abs(image[both] - photo[both]).mean())
    return float(np.mean(errors))


def side_by_side(glb: Path, report: dict, truth: Truth, camera: Camera, photo: Path, out: Path) -> None:
    """A PNG: the photo on the left, the result from the same camera on the right (grey where
    the result has nothing)."""
    from PIL import Image

    image, covered, _ = view_of_result(glb, report, truth, camera)
    image[~covered] = 0.5
    left = Image.open(photo).convert("RGB")
    right = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
    both = Image.new("RGB", (2 * WIDTH, HEIGHT))
    both.paste(left, (0, 0))
    both.paste(right, (WIDTH, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    both.save(out)

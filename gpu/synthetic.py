"""A synthetic photo set with known answers, rendered by ray casting in numpy: a textured
sphere and box on a textured ground, seen by cameras on two rings. The textures are
procedural (many random plane waves per colour channel), so feature matching has real
detail to find, and the shading is Lambertian, so a surface looks the same from every view.

Ground truth comes with it: each camera's intrinsics, rotation and centre, and points
sampled on the true object surfaces, for scoring a reconstruction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, FOCAL = 640, 480, 560.0
SPHERE_C, SPHERE_R = np.array([-0.5, 0.45, 0.0]), 0.45
BOX_LO, BOX_HI = np.array([0.2, 0.0, -0.3]), np.array([0.8, 0.5, 0.3])
GROUND = 1.6          # half the side of the textured ground square
LIGHT = np.array([0.4, 0.8, 0.45]) / np.linalg.norm([0.4, 0.8, 0.45])


@dataclass
class Camera:
    name: str
    K: np.ndarray        # 3x3 intrinsics
    R: np.ndarray        # world to camera rotation (OpenCV: x right, y down, z forward)
    centre: np.ndarray   # in the world

    def to_json(self) -> dict:
        return {"name": self.name, "K": self.K.tolist(), "R": self.R.tolist(), "centre": self.centre.tolist()}


def _texture(points: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((len(points), 3))
    for channel in range(3):
        k = rng.normal(size=(14, 3)) * rng.uniform(6, 40, size=(14, 1))
        phase = rng.uniform(0, 2 * np.pi, size=14)
        out[:, channel] = np.sin(points @ k.T + phase).mean(axis=1)
    return np.clip(0.5 + 1.6 * out, 0.05, 0.95)


def look_at(centre: np.ndarray, target: np.ndarray) -> np.ndarray:
    forward = target - centre
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def cameras(count: int = 24, scale: float = 1.0) -> list[Camera]:
    """``count`` views on two rings; ``scale`` shrinks the images (for sets of hundreds)."""
    K = np.array([[FOCAL * scale, 0, WIDTH * scale / 2], [0, FOCAL * scale, HEIGHT * scale / 2], [0, 0, 1.0]])
    target = np.array([0.0, 0.3, 0.0])
    out = []
    for i in range(count):
        ring = i % 2
        angle = 2 * np.pi * i / count
        elevation = np.radians(22 if ring == 0 else 42)
        radius = 2.6
        centre = target + radius * np.array([np.cos(elevation) * np.cos(angle), np.sin(elevation),
                                             np.cos(elevation) * np.sin(angle)])
        out.append(Camera(f"view_{i:02d}" if count <= 100 else f"view_{i:03d}", K, look_at(centre, target), centre))
    return out


def _intersect(origins: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first hit of each ray (unit ``dirs``): distance (inf for none), what was hit
    (0 sphere, 1 box, 2 ground, -1 nothing) and the surface normal there."""
    n = len(dirs)
    origins = np.broadcast_to(origins, dirs.shape)
    t_best = np.full(n, np.inf)
    kind = np.full(n, -1)
    # sphere
    oc = origins - SPHERE_C
    b = np.einsum("ij,ij->i", dirs, oc)
    disc = b * b - (np.einsum("ij,ij->i", oc, oc) - SPHERE_R ** 2)
    hit = disc > 0
    t = np.where(hit, -b - np.sqrt(np.where(hit, disc, 0)), np.inf)
    take = (t > 1e-6) & (t < t_best)
    t_best[take], kind[take] = t[take], 0
    # box (slabs)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (BOX_LO - origins) / dirs, (BOX_HI - origins) / dirs
    near, far = np.minimum(t1, t2).max(axis=1), np.maximum(t1, t2).min(axis=1)
    take = (far >= near) & (near > 1e-6) & (near < t_best)
    t_best[take], kind[take] = near[take], 1
    # ground
    with np.errstate(divide="ignore", invalid="ignore"):
        tg = -origins[:, 1] / dirs[:, 1]
    g = origins + dirs * tg[:, None]
    take = (tg > 1e-6) & (tg < t_best) & (np.abs(g[:, 0]) < GROUND) & (np.abs(g[:, 2]) < GROUND)
    t_best[take], kind[take] = tg[take], 2
    points = origins + dirs * np.where(np.isfinite(t_best), t_best, 0)[:, None]
    normal = np.zeros((n, 3))
    normal[kind == 0] = (points[kind == 0] - SPHERE_C) / SPHERE_R
    box = kind == 1
    rel = (points[box] - (BOX_LO + BOX_HI) / 2) / ((BOX_HI - BOX_LO) / 2)
    axis = np.argmax(np.abs(rel), axis=1)
    nb = np.zeros((box.sum(), 3))
    nb[np.arange(len(axis)), axis] = np.sign(rel[np.arange(len(axis)), axis])
    normal[box] = nb
    normal[kind == 2] = [0, 1, 0]
    return t_best, kind, normal


def render(camera: Camera) -> np.ndarray:
    """An 8-bit RGB image of the scene from ``camera`` (its size follows the camera's principal point)."""
    width, height = round(2 * camera.K[0, 2]), round(2 * camera.K[1, 2])
    u, v = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    pixels = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], axis=1)
    dirs = (np.linalg.inv(camera.K) @ pixels.T).T @ camera.R  # camera to world: R^T d
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    t_best, kind, normal = _intersect(camera.centre, dirs)
    points = camera.centre + dirs * np.where(np.isfinite(t_best), t_best, 0)[:, None]
    colour = np.zeros((len(dirs), 3))
    sky = np.clip(0.55 + 0.35 * dirs[:, 1:2], 0, 1) * np.array([0.75, 0.82, 0.95])
    colour[kind == -1] = sky[kind == -1]
    for k, seed in ((0, 1), (1, 2), (2, 3)):
        mask = kind == k
        shade = 0.35 + 0.65 * np.clip(normal[mask] @ LIGHT, 0, 1)
        colour[mask] = _texture(points[mask], seed) * shade[:, None]
    return (np.clip(colour, 0, 1) * 255).astype(np.uint8).reshape(height, width, 3)


def surface_colour(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For points near the objects: the photos' colour (sRGB, 0..1) at the nearest point of the
    sphere or box surface, and the distance to it."""
    to_sphere = np.linalg.norm(points - SPHERE_C, axis=1)
    d_sphere = np.abs(to_sphere - SPHERE_R)
    on_sphere = SPHERE_C + SPHERE_R * (points - SPHERE_C) / np.maximum(to_sphere, 1e-12)[:, None]
    half, mid = (BOX_HI - BOX_LO) / 2, (BOX_LO + BOX_HI) / 2
    rel = (points - mid) / half
    axis = np.argmax(np.abs(rel), axis=1)
    rows = np.arange(len(points))
    on_box = np.clip(points, BOX_LO, BOX_HI)
    on_box[rows, axis] = mid[axis] + np.sign(rel[rows, axis]) * half[axis]   # onto the nearest face
    d_box = np.linalg.norm(points - on_box, axis=1)
    sphere = d_sphere < d_box
    normal = np.zeros_like(points)
    normal[sphere] = (on_sphere[sphere] - SPHERE_C) / SPHERE_R
    normal[rows[~sphere], axis[~sphere]] = np.sign(rel[rows[~sphere], axis[~sphere]])
    nearest = np.where(sphere[:, None], on_sphere, on_box)
    colour = np.zeros_like(points)
    for kind, seed in ((True, 1), (False, 2)):
        mask = sphere == kind
        colour[mask] = _texture(nearest[mask], seed) * (0.35 + 0.65 * np.clip(normal[mask] @ LIGHT, 0, 1))[:, None]
    return np.clip(colour, 0, 1), np.where(sphere, d_sphere, d_box)


def views_seeing(points: np.ndarray, cams: list[Camera]) -> np.ndarray:
    """For each point on the scene's surface, how many cameras see it: inside the frame and
    not hidden by anything (the first hit along the camera's ray is the point itself)."""
    count = np.zeros(len(points), int)
    for cam in cams:
        rel = points - cam.centre
        dist = np.linalg.norm(rel, axis=1)
        dirs = rel / dist[:, None]
        pix = (cam.K @ (cam.R @ rel.T)).T
        with np.errstate(divide="ignore", invalid="ignore"):
            u, v = pix[:, 0] / pix[:, 2], pix[:, 1] / pix[:, 2]
        framed = (pix[:, 2] > 0) & (u >= 0) & (u < WIDTH) & (v >= 0) & (v < HEIGHT)
        t, _, _ = _intersect(cam.centre, dirs)
        count += framed & (t > dist - 1e-4 * (1 + dist))
    return count


def object_size() -> float:
    """The longest side of the box holding every object (not the ground)."""
    lo = np.minimum(SPHERE_C - SPHERE_R, BOX_LO)
    hi = np.maximum(SPHERE_C + SPHERE_R, BOX_HI)
    return float((hi - lo).max())


def surface_samples(count: int = 20000, seed: int = 7) -> np.ndarray:
    """Points on the true object surfaces (the sphere, and the box with its underside), by area.
    Recall should count only what cameras see (``views_seeing``); precision needs it all."""
    rng = np.random.default_rng(seed)
    sphere_area = 4 * np.pi * SPHERE_R ** 2
    size = BOX_HI - BOX_LO
    faces = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    box_area = 2 * (size[0] * size[1] + size[1] * size[2] + size[0] * size[2])
    n_sphere = int(count * sphere_area / (sphere_area + box_area))
    d = rng.normal(size=(n_sphere * 2, 3))
    s = SPHERE_C + SPHERE_R * d / np.linalg.norm(d, axis=1, keepdims=True)
    s = s[s[:, 1] > 0][:n_sphere]
    pts = [s]
    areas = np.array([size[a] * size[b] for a, b, _ in faces])
    for (a, b, c), n_face in zip(faces, rng.multinomial(count - len(s), areas / areas.sum()), strict=True):
        p = np.empty((n_face, 3))
        p[:, a] = BOX_LO[a] + rng.uniform(size=n_face) * size[a]
        p[:, b] = BOX_LO[b] + rng.uniform(size=n_face) * size[b]
        p[:, c] = BOX_LO[c] if rng.uniform() < 0.5 else BOX_HI[c]
        pts.append(p)
    return np.concatenate(pts)


def write_photo_set(folder: Path, count: int = 24) -> list[Camera]:
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cams = cameras(count)
    for cam in cams:
        Image.fromarray(render(cam)).save(folder / f"{cam.name}.png")
    (folder / "ground_truth.json").write_text(json.dumps({"cameras": [c.to_json() for c in cams]}, indent=1))
    return cams

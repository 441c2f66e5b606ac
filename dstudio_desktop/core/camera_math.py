"""Camera arithmetic on ``CameraView``: look-at frames, orbit, pan, zoom, fit.

Pure numpy so the viewport, headless renders and tests agree on every number.
"""

from __future__ import annotations

import math

import numpy as np

from .cameras import CameraView


def frame(view: CameraView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, true_up, forward) unit vectors of the view."""
    forward = np.subtract(view.target, view.eye).astype(float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, view.up)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return right, up, forward


def view_matrix(view: CameraView) -> np.ndarray:
    """World -> camera (column vectors; the camera looks down -Z)."""
    right, up, forward = frame(view)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = right, up, -forward
    m[:3, 3] = -m[:3, :3] @ np.asarray(view.eye, dtype=float)
    return m


def distance(view: CameraView) -> float:
    return float(np.linalg.norm(np.subtract(view.target, view.eye)))


def view_height(view: CameraView) -> float:
    """The height of the visible region at the target, in world units."""
    if view.projection == "orthographic":
        return view.ortho_height or 2 * distance(view) * math.tan(math.radians(view.fov) / 2)
    return 2 * distance(view) * math.tan(math.radians(view.fov) / 2)


def _rotate(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    return v * math.cos(angle) + np.cross(axis, v) * math.sin(angle) + axis * np.dot(axis, v) * (1 - math.cos(angle))


def orbit(view: CameraView, d_azimuth: float, d_elevation: float, world_up=(0.0, 1.0, 0.0)) -> CameraView:
    """Turn the eye about the target: azimuth about world up, elevation about the camera's right (radians)."""
    world_up = np.asarray(world_up, dtype=float)
    target = np.asarray(view.target, dtype=float)
    offset = np.asarray(view.eye, dtype=float) - target
    offset = _rotate(offset, world_up, -d_azimuth)
    right = np.cross(-offset, world_up)
    if np.linalg.norm(right) < 1e-12:
        right, _, _ = frame(view)
    current = math.asin(np.clip(np.dot(offset / np.linalg.norm(offset), world_up), -1, 1))
    limit = math.radians(89.5)
    d_elevation = float(np.clip(current + d_elevation, -limit, limit) - current)
    offset = _rotate(offset, right, -d_elevation)
    return view.model_copy(update={"eye": tuple(target + offset), "up": tuple(world_up)})


def pan(view: CameraView, dx: float, dy: float) -> CameraView:
    """Slide eye and target together by fractions of the view's height (dx right, dy up)."""
    right, up, _ = frame(view)
    h = view_height(view)
    shift = (right * dx + up * dy) * h
    return view.model_copy(update={"eye": tuple(np.add(view.eye, shift)), "target": tuple(np.add(view.target, shift))})


def zoom(view: CameraView, factor: float) -> CameraView:
    """Move closer (factor < 1) or further; orthographic views scale their height too."""
    target = np.asarray(view.target, dtype=float)
    eye = target + (np.asarray(view.eye, dtype=float) - target) * factor
    update: dict = {"eye": tuple(eye)}
    if view.projection == "orthographic":
        update["ortho_height"] = view_height(view) * factor
    return view.model_copy(update=update)


def fit(view: CameraView, lo: np.ndarray, hi: np.ndarray, margin: float = 1.15, aspect: float = 1.0) -> CameraView:
    """Keep the direction of view; move so the box [lo, hi] fills the view of an image
    ``aspect`` (width / height) wide: the narrower of the two fields of view decides, so a
    wide part is not cropped in a tall window, nor a tall one in a wide window."""
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    centre = (lo + hi) / 2
    radius = max(float(np.linalg.norm(hi - lo)) / 2, 1e-6)
    _, _, forward = frame(view)
    half_v = math.radians(view.fov) / 2
    half_h = math.atan(math.tan(half_v) * max(aspect, 1e-3))
    dist = radius * margin / math.sin(min(half_v, half_h))
    update = {
        "target": tuple(centre),
        "eye": tuple(centre - forward * dist),
        "near": max(dist / 1000, 1e-5),
        "far": dist + radius * 10,
    }
    if view.projection == "orthographic":
        update["ortho_height"] = 2 * radius * margin / min(1.0, max(aspect, 1e-3))
    return view.model_copy(update=update)


def standard_view(name: str, lo: np.ndarray, hi: np.ndarray, base: CameraView, aspect: float = 1.0) -> CameraView:
    """Front, back, left, right, top, bottom or iso, fitted to the box."""
    directions = {
        "front": (0, 0, 1), "back": (0, 0, -1), "left": (-1, 0, 0), "right": (1, 0, 0),
        "top": (0, 1, 0), "bottom": (0, -1, 0), "iso": (1, 0.8, 1),
    }
    d = np.asarray(directions[name], dtype=float)
    up = (0.0, 0.0, -1.0) if name == "top" else (0.0, 0.0, 1.0) if name == "bottom" else (0.0, 1.0, 0.0)
    centre = (np.asarray(lo) + np.asarray(hi)) / 2
    seed = base.model_copy(update={"target": tuple(centre), "eye": tuple(centre + d), "up": up})
    return fit(seed, lo, hi, aspect=aspect)


def ray_through(view: CameraView, x: float, y: float, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """(origin, unit direction) of the ray through pixel (x, y) of a width x height image (y down)."""
    right, up, forward = frame(view)
    nx, ny = 2 * x / width - 1, 1 - 2 * y / height
    half_h = view_height(view) / 2
    aspect = width / height
    if view.projection == "perspective":
        tan = math.tan(math.radians(view.fov) / 2)
        direction = forward + right * nx * tan * aspect + up * ny * tan
        return np.asarray(view.eye, dtype=float), direction / np.linalg.norm(direction)
    origin = np.asarray(view.eye, dtype=float) + right * nx * half_h * aspect + up * ny * half_h
    return origin, forward

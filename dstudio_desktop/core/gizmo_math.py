"""The arithmetic of transform gizmos: pure numpy, shared by the viewport and its tests.

Screen points are canvas pixels (x right, y down) of a ``width`` x ``height`` view, as
``camera_math.ray_through`` takes them. Drags turn two mouse rays (where the drag started and
where the pointer is now) into a translation, an angle or scale factors; ``translated``,
``rotated`` and ``scaled`` turn those into a node's new local ``Transform`` given its parent's
world matrix. Pivots follow Blender's names: the median point (the mean of the origins), the
active part's origin, or each part's own origin.
"""

from __future__ import annotations

import math
from typing import Literal, Optional, Sequence

import numpy as np

from . import camera_math as cm
from .cameras import CameraView
from .transform import Transform, matrix_to_quat, quat_to_matrix

PivotKind = Literal["median", "active", "individual"]
Orientation = Literal["world", "local"]
PIVOTS: tuple[str, ...] = ("median", "active", "individual")
ORIENTATIONS: tuple[str, ...] = ("world", "local")
MIN_FACTOR = 1e-3   # a scale drag never collapses a part to nothing (a zero scale is not a transform)


# -- projection ---------------------------------------------------------------

def project(view: CameraView, points: np.ndarray, width: float, height: float) -> np.ndarray:
    """(N, 3): pixel x, pixel y and the depth in front of the eye (<= 0: behind it) of world
    points, exactly inverse to ``camera_math.ray_through``."""
    pts = np.atleast_2d(np.asarray(points, dtype=float))
    cam = pts @ cm.view_matrix(view)[:3, :3].T + cm.view_matrix(view)[:3, 3]
    depth = -cam[:, 2]
    aspect = width / height
    if view.projection == "perspective":
        tan = math.tan(math.radians(view.fov) / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(np.abs(depth) > 1e-300, depth, 1e-300)
            nx, ny = cam[:, 0] / safe / (tan * aspect), cam[:, 1] / safe / tan
    else:
        half_h = cm.view_height(view) / 2
        nx, ny = cam[:, 0] / (half_h * aspect), cam[:, 1] / half_h
    return np.column_stack([(nx + 1) / 2 * width, (1 - ny) / 2 * height, depth])


def world_per_pixel(view: CameraView, point: np.ndarray, height: float) -> float:
    """How long one pixel is, in world units, at ``point`` (for handles of a constant size on screen)."""
    if view.projection == "orthographic":
        return cm.view_height(view) / height
    _, _, forward = cm.frame(view)
    depth = max(float(np.dot(np.asarray(point, float) - np.asarray(view.eye, float), forward)), 1e-9)
    return 2 * depth * math.tan(math.radians(view.fov) / 2) / height


def screen_direction(view: CameraView, point: np.ndarray, vector: np.ndarray, width: float,
                     height: float) -> np.ndarray:
    """The pixel displacement of a small step along ``vector`` from ``point``, per unit of ``vector``."""
    point, vector = np.asarray(point, float), np.asarray(vector, float)
    eps = world_per_pixel(view, point, height) / max(np.linalg.norm(vector), 1e-300)
    a, b = project(view, np.array([point, point + vector * eps]), width, height)[:, :2]
    return (b - a) / eps


# -- rays, lines and planes ---------------------------------------------------

def ray_plane(origin: np.ndarray, direction: np.ndarray, point: np.ndarray,
              normal: np.ndarray) -> Optional[np.ndarray]:
    """Where the ray meets the plane, or None when it runs (nearly) along it or the plane is behind."""
    direction, normal = np.asarray(direction, float), np.asarray(normal, float)
    denom = float(np.dot(direction, normal))
    if abs(denom) < 1e-9 * np.linalg.norm(direction) * np.linalg.norm(normal):
        return None
    t = float(np.dot(np.asarray(point, float) - origin, normal)) / denom
    if t < 0:
        return None
    return np.asarray(origin, float) + direction * t


def axis_plane_normal(axis: np.ndarray, view_direction: np.ndarray) -> Optional[np.ndarray]:
    """The normal of the plane that holds ``axis`` and faces the viewer best (as three.js's
    TransformControls drags along an axis); None when the axis points at the viewer."""
    axis = _unit(axis)
    n = np.asarray(view_direction, float) - axis * np.dot(view_direction, axis)
    length = np.linalg.norm(n)
    return None if length < 1e-6 else n / length


def along_axis(pivot: np.ndarray, axis: np.ndarray, view_direction: np.ndarray,
               ray: tuple[np.ndarray, np.ndarray]) -> Optional[float]:
    """The signed distance from ``pivot`` along the unit ``axis`` of the point under the ray."""
    axis = _unit(axis)
    normal = axis_plane_normal(axis, view_direction)
    if normal is None:
        return None
    hit = ray_plane(ray[0], ray[1], pivot, normal)
    return None if hit is None else float(np.dot(hit - np.asarray(pivot, float), axis))


def plane_offset(pivot: np.ndarray, normal: np.ndarray, ray0: tuple[np.ndarray, np.ndarray],
                 ray1: tuple[np.ndarray, np.ndarray]) -> Optional[np.ndarray]:
    """How far the point under the pointer moved in the plane through ``pivot`` (world vector)."""
    a = ray_plane(ray0[0], ray0[1], pivot, normal)
    b = ray_plane(ray1[0], ray1[1], pivot, normal)
    return None if a is None or b is None else b - a


def signed_angle(u: np.ndarray, v: np.ndarray, axis: np.ndarray) -> float:
    """The angle turning ``u`` to ``v`` about ``axis`` (right-handed, radians in (-pi, pi])."""
    axis = _unit(axis)
    u = np.asarray(u, float) - axis * np.dot(u, axis)
    v = np.asarray(v, float) - axis * np.dot(v, axis)
    return math.atan2(float(np.dot(np.cross(u, v), axis)), float(np.dot(u, v)))


def ring_angle(pivot: np.ndarray, axis: np.ndarray, ray0: tuple[np.ndarray, np.ndarray],
               ray1: tuple[np.ndarray, np.ndarray]) -> Optional[float]:
    """The angle about ``axis`` swept by the points under the two rays on the ring's plane;
    None when the ring is seen (nearly) edge on, where a plane hit is meaningless."""
    axis = _unit(axis)
    a = ray_plane(ray0[0], ray0[1], pivot, axis)
    b = ray_plane(ray1[0], ray1[1], pivot, axis)
    if a is None or b is None:
        return None
    pivot = np.asarray(pivot, float)
    if np.linalg.norm(a - pivot) < 1e-12 or np.linalg.norm(b - pivot) < 1e-12:
        return 0.0
    return signed_angle(a - pivot, b - pivot, axis)


def wrap_angle(angle: float) -> float:
    """``angle`` in (-pi, pi]: how the swept angle is unwrapped between two pointer moves."""
    return math.atan2(math.sin(angle), math.cos(angle))


def ray_sphere(origin: np.ndarray, direction: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """The near point where the ray meets the sphere, or, when it misses, the sphere's point
    nearest the ray (so a handle dragged off the sphere's outline slides along it)."""
    origin, direction, centre = (np.asarray(v, float) for v in (origin, direction, centre))
    d = _unit(direction)
    t_mid = float(np.dot(centre - origin, d))
    closest = origin + d * t_mid
    miss = float(np.linalg.norm(closest - centre))
    if miss <= radius:
        return origin + d * (t_mid - math.sqrt(radius * radius - miss * miss))
    return centre + _unit(closest - centre) * radius


# -- snapping -----------------------------------------------------------------

def snap(value: float | np.ndarray, step: float) -> float | np.ndarray:
    """``value`` rounded to a multiple of ``step`` (unchanged when ``step`` is not positive)."""
    if step <= 0:
        return value
    if isinstance(value, np.ndarray):
        return np.round(value / step) * step
    return round(value / step) * step


def snap_factor(factor: float, step: float) -> float:
    """A scale factor rounded to a multiple of ``step`` (never below one step)."""
    if step <= 0:
        return factor
    return max(round(factor / step) * step, step)


# -- rotation matrices ----------------------------------------------------------

def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """The 3x3 rotation by ``angle`` radians about ``axis`` (Rodrigues)."""
    x, y, z = _unit(axis)
    c, s = math.cos(angle), math.sin(angle)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def nearest_rotation(m: np.ndarray) -> np.ndarray:
    """The rotation closest to ``m`` (polar decomposition): strips scale and shear."""
    u, _, vt = np.linalg.svd(np.asarray(m, float))
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] = -u[:, -1]
        r = u @ vt
    return r


def orientation_frame(orientation: str, world: Optional[np.ndarray]) -> np.ndarray:
    """Columns: the gizmo's X, Y and Z axes in world space; the world's or a part's own
    (``world`` its world matrix, scale and shear taken out)."""
    if orientation == "local" and world is not None:
        return nearest_rotation(np.asarray(world, float)[:3, :3])
    return np.eye(3)


# -- pivots -------------------------------------------------------------------

def pivots(origins: np.ndarray, kind: str, active: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """(where the gizmo sits, each part's pivot) for world ``origins`` (N, 3): the median
    point (their mean, as Blender's "median point"), the active part's origin, or each
    part's own origin (the gizmo then sits at the median point)."""
    origins = np.atleast_2d(np.asarray(origins, float))
    if kind not in PIVOTS:
        raise ValueError(f"pivot must be one of {', '.join(PIVOTS)}, not {kind!r}")
    if len(origins) == 0:
        raise ValueError("no parts to find a pivot for")
    median = origins.mean(axis=0)
    if kind == "median":
        return median, np.repeat(median[None, :], len(origins), axis=0)
    if kind == "active":
        point = origins[active]
        return point, np.repeat(point[None, :], len(origins), axis=0)
    return median, origins.copy()


# -- edits of one node ------------------------------------------------------------

def translated(transform: Transform, parent_world: np.ndarray, delta: np.ndarray) -> Transform:
    """``transform`` moved by the world vector ``delta`` (rotation and scale untouched)."""
    local = np.linalg.solve(np.asarray(parent_world, float)[:3, :3], np.asarray(delta, float))
    t = np.asarray(transform.translation, float) + local
    return transform.model_copy(update={"translation": tuple(float(v) for v in t)})


def rotated(transform: Transform, parent_world: np.ndarray, pivot: np.ndarray, turn: np.ndarray) -> Transform:
    """``transform`` turned by the world rotation ``turn`` (3x3) about the world point ``pivot``;
    scale untouched."""
    parent = np.asarray(parent_world, float)
    world = parent @ transform.matrix()
    pivot = np.asarray(pivot, float)
    origin = pivot + turn @ (world[:3, 3] - pivot)
    local_origin = np.linalg.solve(parent[:3, :3], origin - parent[:3, 3])
    a = parent[:3, :3]
    r_local = nearest_rotation(np.linalg.solve(a, turn @ a) @ quat_to_matrix(transform.rotation))
    return transform.model_copy(update={"translation": tuple(float(v) for v in local_origin),
                                        "rotation": matrix_to_quat(r_local)})


def scaled(transform: Transform, parent_world: np.ndarray, pivot: np.ndarray, frame: np.ndarray,
           factors: Sequence[float]) -> Transform:
    """``transform`` scaled by ``factors`` along the columns of ``frame`` about ``pivot``.

    The part's origin moves exactly; its own scale changes by how much each of its axes
    stretches (exact when the part's axes line up with the frame, the nearest shear-free
    transform otherwise: a node holds translation, rotation and scale, never shear)."""
    factors = np.asarray(factors, float)
    parent = np.asarray(parent_world, float)
    world = parent @ transform.matrix()
    pivot = np.asarray(pivot, float)
    stretch = frame @ np.diag(factors) @ frame.T
    origin = pivot + stretch @ (world[:3, 3] - pivot)
    local_origin = np.linalg.solve(parent[:3, :3], origin - parent[:3, 3])
    old = np.asarray(transform.scale, float)
    if np.all(factors == factors[0]):
        new = old * factors[0]   # uniform: exactly proportional
    else:
        axes = world[:3, :3]
        ratios = np.linalg.norm(stretch @ axes, axis=0) / np.maximum(np.linalg.norm(axes, axis=0), 1e-300)
        new = old * ratios
    return transform.model_copy(update={"translation": tuple(float(v) for v in local_origin),
                                        "scale": tuple(float(v) for v in new)})


# -- screen-space hit tests ---------------------------------------------------------

def segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Pixel distance from ``p`` to the segment ``a``-``b``."""
    p, a, b = (np.asarray(v, float) for v in (p, a, b))
    ab = b - a
    length2 = float(np.dot(ab, ab))
    t = 0.0 if length2 == 0 else min(max(float(np.dot(p - a, ab)) / length2, 0.0), 1.0)
    return float(np.linalg.norm(p - (a + ab * t)))


def polyline_distance(p: np.ndarray, points: np.ndarray) -> float:
    """Pixel distance from ``p`` to a polyline (N, 2)."""
    pts = np.asarray(points, float)
    a, b = pts[:-1], pts[1:]
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(np.where(length2 > 0, np.einsum("ij,ij->i", np.asarray(p, float) - a, ab) / length2, 0), 0, 1)
    return float(np.min(np.linalg.norm(a + ab * t[:, None] - p, axis=1))) if len(a) else math.inf


def inside_polygon(p: np.ndarray, polygon: np.ndarray) -> bool:
    """Whether ``p`` lies inside the polygon (N, 2) (even-odd rule)."""
    x, y = float(p[0]), float(p[1])
    inside = False
    pts = np.asarray(polygon, float)
    for (x1, y1), (x2, y2) in zip(pts, np.roll(pts, -1, axis=0), strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def rect_contains(outer: tuple[float, float, float, float], inner: tuple[float, float, float, float]) -> bool:
    """Whether the rectangle ``inner`` (x0, y0, x1, y1) lies inside ``outer`` (corners in any order)."""
    ox0, ox1 = sorted((outer[0], outer[2]))
    oy0, oy1 = sorted((outer[1], outer[3]))
    return ox0 <= inner[0] and inner[2] <= ox1 and oy0 <= inner[1] and inner[3] <= oy1


def screen_rect(view: CameraView, points: np.ndarray, width: float,
                height: float) -> Optional[tuple[float, float, float, float]]:
    """The pixel rectangle (x0, y0, x1, y1) that world ``points`` cover; None when any lies
    behind the eye (such a part is never inside a box drawn on the screen)."""
    projected = project(view, points, width, height)
    if len(projected) == 0 or np.any(projected[:, 2] <= 0):
        return None
    lo, hi = projected[:, :2].min(axis=0), projected[:, :2].max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    n = np.linalg.norm(v)
    if n < 1e-300:
        raise ValueError("a direction must not be the zero vector")
    return v / n


__all__ = [
    "MIN_FACTOR", "ORIENTATIONS", "PIVOTS", "along_axis", "axis_plane_normal", "inside_polygon",
    "nearest_rotation", "orientation_frame", "pivots", "plane_offset", "polyline_distance", "project",
    "ray_plane", "ray_sphere", "rect_contains", "ring_angle", "rotated", "rotation", "scaled",
    "screen_direction", "screen_rect", "segment_distance", "signed_angle", "snap", "snap_factor",
    "translated", "world_per_pixel", "wrap_angle",
]

"""Camera arithmetic: frames are orthonormal, orbit keeps distance, fit contains the box."""

from __future__ import annotations

import math

import numpy as np

from dstudio_desktop.core import CameraView
from dstudio_desktop.core import camera_math as cm


def test_view_matrix_puts_target_straight_ahead() -> None:
    view = CameraView(eye=(1.0, 2.0, 3.0), target=(0.5, 0.0, -1.0))
    m = cm.view_matrix(view)
    t = m @ np.array([*view.target, 1.0])
    assert abs(t[0]) < 1e-12 and abs(t[1]) < 1e-12 and t[2] < 0
    assert np.allclose(m[:3, :3] @ m[:3, :3].T, np.eye(3))


def test_orbit_keeps_distance_and_target_and_clamps_at_the_pole() -> None:
    view = CameraView(eye=(0.0, 0.0, 2.0), target=(0.0, 0.0, 0.0))
    turned = cm.orbit(view, math.radians(90), 0.0)
    assert np.allclose(turned.eye, (-2.0, 0.0, 0.0), atol=1e-9) or np.allclose(turned.eye, (2.0, 0.0, 0.0), atol=1e-9)
    assert math.isclose(cm.distance(turned), 2.0)
    over = cm.orbit(view, 0.0, math.radians(200))
    assert math.isclose(cm.distance(over), 2.0)
    assert over.eye[1] > 0 and abs(over.eye[1]) < 2.0  # stopped just short of straight overhead


def test_fit_contains_the_box() -> None:
    lo, hi = np.array([-1.0, 0.0, -2.0]), np.array([3.0, 1.0, 0.0])
    view = cm.fit(CameraView(), lo, hi)
    m = cm.view_matrix(view)
    half = math.tan(math.radians(view.fov) / 2)
    for corner in np.array(np.meshgrid(*zip(lo, hi, strict=True))).T.reshape(-1, 3):
        x, y, z, _ = m @ np.array([*corner, 1.0])
        assert -z > 0 and abs(y) / -z <= half  # horizontally the aspect ratio decides; vertically fov does


def test_pan_moves_eye_and_target_together_and_zoom_scales_distance() -> None:
    view = CameraView(eye=(0.0, 0.0, 4.0), target=(0.0, 0.0, 0.0))
    panned = cm.pan(view, 0.5, 0.0)
    assert np.allclose(np.subtract(panned.eye, panned.target), np.subtract(view.eye, view.target))
    assert panned.target[0] > 0
    assert math.isclose(cm.distance(cm.zoom(view, 0.5)), 2.0)


def test_standard_views_look_along_their_axis() -> None:
    view = cm.standard_view("top", np.zeros(3), np.ones(3), CameraView())
    _, _, forward = cm.frame(view)
    assert np.allclose(forward, (0, -1, 0))

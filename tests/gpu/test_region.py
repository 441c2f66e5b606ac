"""Finding the object: the ground is the level plane under the cameras (not a bigger wall),
the output frame stands it at y = 0, and the box holds the object and not the floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gpu import region, synthetic
from gpu.sfm import RegisteredView


def _views() -> list[RegisteredView]:
    return [RegisteredView(c.name, c.K, c.R, -c.R @ c.centre, Path(c.name)) for c in synthetic.cameras()]


def test_the_floor_is_the_ground_even_when_a_wall_has_more_points():
    rng = np.random.default_rng(0)
    floor = np.c_[rng.uniform(-1.5, 1.5, 600), np.zeros(600), rng.uniform(-1.5, 1.5, 600)]
    wall = np.c_[rng.uniform(-3, 3, 1500), rng.uniform(0, 3, 1500), np.full(1500, -4.0)]
    d = rng.normal(size=(400, 3))
    ball = synthetic.SPHERE_C + synthetic.SPHERE_R * d / np.linalg.norm(d, axis=1, keepdims=True)
    found = region.find(_views(), np.concatenate([floor, wall, ball]))
    assert found.ground
    assert np.allclose(found.rotation[1], [0, 1, 0], atol=1e-3)  # level, not the wall
    assert np.abs(found.apply(floor)[:, 1]).max() < 2e-3          # the floor is y = 0
    assert found.lo[1] > 0                                          # and not in the box
    inside = np.all((found.apply(ball) >= found.lo) & (found.apply(ball) <= found.hi), axis=1)
    assert inside.mean() > 0.95


def test_tightening_keeps_two_objects_and_drops_scattered_noise():
    rng = np.random.default_rng(1)
    loose = region.Region(np.eye(3), np.zeros(3), np.array([-3.0, 0.01, -3.0]), np.array([3.0, 3.0, 3.0]), True)
    a = rng.uniform([-1.0, 0.0, -0.3], [-0.4, 0.6, 0.3], (20000, 3))
    b = rng.uniform([0.4, 0.0, -0.3], [1.0, 0.5, 0.3], (20000, 3))
    noise = rng.uniform(loose.lo, loose.hi, (300, 3))
    tight = region.tighten(loose, np.concatenate([a, b, noise]))
    assert tight.lo[0] < -0.95 and tight.hi[0] > 0.95               # both objects
    assert tight.hi[0] < 1.3 and tight.lo[2] > -0.6 and tight.hi[1] < 0.9   # not the noise
    assert tight.lo[1] == loose.lo[1]                               # the floor stays

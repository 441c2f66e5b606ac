"""The plane sweep against the synthetic scene's true depth (its true cameras, no structure
from motion, so each test takes a second or two): the coarse-to-fine sweep the qualities use
finds the objects' depth as closely as one full-resolution sweep with twice its planes, and the
shortcut for the best two of four neighbours is topk's answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gpu import dense, synthetic


def load(photos: Path, side: int) -> list[dense.View]:
    from PIL import Image

    views = []
    for cam in synthetic.cameras():
        with Image.open(photos / f"{cam.name}.png") as im:
            s = side / max(im.size)
            im = im.convert("RGB").resize((round(im.width * s), round(im.height * s)), Image.BILINEAR)
            image = np.asarray(im, np.float32) / 255
        K = cam.K.copy()
        K[:2] *= s
        views.append(dense.View(cam.name, K, cam.R, -cam.R @ cam.centre, image, 1.2, 4.5))
    return views


def true_depth(view: dense.View) -> tuple[np.ndarray, np.ndarray]:
    """(depth along the optical axis, which pixels show the sphere or the box)."""
    h, w = view.image.shape[:2]
    u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
    rays = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], 1) @ np.linalg.inv(view.K).T
    world = rays @ view.R
    length = np.linalg.norm(world, axis=1)
    t, kind, _ = synthetic._intersect(np.repeat(view.centre[None], len(world), 0), world / length[:, None])
    return (t / length).reshape(h, w), ((kind >= 0) & (kind <= 1)).reshape(h, w)


@pytest.fixture(scope="module")
def views(synthetic_photos):
    return load(synthetic_photos, 320)


def test_coarse_to_fine_finds_the_objects_depth(views):
    index = 7
    truth, objects = true_depth(views[index])
    results = {}
    for name, planes, refine in (("full sweep", 64, 0), ("coarse to fine", 64, 10), ("full, few planes", 32, 0)):
        depth, _ = dense.depth_map(views, index, planes=planes, refine=refine)
        found = objects & (depth > 0)
        error = np.abs(depth[found] - truth[found]) / truth[found]
        results[name] = (found.sum() / objects.sum(), (error < 0.01).mean(), (error < 0.003).mean())
        print(name, results[name])
    full, c2f, few = results["full sweep"], results["coarse to fine"], results["full, few planes"]
    assert c2f[0] > 0.9 and full[0] > 0.95          # depth found on the objects
    assert c2f[1] > 0.75 and c2f[1] > few[1] + 0.1  # within 1%: near the full sweep, well above the cheap one
    assert c2f[2] > full[2]                          # finer than a plane step of the full sweep


def test_the_best_two_of_four_match_topk():
    values = torch.randn(4, 10_000)
    assert torch.allclose(dense._mean_of_best(values, 2), values.topk(2, dim=0).values.mean(0))
    three = torch.randn(3, 100)
    assert torch.allclose(dense._mean_of_best(three, 2), three.topk(2, dim=0).values.mean(0))

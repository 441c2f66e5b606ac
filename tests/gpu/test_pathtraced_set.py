"""The shipped path-traced set (tests/data/pathtraced) is what gpu/scenes/pathtraced.py says
it renders: the photos' count, size and format, the held-out views, the cameras, and a true
surface in the scene's frame that the photos actually see. (Rendering it takes Blender about
ten minutes, so the suite checks the set instead of remaking it.)"""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from gpu.scenes import pathtraced


def test_the_shipped_set_matches_the_scripts_parameters():
    truth = pathtraced.load()
    meta = json.loads((truth.folder / "scene.json").read_text())
    params = pathtraced.parameters()
    assert {k: meta[k] for k in params} == json.loads(json.dumps(params))
    photos = sorted(truth.images.iterdir())
    assert [p.name for p in photos] == [f"{c.name}.jpg" for c in pathtraced.cameras()]
    held = sorted((truth.folder / "heldout").iterdir())
    assert [p.name for p in held] == [f"{c.name}.jpg" for c in pathtraced.heldout_cameras()]
    for path in photos + held:
        with Image.open(path) as im:
            assert im.format == "JPEG" and im.size == (pathtraced.WIDTH, pathtraced.HEIGHT)
        assert path.stat().st_size < 250_000
    for shipped, made in zip(truth.cameras + truth.heldout, pathtraced.cameras() + pathtraced.heldout_cameras(),
                             strict=True):
        assert np.allclose(shipped.R, made.R) and np.allclose(shipped.centre, made.centre)
        assert np.allclose(shipped.K, made.K)


def test_the_true_surface_stands_on_the_floor_and_is_seen():
    truth = pathtraced.load()
    lo, hi = truth.vertices.min(0), truth.vertices.max(0)
    assert abs(lo[1]) < 1e-4 and 0.5 < truth.object_size < 2.0      # the foot on y = 0
    assert float((hi - lo).max()) == np.float32(truth.object_size)
    assert len(truth.samples) == pathtraced.SURFACE_SAMPLES == len(truth.seen)
    assert 0.6 < (truth.seen >= 2).mean() < 0.98        # the underside and the inside of the handle go unseen
    # each camera looks at the product: the true surface projects into the middle of its frame
    for cam in truth.cameras:
        pix = (truth.samples - cam.centre) @ cam.R.T @ cam.K.T
        u, v = pix[:, 0] / pix[:, 2], pix[:, 1] / pix[:, 2]
        assert abs(np.median(u) - pathtraced.WIDTH / 2) < 60 and abs(np.median(v) - pathtraced.HEIGHT / 2) < 80


def test_scores_at_each_tolerance_and_a_view_of_points():
    """The true surface scored against itself (moved by a known similarity, as a reconstruction's
    own frame would be) is perfect at every tolerance; a shell half a tolerance out scores 0 at
    1% and 1 at 5%. And a splatted view hides what is behind the nearest surface."""
    from gpu import evaluate

    truth = pathtraced.load()
    cams = np.array([c.centre for c in truth.cameras])
    angle = 0.4
    R = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    own = lambda p: (p - 0.2) @ R / 3.0   # noqa: E731 - the inverse of 3 R p + 0.2
    exact = evaluate.scores(own(truth.samples), truth.samples, own(cams), cams, truth.object_size)
    assert all(s.f_score > 0.999 for s in exact.values()) and list(exact) == list(evaluate.FRACTIONS)
    shifted = truth.samples + [0, 0.02 * truth.object_size, 0]
    off = evaluate.scores(own(shifted), truth.samples, own(cams), cams, truth.object_size)
    assert off[0.01].precision < 0.5 and off[0.05].f_score > 0.99

    cam = truth.cameras[0]
    grid = np.stack(np.meshgrid(np.linspace(-0.3, 0.3, 400), np.linspace(0, 0.6, 400)), -1).reshape(-1, 2)
    near = np.column_stack([np.full(len(grid), 0.5), grid[:, 1], grid[:, 0]])     # a red wall at x = 0.5
    far = near - [1.0, 0, 0]                                                      # a blue one behind it
    colours = np.concatenate([np.tile([1.0, 0, 0], (len(near), 1)), np.tile([0, 0, 1.0], (len(far), 1))])
    image, covered = evaluate.splat(np.concatenate([near, far]), colours, cam.K, cam.R, cam.centre,
                                    pathtraced.WIDTH, pathtraced.HEIGHT)
    centre = image[280:320, 380:420]
    assert covered[280:320, 380:420].all() and (centre[..., 0] == 1).all() and (centre[..., 2] == 0).all()

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

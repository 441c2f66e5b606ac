"""dstudio render: each of the sample's camera presets gives a distinct, non-blank image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.gui


def test_render_each_sample_camera(cli, tmp_path: Path) -> None:
    pid = cli("sample", "--json").json()["id"]
    images = {}
    for camera in ("Front", "Three-quarter", "Top"):
        out = tmp_path / f"{camera}.png"
        res = cli("render", pid, "-o", str(out), "--camera", camera, "--size", "320x240", "--json", timeout=120)
        assert res.returncode == 0, res.stderr
        image = np.asarray(Image.open(out).convert("RGB")).astype(int)
        assert image.shape == (240, 320, 3)
        assert image.std() > 10  # not blank
        images[camera] = image
    names = list(images)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert np.abs(images[a] - images[b]).mean() > 5, (a, b)


def test_render_reports_unknown_camera_and_bad_size(cli, tmp_path: Path) -> None:
    pid = cli("sample", "--json").json()["id"]
    res = cli("render", pid, "-o", str(tmp_path / "x.png"), "--camera", "Nope", timeout=120)
    assert res.returncode == 1 and "no camera preset 'Nope'" in res.stderr and "Front" in res.stderr
    assert cli("render", pid, "-o", str(tmp_path / "x.png"), "--size", "big").returncode == 2

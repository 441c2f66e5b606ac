"""The shadow catcher: a cube on the ground under a key light at 45 degrees darkens the ground
in its shadow; switched off, the ground is the same everywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .scenes import run


def test_the_key_light_casts_the_cube_shadow_on_the_ground(tmp_path: Path) -> None:
    on = run("shadow_scene", True, str(tmp_path / "on.png"))
    shadow, lit = np.asarray(on["shadow"], float), np.asarray(on["lit"], float)
    assert shadow.mean() <= 0.7 * lit.mean(), (shadow, lit)        # at least 30% darker than lit ground
    off = run("shadow_scene", False, str(tmp_path / "off.png"))
    assert np.abs(np.asarray(off["shadow"], float) - np.asarray(off["lit"], float)).max() <= 2, off
    assert np.abs(np.asarray(off["lit"], float) - lit).max() <= 2   # the lit ground is the same either way


def test_the_shadow_is_soft_at_its_far_end(tmp_path: Path) -> None:
    """Percentage-closer soft shadows: the penumbra widens away from the contact line."""
    from PIL import Image

    on = run("shadow_scene", True, str(tmp_path / "on.png"))
    image = np.asarray(Image.open(on["image"]).convert("L")).astype(float)
    column = image[:, 128]                      # down the middle: the shadow's far end is towards the top
    lit, dark = column[5], column[int(round((-0.15 + 0.5) * 256))]
    far_end = column[int(round((-0.45 + 0.5) * 256)):int(round((-0.15 + 0.5) * 256))]
    assert ((far_end > dark + 10) & (far_end < lit - 10)).sum() >= 6, far_end  # a gradual edge, not a step

"""The white furnace: a diffuse (non-metal, roughness 1) sphere of sRGB colour C, lit only by a
uniform white environment of radiance 1 at exposure 0 with Khronos PBR Neutral.

What the glTF BRDF reflects there is exactly computable: the irradiance of a uniform
environment is pi, so the diffuse lobe returns C; the dielectric specular layer (F0 = 0.04)
adds k = F0 A + B (plus the multiple-scattering term) of the split-sum table at N.V = 1,
roughness 1, and takes it from the diffuse: lit = C (1 - k) + k. The render must equal
PBR Neutral of that, sRGB-encoded, within 3/255 at the centre: that checks the linear model,
the environment's irradiance and prefiltering, the BRDF table, the tone mapper and the
encode at once.

PBR Neutral itself subtracts a specular offset (0.04 when every channel is at least 0.08, less
below), so the rendered pixel is near C but not C: see ``test_how_far_the_furnace_is_from_c``.
"""

from __future__ import annotations

import numpy as np
import pytest

from dstudio_desktop.core.color import hex_to_linear, linear_to_srgb, pbr_neutral
from dstudio_desktop.render import ibl

from .scenes import run

COLOURS = ["#cc140d", "#1e5aa0", "#808080", "#2a7f3c", "#f0c020", "#b0b0b0", "#604020"]


def expected(colour: str) -> np.ndarray:
    c = np.asarray(hex_to_linear(colour))
    k = ibl.ggx_fresnel_ibl(1.0, 1.0, np.full(3, 0.04))
    return np.round(np.asarray(linear_to_srgb(pbr_neutral(c * (1 - k) + k))) * 255)


@pytest.fixture(scope="module")
def furnace() -> dict:
    return run("furnace", COLOURS)


def test_the_furnace_renders_what_the_brdf_and_pbr_neutral_give(furnace) -> None:
    for colour in COLOURS:
        pixel = np.asarray(furnace["pixels"][colour])
        assert np.abs(pixel - expected(colour)).max() <= 3, (colour, pixel, expected(colour))


def test_how_far_the_furnace_is_from_c(furnace) -> None:
    """Recorded, not hidden: the distance from each picked colour. A rough dielectric's
    specular layer returns k ~ 0.014 under white light while PBR Neutral takes off up to 0.04
    (it expects a shiny dielectric's 4%), so mid colours come out up to ~8/255 darker and
    channels near black drop further. No colour-independent lighting can bring both #cc140d
    and #1e5aa0 within 3/255 under PBR Neutral (their darkest channels need lit minima 0.022 -
    0.029 and 0.042 - 0.049, 0.013 apart, while they differ by only 0.009 in base colour)."""
    for colour in COLOURS:
        pixel = np.asarray(furnace["pixels"][colour])
        picked = np.round(np.asarray(linear_to_srgb(hex_to_linear(colour))) * 255)
        assert np.abs(pixel - picked).max() <= 20, (colour, pixel, picked)
    red = np.asarray(furnace["pixels"]["#cc140d"])
    assert red[0] > 190 and red[1] < 40 and red[2] < 30          # dark red, not the old salmon (243, 148, 121)


def test_it_was_drawn_without_a_display(furnace) -> None:
    assert furnace["info"]["backend"] in ("egl", "osmesa")

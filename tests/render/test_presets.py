"""Lighting presets that mean something, new projects lit from the start, and the documents
of older projects upgraded to linear colour and glTF light units."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dstudio_desktop.core import Project
from dstudio_desktop.core.color import hex_to_linear, srgb_to_linear
from dstudio_desktop.core.environment import EnvironmentConfig
from dstudio_desktop.core.lighting import DEFAULT_PRESET, LightingConfig, apply_preset, builtin_presets
from dstudio_desktop.core.materials import MaterialSet, material_library
from dstudio_desktop.core.schema import load_document

from .scenes import run

PRESETS = ["studio", "three-point", "outdoor", "soft", "product"]


def test_every_preset_is_a_whole_look() -> None:
    presets = builtin_presets()
    assert sorted(presets) == sorted(PRESETS)
    environments = set()
    for name, preset in presets.items():
        assert preset.lights and preset.environment is not None and preset.exposure is not None, name
        assert preset.description
        environments.add(preset.environment.builtin)
    assert len(environments) == 5                     # each has its own environment


def test_a_new_project_starts_in_the_default_preset() -> None:
    project = Project(name="new")
    lighting, env = project.lighting_config, project.environment_config
    preset = builtin_presets()[DEFAULT_PRESET]
    assert lighting.active_preset == DEFAULT_PRESET
    assert [lt.name for lt in lighting.lights] == [lt.name for lt in preset.lights]
    assert env.lighting.enabled and env.lighting.builtin == preset.environment.builtin
    assert env.exposure == preset.exposure and env.tone_mapping == "pbr_neutral"
    assert env.shadow_catcher.enabled
    # and applying the default preset to it changes nothing but the lights' ids
    again_l, again_e = apply_preset(preset, lighting, env)
    assert again_e.to_json() == env.to_json()
    assert [lt.model_dump(exclude={"id"}) for lt in again_l.lights] == [lt.model_dump(exclude={"id"}) for lt in lighting.lights]


def test_applying_a_preset_keeps_grid_catcher_and_tone_mapping() -> None:
    env = EnvironmentConfig()
    env.grid.visible = False
    env.tone_mapping = "aces"
    env.shadow_catcher.opacity = 0.3
    _, after = apply_preset(builtin_presets()["outdoor"], LightingConfig(), env)
    assert after.lighting.builtin == "outdoor" and after.exposure == builtin_presets()["outdoor"].exposure
    assert after.grid.visible is False and after.tone_mapping == "aces" and after.shadow_catcher.opacity == 0.3


def test_the_presets_look_clearly_different(tmp_path: Path) -> None:
    images = run("sample_under_presets", PRESETS, str(tmp_path))
    pixels = {k: np.asarray(Image.open(v).convert("RGB")).astype(float) for k, v in images.items()}
    for i, a in enumerate(PRESETS):
        for b in PRESETS[i + 1:]:
            assert np.abs(pixels[a] - pixels[b]).mean() > 12, (a, b)
    # and none is dark or blown out: the red shade stays red and readable in every one
    for name, image in pixels.items():
        assert 25 < image.mean() < 235, name


def test_version_1_documents_upgrade() -> None:
    env = load_document(EnvironmentConfig, {
        "schema_version": 1, "exposure": 0.5, "tone_mapping": "aces",
        "background": {"mode": "gradient", "color": [0.18, 0.19, 0.21], "top_color": [0.3, 0.32, 0.36],
                       "bottom_color": [0.12, 0.12, 0.14], "image_asset_id": None},
        "grid": {"visible": True, "spacing": 0.1, "extent": 2.0, "color": [0.45, 0.45, 0.5]},
        "shadow_catcher": {"enabled": False, "opacity": 0.5}})
    assert env.background.top_color == pytest.approx(srgb_to_linear((0.3, 0.32, 0.36)), abs=1e-6)
    assert env.grid.color == pytest.approx(srgb_to_linear((0.45, 0.45, 0.5)), abs=1e-6)
    assert env.tone_mapping == "aces" and env.exposure == 0.5        # a person's choices stay
    assert env.lighting.enabled is False and env.shadow_catcher.enabled is False   # looks as it did
    light = {"id": "6f1c2a52-9d0e-4c55-9a7b-2b6a0f3d1e10", "name": "K", "intensity": 1.5, "direction": [0, -1, 0]}
    lighting = load_document(LightingConfig, {"schema_version": 1, "ambient_intensity": 0.2, "lights": [light],
                                              "presets": [{"name": "mine", "lights": [light]}]})
    assert lighting.lights[0].intensity == pytest.approx(1.5 * math.pi)      # glTF units: as bright as before
    assert lighting.presets[0].lights[0].intensity == pytest.approx(1.5 * math.pi)
    materials = load_document(MaterialSet, {"schema_version": 1, "materials": [
        {"name": "m", "base_color_factor": [0.8, 0.08, 0.05, 1.0]}]})
    assert materials.materials[0].base_color_factor == (0.8, 0.08, 0.05, 1.0)   # glTF's numbers are linear


def test_the_library_file_is_srgb_and_the_library_linear() -> None:
    library = {m.name: m for m in material_library()}
    assert library["Signal red plastic"].base_color_factor[:3] == pytest.approx(hex_to_linear("#cc140d"), abs=1e-9)
    glass = library["Frosted glass"]
    assert glass.base_color_factor[3] == 0.35 and glass.alpha_mode == "BLEND"
    # metals keep their measured linear F0 (written in the file as its sRGB hex)
    assert library["Brushed aluminium"].base_color_factor[:3] == pytest.approx((0.91, 0.92, 0.92), abs=5e-3)   # 8-bit hex


def test_no_preset_blows_a_product_out() -> None:
    """The brightest point of a matte part is 1 to 1.6 times its base colour at the preset's
    exposure: under PBR Neutral the picked colour reads true on the lit side (the old studio
    preset lit it at about twice its colour, the product one at four times)."""
    brightness = run("preset_brightness", PRESETS)
    for name, value in brightness.items():
        assert 1.0 <= value <= 1.6, (name, value)

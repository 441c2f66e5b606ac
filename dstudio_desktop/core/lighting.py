"""Lights, the ``lighting_config`` document, and the built-in lighting presets.

Light colours are linear and intensities are glTF's (KHR_lights_punctual): a directional
light's intensity is its illuminance, so a white light of intensity pi straight onto a
matte surface of colour C shows C. A preset is a whole look: lights, an environment that
lights and reflects, and an exposure; a new project starts with the default preset
(``DEFAULT_PRESET``), never in the dark.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal, Optional

from pydantic import Field, model_validator

from .environment import Background, EnvironmentConfig, EnvironmentLight
from .schema import Direction, Document, Finite, Id, Model, Name, NonNegative, Rgb, Vec3, new_id, register_migration

LightType = Literal["directional", "point", "spot"]


class Light(Model):
    """A directional, point or spot light. Directions point where the light travels."""

    id: Id = Field(default_factory=new_id)
    name: Name
    type: LightType = "directional"
    color: Rgb = (1.0, 1.0, 1.0)
    intensity: NonNegative = 1.0
    direction: Direction = (0.0, -1.0, 0.0)
    position: Vec3 = (0.0, 0.0, 0.0)
    range: Optional[NonNegative] = None
    inner_cone_angle: float = Field(default=0.0, ge=0.0, le=math.pi / 2)
    outer_cone_angle: float = Field(default=math.pi / 4, ge=0.0, le=math.pi / 2)
    enabled: bool = True

    @model_validator(mode="after")
    def _cones(self) -> Light:
        if self.inner_cone_angle > self.outer_cone_angle:
            raise ValueError("inner_cone_angle must not exceed outer_cone_angle")
        return self


class LightingPreset(Model):
    """A named, reusable look: lights with an ambient term, and (when given) the environment
    that lights and reflects, the exposure and the background that go with them."""

    name: Name
    ambient_color: Rgb = (1.0, 1.0, 1.0)
    ambient_intensity: NonNegative = 0.0
    lights: list[Light] = Field(default_factory=list)
    environment: Optional[EnvironmentLight] = None
    exposure: Optional[Finite] = None
    background: Optional[Background] = None
    description: str = ""


DEFAULT_PRESET = "studio"


class LightingConfig(Document):
    """The ``lighting_config`` document: ambient light, the lights, saved presets."""

    DOC_NAME: ClassVar[str] = "lighting_config"
    SCHEMA_VERSION: ClassVar[int] = 2

    schema_version: Literal[2] = 2
    ambient_color: Rgb = (1.0, 1.0, 1.0)
    ambient_intensity: NonNegative = 0.0
    # a new document is lit by the default preset (its lights with fresh ids)
    lights: list[Light] = Field(default_factory=lambda: _fresh(builtin_presets()[DEFAULT_PRESET].lights))
    active_preset: Optional[str] = DEFAULT_PRESET
    presets: list[LightingPreset] = Field(default_factory=list)

    def with_preset(self, preset: LightingPreset) -> LightingConfig:
        """A copy lit by ``preset`` (fresh light ids), keeping the saved presets."""
        lights = _fresh(preset.lights)
        return LightingConfig(
            ambient_color=preset.ambient_color,
            ambient_intensity=preset.ambient_intensity,
            lights=lights,
            active_preset=preset.name,
            presets=list(self.presets),
        )


def _dir(x: float, y: float, z: float) -> Vec3:
    n = math.sqrt(x * x + y * y + z * z)
    return (x / n, y / n, z / n)


def builtin_presets() -> dict[str, LightingPreset]:
    """The looks every project offers: studio, three-point, outdoor, soft and product.

    Each pairs its lights with one of the built-in environments (softboxes on a dark or light
    dome, a sky) and an exposure, so they differ at a glance: a dark studio with a big key
    softbox, a contrasty three-point with a strong rim, sunlight under a blue sky, a soft light
    tent with faint shadows, and a bright white product sweep."""
    dark = Background(mode="gradient", top_color=(0.0732, 0.0835, 0.1065), bottom_color=(0.0134, 0.0134, 0.0174))
    return {
        "studio": LightingPreset(
            name="studio", description="dark studio, a big key softbox front left, fill and top strip",
            lights=[
                Light(name="Key", direction=_dir(-0.5, -0.8, -0.6), intensity=1.32),
                Light(name="Fill", direction=_dir(0.7, -0.3, -0.4), intensity=0.24, color=(0.92, 0.95, 1.0)),
            ],
            environment=EnvironmentLight(builtin="studio", intensity=1.0), exposure=0.0, background=dark,
        ),
        "three-point": LightingPreset(
            name="three-point", description="contrasty: strong warm key, cool fill, bright rim from behind",
            lights=[
                Light(name="Key", direction=_dir(-0.6, -0.5, -0.6), intensity=2.1, color=(1.0, 0.93, 0.84)),
                Light(name="Fill", direction=_dir(0.7, -0.2, -0.5), intensity=0.36, color=(0.8, 0.88, 1.0)),
                Light(name="Rim", direction=_dir(0.1, -0.4, 0.9), intensity=2.1),
            ],
            environment=EnvironmentLight(builtin="three-point", intensity=1.0), exposure=0.0,
            background=Background(mode="solid", color=(0.0065, 0.0065, 0.0075)),
        ),
        "outdoor": LightingPreset(
            name="outdoor", description="high warm sun under a blue sky",
            lights=[
                Light(name="Sun", direction=_dir(-0.3, -0.9, -0.25), intensity=2.66, color=(1.0, 0.93, 0.82)),
            ],
            environment=EnvironmentLight(builtin="outdoor", intensity=1.0), exposure=0.0,
            background=Background(mode="environment", blur=0.1),
        ),
        "soft": LightingPreset(
            name="soft", description="a light tent: bright dome, big overhead softbox, faint shadows",
            lights=[Light(name="Overhead", direction=_dir(0.0, -1.0, -0.2), intensity=0.42)],
            environment=EnvironmentLight(builtin="studio-light", intensity=1.0), exposure=0.0,
            background=Background(mode="gradient", top_color=(0.52, 0.53, 0.55), bottom_color=(0.25, 0.25, 0.26)),
        ),
        "product": LightingPreset(
            name="product", description="white product sweep for turntables and catalogue shots",
            lights=[Light(name="Key", direction=_dir(0.15, -1.0, -0.45), intensity=0.64)],
            environment=EnvironmentLight(builtin="product", intensity=1.0), exposure=0.0,
            background=Background(mode="solid", color=(0.80, 0.80, 0.81)),
        ),
    }


def apply_preset(preset: LightingPreset, lighting: LightingConfig,
                 environment: EnvironmentConfig) -> tuple[LightingConfig, EnvironmentConfig]:
    """The two documents a preset gives: its lights (the saved presets kept), and the
    environment with the preset's light, exposure and background (the grid, shadow catcher
    and tone mapping as they were)."""
    env = environment.model_copy(deep=True)
    changes = {}
    if preset.environment is not None:
        changes["lighting"] = preset.environment.model_copy()
    if preset.exposure is not None:
        changes["exposure"] = preset.exposure
    if preset.background is not None:
        changes["background"] = preset.background.model_copy()
    return lighting.with_preset(preset), EnvironmentConfig.model_validate({**env.to_json(), **{
        k: (v.to_json() if hasattr(v, "to_json") else v) for k, v in changes.items()}})


def _fresh(lights: list[Light]) -> list[Light]:
    return [light.model_copy(update={"id": new_id()}) for light in lights]


@register_migration("lighting_config", 1)
def _v1_to_v2(doc: dict) -> dict:
    """Version 1's shader multiplied every light by pi; version 2 uses glTF's units, so the
    intensities are multiplied by pi to keep each light as bright as it was."""
    def scaled(lights):
        return [{**light, "intensity": round(light["intensity"] * math.pi, 6)}
                if isinstance(light, dict) and isinstance(light.get("intensity"), (int, float)) else light
                for light in lights or []]

    doc = {**doc, "lights": scaled(doc.get("lights"))}
    if isinstance(doc.get("presets"), list):
        doc["presets"] = [{**p, "lights": scaled(p.get("lights"))} if isinstance(p, dict) else p for p in doc["presets"]]
    return doc


def preset_named(name: str, config: Optional[LightingConfig] = None) -> LightingPreset:
    """A built-in preset, or one saved in ``config``; KeyError lists what exists."""
    saved = {p.name: p for p in (config.presets if config else [])}
    presets = {**builtin_presets(), **saved}
    if name not in presets:
        raise KeyError(f"no lighting preset {name!r}; choose one of {', '.join(sorted(presets))}")
    return presets[name]



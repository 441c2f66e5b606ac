"""Lights, the ``lighting_config`` document, and the built-in lighting presets."""

from __future__ import annotations

import math
from typing import ClassVar, Literal, Optional

from pydantic import Field, model_validator

from .schema import Direction, Document, Id, Model, Name, NonNegative, Rgb, Vec3, new_id

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
    """A named, reusable set of lights with an ambient term."""

    name: Name
    ambient_color: Rgb = (1.0, 1.0, 1.0)
    ambient_intensity: NonNegative = 0.2
    lights: list[Light] = Field(default_factory=list)


class LightingConfig(Document):
    """The ``lighting_config`` document: ambient light, the lights, saved presets."""

    DOC_NAME: ClassVar[str] = "lighting_config"
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: Literal[1] = 1
    ambient_color: Rgb = (1.0, 1.0, 1.0)
    ambient_intensity: NonNegative = 0.2
    lights: list[Light] = Field(default_factory=list)
    active_preset: Optional[str] = None
    presets: list[LightingPreset] = Field(default_factory=list)

    def with_preset(self, preset: LightingPreset) -> LightingConfig:
        """A copy lit by ``preset`` (fresh light ids), keeping the saved presets."""
        lights = [light.model_copy(update={"id": new_id()}) for light in preset.lights]
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
    """The presets every project offers: studio, three-point, outdoor, soft."""
    return {
        "studio": LightingPreset(
            name="studio",
            ambient_intensity=0.25,
            lights=[
                Light(name="Key", direction=_dir(-0.5, -0.8, -0.6), intensity=1.5),
                Light(name="Fill", direction=_dir(0.7, -0.3, -0.4), intensity=0.5),
                Light(name="Top", direction=_dir(0.0, -1.0, 0.1), intensity=0.35),
            ],
        ),
        "three-point": LightingPreset(
            name="three-point",
            ambient_intensity=0.1,
            lights=[
                Light(name="Key", direction=_dir(-0.6, -0.5, -0.6), intensity=2.5),
                Light(name="Fill", direction=_dir(0.7, -0.2, -0.5), intensity=0.9, color=(0.9, 0.95, 1.0)),
                Light(name="Rim", direction=_dir(0.1, -0.4, 0.9), intensity=1.8),
            ],
        ),
        "outdoor": LightingPreset(
            name="outdoor",
            ambient_color=(0.55, 0.7, 1.0),
            ambient_intensity=0.45,
            lights=[
                Light(name="Sun", direction=_dir(-0.3, -0.9, -0.25), intensity=3.0, color=(1.0, 0.96, 0.88)),
            ],
        ),
        "soft": LightingPreset(
            name="soft",
            ambient_intensity=0.6,
            lights=[Light(name="Overhead", direction=_dir(0.0, -1.0, -0.2), intensity=0.9)],
        ),
    }


def preset_named(name: str, config: Optional[LightingConfig] = None) -> LightingPreset:
    """A built-in preset, or one saved in ``config``; KeyError lists what exists."""
    saved = {p.name: p for p in (config.presets if config else [])}
    presets = {**builtin_presets(), **saved}
    if name not in presets:
        raise KeyError(f"no lighting preset {name!r}; choose one of {', '.join(sorted(presets))}")
    return presets[name]



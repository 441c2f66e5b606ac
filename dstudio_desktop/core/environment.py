"""The ``environment_config`` document: the light of the surroundings (an HDR environment),
the background, the ground grid, the shadow catcher, exposure and tone mapping.

Colours here are linear like every model colour (the panel shows and takes them as sRGB).
The environment light is a built-in studio environment (made by code, see
``render.environments``) or an HDR image asset of the project (.hdr or .exr); it lights the
scene whether or not it is shown as the background.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Optional

from pydantic import Field, model_validator

from .color import srgb_to_linear
from .schema import Document, Finite, Id, Model, NonNegative, Rgb, Unit, register_migration

ToneMapping = Literal["pbr_neutral", "aces", "agx", "reinhard", "linear"]
TONE_MAPPINGS: tuple[str, ...] = ("pbr_neutral", "aces", "agx", "reinhard", "linear")
TONE_MAPPING_NAMES = {"pbr_neutral": "Khronos PBR Neutral", "aces": "ACES (filmic)", "agx": "AgX",
                      "reinhard": "Reinhard", "linear": "None (clip)"}
# the built-in environments (render.environments makes them; resources/environments keeps them)
BUILTIN_ENVIRONMENTS: tuple[str, ...] = ("studio", "studio-light", "three-point", "outdoor", "product")
DEFAULT_ENVIRONMENT = "studio"


class Background(Model):
    """Behind the model: a solid colour, a vertical gradient, an image, or the environment
    itself (blurred as asked). Any of them leaves the environment's light on the model."""

    mode: Literal["solid", "gradient", "image", "environment"] = "gradient"
    color: Rgb = (0.0272, 0.0301, 0.0363)         # sRGB #2e3036
    top_color: Rgb = (0.0732, 0.0835, 0.1065)     # sRGB #4d525c
    bottom_color: Rgb = (0.0134, 0.0134, 0.0174)  # sRGB #1f1f24
    image_asset_id: Optional[Id] = None
    blur: Unit = 0.25                             # for "environment": 0 sharp, 1 the softest level

    @model_validator(mode="after")
    def _image_needs_asset(self) -> Background:
        if self.mode == "image" and self.image_asset_id is None:
            raise ValueError("an image background needs image_asset_id")
        return self


class EnvironmentLight(Model):
    """Image-based light: a built-in environment, or a project's HDR image (which wins)."""

    enabled: bool = True
    builtin: Literal["studio", "studio-light", "three-point", "outdoor", "product"] = DEFAULT_ENVIRONMENT
    asset_id: Optional[Id] = None
    intensity: NonNegative = 1.0
    rotation: Finite = 0.0   # degrees about the up axis

    def source_key(self) -> str:
        """What identifies the pixels: the asset id, or ``builtin:<name>``."""
        return self.asset_id or f"builtin:{self.builtin}"


class Grid(Model):
    visible: bool = True
    spacing: float = Field(default=0.1, gt=0.0, allow_inf_nan=False)
    extent: float = Field(default=2.0, gt=0.0, allow_inf_nan=False)
    color: Rgb = (0.1706, 0.1706, 0.214)   # sRGB #737380


class ShadowCatcher(Model):
    """An invisible ground under the model that shows only the shadows the key light casts."""

    enabled: bool = True
    opacity: Unit = 0.7
    softness: Unit = 0.35    # 0 a sharp edge, 1 the widest penumbra


class EnvironmentConfig(Document):
    """How the world around the model looks and lights it."""

    DOC_NAME: ClassVar[str] = "environment_config"
    SCHEMA_VERSION: ClassVar[int] = 2

    schema_version: Literal[2] = 2
    lighting: EnvironmentLight = Field(default_factory=EnvironmentLight)
    background: Background = Field(default_factory=Background)
    grid: Grid = Field(default_factory=Grid)
    shadow_catcher: ShadowCatcher = Field(default_factory=ShadowCatcher)
    exposure: Finite = 0.0  # in stops (EV), like a camera's exposure compensation
    tone_mapping: ToneMapping = "pbr_neutral"


@register_migration("environment_config", 1)
def _v1_to_v2(doc: dict) -> dict:
    """Version 1 drew its background and grid colours as stored, so they were sRGB: they
    become the linear values that look the same. It had no environment light, and its shadow
    catcher was never drawn: the light stays off and the catcher as stored, so an old project
    looks as it did (in the right colours) until a lighting preset is applied."""
    doc = dict(doc)
    background = dict(doc.get("background") or {})
    for key in ("color", "top_color", "bottom_color"):
        if _rgb(background.get(key)):
            background[key] = [round(c, 6) for c in srgb_to_linear(tuple(background[key]))]
    if "background" in doc:
        doc["background"] = background
    grid = dict(doc.get("grid") or {})
    if _rgb(grid.get("color")):
        grid["color"] = [round(c, 6) for c in srgb_to_linear(tuple(grid["color"]))]
        doc["grid"] = grid
    doc.setdefault("lighting", {"enabled": False})
    doc.setdefault("shadow_catcher", {"enabled": False})
    doc.setdefault("tone_mapping", "aces")  # version 1's default, which such a document had
    return doc


def _rgb(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 3 and all(
        isinstance(c, (int, float)) and not isinstance(c, bool) for c in value)

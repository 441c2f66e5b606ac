"""The ``environment_config`` document: background, ground grid, shadow catcher, exposure."""

from __future__ import annotations

from typing import ClassVar, Literal, Optional

from pydantic import Field, model_validator

from .schema import Document, Finite, Id, Model, Rgb

ToneMapping = Literal["linear", "reinhard", "aces"]


class Background(Model):
    mode: Literal["solid", "gradient", "image"] = "gradient"
    color: Rgb = (0.18, 0.19, 0.21)
    top_color: Rgb = (0.30, 0.32, 0.36)
    bottom_color: Rgb = (0.12, 0.12, 0.14)
    image_asset_id: Optional[Id] = None

    @model_validator(mode="after")
    def _image_needs_asset(self) -> Background:
        if self.mode == "image" and self.image_asset_id is None:
            raise ValueError("an image background needs image_asset_id")
        return self


class Grid(Model):
    visible: bool = True
    spacing: float = Field(default=0.1, gt=0.0, allow_inf_nan=False)
    extent: float = Field(default=2.0, gt=0.0, allow_inf_nan=False)
    color: Rgb = (0.45, 0.45, 0.5)


class ShadowCatcher(Model):
    enabled: bool = False
    opacity: float = Field(default=0.5, ge=0.0, le=1.0)


class EnvironmentConfig(Document):
    """How the world around the model looks."""

    DOC_NAME: ClassVar[str] = "environment_config"
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: Literal[1] = 1
    background: Background = Field(default_factory=Background)
    grid: Grid = Field(default_factory=Grid)
    shadow_catcher: ShadowCatcher = Field(default_factory=ShadowCatcher)
    exposure: Finite = 0.0  # in stops, like a camera's exposure compensation
    tone_mapping: ToneMapping = "aces"

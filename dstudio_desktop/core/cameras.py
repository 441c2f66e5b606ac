"""Camera views, the named ``camera_presets`` document, and ``canvas_state``."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from .schema import Direction, Document, Id, Model, Name, Vec3, new_id, require_unique

Projection = Literal["perspective", "orthographic"]


class CameraView(Model):
    """Where a camera is and how it projects. ``ortho_height`` is the view's height in metres."""

    eye: Vec3 = (0.0, 0.5, 2.0)
    target: Vec3 = (0.0, 0.0, 0.0)
    up: Direction = (0.0, 1.0, 0.0)
    fov: float = Field(default=45.0, gt=1.0, lt=179.0)
    projection: Projection = "perspective"
    near: float = Field(default=0.01, gt=0.0, allow_inf_nan=False)
    far: float = Field(default=1000.0, gt=0.0, allow_inf_nan=False)
    ortho_height: Optional[float] = Field(default=None, gt=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _geometry(self) -> CameraView:
        forward = np.subtract(self.target, self.eye)
        if np.linalg.norm(forward) < 1e-12:
            raise ValueError("eye and target must differ")
        if np.linalg.norm(np.cross(forward, self.up)) < 1e-9 * np.linalg.norm(forward):
            raise ValueError("up must not be parallel to the viewing direction")
        if self.near >= self.far:
            raise ValueError("near must be less than far")
        return self


class CameraPreset(CameraView):
    """A named view the designer saved."""

    id: Id = Field(default_factory=new_id)
    name: Name

    def view(self) -> CameraView:
        """The view alone, without the preset's id and name."""
        return CameraView(**self.model_dump(include=set(CameraView.model_fields)))


class CameraPresets(Document):
    """The ``camera_presets`` document; ``default_id`` names the view a project opens with."""

    DOC_NAME: ClassVar[str] = "camera_presets"
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: Literal[1] = 1
    presets: list[CameraPreset] = Field(default_factory=list)
    default_id: Optional[Id] = None

    @model_validator(mode="after")
    def _default_exists(self) -> CameraPresets:
        ids = [p.id for p in self.presets]
        require_unique(ids, "preset")
        if self.default_id is not None and self.default_id not in ids:
            raise ValueError(f"default_id {self.default_id} is not one of the presets")
        return self

    def get(self, key: str) -> Optional[CameraPreset]:
        """A preset by id or, failing that, by name."""
        return next((p for p in self.presets if p.id == key), None) or next(
            (p for p in self.presets if p.name == key), None
        )

    def default(self) -> Optional[CameraPreset]:
        return self.get(self.default_id) if self.default_id else None


class CanvasState(Document):
    """Viewport-only UI state. Saved with the project but never versioned."""

    DOC_NAME: ClassVar[str] = "canvas_state"
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: Literal[1] = 1
    camera: Optional[CameraView] = None
    selection: list[Id] = Field(default_factory=list)
    panel_layout: dict[str, Any] = Field(default_factory=dict)
    #: the unit lengths are shown and typed in (see core.units); the scene itself is metres
    display_units: Literal["mm", "cm", "m", "in"] = "mm"

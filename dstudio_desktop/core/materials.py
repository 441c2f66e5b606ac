"""PBR metallic-roughness materials, field for field as glTF 2.0 defines them.

Colours are linear, as glTF defines ``baseColorFactor`` and ``emissiveFactor``; widgets show
and take them as sRGB through ``core.color``. The material library file holds its colours
as sRGB hex (what a person types) and is converted on load.
"""

from __future__ import annotations

import json
from typing import ClassVar, Literal, Optional

from pydantic import Field, ValidationError, model_validator

from ..errors import DocumentError
from ..resources import resource
from .color import ColorError, hex_to_linear
from .schema import (
    Document,
    Finite,
    Id,
    Model,
    Name,
    NonNegative,
    Rgba,
    format_loc,
    new_id,
    register_migration,
    require_unique,
)

AlphaMode = Literal["OPAQUE", "MASK", "BLEND"]


class TextureTransform(Model):
    """KHR_texture_transform: UVs are scaled, then rotated (radians, counter-clockwise),
    then offset; ``texcoord`` overrides the reference's UV set when given."""

    offset: tuple[Finite, Finite] = (0.0, 0.0)
    rotation: Finite = 0.0
    scale: tuple[Finite, Finite] = (1.0, 1.0)
    texcoord: Optional[int] = Field(default=None, ge=0, le=7)

    def matrix(self) -> tuple[tuple[float, float, float], ...]:
        """The 3x3 UV matrix (row-major) the extension defines: T * R * S."""
        import math

        c, s = math.cos(self.rotation), math.sin(self.rotation)
        (sx, sy), (tx, ty) = self.scale, self.offset
        return ((c * sx, s * sy, tx), (-s * sx, c * sy, ty), (0.0, 0.0, 1.0))


class TextureRef(Model):
    """A texture: an image asset, the UV set it is read with and an optional UV transform."""

    asset_id: Id
    texcoord: int = Field(default=0, ge=0, le=7)
    transform: Optional[TextureTransform] = None


class NormalTextureRef(TextureRef):
    scale: Finite = 1.0


class OcclusionTextureRef(TextureRef):
    strength: float = Field(default=1.0, ge=0.0, le=1.0)


class Material(Model):
    """A glTF 2.0 metallic-roughness material plus a name and where it came from."""

    id: Id = Field(default_factory=new_id)
    name: Name
    library_origin: Optional[str] = None
    base_color_factor: Rgba = (1.0, 1.0, 1.0, 1.0)
    base_color_texture: Optional[TextureRef] = None
    metallic_factor: float = Field(default=1.0, ge=0.0, le=1.0)
    roughness_factor: float = Field(default=1.0, ge=0.0, le=1.0)
    metallic_roughness_texture: Optional[TextureRef] = None
    emissive_factor: tuple[NonNegative, NonNegative, NonNegative] = (0.0, 0.0, 0.0)
    emissive_texture: Optional[TextureRef] = None
    normal_texture: Optional[NormalTextureRef] = None
    occlusion_texture: Optional[OcclusionTextureRef] = None
    alpha_mode: AlphaMode = "OPAQUE"
    alpha_cutoff: float = Field(default=0.5, ge=0.0)
    double_sided: bool = False

    TEXTURE_SLOTS: ClassVar[tuple[str, ...]] = ("base_color_texture", "metallic_roughness_texture", "normal_texture",
                                                 "occlusion_texture", "emissive_texture")

    def texture_asset_ids(self) -> set[str]:
        refs = (
            self.base_color_texture,
            self.metallic_roughness_texture,
            self.emissive_texture,
            self.normal_texture,
            self.occlusion_texture,
        )
        return {r.asset_id for r in refs if r is not None}


class MaterialSet(Document):
    """The ``material_overrides`` document: the project's materials."""

    DOC_NAME: ClassVar[str] = "material_overrides"
    SCHEMA_VERSION: ClassVar[int] = 2

    schema_version: Literal[2] = 2
    materials: list[Material] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> MaterialSet:
        require_unique([m.id for m in self.materials], "material")
        return self

    def get(self, material_id: str) -> Optional[Material]:
        return next((m for m in self.materials if m.id == material_id), None)


@register_migration("material_overrides", 1)
def _v1_to_v2(doc: dict) -> dict:
    """Version 2 adds KHR_texture_transform to texture references. Version 1's numbers are
    kept: glTF reads them as linear, which is what version 2 says they are."""
    return doc


def material_library() -> list[Material]:
    """The bundled material library (``resources/materials/library.json``), as new materials.

    The file holds colours as a person types them: ``base_color`` and ``emissive`` are sRGB
    hex (``"#cc140d"``), ``opacity`` is the alpha; they are converted here to the model's
    linear ``base_color_factor`` and ``emissive_factor``. Each call gives fresh ids, so picking
    the same library entry twice adds two materials. Plain Python: the UI's material panel and
    the CLI read it through this one function.
    """
    path = resource("materials", "library.json")
    try:
        entries = json.loads(path.read_text())["materials"]
        if not isinstance(entries, list):
            raise TypeError("'materials' is not a list")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DocumentError("material library", "", f"{path} cannot be read ({err})") from None
    found = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DocumentError("material library", f"materials[{i}]", "is not an object")
        try:
            fields = _library_fields(entry)
        except (ColorError, TypeError, ValueError) as err:
            raise DocumentError("material library", f"materials[{i}]", str(err)) from None
        try:
            found.append(Material.model_validate({**fields, "library_origin": "library"}))
        except ValidationError as err:
            first = err.errors()[0]
            raise DocumentError("material library", format_loc(("materials", i, *first["loc"])), first["msg"]) from None
    return found


def _library_fields(entry: dict) -> dict:
    """A library entry (sRGB hex colours, ``opacity``) as Material fields (linear factors)."""
    fields = {k: v for k, v in entry.items() if k not in ("base_color", "opacity", "emissive")}
    if "base_color" in entry or "opacity" in entry:
        rgb = hex_to_linear(entry.get("base_color", "#ffffff"))
        opacity = entry.get("opacity", 1.0)
        if not isinstance(opacity, (int, float)) or isinstance(opacity, bool):
            raise TypeError("opacity is not a number")
        fields["base_color_factor"] = (*rgb, float(opacity))
    if "emissive" in entry:
        fields["emissive_factor"] = hex_to_linear(entry["emissive"])
    return fields

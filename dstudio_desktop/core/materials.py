"""PBR metallic-roughness materials, field for field as glTF 2.0 defines them."""

from __future__ import annotations

import json
from typing import ClassVar, Literal, Optional

from pydantic import Field, ValidationError, model_validator

from ..errors import DocumentError
from ..resources import resource
from .schema import Document, Finite, Id, Model, Name, NonNegative, Rgba, format_loc, new_id, require_unique

AlphaMode = Literal["OPAQUE", "MASK", "BLEND"]


class TextureRef(Model):
    """A texture: an image asset and the UV set it is read with."""

    asset_id: Id
    texcoord: int = Field(default=0, ge=0, le=7)


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
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: Literal[1] = 1
    materials: list[Material] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> MaterialSet:
        require_unique([m.id for m in self.materials], "material")
        return self

    def get(self, material_id: str) -> Optional[Material]:
        return next((m for m in self.materials if m.id == material_id), None)


def material_library() -> list[Material]:
    """The bundled material library (``resources/materials/library.json``), as new materials.

    Each call gives fresh ids, so picking the same library entry twice adds two materials.
    Plain Python: the UI's material panel and the CLI read it through this one function.
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
            found.append(Material.model_validate({**entry, "library_origin": "library"}))
        except ValidationError as err:
            first = err.errors()[0]
            raise DocumentError("material library", format_loc(("materials", i, *first["loc"])), first["msg"]) from None
    return found

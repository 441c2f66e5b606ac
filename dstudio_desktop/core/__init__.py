"""The domain model: plain Python and numpy. Never imports Qt, vispy or network code.

The names below load on first use (PEP 562): a command that needs only ``core.progress``
(``dstudio slice`` of a plain STL) does not pay for building every pydantic model at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the submodule that defines it
_EXPORTS = {
    "CameraPreset": "cameras", "CameraPresets": "cameras", "CameraView": "cameras", "CanvasState": "cameras",
    "EnvironmentConfig": "environment",
    "Light": "lighting", "LightingConfig": "lighting", "LightingPreset": "lighting", "builtin_presets": "lighting",
    "Material": "materials", "MaterialSet": "materials", "TextureRef": "materials",
    "ALL_DOCUMENTS": "project", "SNAPSHOT_DOCUMENTS": "project", "Project": "project",
    "Annotation": "records", "Asset": "records", "SurfacePoint": "records", "Version": "records",
    "Node": "scene", "SceneGraph": "scene",
    "Document": "schema", "load_document": "schema", "new_id": "schema", "register_migration": "schema",
    "Transform": "transform",
}

__all__ = [
    "ALL_DOCUMENTS", "Annotation", "Asset", "CameraPreset", "CameraPresets", "CameraView",
    "CanvasState", "Document", "EnvironmentConfig", "Light", "LightingConfig", "LightingPreset",
    "Material", "MaterialSet", "Node", "Project", "SNAPSHOT_DOCUMENTS", "SceneGraph",
    "SurfacePoint", "TextureRef", "Transform", "Version", "builtin_presets", "load_document",
    "new_id", "register_migration",
]
assert sorted(__all__) == sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from .cameras import CameraPreset, CameraPresets, CameraView, CanvasState
    from .environment import EnvironmentConfig
    from .lighting import Light, LightingConfig, LightingPreset, builtin_presets
    from .materials import Material, MaterialSet, TextureRef
    from .project import ALL_DOCUMENTS, SNAPSHOT_DOCUMENTS, Project
    from .records import Annotation, Asset, SurfacePoint, Version
    from .scene import Node, SceneGraph
    from .schema import Document, load_document, new_id, register_migration
    from .transform import Transform

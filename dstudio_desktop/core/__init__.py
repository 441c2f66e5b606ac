"""The domain model: plain Python and numpy. Never imports Qt, vispy or network code."""

from .cameras import CameraPreset, CameraPresets, CameraView, CanvasState
from .environment import EnvironmentConfig
from .lighting import Light, LightingConfig, LightingPreset, builtin_presets
from .materials import Material, MaterialSet, TextureRef
from .project import ALL_DOCUMENTS, SNAPSHOT_DOCUMENTS, Project
from .records import Annotation, Asset, SurfacePoint, Version
from .scene import Node, SceneGraph
from .schema import Document, load_document, new_id, register_migration
from .transform import Transform

__all__ = [
    "ALL_DOCUMENTS", "Annotation", "Asset", "CameraPreset", "CameraPresets", "CameraView",
    "CanvasState", "Document", "EnvironmentConfig", "Light", "LightingConfig", "LightingPreset",
    "Material", "MaterialSet", "Node", "Project", "SNAPSHOT_DOCUMENTS", "SceneGraph",
    "SurfacePoint", "TextureRef", "Transform", "Version", "builtin_presets", "load_document",
    "new_id", "register_migration",
]

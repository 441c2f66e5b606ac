"""Model files in and out: glTF/GLB via pygltflib, OBJ, STL, PLY, OFF and 3MF via trimesh."""

from .api import read_scene, write_scene
from .formats import FORMATS, format_for, units_help
from .meshdata import MeshData
from .scenedata import SceneData, Texture

__all__ = ["FORMATS", "MeshData", "SceneData", "Texture", "format_for", "read_scene", "units_help", "write_scene"]

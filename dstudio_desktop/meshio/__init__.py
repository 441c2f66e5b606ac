"""Model files in and out: glTF/GLB via pygltflib, OBJ, STL, PLY, OFF and 3MF via trimesh.

Exports load on first use so commands that never touch a model (``dstudio list``,
``--version``, ``--help``) do not pay for importing trimesh.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "read_scene": "api", "write_scene": "api",
    "FORMATS": "formats", "format_for": "formats", "units_help": "formats",
    "MeshData": "meshdata", "SceneData": "scenedata", "Texture": "scenedata",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)

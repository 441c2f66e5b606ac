"""Reading and writing model files: the one entry point for every format.

``read_scene`` checks the file, parses it, validates the geometry and brings it
into the scene's frame (metres, Y-up) by the top-level nodes' transforms, so
the stored geometry stays exactly as the file had it. ``write_scene`` does the
reverse and writes atomically, so a failed export never leaves a partial file.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from ..atomic import atomic_write
from ..core import Transform
from ..errors import MeshFileError
from . import gltf_read
from .checks import check_file
from .formats import UNITS_IN_METRES, axis_conversion, format_for
from .scenedata import SceneData


def _check_frame(path: Path, units: Optional[str], up: Optional[str]) -> None:
    if units is not None and units not in UNITS_IN_METRES:
        raise MeshFileError(path, f"unknown unit {units!r}; use one of {', '.join(UNITS_IN_METRES)}")
    if up is not None and up not in ("y", "z"):
        raise MeshFileError(path, f"unknown up axis {up!r}; use y or z")


def read_scene(path: str | Path, units: Optional[str] = None, up: Optional[str] = None,
               limit: Optional[int] = None) -> SceneData:
    """Read any supported model file; raise ``MeshFileError`` naming the file on any problem."""
    path = Path(path)
    _check_frame(path, units, up)
    fmt = check_file(path, limit)
    try:
        # numpy's and the parsers' RuntimeWarnings (overflow in a damaged file's numbers, an empty
        # mean) would print lines before the one line that says what is wrong with the file
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if fmt.key in ("glb", "gltf"):
                scene = gltf_read.read_gltf(path)
            else:
                from . import trimesh_io  # trimesh and scipy cost a second to import: not for glTF

                scene = trimesh_io.read(path, fmt)
                scene.units = scene.units if scene.units != "m" or fmt.units == "m" else fmt.units
    except MemoryError:
        raise MeshFileError(path, "too large to read (out of memory)") from None
    except RecursionError:
        raise MeshFileError(path, "nested too deeply to read") from None
    scene.units = units or scene.units
    scene.up = up or fmt.up
    convert = axis_conversion(scene.units, scene.up)
    if not np.allclose(convert, np.eye(4)):
        for node in scene.nodes:
            node.transform = Transform.from_matrix(convert @ node.transform.matrix())
    return scene


def write_scene(scene: SceneData, path: str | Path, units: Optional[str] = None,
                up: Optional[str] = None) -> list[Path]:
    """Write ``scene`` in the format of ``path``'s extension; returns every file written."""
    path = Path(path)
    fmt = format_for(path, "export")
    _check_frame(path, units, up)
    if not scene.world_geometry():
        raise MeshFileError(path, "nothing to export: no visible geometry")
    if fmt.key in ("glb", "gltf"):
        if (units or "m") != "m" or (up or "y") != "y":
            raise MeshFileError(path, "glTF is always metres and Y-up; --units and --up do not apply")
        from . import gltf_write  # pygltflib: a tenth of a second to import, for writing only

        if fmt.key == "glb":
            files = {path.name: gltf_write.glb_bytes(scene)}
        else:
            doc, blob = gltf_write.gltf_files(scene, f"{path.stem}.bin")
            files = {path.name: doc, f"{path.stem}.bin": blob}
    else:
        to_file = np.linalg.inv(axis_conversion(units or fmt.units, up or fmt.up))
        try:
            from . import trimesh_io

            files = trimesh_io.write(scene, fmt, to_file, path.stem, units or fmt.units)
        except ValueError as err:
            raise MeshFileError(path, f"cannot export: {err}") from None
        files = {(path.name if Path(name).stem == path.stem and Path(name).suffix == path.suffix else name): data
                 for name, data in files.items()}
    written = []
    try:
        for name, data in files.items():
            target = path.parent / name
            atomic_write(target, data)
            written.append(target)
    except OSError as err:
        raise MeshFileError(path, f"cannot write: {err.strerror or err}") from None
    return written

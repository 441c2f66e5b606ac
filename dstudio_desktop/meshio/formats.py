"""The file formats Design Studio reads and writes, with their unit and axis conventions.

The scene is Y-up and in metres, as glTF is. Formats without a unit take the
default below (``--units`` and ``--up`` override it): STL and 3MF are the 3D
printing formats, so millimetres and Z-up; OBJ, PLY and OFF follow the
DCC convention, metres and Y-up. 3MF files that declare a unit use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MeshFileError

UNITS_IN_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "ft": 0.3048}
THREEMF_UNITS = {"micron": "um", "millimeter": "mm", "centimeter": "cm", "inch": "in", "foot": "ft", "meter": "m"}
UNITS_IN_METRES["um"] = 1e-6


@dataclass(frozen=True)
class Format:
    key: str
    name: str
    extensions: tuple[str, ...]
    units: str
    up: str
    can_import: bool = True
    can_export: bool = True


FORMATS: dict[str, Format] = {
    f.key: f
    for f in (
        Format("glb", "glTF binary", (".glb",), "m", "y"),
        Format("gltf", "glTF", (".gltf",), "m", "y"),
        Format("obj", "Wavefront OBJ (+MTL)", (".obj",), "m", "y"),
        Format("stl", "STL (ASCII or binary)", (".stl",), "mm", "z"),
        Format("ply", "PLY (mesh or point cloud)", (".ply",), "m", "y"),
        Format("off", "OFF", (".off",), "m", "y"),
        Format("3mf", "3D Manufacturing Format", (".3mf",), "mm", "z"),
    )
}


#: Every model file extension, in the table's order.
MODEL_EXTENSIONS: tuple[str, ...] = tuple(e for f in FORMATS.values() for e in f.extensions)


def dialog_filter() -> str:
    """The model formats as a file dialog's name filter: all of them first, then one per format."""
    patterns = " ".join(f"*{e}" for e in MODEL_EXTENSIONS)
    each = ";;".join(f"{f.name} ({' '.join('*' + e for e in f.extensions)})" for f in FORMATS.values())
    return f"3D models ({patterns});;{each}"


def is_model_path(path: Path) -> bool:
    """Whether a command-line target names a model file (it exists, or ends like one) rather than a project."""
    return path.is_file() or path.suffix.lower() in MODEL_EXTENSIONS


def format_for(path: Path, action: str = "import") -> Format:
    suffix = path.suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.extensions and (fmt.can_import if action == "import" else fmt.can_export):
            return fmt
    known = ", ".join(MODEL_EXTENSIONS)
    what = f"'{suffix}'" if suffix else "no extension"
    raise MeshFileError(path, f"unsupported format ({what}); Design Studio can {action} {known}")


def axis_conversion(units: str, up: str) -> np.ndarray:
    """The 4x4 matrix taking a file's coordinates (``units``, ``up``) into the scene's (m, Y-up)."""
    m = np.eye(4)
    if up == "z":
        # +Z up becomes +Y up; -Y (a Z-up file's front) faces +Z, the viewer.
        m[:3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    m[:3, :3] *= UNITS_IN_METRES[units]
    return m


def units_help() -> str:
    lines = [f"  {f.name:28s} {'/'.join(f.extensions):8s} {f.units:>3s}, {f.up.upper()}-up" for f in FORMATS.values()]
    return "\n".join(lines)

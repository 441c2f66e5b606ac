"""Binary PLY whose faces have different vertex counts (Blender writes triangles, quads and
n-gons side by side), which trimesh's binary reader refuses ("PLY is unexpected length!").

The header was checked by ``checks._ply`` already. Fixed-size elements are read with one
numpy structured dtype; an element with a list property is walked record by record, since
where each record starts depends on the counts before it. Polygons become triangle fans.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..core import Node
from ..core.schema import new_id
from ..errors import MeshFileError
from .meshdata import MeshData
from .scenedata import SceneData

TYPES = {"char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
         "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
         "float": "f4", "float32": "f4", "double": "f8", "float64": "f8"}


def _header(path: Path, data: bytes) -> tuple[str, list[tuple[str, int, list]], int]:
    end = data.find(b"end_header")
    body = data.find(b"\n", end) + 1
    fmt, elements = "", []
    for raw in data[:end].decode("ascii", "replace").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format":
            fmt = words[1]
        elif words[0] == "element":
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property" and elements:
            if len(words) >= 3 and words[-1] in (p[0] for p in elements[-1][2]):
                raise MeshFileError(path, f"PLY element '{elements[-1][0]}' declares the property '{words[-1]}' twice")
            if words[1] == "list" and len(words) == 5 and words[2] in TYPES and words[3] in TYPES:
                elements[-1][2].append((words[4], TYPES[words[2]], TYPES[words[3]]))
            elif len(words) == 3 and words[1] in TYPES:
                elements[-1][2].append((words[2], TYPES[words[1]], None))
            else:
                raise MeshFileError(path, f"PLY header line {raw.strip()!r} is malformed")
    if fmt not in ("binary_little_endian", "binary_big_endian"):
        raise MeshFileError(path, "PLY body is not the length its header declares")
    return ("<" if fmt == "binary_little_endian" else ">"), elements, body


def read_mixed_ply(path: Path) -> SceneData:
    try:
        return _read(path)
    except (ValueError, TypeError, IndexError, OverflowError, struct.error) as err:
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MeshFileError(path, f"could not be read as PLY: {text[:200]}") from None


def _read(path: Path) -> SceneData:
    data = path.read_bytes()
    order, elements, offset = _header(path, data)
    columns: dict[str, dict[str, np.ndarray]] = {}
    lists: dict[str, list] = {}
    for name, count, props in elements:
        if all(p[2] is None for p in props):
            dtype = np.dtype([(p[0], order + p[1]) for p in props])
            if offset + count * dtype.itemsize > len(data):
                raise MeshFileError(path, f"PLY body ends inside its '{name}' elements")
            table = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            columns[name] = {p[0]: table[p[0]] for p in props}
            offset += count * dtype.itemsize
            continue
        rows = []
        for _ in range(count):
            row = []
            for _prop, kind, item in props:
                width = np.dtype(kind).itemsize
                if offset + width > len(data):
                    raise MeshFileError(path, f"PLY body ends inside its '{name}' elements")
                (value,) = struct.unpack_from(order + np.dtype(kind).char, data, offset)
                offset += width
                if item is not None:
                    n = int(value)
                    size = np.dtype(item).itemsize * n
                    if n < 0 or offset + size > len(data):
                        raise MeshFileError(path, f"PLY body ends inside its '{name}' elements")
                    row.append(np.frombuffer(data, dtype=order + item, count=n, offset=offset))
                    offset += size
            rows.append(row)
        lists[name] = rows
    vertex = columns.get("vertex")
    if vertex is None or not all(k in vertex for k in "xyz"):
        raise MeshFileError(path, "PLY vertices have no x, y and z")
    positions = np.column_stack([vertex["x"], vertex["y"], vertex["z"]]).astype(np.float32)
    triangles = []
    for row in lists.get("face", []):
        poly = row[0] if row else np.zeros(0)
        if len(poly) >= 3:
            poly = poly.astype(np.int64)
            triangles.append(np.column_stack([np.full(len(poly) - 2, poly[0]), poly[1:-1], poly[2:]]))
    faces = np.vstack(triangles) if triangles else None
    normals = np.column_stack([vertex[k] for k in ("nx", "ny", "nz")]) if all(k in vertex for k in ("nx", "ny", "nz")) else None
    uv_keys = next((k for k in (("s", "t"), ("u", "v"), ("texture_u", "texture_v")) if all(c in vertex for c in k)), None)
    uvs = None
    if uv_keys:  # PLY's V runs up from the image's bottom, as OBJ's does
        uvs = np.column_stack([vertex[uv_keys[0]], 1.0 - vertex[uv_keys[1]].astype(np.float64)])
    colors = None
    if all(k in vertex for k in ("red", "green", "blue")):
        colors = np.column_stack([vertex[k] for k in ("red", "green", "blue", "alpha") if k in vertex])
    mesh = MeshData(positions=positions, faces=faces, normals=normals, colors=colors, uvs=uvs, name=path.stem)
    asset_id = new_id()
    scene = SceneData(nodes=[], source=str(path))
    scene.meshes[asset_id] = mesh.validated(path)
    kind = "pointcloud" if faces is None else "mesh"
    scene.nodes = [Node(name=path.stem[:256] or "ply", kind=kind, asset_id=asset_id)]
    return scene

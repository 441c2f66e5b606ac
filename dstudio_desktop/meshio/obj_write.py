"""Write a scene as Wavefront OBJ with its MTL and texture files, names and PBR kept.

Written here rather than by trimesh's exporter so that what other tools read back is what the
scene holds: one ``o`` per node under the node's own name, each material under its own name,
and the PBR factors as the MTL PBR extension's ``Pr`` (roughness), ``Pm`` (metallic) and
``Ke`` (emission) lines that Blender and three.js read, with ``Ns`` from roughness by Blender's
mapping for readers that know only Phong. OBJ has no hierarchy: nodes are written in world
(file) coordinates, flattened.
"""

from __future__ import annotations

import io
import re
from typing import Optional

import numpy as np

from ..core import Material
from .scenedata import SceneData

EXTENSION = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def _f(v: float) -> str:
    return f"{float(v):.9g}"


def _rows(prefix: str, arr: np.ndarray, fmt: str = "%.9g") -> str:
    buf = io.StringIO()
    np.savetxt(buf, arr, fmt=fmt, delimiter=" ", header="", comments="", newline="\n")
    text = buf.getvalue()
    return "\n".join(f"{prefix} {row}" for row in text.splitlines()) if prefix else text.rstrip("\n")


def _line_name(name: str) -> str:
    """A name as one OBJ line can carry it (no line breaks; surrounding space would be lost)."""
    return re.sub(r"\s+", " ", name).strip() or "unnamed"


def _unique(name: str, taken: set[str]) -> str:
    out, n = name, 2
    while out in taken:
        out, n = f"{name}.{n:03d}", n + 1
    taken.add(out)
    return out


def _file_name(name: str, media_type: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit(".", 1)[0] if "." in name else name).strip("._") or "texture"
    return _unique(stem + EXTENSION.get(media_type, ".png"), taken)


def mtl_lines(name: str, mat: Material, texture_file: Optional[str]) -> list[str]:
    r, m = mat.roughness_factor, mat.metallic_factor
    lines = [f"newmtl {name}",
             "Kd " + " ".join(_f(c) for c in mat.base_color_factor[:3]),
             "Ka 1 1 1",
             "Ks 0.5 0.5 0.5",
             f"Ns {_f((1.0 - r) ** 2 * 1000.0)}",
             "Ke " + " ".join(_f(c) for c in mat.emissive_factor),
             f"d {_f(mat.base_color_factor[3])}",
             f"Pr {_f(r)}",
             f"Pm {_f(m)}",
             "illum 2"]
    if texture_file:
        lines.append(f"map_Kd {texture_file}")
    return lines


def write_obj(scene: SceneData, meshes: list, stem: str, flip: bool) -> dict[str, bytes]:
    """``meshes``: (node, mesh, vertices in file coordinates, normal matrix) for each triangle mesh."""
    out: dict[str, bytes] = {}
    mtl_names: dict[str, str] = {}
    taken_mtl: set[str] = set()
    taken_files: set[str] = {f"{stem}.obj", f"{stem}.mtl"}
    mtl: list[str] = ["# Design Studio Desktop"]
    obj = ["# Design Studio Desktop", f"mtllib {stem}.mtl"]
    taken_objects: set[str] = set()
    v_base = vt_base = vn_base = 1
    for node, mesh, verts, normal_matrix in meshes:
        mat = scene.material(node.material_id)
        obj.append(f"o {_unique(_line_name(node.name), taken_objects)}")
        obj.append(_rows("v", verts))
        uvs = mesh.uvs if mat is not None and mat.base_color_texture is not None else None
        if uvs is not None:  # OBJ's V runs up from the image's bottom edge, glTF's down from its top
            obj.append(_rows("vt", np.column_stack([uvs[:, 0], 1.0 - uvs[:, 1].astype(np.float64)])))
        normals = None
        if mesh.normals is not None:
            normals = mesh.normals.astype(np.float64) @ normal_matrix.T
            normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
            obj.append(_rows("vn", normals))
        if mat is not None:
            if mat.id not in mtl_names:
                name = _unique(_line_name(mat.name), taken_mtl)
                mtl_names[mat.id] = name
                texture_file = None
                ref = mat.base_color_texture
                if ref is not None and ref.asset_id in scene.textures:
                    tex = scene.textures[ref.asset_id]
                    texture_file = _file_name(tex.name, tex.media_type, taken_files)
                    out[texture_file] = tex.data
                mtl.extend(mtl_lines(name, mat, texture_file))
                mtl.append("")
            obj.append(f"usemtl {mtl_names[mat.id]}")
        faces = mesh.faces[:, ::-1] if flip else mesh.faces
        faces = faces.astype(np.int64)
        columns = [faces + v_base]
        corner = "%d"
        if uvs is not None:
            columns.append(faces + vt_base)
            corner += "/%d"
        if normals is not None:
            columns.append(faces + vn_base)
            corner += "/%d" if uvs is not None else "//%d"
        per_corner = np.stack(columns, axis=2).reshape(len(faces), -1)  # v, vt, vn of corner 0, then 1, 2
        obj.append(_rows("", per_corner, "f " + " ".join([corner] * 3)))
        v_base += len(verts)
        vt_base += len(uvs) if uvs is not None else 0
        vn_base += len(normals) if normals is not None else 0
    out[f"{stem}.obj"] = ("\n".join(obj) + "\n").encode("utf-8")
    out[f"{stem}.mtl"] = ("\n".join(mtl) + "\n").encode("utf-8")
    return out

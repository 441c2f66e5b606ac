"""OBJ (+MTL), STL, PLY, OFF and 3MF through trimesh, into and out of ``SceneData``."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any, Optional

import numpy as np
import trimesh

from ..core import Material, Node, Transform
from ..core.materials import TextureRef
from ..core.schema import new_id
from ..errors import MeshFileError
from .formats import THREEMF_UNITS, Format
from .images import png_bytes
from .meshdata import MeshData, merge_exact
from .obj_write import write_obj
from .scenedata import SceneData, Texture
from .threemf import base_materials, write_3mf

logging.getLogger("trimesh").setLevel(logging.ERROR)


def _loader_problem(fmt: Format, err: BaseException) -> str:
    if isinstance(err, IndexError):
        return f"not a valid {fmt.name} file: a face refers to a vertex that does not exist"
    if isinstance(err, MemoryError):
        return f"too large to read as {fmt.name} (out of memory)"
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return f"could not be read as {fmt.name}: {text[:300]}"


def read(path: Path, fmt: Format) -> SceneData:
    try:
        # OBJ: one geometry per object and material, so both names are there to keep
        options = {"split_objects": True, "group_material": True} if fmt.key == "obj" else {}
        loaded = trimesh.load_scene(str(path), file_type=fmt.key, process=False, **options)
    except MeshFileError:
        raise
    except Exception as err:  # noqa: BLE001 - trimesh raises anything; each becomes one clear line
        if fmt.key == "ply" and _binary_ply(path):
            # trimesh reads binary faces as if all had the first one's vertex count (it says "PLY
            # is unexpected length!", or indexes past the vertices); Blender writes triangles,
            # quads and n-gons side by side
            from .ply_mixed import read_mixed_ply

            return read_mixed_ply(path)
        raise MeshFileError(path, _loader_problem(fmt, err)) from None
    try:
        return _scene(path, fmt, loaded)
    except MeshFileError:
        raise
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as err:
        # a scene graph trimesh built but cannot walk (a 3MF component naming a mesh that is gone)
        raise MeshFileError(path, _loader_problem(fmt, err)) from None


def _binary_ply(path: Path) -> bool:
    with open(path, "rb") as fh:
        return b"format binary_" in fh.read(512)


def _scene(path: Path, fmt: Format, loaded: Any) -> SceneData:
    scene = SceneData(nodes=[], source=str(path))
    if fmt.key == "3mf" and loaded.units in THREEMF_UNITS:
        scene.units = THREEMF_UNITS[loaded.units]
    materials: dict[int, Material] = {}
    children: list[Node] = []
    colours = base_materials(path) if fmt.key == "3mf" else {}
    by_colour: dict[tuple, Material] = {}
    for node_name in loaded.graph.nodes_geometry:
        matrix, geom_name = loaded.graph[node_name]
        geom = loaded.geometry[geom_name]
        data, material = _geometry(path, fmt, geom, str(geom_name), scene, materials)
        if data is None:
            continue
        if material is None and str(geom_name) in colours:
            key = colours[str(geom_name)]
            if key not in by_colour:
                by_colour[key] = Material(name=key[0][:256], library_origin=f"import:{path.name}",
                                          base_color_factor=key[1], metallic_factor=0.0, roughness_factor=1.0)
                materials[id(by_colour[key])] = by_colour[key]
            material = by_colour[key]
        asset_id = new_id()
        scene.meshes[asset_id] = data
        try:
            transform = Transform.from_matrix(matrix)
        except ValueError as err:
            raise MeshFileError(path, f"{node_name}: {err}") from None
        name = str(node_name)
        if fmt.key == "obj" and material is not None and name.endswith(f"_{material.name}") and name != f"_{material.name}":
            name = name[: -len(material.name) - 1]  # trimesh names a part "object_material"; the object is its name
        children.append(
            Node(
                name=name[:256] or path.stem,
                kind="pointcloud" if data.is_pointcloud else "mesh",
                transform=transform,
                asset_id=asset_id,
                material_id=material.id if material else None,
            )
        )
    if not children:
        raise MeshFileError(path, "contains no triangle or point geometry")
    scene.materials = list(materials.values())
    if len(children) == 1:
        own = children[0].name
        generated = own in (path.name, path.stem) or own.startswith("geometry") or own.isdigit()
        scene.nodes = [children[0].model_copy(update={"name": (path.stem if generated else own)[:256] or own})]
    else:
        scene.nodes = [Node(name=path.stem[:256] or "import", children=children)]
    return scene


def _geometry(path: Path, fmt: Format, geom: Any, name: str, scene: SceneData,
              materials: dict[int, Material]) -> tuple[Optional[MeshData], Optional[Material]]:
    if isinstance(geom, trimesh.PointCloud):
        colors = geom.colors if len(getattr(geom, "colors", [])) == len(geom.vertices) else None
        return MeshData(positions=geom.vertices, colors=colors, name=name).validated(path), None
    if not isinstance(geom, trimesh.Trimesh):
        scene.warnings.append(f"{name}: {type(geom).__name__} geometry skipped")
        return None, None
    if len(geom.faces) == 0:
        if len(geom.vertices) and fmt.key in ("ply", "obj", "off"):
            return MeshData(positions=geom.vertices, name=name).validated(path), None
        raise MeshFileError(path, f"{name}: has no faces")
    visual = geom.visual
    colors = visual.vertex_colors if visual.kind == "vertex" else None
    uvs = getattr(visual, "uv", None)
    if uvs is not None and len(uvs):  # trimesh's V runs up from the image's bottom (OBJ's way); the scene's, down
        uvs = np.column_stack([uvs[:, 0], 1.0 - np.asarray(uvs[:, 1], dtype=np.float64)])
    mesh = MeshData(positions=geom.vertices, faces=geom.faces, colors=colors, uvs=uvs, name=name).validated(path)
    if fmt.key == "stl":
        positions, faces = merge_exact(mesh.positions, mesh.faces)
        mesh = MeshData(positions=positions, faces=faces, name=name).validated(path)
    material = None
    source = getattr(visual, "material", None)
    if source is not None:
        key = id(source)
        if key not in materials:
            materials[key] = _material(source, scene, path)
        material = materials[key]
    return mesh, material


def _texture(image: Any, name: str, scene: SceneData) -> Optional[TextureRef]:
    """A texture trimesh opened (lazily) as a PNG asset; one that does not decode is dropped, with a warning."""
    if image is None:
        return None
    label = str(getattr(image, "info", {}).get("file_path") or f"{name}.png")[:200]
    data, problem = png_bytes(image)
    if problem:
        scene.warnings.append(f"texture {label} of material {name} dropped: it is {problem}")
        return None
    asset_id = new_id()
    scene.textures[asset_id] = Texture(name=label, data=data, media_type="image/png")
    return TextureRef(asset_id=asset_id)


def _material(source: Any, scene: SceneData, path: Path) -> Material:
    if isinstance(source, trimesh.visual.material.SimpleMaterial):
        return mtl_material(source, scene, path)
    pbr = source.to_pbr() if hasattr(source, "to_pbr") and not isinstance(source, trimesh.visual.material.PBRMaterial) else source
    color = np.asarray(pbr.baseColorFactor if pbr.baseColorFactor is not None else (255, 255, 255, 255), dtype=float)
    if color.max() > 1.0:
        color = color / 255.0
    name = str(pbr.name or "material")[:256]
    emissive = pbr.emissiveFactor if pbr.emissiveFactor is not None else (0.0, 0.0, 0.0)
    return Material(
        name=name,
        library_origin=f"import:{path.name}",
        base_color_factor=tuple(_unit(c, 1.0) for c in color[:4]),
        base_color_texture=_texture(getattr(pbr, "baseColorTexture", None), name, scene),
        metallic_factor=_unit(pbr.metallicFactor, 0.0),
        roughness_factor=_unit(pbr.roughnessFactor, 1.0),
        emissive_factor=tuple(_unit(c, 0.0, hi=None) for c in np.asarray(emissive, dtype=float).reshape(-1)[:3]),
        double_sided=bool(getattr(pbr, "doubleSided", False)),
    )


def _unit(value: Any, default: float, hi: Optional[float] = 1.0) -> float:
    """A factor from a file, as a finite float in 0..1 (or 0.. for emission); ``default`` when absent or not a number."""
    try:
        v = float(np.real(value)) if value is not None else default
    except (TypeError, ValueError):
        return default
    if not np.isfinite(v):
        return default
    return float(min(max(v, 0.0), hi)) if hi is not None else max(v, 0.0)


def _mtl_numbers(kwargs: dict, key: str) -> Optional[list[float]]:
    raw = kwargs.get(key)
    if raw is None:
        return None
    values = raw if isinstance(raw, (list, tuple)) else [raw]
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if out and all(np.isfinite(out)) else None


def mtl_material(source: Any, scene: SceneData, path: Path) -> Material:
    """An MTL material as PBR, read from the MTL's own lines: its name, Kd (white when absent: a
    textured material shows its texture, not trimesh's 0.4 grey), d, Ke, and the PBR extension's
    Pr and Pm, with Ns (Blender's mapping, roughness = 1 - sqrt(Ns / 1000)) when there is no Pr."""
    kw = {k.lower(): v for k, v in getattr(source, "kwargs", {}).items()}
    name = str(source.name or "material")[:256]
    kd = _mtl_numbers(kw, "kd")
    color = (kd * 3)[:3] if kd else [1.0, 1.0, 1.0]
    alpha = _mtl_numbers(kw, "d")
    if alpha is None and (tr := _mtl_numbers(kw, "tr")):
        alpha = [1.0 - tr[0]]
    pr, pm, ns = _mtl_numbers(kw, "pr"), _mtl_numbers(kw, "pm"), _mtl_numbers(kw, "ns")
    if pr:
        roughness = pr[0]
    elif ns:
        roughness = 1.0 - float(np.sqrt(min(max(ns[0], 0.0), 1000.0) / 1000.0))
    else:
        roughness = 1.0
    ke = _mtl_numbers(kw, "ke") or [0.0]
    alpha_value = _unit(alpha[0] if alpha else 1.0, 1.0)
    return Material(
        name=name,
        library_origin=f"import:{path.name}",
        base_color_factor=(*(_unit(c, 1.0) for c in color), alpha_value),
        base_color_texture=_texture(getattr(source, "image", None), name, scene),
        metallic_factor=_unit(pm[0] if pm else 0.0, 0.0),
        roughness_factor=_unit(roughness, 1.0),
        emissive_factor=tuple(_unit(c, 0.0, hi=None) for c in (ke * 3)[:3]),
        alpha_mode="BLEND" if alpha_value < 1.0 else "OPAQUE",
    )


def _trimesh_material(mat: Optional[Material], scene: SceneData):
    if mat is None:
        return None
    image = None
    if mat.base_color_texture and mat.base_color_texture.asset_id in scene.textures:
        from PIL import Image, UnidentifiedImageError

        try:
            image = Image.open(io.BytesIO(scene.textures[mat.base_color_texture.asset_id].data))
            image.load()
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
            image = None  # a texture stored before import verified them; the export goes without it
    return trimesh.visual.material.PBRMaterial(
        name=mat.name.replace(" ", "_"),
        baseColorFactor=[round(c * 255) for c in mat.base_color_factor],
        metallicFactor=mat.metallic_factor,
        roughnessFactor=mat.roughness_factor,
        emissiveFactor=list(mat.emissive_factor),
        baseColorTexture=image,
        doubleSided=mat.double_sided,
    )


def world_meshes(scene: SceneData, to_file: np.ndarray) -> list[tuple[Node, MeshData, np.ndarray]]:
    """Every visible geometry with its vertices in file coordinates."""
    out = []
    for node, world in scene.world_geometry():
        mesh = scene.meshes[node.asset_id]
        m = to_file @ world
        verts = mesh.positions.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
        out.append((node, mesh, verts))
    return out


def _normal_matrix(scene: SceneData, node: Node, to_file: np.ndarray) -> np.ndarray:
    world = dict((n.id, w) for n, w in scene.world_geometry())[node.id]
    m = (to_file @ world)[:3, :3]
    try:
        return np.linalg.inv(m).T
    except np.linalg.LinAlgError:
        return m


def write(scene: SceneData, fmt: Format, to_file: np.ndarray, stem: str, units: str) -> dict[str, bytes]:
    """File name -> bytes for ``scene`` written as ``fmt`` (OBJ also writes .mtl and textures)."""
    items = world_meshes(scene, to_file)
    meshes = [(n, m, v) for n, m, v in items if not m.is_pointcloud]
    clouds = [(n, m, v) for n, m, v in items if m.is_pointcloud]
    flip = np.linalg.det(to_file[:3, :3]) < 0

    def tri(node: Node, mesh: MeshData, verts: np.ndarray, with_material: bool) -> trimesh.Trimesh:
        faces = mesh.faces[:, ::-1] if flip else mesh.faces
        visual = None
        if with_material:
            material = _trimesh_material(scene.material(node.material_id), scene)
            if mesh.colors is not None:
                visual = trimesh.visual.ColorVisuals(vertex_colors=(mesh.colors * 255).round().astype(np.uint8))
            elif material is not None:
                uv = None if mesh.uvs is None else np.column_stack([mesh.uvs[:, 0], 1.0 - mesh.uvs[:, 1]])
                visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
        return trimesh.Trimesh(verts, faces, visual=visual, process=False)

    if fmt.key == "ply" and not meshes:
        cloud = np.vstack([v for _, _, v in clouds])
        colors = [m.colors if m.colors is not None else np.ones((m.vertex_count, 4), np.float32) for _, m, _ in clouds]
        pc = trimesh.PointCloud(cloud, colors=(np.vstack(colors) * 255).round().astype(np.uint8))
        return {f"{stem}.ply": pc.export(file_type="ply")}
    if not meshes:
        raise ValueError(f"{fmt.name} holds triangles, and there are none to write")
    if fmt.key == "obj":
        return write_obj(scene, [(n, m, v, _normal_matrix(scene, n, to_file)) for n, m, v in meshes], stem, flip)
    if fmt.key == "3mf":
        objects = []
        for node, mesh, verts in meshes:
            mat = scene.material(node.material_id)
            objects.append((node.name, verts, mesh.faces[:, ::-1] if flip else mesh.faces,
                            (mat.name, tuple(mat.base_color_factor)) if mat is not None else None))
        return {f"{stem}.3mf": write_3mf(objects, {v: k for k, v in THREEMF_UNITS.items()}.get(units, "millimeter"))}
    combined = trimesh.util.concatenate([tri(n, m, v, fmt.key == "ply") for n, m, v in meshes])
    if fmt.key == "stl":
        return {f"{stem}.stl": trimesh.exchange.stl.export_stl(combined)}
    if fmt.key == "ply":
        return {f"{stem}.ply": trimesh.exchange.ply.export_ply(combined, encoding="binary")}
    if fmt.key == "off":
        return {f"{stem}.off": trimesh.exchange.off.export_off(combined).encode("utf-8")}
    raise ValueError(f"cannot write {fmt.name}")

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
from .meshdata import MeshData, merge_exact
from .scenedata import SceneData, Texture

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
        loaded = trimesh.load_scene(str(path), file_type=fmt.key, process=False)
    except MeshFileError:
        raise
    except Exception as err:  # noqa: BLE001 - trimesh raises anything; each becomes one clear line
        raise MeshFileError(path, _loader_problem(fmt, err)) from None
    scene = SceneData(nodes=[], source=str(path))
    if fmt.key == "3mf" and loaded.units in THREEMF_UNITS:
        scene.units = THREEMF_UNITS[loaded.units]
    materials: dict[int, Material] = {}
    children: list[Node] = []
    for node_name in loaded.graph.nodes_geometry:
        matrix, geom_name = loaded.graph[node_name]
        geom = loaded.geometry[geom_name]
        data, material = _geometry(path, fmt, geom, str(geom_name), scene, materials)
        if data is None:
            continue
        asset_id = new_id()
        scene.meshes[asset_id] = data
        try:
            transform = Transform.from_matrix(matrix)
        except ValueError as err:
            raise MeshFileError(path, f"{node_name}: {err}") from None
        children.append(
            Node(
                name=str(node_name)[:256] or path.stem,
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
        scene.nodes = [children[0].model_copy(update={"name": path.stem[:256] or children[0].name})]
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


def _material(source: Any, scene: SceneData, path: Path) -> Material:
    pbr = source.to_pbr() if hasattr(source, "to_pbr") and not isinstance(source, trimesh.visual.material.PBRMaterial) else source
    color = np.asarray(pbr.baseColorFactor if pbr.baseColorFactor is not None else (255, 255, 255, 255), dtype=float)
    if color.max() > 1.0:
        color = color / 255.0
    texture = None
    image = getattr(pbr, "baseColorTexture", None)
    if image is not None:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        asset_id = new_id()
        scene.textures[asset_id] = Texture(name=f"{pbr.name or 'texture'}.png", data=buf.getvalue(), media_type="image/png")
        texture = TextureRef(asset_id=asset_id)
    emissive = pbr.emissiveFactor if pbr.emissiveFactor is not None else (0.0, 0.0, 0.0)
    return Material(
        name=str(pbr.name or "material")[:256],
        library_origin=f"import:{path.name}",
        base_color_factor=tuple(float(np.clip(c, 0, 1)) for c in color[:4]),
        base_color_texture=texture,
        metallic_factor=float(np.clip(pbr.metallicFactor if pbr.metallicFactor is not None else 0.0, 0, 1)),
        roughness_factor=float(np.clip(pbr.roughnessFactor if pbr.roughnessFactor is not None else 1.0, 0, 1)),
        emissive_factor=tuple(float(max(c, 0.0)) for c in np.asarray(emissive, dtype=float)[:3]),
        double_sided=bool(getattr(pbr, "doubleSided", False)),
    )


def _trimesh_material(mat: Optional[Material], scene: SceneData):
    if mat is None:
        return None
    image = None
    if mat.base_color_texture and mat.base_color_texture.asset_id in scene.textures:
        from PIL import Image

        image = Image.open(io.BytesIO(scene.textures[mat.base_color_texture.asset_id].data))
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
                visual = trimesh.visual.TextureVisuals(uv=mesh.uvs, material=material)
        return trimesh.Trimesh(verts, faces, visual=visual, process=False)

    if fmt.key == "ply" and not meshes:
        cloud = np.vstack([v for _, _, v in clouds])
        colors = [m.colors if m.colors is not None else np.ones((m.vertex_count, 4), np.float32) for _, m, _ in clouds]
        pc = trimesh.PointCloud(cloud, colors=(np.vstack(colors) * 255).round().astype(np.uint8))
        return {f"{stem}.ply": pc.export(file_type="ply")}
    if not meshes:
        raise ValueError(f"{fmt.name} holds triangles, and there are none to write")
    if fmt.key == "obj":
        geoms = {}
        for node, mesh, verts in meshes:
            key = node.name if node.name not in geoms else f"{node.name}_{node.id[:8]}"
            geoms[key] = tri(node, mesh, verts, True)
        text, files = trimesh.exchange.obj.export_obj(
            trimesh.Scene(geoms), return_texture=True, mtl_name=f"{stem}.mtl", include_normals=False
        )
        out = {f"{stem}.obj": text.encode("utf-8")}
        out.update({name: data for name, data in files.items()})
        return out
    if fmt.key == "3mf":
        tm_scene = trimesh.Scene()
        for i, (node, mesh, verts) in enumerate(meshes):
            tm_scene.add_geometry(tri(node, mesh, verts, False), node_name=f"{node.name}_{i}", geom_name=f"{node.name}_{i}")
        tm_scene.units = {v: k for k, v in THREEMF_UNITS.items()}.get(units, "millimeter")
        return {f"{stem}.3mf": trimesh.exchange.threemf.export_3MF(tm_scene)}
    combined = trimesh.util.concatenate([tri(n, m, v, fmt.key == "ply") for n, m, v in meshes])
    if fmt.key == "stl":
        return {f"{stem}.stl": trimesh.exchange.stl.export_stl(combined)}
    if fmt.key == "ply":
        return {f"{stem}.ply": trimesh.exchange.ply.export_ply(combined, encoding="binary")}
    if fmt.key == "off":
        return {f"{stem}.off": trimesh.exchange.off.export_off(combined).encode("utf-8")}
    raise ValueError(f"cannot write {fmt.name}")

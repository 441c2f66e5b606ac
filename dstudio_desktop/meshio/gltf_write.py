"""Write ``SceneData`` as glTF 2.0 (GLB, or .gltf with a .bin beside it) with pygltflib.

Node names, TRS transforms and PBR factors are written exactly as the model holds
them, so a glTF round trip keeps them to the last bit of a double.
"""

from __future__ import annotations

import json
from typing import Optional

import numpy as np
import pygltflib as g

from ..core import Material, Node
from ..core.extent import extent
from .meshdata import MeshData
from .scenedata import SceneData

ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


class _Builder:
    def __init__(self, scene: SceneData) -> None:
        self.scene = scene
        self.gltf = g.GLTF2(asset=g.Asset(generator="Design Studio Desktop", version="2.0"))
        # the binary chunk as pieces (views of the arrays, padding), joined once: a 2M-triangle
        # mesh is 36 MB, and each copy of it cost ~0.05 s and as many MB of fresh pages
        self.blob: list = []
        self.blob_length = 0
        self._attr_cache: dict[str, dict] = {}
        self._mesh_cache: dict[tuple[str, Optional[str]], int] = {}
        self._material_index: dict[tuple[str, bool], int] = {}
        self._image_index: dict[str, int] = {}

    def _pad(self) -> None:
        padding = -self.blob_length % 4
        if padding:
            self.blob.append(b"\0" * padding)
            self.blob_length += padding

    def _view(self, data, target: Optional[int] = None) -> int:
        self._pad()
        size = memoryview(data).nbytes
        self.gltf.bufferViews.append(g.BufferView(buffer=0, byteOffset=self.blob_length, byteLength=size, target=target))
        self.blob.append(data)
        self.blob_length += size
        return len(self.gltf.bufferViews) - 1

    def blob_bytes(self) -> bytes:
        return b"".join(self.blob)

    def _accessor(self, arr: np.ndarray, ctype: int, atype: str, target: int, minmax: bool = False) -> int:
        view = self._view(memoryview(np.ascontiguousarray(arr)).cast("B"), target)
        acc = g.Accessor(bufferView=view, componentType=ctype, count=len(arr), type=atype)
        if minmax:
            lo, hi = extent(arr)
            acc.min, acc.max = [float(v) for v in lo], [float(v) for v in hi]
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1

    def _attributes(self, asset_id: str, mesh: MeshData) -> dict:
        if asset_id not in self._attr_cache:
            f4 = lambda a: a.astype("<f4", copy=False)  # noqa: E731 - no copy when it is already float32
            attrs = g.Attributes(POSITION=self._accessor(f4(mesh.positions), g.FLOAT, g.VEC3, ARRAY_BUFFER, True))
            if mesh.normals is not None:
                attrs.NORMAL = self._accessor(f4(mesh.normals), g.FLOAT, g.VEC3, ARRAY_BUFFER)
            if mesh.uvs is not None:
                attrs.TEXCOORD_0 = self._accessor(f4(mesh.uvs), g.FLOAT, g.VEC2, ARRAY_BUFFER)
            if mesh.colors is not None:
                attrs.COLOR_0 = self._accessor(f4(mesh.colors), g.FLOAT, g.VEC4, ARRAY_BUFFER)
            if mesh.tangents is not None and mesh.normals is not None:   # glTF: TANGENT only with NORMAL
                attrs.TANGENT = self._accessor(f4(mesh.tangents), g.FLOAT, g.VEC4, ARRAY_BUFFER)
            indices = None
            if mesh.faces is not None:
                small = mesh.vertex_count < 65536
                flat = mesh.faces.reshape(-1).astype("<u2" if small else "<u4", copy=False)
                indices = self._accessor(flat[:, None], g.UNSIGNED_SHORT if small else g.UNSIGNED_INT, g.SCALAR,
                                         ELEMENT_ARRAY_BUFFER)
            self._attr_cache[asset_id] = {"attributes": attrs, "indices": indices}
        return self._attr_cache[asset_id]

    def mesh(self, node: Node) -> int:
        key = (node.asset_id, node.material_id)
        if key not in self._mesh_cache:
            data: MeshData = self.scene.meshes[node.asset_id]
            cached = self._attributes(node.asset_id, data)
            prim = g.Primitive(
                attributes=cached["attributes"],
                indices=cached["indices"],
                mode=g.POINTS if data.is_pointcloud else g.TRIANGLES,
                # a texture needs TEXCOORD_0: a mesh without UVs gets the material without its textures
                material=self.material(node.material_id, textured=data.uvs is not None),
            )
            self.gltf.meshes.append(g.Mesh(name=data.name, primitives=[prim]))
            self._mesh_cache[key] = len(self.gltf.meshes) - 1
        return self._mesh_cache[key]

    def _texture(self, ref, info_cls=g.TextureInfo, **extra):
        if ref is None or ref.asset_id not in self.scene.textures:
            return None
        if ref.asset_id not in self._image_index:
            tex = self.scene.textures[ref.asset_id]
            view = self._view(tex.data)
            self.gltf.images.append(g.Image(name=tex.name, bufferView=view, mimeType=tex.media_type))
            if not self.gltf.samplers:
                self.gltf.samplers.append(g.Sampler(magFilter=9729, minFilter=9987, wrapS=10497, wrapT=10497))
            self.gltf.textures.append(g.Texture(source=len(self.gltf.images) - 1, sampler=0))
            self._image_index[ref.asset_id] = len(self.gltf.textures) - 1
        # Meshes carry one UV set (TEXCOORD_0), so every texture reads it: naming another would
        # point at an attribute the file does not have (MESH_PRIMITIVE_TOO_FEW_TEXCOORDS).
        info = info_cls(index=self._image_index[ref.asset_id], **extra)
        if ref.transform is not None:
            t = ref.transform
            ext = {"offset": list(t.offset), "rotation": t.rotation, "scale": list(t.scale)}
            info.extensions = {"KHR_texture_transform": ext}
            if "KHR_texture_transform" not in self.gltf.extensionsUsed:
                self.gltf.extensionsUsed.append("KHR_texture_transform")
        return info

    def material(self, material_id: Optional[str], textured: bool = True) -> Optional[int]:
        mat: Optional[Material] = self.scene.material(material_id)
        if mat is None:
            return None
        if not textured and mat.texture_asset_ids():
            mat = mat.model_copy(update={slot: None for slot in Material.TEXTURE_SLOTS})
        key = (mat.id, textured or not self.scene.material(material_id).texture_asset_ids())
        if key not in self._material_index:
            # glTF's emissiveFactor stops at 1; brighter emission is KHR_materials_emissive_strength
            strength = max(max(mat.emissive_factor), 1.0)
            extensions = {}
            if strength > 1.0:
                extensions["KHR_materials_emissive_strength"] = {"emissiveStrength": strength}
                if "KHR_materials_emissive_strength" not in self.gltf.extensionsUsed:
                    self.gltf.extensionsUsed.append("KHR_materials_emissive_strength")
            self.gltf.materials.append(
                g.Material(
                    name=mat.name,
                    extensions=extensions,
                    pbrMetallicRoughness=g.PbrMetallicRoughness(
                        baseColorFactor=list(mat.base_color_factor),
                        baseColorTexture=self._texture(mat.base_color_texture),
                        metallicFactor=mat.metallic_factor,
                        roughnessFactor=mat.roughness_factor,
                        metallicRoughnessTexture=self._texture(mat.metallic_roughness_texture),
                    ),
                    emissiveFactor=[c / strength for c in mat.emissive_factor],
                    emissiveTexture=self._texture(mat.emissive_texture),
                    normalTexture=self._texture(mat.normal_texture, g.NormalMaterialTexture, scale=mat.normal_texture.scale)
                    if mat.normal_texture else None,
                    occlusionTexture=self._texture(
                        mat.occlusion_texture, g.OcclusionTextureInfo, strength=mat.occlusion_texture.strength
                    ) if mat.occlusion_texture else None,
                    alphaMode=mat.alpha_mode,
                    alphaCutoff=mat.alpha_cutoff if mat.alpha_mode == "MASK" else None,
                    doubleSided=mat.double_sided,
                )
            )
            self._material_index[key] = len(self.gltf.materials) - 1
        return self._material_index[key]

    def node(self, node: Node) -> int:
        t = node.transform
        out = g.Node(name=node.name)
        if t.translation != (0.0, 0.0, 0.0):
            out.translation = list(t.translation)
        if t.rotation != (0.0, 0.0, 0.0, 1.0):
            out.rotation = list(t.rotation)
        if t.scale != (1.0, 1.0, 1.0):
            out.scale = list(t.scale)
        if node.asset_id and node.asset_id in self.scene.meshes:
            out.mesh = self.mesh(node)
        self.gltf.nodes.append(out)
        index = len(self.gltf.nodes) - 1
        out.children = [self.node(c) for c in node.children if c.visible]
        return index

    def build(self) -> g.GLTF2:
        roots = [self.node(n) for n in self.scene.nodes if n.visible]
        self.gltf.scenes.append(g.Scene(nodes=roots))
        self.gltf.scene = 0
        self._pad()
        self.gltf.buffers.append(g.Buffer(byteLength=self.blob_length))
        return self.gltf


def _json_bytes(gltf: g.GLTF2) -> bytes:
    # pygltflib drops None fields; its own dumps is used so the output follows its schema.
    return gltf.to_json(separators=(",", ":")).encode("utf-8")


def glb_bytes(scene: SceneData) -> bytes:
    """The scene as one GLB file's bytes."""
    builder = _Builder(scene)
    gltf = builder.build()
    js = _json_bytes(gltf)
    js += b" " * (-len(js) % 4)
    size = builder.blob_length
    total = 12 + 8 + len(js) + (8 + size if size else 0)
    parts = [
        b"glTF", (2).to_bytes(4, "little"), total.to_bytes(4, "little"),
        len(js).to_bytes(4, "little"), b"JSON", js,
    ]
    if size:
        parts += [size.to_bytes(4, "little"), b"BIN\0", *builder.blob]
    return b"".join(parts)


def gltf_files(scene: SceneData, bin_name: str) -> tuple[bytes, bytes]:
    """The scene as a .gltf JSON document and the .bin it names."""
    builder = _Builder(scene)
    gltf = builder.build()
    gltf.buffers[0].uri = bin_name
    doc = json.loads(_json_bytes(gltf))
    return json.dumps(doc, indent=1).encode("utf-8"), builder.blob_bytes()


def mesh_glb(mesh: MeshData) -> bytes:
    """One mesh (no material) as a GLB: the format mesh assets are stored in."""
    node = Node(name=mesh.name[:256] or "mesh", kind="pointcloud" if mesh.is_pointcloud else "mesh", asset_id="00000000-0000-4000-8000-000000000000")
    return glb_bytes(SceneData(nodes=[node], meshes={node.asset_id: mesh}))

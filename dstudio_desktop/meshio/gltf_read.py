"""Read glTF 2.0 (.gltf and .glb) into ``SceneData``, keeping hierarchy, names, TRS and PBR.

The container, accessors and buffer views are decoded here with every length and
index checked against the bytes that exist, so a truncated or lying file fails
with a message rather than an exception from deep inside numpy.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..core import Material, Node, Transform
from ..core.materials import NormalTextureRef, OcclusionTextureRef, TextureRef, TextureTransform
from ..core.schema import new_id
from ..errors import DocumentError, MeshFileError
from ..settings import max_import_bytes
from . import gltf_schema
from .images import verified_image
from .meshdata import MeshData
from .scenedata import SceneData, Texture

COMPONENT = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
SUPPORTED_EXTENSIONS = {"KHR_mesh_quantization", "KHR_materials_emissive_strength", "KHR_texture_transform"}
# What a glTF may hold that Design Studio does not keep, by the name a warning gives it.
MATERIAL_EXTENSION_NAMES = {
    "KHR_materials_clearcoat": "clearcoat", "KHR_materials_pbrSpecularGlossiness": "specular-glossiness",
    "KHR_materials_sheen": "sheen", "KHR_materials_transmission": "transmission", "KHR_materials_volume": "volume",
    "KHR_materials_ior": "index of refraction", "KHR_materials_specular": "specular", "KHR_materials_unlit": "unlit",
    "KHR_materials_iridescence": "iridescence", "KHR_materials_anisotropy": "anisotropy",
}
# glTF's defaults, which the renderer uses for every texture: repeat wrapping, linear filtering.
DEFAULT_SAMPLER = {"wrapS": 10497, "wrapT": 10497}
# Decoded accessors may take this many times the file's size (quantized and interleaved data
# grows when decoded, strips and fans triple) or this many bytes, whichever is more; beyond it a
# file is declaring counts its bytes cannot honestly hold (an accessor without a bufferView is
# all zeros, so a few bytes of JSON could otherwise ask for gigabytes).
DECODE_RATIO = 16
DECODE_FLOOR = 64 * 1024 * 1024


class GltfReader:
    def __init__(self, path: Path, data: bytes, budget: Optional[int] = None) -> None:
        self.path = path
        self.doc, bin_chunk = self._container(data)
        self._bin = bin_chunk
        self._buffers: dict[int, bytes] = {}
        self._accessors: dict[int, np.ndarray] = {}
        self.textures: dict[int, Optional[tuple[str, Texture]]] = {}  # image index -> (asset id, texture)
        self._budget = budget
        self._source_bytes = len(data)  # grows by each external .bin the file loads
        self._spent = 0
        self._dropped: dict[str, str] = {}  # feature -> warning, one per feature

    def fail(self, problem: str) -> MeshFileError:
        return MeshFileError(self.path, problem)

    # -- container ------------------------------------------------------------

    def _container(self, data: bytes) -> tuple[dict, Optional[bytes]]:
        bin_chunk = None
        if data[:4] == b"glTF":
            if len(data) < 20:
                raise self.fail("truncated GLB (shorter than its header)")
            _, _, length = struct.unpack_from("<III", data, 0)
            if length > len(data):
                raise self.fail(f"truncated: the GLB header says {length} bytes but the file has {len(data)}")
            offset, json_bytes = 12, None
            while offset + 8 <= length:
                chunk_len, chunk_type = struct.unpack_from("<II", data, offset)
                start, end = offset + 8, offset + 8 + chunk_len
                if end > length:
                    raise self.fail(f"truncated: a GLB chunk claims {chunk_len} bytes past the end of the file")
                if chunk_type == 0x4E4F534A and json_bytes is None:
                    json_bytes = data[start:end]
                elif chunk_type == 0x004E4942 and bin_chunk is None:
                    bin_chunk = data[start:end]
                offset = end  # chunk lengths include their padding
            if json_bytes is None:
                raise self.fail("GLB has no JSON chunk")
        else:
            json_bytes = data
        try:
            doc = json.loads(json_bytes.decode("utf-8").rstrip(" \x00"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise self.fail(f"the glTF JSON is not valid: {err}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("asset"), dict):
            raise self.fail("not a glTF document (no 'asset' object)")
        version = str(doc["asset"].get("version", ""))
        if not version.startswith("2."):
            raise self.fail(f"glTF version {version or '?'} is not supported (only 2.x)")
        found = gltf_schema.problem(doc)
        if found:
            raise self.fail(f"invalid glTF: {found}")
        missing = [e for e in doc.get("extensionsRequired", []) if e not in SUPPORTED_EXTENSIONS]
        if missing:
            raise self.fail(f"needs glTF extension {missing[0]}, which Design Studio does not support yet")
        return doc, bin_chunk

    def _list(self, key: str) -> list:
        value = self.doc.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"glTF '{key}' is not a list")
        return value

    def _item(self, key: str, index: Any) -> dict:
        items = self._list(key)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(items):
            raise self.fail(f"refers to {key}[{index}], but there are {len(items)} {key}")
        item = items[index]
        if not isinstance(item, dict):
            raise self.fail(f"{key}[{index}] is not an object")
        return item

    def _uri_bytes(self, uri: str, what: str) -> bytes:
        if uri.startswith("data:"):
            try:
                return base64.b64decode(uri.split(",", 1)[1], validate=False)
            except (IndexError, ValueError):
                raise self.fail(f"{what} has a malformed data URI") from None
        from urllib.parse import unquote

        target = (self.path.parent / unquote(uri)).resolve()
        if self.path.parent.resolve() not in target.parents:
            raise self.fail(f"{what} points outside the model's folder ({uri})")
        try:
            size = target.stat().st_size
            if size > max_import_bytes():
                raise self.fail(f"{what} file {uri} is {size} bytes, over the import limit")
            return target.read_bytes()
        except OSError:
            raise self.fail(f"{what} file {uri} is missing") from None

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            buf = self._item("buffers", index)
            length = buf.get("byteLength")
            if not isinstance(length, int) or length < 0:
                raise self.fail(f"buffers[{index}] has no valid byteLength")
            if "uri" in buf:
                data = self._uri_bytes(str(buf["uri"]), f"buffers[{index}]")
                self._source_bytes += len(data)
            elif index == 0 and self._bin is not None:
                data = self._bin
            else:
                raise self.fail(f"buffers[{index}] has no data")
            if len(data) < length:
                raise self.fail(f"truncated: buffers[{index}] should hold {length} bytes but has {len(data)}")
            self._buffers[index] = data
        return self._buffers[index]

    def view_bytes(self, index: int) -> tuple[memoryview, Optional[int]]:
        view = self._item("bufferViews", index)
        data = self.buffer(view.get("buffer", -1))
        offset, length = view.get("byteOffset", 0), view.get("byteLength", -1)
        if not all(isinstance(v, int) and v >= 0 for v in (offset, length)) or offset + length > len(data):
            raise self.fail(f"bufferViews[{index}] reaches past the end of its buffer")
        return memoryview(data)[offset : offset + length], view.get("byteStride")

    @property
    def budget(self) -> int:
        if self._budget is not None:
            return self._budget
        return max(DECODE_RATIO * self._source_bytes, DECODE_FLOOR)

    def _spend(self, nbytes: int, index: int, what: str) -> None:
        """Charge every use of an accessor to the budget, so sharing one cannot multiply it either."""
        self._spent += nbytes
        if self._spent > self.budget:
            raise self.fail(f"accessors[{index}] ({what}) would take the decoded geometry past {self.budget >> 20} MB "
                            f"(the file declares more elements than its size can honestly hold)")

    def accessor(self, index: int, what: str) -> np.ndarray:
        if index in self._accessors:
            self._spend(self._accessors[index].nbytes, index, what)
            return self._accessors[index]
        acc = self._item("accessors", index)
        ctype, atype, count = acc.get("componentType"), acc.get("type"), acc.get("count")
        if ctype not in COMPONENT or atype not in WIDTH or not isinstance(count, int) or count < 0:
            raise self.fail(f"accessors[{index}] ({what}) has an invalid type or count")
        if "sparse" in acc:
            raise self.fail(f"accessors[{index}] ({what}) is sparse, which is not supported yet")
        dtype = np.dtype(COMPONENT[ctype]).newbyteorder("<")
        width = WIDTH[atype]
        elem = dtype.itemsize * width
        if "bufferView" in acc:
            self.view_bytes(acc["bufferView"])  # loads its buffer first, which raises the budget of a .gltf
        self._spend(count * elem * (4 // dtype.itemsize if acc.get("normalized") else 1), index, what)
        if "bufferView" not in acc:
            arr = np.zeros((count, width), dtype=dtype)
        else:
            raw, stride = self.view_bytes(acc["bufferView"])
            stride = stride or elem
            offset = acc.get("byteOffset", 0)
            if not isinstance(offset, int) or offset < 0 or not isinstance(stride, int) or stride < elem:
                raise self.fail(f"accessors[{index}] ({what}) has an invalid offset or stride")
            need = offset + (stride * (count - 1) + elem if count else 0)
            if need > len(raw):
                raise self.fail(
                    f"accessors[{index}] ({what}) claims {count} elements ({need} bytes) but its buffer view has {len(raw)}"
                )
            arr = np.ndarray((count, width), dtype=dtype, buffer=raw, offset=offset, strides=(stride, dtype.itemsize))
        if not arr.dtype.isnative or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
        # else: a read-only view over the file's bytes, which it keeps alive; no copy
        if acc.get("normalized") and dtype.kind in "iu":
            arr = np.maximum(arr.astype(np.float32) / np.iinfo(dtype).max, -1.0)
        self._accessors[index] = arr
        return arr

    # -- scene ----------------------------------------------------------------

    def read(self) -> SceneData:
        scene = SceneData(nodes=[], source=str(self.path))
        materials = [self.material(i, m, scene) for i, m in enumerate(self._list("materials"))]
        scene.materials = materials
        mesh_cache: dict[int, list[tuple[str, Optional[str], str]]] = {}
        nodes = self._list("nodes")
        roots = self._roots(nodes)
        visiting: set[int] = set()
        placed: set[int] = set()

        def build(index: int) -> Node:
            if index in visiting:
                raise self.fail(f"nodes[{index}] is its own ancestor (a cycle in the node tree)")
            if index in placed:
                raise self.fail(f"nodes[{index}] has two parents, which glTF forbids")
            visiting.add(index)
            raw = self._item("nodes", index)
            name = str(raw.get("name") or f"node {index}")[:256]
            try:
                node = Node(name=name, transform=self.transform(raw, index))
            except DocumentError as err:
                raise self.fail(str(err)) from None
            children = [build(c) for c in raw.get("children", [])]
            if "mesh" in raw:
                prims = self.mesh(raw["mesh"], mesh_cache, scene, materials)
                if len(prims) == 1:
                    asset_id, material_id, kind = prims[0]
                    node = node.model_copy(update={"kind": kind, "asset_id": asset_id, "material_id": material_id})
                else:
                    for i, (asset_id, material_id, kind) in enumerate(prims):
                        children.insert(i, Node(name=f"{name[:240]} [{i}]", kind=kind, asset_id=asset_id,
                                                material_id=material_id))
            elif "camera" in raw:
                node = node.model_copy(update={"kind": "camera"})
            node.children = children
            visiting.discard(index)
            placed.add(index)
            return node

        scene.nodes = [build(i) for i in roots]
        if not scene.meshes:
            raise self.fail("contains no triangle or point geometry")
        self.note_unsupported()
        scene.warnings.extend(self._dropped.values())
        return scene

    def _roots(self, nodes: list) -> list[int]:
        scenes = self._list("scenes")
        if scenes:
            chosen = self.doc.get("scene", 0)
            roots = self._item("scenes", chosen).get("nodes", [])
        else:
            children = {c for n in nodes if isinstance(n, dict) for c in n.get("children", [])}
            roots = [i for i in range(len(nodes)) if i not in children]
        if not isinstance(roots, list):
            raise self.fail("glTF scene 'nodes' is not a list")
        return roots

    def transform(self, raw: dict, index: int) -> Transform:
        try:
            if "matrix" in raw:
                m = np.asarray(raw["matrix"], dtype=float)
                if m.shape != (16,) or not np.isfinite(m).all():
                    raise ValueError("matrix must be 16 finite numbers")
                return Transform.from_matrix(m.reshape(4, 4).T)
            return Transform(
                translation=tuple(raw.get("translation", (0.0, 0.0, 0.0))),
                rotation=tuple(raw.get("rotation", (0.0, 0.0, 0.0, 1.0))),
                scale=tuple(raw.get("scale", (1.0, 1.0, 1.0))),
            )
        except (ValueError, TypeError) as err:
            message = str(err).splitlines()[0] if "validation error" not in str(err) else _pydantic_first(err)
            raise self.fail(f"nodes[{index}] has an invalid transform: {message}") from None

    def mesh(self, index: int, cache: dict, scene: SceneData, materials: list[Material]) -> list:
        if index in cache:
            return cache[index]
        raw = self._item("meshes", index)
        name = str(raw.get("name") or f"mesh {index}")[:256]
        out = []
        prims = raw.get("primitives", [])
        for p_index, prim in enumerate(prims if isinstance(prims, list) else []):
            data = self.primitive(prim, f"{name}" + (f" [{p_index}]" if len(prims) > 1 else ""))
            if data is None:
                scene.warnings.append(f"{name}: primitive {p_index} is lines, skipped")
                continue
            asset_id = new_id()
            scene.meshes[asset_id] = data.validated(self.path)
            mat = prim.get("material")
            material_id = None
            if mat is not None:
                if not isinstance(mat, int) or not 0 <= mat < len(materials):
                    raise self.fail(f"meshes[{index}] uses material {mat}, which does not exist")
                material_id = materials[mat].id
            out.append((asset_id, material_id, "pointcloud" if data.is_pointcloud else "mesh"))
        if not out:
            raise self.fail(f"meshes[{index}] ({name}) has no triangle or point primitives")
        cache[index] = out
        return out

    def primitive(self, prim: dict, name: str) -> Optional[MeshData]:
        attrs = prim.get("attributes", {})
        if not isinstance(attrs, dict) or "POSITION" not in attrs:
            raise self.fail(f"{name}: a primitive has no POSITION attribute")
        positions = self.accessor(attrs["POSITION"], f"{name} positions")
        if positions.shape[1] != 3:
            raise self.fail(f"{name}: POSITION is not VEC3")
        mode = prim.get("mode", 4)
        faces = None
        if mode in (4, 5, 6):
            if "indices" in prim:
                idx = self.accessor(prim["indices"], f"{name} indices")
                if idx.shape[1] != 1 or idx.dtype.kind not in "u":
                    raise self.fail(f"{name}: indices are not unsigned integers")
                idx = idx[:, 0]
            else:
                idx = np.arange(len(positions), dtype=np.uint32)
            faces = _triangles(idx, mode)
        elif mode != 0:
            return None
        normals = self.accessor(attrs["NORMAL"], f"{name} normals") if "NORMAL" in attrs else None
        uvs = self.accessor(attrs["TEXCOORD_0"], f"{name} uvs") if "TEXCOORD_0" in attrs else None
        colors = self.accessor(attrs["COLOR_0"], f"{name} colours") if "COLOR_0" in attrs else None
        tangents = self.accessor(attrs["TANGENT"], f"{name} tangents") if "TANGENT" in attrs else None
        return MeshData(positions=positions, faces=faces, normals=normals, colors=colors, uvs=uvs, name=name,
                        tangents=tangents)

    def texture_ref(self, info: Any, scene: SceneData, cls: type = TextureRef) -> Optional[TextureRef]:
        if not isinstance(info, dict) or "index" not in info:
            return None
        tex = self._item("textures", info["index"])
        source = tex.get("source")
        if source is None:
            return None
        sampler = tex.get("sampler")
        if sampler is not None:
            settings = self._item("samplers", sampler)
            if any(settings.get(k, v) != v for k, v in DEFAULT_SAMPLER.items()):
                self.drop("texture samplers", "texture samplers dropped: textures repeat and filter linearly "
                                              "(this file clamps or mirrors some)")
        if info.get("texCoord", 0) != 0:
            self.drop("second UV set", "second UV set (TEXCOORD_1) dropped: textures that used it now use the first")
        if source not in self.textures:
            self.textures[source] = self.image(source, scene)
        if self.textures[source] is None:
            return None
        extra = {}
        transform = (info.get("extensions") or {}).get("KHR_texture_transform") if isinstance(info.get("extensions"), dict) else None
        if isinstance(transform, dict):
            try:
                extra["transform"] = TextureTransform(
                    offset=tuple(transform.get("offset", (0.0, 0.0))), rotation=transform.get("rotation", 0.0),
                    scale=tuple(transform.get("scale", (1.0, 1.0))), texcoord=transform.get("texCoord"))
            except (ValueError, TypeError) as err:
                raise self.fail(f"a KHR_texture_transform is invalid: {_pydantic_first(err)}") from None
        if cls is NormalTextureRef and "scale" in info:
            extra["scale"] = info["scale"]
        if cls is OcclusionTextureRef and "strength" in info:
            extra["strength"] = info["strength"]
        if "transform" in extra and extra["transform"].texcoord:
            extra["transform"] = extra["transform"].model_copy(update={"texcoord": None})
        return cls(asset_id=self.textures[source][0], **extra)

    def image(self, source: int, scene: SceneData) -> Optional[tuple[str, Texture]]:
        """The image decoded once to prove it is one; a broken one is dropped with a warning naming it."""
        image = self._item("images", source)
        name = str(image.get("name") or image.get("uri", f"texture {source}"))[:200]
        if "bufferView" in image:
            data = bytes(self.view_bytes(image["bufferView"])[0])
        elif "uri" in image:
            try:
                data = self._uri_bytes(str(image["uri"]), f"images[{source}]")
            except MeshFileError as err:
                scene.warnings.append(f"texture {name} dropped: {err.problem}")
                return None
        else:
            raise self.fail(f"images[{source}] has no data")
        media, problem = verified_image(data)
        if problem:
            scene.warnings.append(f"texture {name} (images[{source}]) dropped: it is {problem}")
            return None
        asset_id = new_id()
        scene.textures[asset_id] = Texture(name=name, data=data, media_type=media)
        return asset_id, scene.textures[asset_id]

    def drop(self, feature: str, warning: str) -> None:
        self._dropped.setdefault(feature, warning)

    def note_unsupported(self) -> None:
        """Warn, by name, about what the file holds that the scene cannot keep."""
        doc = self.doc
        for key, what in (("animations", "animations"), ("skins", "skins"), ("cameras", "cameras")):
            if doc.get(key):
                n = len(doc[key])
                keep = " (camera nodes are kept as empty nodes)" if key == "cameras" else ""
                self.drop(what, f"{n} {what if n > 1 else what[:-1]} dropped{keep}")
        for mesh in self._list("meshes"):
            for prim in mesh.get("primitives", []):
                if prim.get("targets"):
                    self.drop("morph targets", "morph targets dropped: meshes keep their base shape")
                attrs = prim.get("attributes", {})
                if any(a.startswith(("JOINTS_", "WEIGHTS_")) for a in attrs):
                    self.drop("skins", "skins dropped: skinned meshes keep their bind pose")
                if any(a.startswith("TEXCOORD_") and a != "TEXCOORD_0" for a in attrs):
                    self.drop("second UV set", "second UV set (TEXCOORD_1 and up) dropped: only TEXCOORD_0 is kept")
                if any(a.startswith("COLOR_") and a != "COLOR_0" for a in attrs):
                    self.drop("second colour set", "vertex colour sets after COLOR_0 dropped")
        for mat in self._list("materials"):
            for ext in mat.get("extensions", {}):
                if ext not in SUPPORTED_EXTENSIONS:
                    name = MATERIAL_EXTENSION_NAMES.get(ext, ext)
                    self.drop(name, f"material extension {ext} ({name}) dropped")
        for tex in self._list("textures"):
            for ext in tex.get("extensions", {}):
                self.drop(ext, f"texture extension {ext} dropped")

    def material(self, index: int, raw: Any, scene: SceneData) -> Material:
        if not isinstance(raw, dict):
            raise self.fail(f"materials[{index}] is not an object")
        pbr = raw.get("pbrMetallicRoughness", {})
        emissive = list(raw.get("emissiveFactor", (0.0, 0.0, 0.0)))
        strength = raw.get("extensions", {}).get("KHR_materials_emissive_strength", {}).get("emissiveStrength")
        if strength is not None:
            emissive = [c * strength for c in emissive]
        try:
            return Material(
                name=str(raw.get("name") or f"material {index}")[:256],
                library_origin=f"import:{self.path.name}",
                base_color_factor=tuple(pbr.get("baseColorFactor", (1.0, 1.0, 1.0, 1.0))),
                base_color_texture=self.texture_ref(pbr.get("baseColorTexture"), scene),
                metallic_factor=pbr.get("metallicFactor", 1.0),
                roughness_factor=pbr.get("roughnessFactor", 1.0),
                metallic_roughness_texture=self.texture_ref(pbr.get("metallicRoughnessTexture"), scene),
                emissive_factor=tuple(emissive),
                emissive_texture=self.texture_ref(raw.get("emissiveTexture"), scene),
                normal_texture=self.texture_ref(raw.get("normalTexture"), scene, NormalTextureRef),
                occlusion_texture=self.texture_ref(raw.get("occlusionTexture"), scene, OcclusionTextureRef),
                alpha_mode=raw.get("alphaMode", "OPAQUE"),
                alpha_cutoff=raw.get("alphaCutoff", 0.5),
                double_sided=bool(raw.get("doubleSided", False)),
            )
        except (ValueError, TypeError) as err:
            raise self.fail(f"materials[{index}] is invalid: {_pydantic_first(err)}") from None


def _pydantic_first(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        first = errors()[0]
        loc = ".".join(str(p) for p in first["loc"] if p not in ("function-after", "tuple"))
        return f"{loc}: {first['msg']}"
    return str(err).splitlines()[0]


def _triangles(idx: np.ndarray, mode: int) -> np.ndarray:
    if mode == 4:
        usable = len(idx) - len(idx) % 3
        return idx[:usable].reshape(-1, 3)
    idx = idx.astype(np.int64)
    if len(idx) < 3:
        return np.zeros((0, 3), dtype=np.int64)
    if mode == 5:  # strip: flip every other triangle to keep the winding
        a, b, c = idx[:-2], idx[1:-1], idx[2:]
        odd = np.arange(len(a)) % 2 == 1
        a2, b2 = np.where(odd, b, a), np.where(odd, a, b)
        return np.stack([a2, b2, c], axis=1)
    return np.stack([np.full(len(idx) - 2, idx[0]), idx[1:-1], idx[2:]], axis=1)  # fan


def read_gltf(path: Path) -> SceneData:
    data = path.read_bytes()
    return GltfReader(path, data).read()


def read_gltf_bytes(data: bytes, name: str = "asset.glb") -> SceneData:
    return GltfReader(Path(name), data).read()

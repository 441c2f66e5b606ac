"""Writes the fuzzers' seed corpus in ``tests/data/fuzz_seeds``: one small, valid file per
format (and an MTL and PNG beside the OBJ), each using the features its reader handles
(hierarchy, PBR materials, textures, texture transforms, colours, n-gons), so mutants reach
deep into every reader. Run it again to rebuild; the files are committed.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "fuzz_seeds"


def png(size: int = 4) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def box() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    import trimesh

    mesh = trimesh.creation.box((1.0, 0.5, 0.25))
    uv = (mesh.vertices[:, :2] - mesh.vertices[:, :2].min(0)) / np.ptp(mesh.vertices[:, :2], axis=0)
    return mesh.vertices, mesh.faces, mesh.vertex_normals, uv


def gltf_doc(bin_uri: str | None, image: bytes, blob_len: int) -> dict:
    return {
        "asset": {"version": "2.0", "generator": "fuzz seed"},
        "extensionsUsed": ["KHR_texture_transform", "KHR_materials_emissive_strength"],
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "Root", "translation": [0.1, 0, 0], "children": [1, 2]},
                  {"name": "Box", "mesh": 0, "rotation": [0, 0.7071068, 0, 0.7071068]},
                  {"name": "Strip", "mesh": 1, "scale": [2, 2, 2]}],
        "meshes": [{"name": "box", "primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
                                                   "indices": 3, "material": 0}]},
                   {"name": "strip", "primitives": [{"attributes": {"POSITION": 0}, "mode": 5, "material": 1},
                                                    {"attributes": {"POSITION": 4}, "mode": 0}]}],
        "materials": [
            {"name": "Textured", "pbrMetallicRoughness": {
                "baseColorFactor": [1, 0.9, 0.8, 1], "metallicFactor": 0.2, "roughnessFactor": 0.6,
                "baseColorTexture": {"index": 0, "extensions": {"KHR_texture_transform": {
                    "offset": [0.5, 0], "scale": [2, 2], "rotation": 0.1}}}},
             "normalTexture": {"index": 0, "scale": 0.5}, "occlusionTexture": {"index": 0, "strength": 0.7}},
            {"name": "Glow", "emissiveFactor": [1, 0.5, 0], "alphaMode": "MASK", "alphaCutoff": 0.3,
             "doubleSided": True, "extensions": {"KHR_materials_emissive_strength": {"emissiveStrength": 2}}},
        ],
        "textures": [{"source": 0, "sampler": 0}],
        "samplers": [{"magFilter": 9729, "minFilter": 9987, "wrapS": 10497, "wrapT": 10497}],
        "images": [{"name": "checker", "mimeType": "image/png", "bufferView": 4} if bin_uri is None else
                   {"uri": "data:image/png;base64," + base64.b64encode(image).decode()}],
        "buffers": [{"byteLength": blob_len, **({"uri": bin_uri} if bin_uri else {})}],
        "bufferViews": [],
        "accessors": [],
    }


def gltf_files() -> dict[str, bytes]:
    verts, faces, normals, uv = box()
    image = png()
    arrays = [(verts.astype("<f4"), 5126, "VEC3", True), (normals.astype("<f4"), 5126, "VEC3", False),
              (uv.astype("<f4"), 5126, "VEC2", False), (faces.astype("<u2").reshape(-1, 1), 5123, "SCALAR", False),
              (verts[:4].astype("<f4") * 3, 5126, "VEC3", True)]
    out = {}
    for key in ("gltf", "glb"):
        blob = bytearray()
        views, accessors = [], []
        for i, (arr, ctype, atype, minmax) in enumerate(arrays):
            blob.extend(b"\0" * (-len(blob) % 4))
            views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": arr.nbytes})
            blob.extend(arr.tobytes())
            acc = {"bufferView": i, "componentType": ctype, "count": len(arr), "type": atype}
            if minmax:
                acc.update(min=arr.min(0).tolist(), max=arr.max(0).tolist())
            accessors.append(acc)
        if key == "glb":
            blob.extend(b"\0" * (-len(blob) % 4))
            views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": len(image)})
            blob.extend(image)
        blob.extend(b"\0" * (-len(blob) % 4))
        uri = None if key == "glb" else "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
        doc = gltf_doc(uri, image, len(blob))
        if key == "glb":
            doc["images"][0]["bufferView"] = len(views) - 1
        doc["bufferViews"], doc["accessors"] = views, accessors
        if key == "gltf":
            out["seed.gltf"] = json.dumps(doc, indent=1).encode()
        else:
            js = json.dumps(doc).encode()
            js += b" " * (-len(js) % 4)
            total = 12 + 8 + len(js) + 8 + len(blob)
            out["seed.glb"] = (b"glTF" + struct.pack("<II", 2, total) + struct.pack("<I", len(js)) + b"JSON" + js
                               + struct.pack("<I", len(blob)) + b"BIN\0" + bytes(blob))
    return out


def obj_files() -> dict[str, bytes]:
    verts, faces, normals, uv = box()
    lines = ["mtllib seed.mtl", "o Box"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in verts]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in uv]
    lines += [f"vn {x:.6f} {y:.6f} {z:.6f}" for x, y, z in normals]
    lines.append("usemtl Painted wood")
    lines += [f"f {a + 1}/{a + 1}/{a + 1} {b + 1}/{b + 1}/{b + 1} {c + 1}/{c + 1}/{c + 1}" for a, b, c in faces[:6]]
    lines += ["o Lid", "usemtl Brass"]
    lines += [f"f {a + 1}//{a + 1} {b + 1}//{b + 1} {c + 1}//{c + 1}" for a, b, c in faces[6:]]
    lines += ["f 1 2 3 4", "l 1 2"]
    mtl = ["newmtl Painted wood", "Kd 0.8 0.6 0.4", "Ns 250", "d 1", "Pr 0.5", "Pm 0.1", "map_Kd seed.png", "",
           "newmtl Brass", "Kd 0.9 0.7 0.2", "Ke 0.1 0.1 0", "Pm 1", "Pr 0.25", "Tr 0.1", ""]
    return {"seed.obj": "\n".join(lines).encode(), "seed.mtl": "\n".join(mtl).encode(), "seed.png": png()}


def mesh_files() -> dict[str, bytes]:
    import trimesh

    verts, faces, _, _ = box()
    mesh = trimesh.Trimesh(verts, faces, process=False)
    out = {"seed_ascii.stl": trimesh.exchange.stl.export_stl_ascii(mesh).encode(),
           "seed_binary.stl": trimesh.exchange.stl.export_stl(mesh)}
    colored = mesh.copy()
    colored.visual.vertex_colors = np.tile([200, 100, 50, 255], (len(verts), 1)).astype(np.uint8)
    out["seed_ascii.ply"] = trimesh.exchange.ply.export_ply(colored, encoding="ascii")
    out["seed_binary.ply"] = (Path(__file__).parent / "blender" / "mixed_faces.ply").read_bytes()
    off = ["OFF", f"{len(verts)} {len(faces) + 1} 0"] + [f"{x} {y} {z}" for x, y, z in verts]
    off += [f"3 {a} {b} {c}" for a, b, c in faces] + ["4 0 1 2 3"]
    out["seed.off"] = ("\n".join(off) + "\n").encode()
    from dstudio_desktop.meshio.threemf import write_3mf

    out["seed.3mf"] = write_3mf([("Box", verts * 10, faces, ("Red", (0.8, 0.1, 0.1, 1.0))),
                                 ("Plate", verts[:, [1, 0, 2]] * 5, faces[:, ::-1], ("Blue", (0.1, 0.1, 0.8, 1.0)))],
                                "millimeter")
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in {**gltf_files(), **obj_files(), **mesh_files()}.items():
        (OUT / name).write_bytes(data)
        print(f"wrote {OUT / name} ({len(data)} bytes)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()

"""Writes the malformed-file corpus in ``tests/data/malformed``.

Each file is broken in one way a real file can be: truncated, mislabelled,
lying about its counts, pointing outside its data, or hostile. Run it again to
rebuild the corpus; the files are committed so the tests need no generator.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "malformed"


def glb(doc: dict, blob: bytes) -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    blob += b"\0" * (-len(blob) % 4)
    total = 12 + 8 + len(js) + 8 + len(blob)
    return (b"glTF" + struct.pack("<II", 2, total) + struct.pack("<I", len(js)) + b"JSON" + js
            + struct.pack("<I", len(blob)) + b"BIN\0" + blob)


def triangle_doc(positions: np.ndarray, indices: np.ndarray, count_override: int | None = None,
                 index_count_override: int | None = None) -> tuple[dict, bytes]:
    pos = positions.astype("<f4").tobytes()
    idx = indices.astype("<u4").tobytes()
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "tri", "mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(pos) + len(idx)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos)},
            {"buffer": 0, "byteOffset": len(pos), "byteLength": len(idx)},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": count_override or len(positions), "type": "VEC3"},
            {"bufferView": 1, "componentType": 5125, "count": index_count_override or indices.size, "type": "SCALAR"},
        ],
    }
    return doc, pos + idx


TRI = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=float)
TRI_IDX = np.array([0, 1, 2])


def wrong_shapes() -> dict[str, bytes]:
    """glTF JSON of the wrong shape at each place a reader once crashed (exit 70) on it, and an
    accessor without a bufferView declaring 20 million points in a file of under 1 KB. Named
    shape_*: tests/meshio/test_hostile.py runs them through the CLI in its own process."""
    out = {}

    def variant(name: str, change) -> None:
        doc, blob = triangle_doc(TRI, TRI_IDX)
        doc["materials"] = [{"name": "m", "pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1]}}]
        doc["meshes"][0]["primitives"][0]["material"] = 0
        change(doc)
        out[f"shape_{name}"] = glb(doc, blob)

    variant("pbr_is_list.glb", lambda d: d["materials"][0].update(pbrMetallicRoughness=[1, 2]))
    variant("material_extensions_list.glb", lambda d: d["materials"][0].update(extensions=[]))
    variant("emissive_number.glb", lambda d: d["materials"][0].update(emissiveFactor=3))
    variant("emissive_string.glb", lambda d: d["materials"][0].update(emissiveFactor="red"))
    variant("material_entry_string.glb", lambda d: d.update(materials=["m"]))
    variant("primitive_is_list.glb", lambda d: d["meshes"][0].update(primitives=[[0]]))
    variant("attribute_is_dict.glb", lambda d: d["meshes"][0]["primitives"][0].update(attributes={"POSITION": {}}))
    variant("attributes_list.glb", lambda d: d["meshes"][0]["primitives"][0].update(attributes=[0]))
    variant("indices_list.glb", lambda d: d["meshes"][0]["primitives"][0].update(indices=[1]))
    variant("material_index_dict.glb", lambda d: d["meshes"][0]["primitives"][0].update(material={"a": 0}))
    variant("node_mesh_list.glb", lambda d: d["nodes"][0].update(mesh=[0]))
    variant("child_index_dict.glb", lambda d: d["nodes"][0].update(children=[{}]))
    variant("scene_nodes_dict.glb", lambda d: d["scenes"][0].update(nodes={"0": 0}))
    variant("accessor_count_string.glb", lambda d: d["accessors"][0].update(count="3"))
    variant("accessor_type_list.glb", lambda d: d["accessors"][0].update(type=["VEC3"]))
    variant("accessor_offset_float.glb", lambda d: d["accessors"][0].update(byteOffset=0.5))
    variant("texture_index_list.glb", lambda d: d["materials"][0]["pbrMetallicRoughness"].update(
        baseColorTexture={"index": [0]}))
    variant("rotation_strings.glb", lambda d: d["nodes"][0].update(rotation=["a", "b", "c", "d"]))
    variant("factor_infinity.glb", lambda d: d["materials"][0]["pbrMetallicRoughness"].update(
        baseColorFactor=[float("inf"), 1, 1, 1]))

    doc, _ = triangle_doc(TRI, TRI_IDX)
    doc["accessors"][0] = {"componentType": 5126, "count": 20_000_000, "type": "VEC3"}
    doc["meshes"][0]["primitives"][0] = {"attributes": {"POSITION": 0}, "mode": 0}
    doc["buffers"][0] = {"byteLength": 4, "uri": "data:application/octet-stream;base64,AAAAAA=="}
    out["shape_twenty_million_zeros.gltf"] = json.dumps(doc).encode()
    doc["accessors"][0]["count"] = 300_000_000
    out["shape_three_gigabytes_of_zeros.gltf"] = json.dumps(doc).encode()
    out["shape_deep_nesting.gltf"] = b'{"asset": {"version": "2.0"}, "extras": ' + b"[" * 100_000 + b"0" + b"]" * 100_000 + b"}"
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if not old.name.startswith("fuzz_"):  # mutants the fuzzer found are kept as they were found
            old.unlink()
    files: dict[str, bytes] = {}
    files["empty.stl"] = b""
    files["empty.glb"] = b""
    files["garbage.stl"] = bytes(np.random.default_rng(1).integers(0, 256, 517, dtype=np.uint8))
    files["png_named.stl"] = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
    good = glb(*triangle_doc(TRI, TRI_IDX))
    files["truncated.glb"] = good[: len(good) // 2]
    files["bad_magic.glb"] = b"this is not a glb file at all, just text\n" * 4
    files["json_garbage.glb"] = glb({"asset": {"version": "2.0"}}, b"").replace(b'{"asset"', b'{{asset"')
    files["accessor_overflow.glb"] = glb(*triangle_doc(TRI, TRI_IDX, count_override=1_000_000))
    files["index_out_of_range.glb"] = glb(*triangle_doc(TRI, np.array([0, 1, 7])))
    nan = TRI.copy()
    nan[1, 1] = np.nan
    files["nan_vertex.glb"] = glb(*triangle_doc(nan, TRI_IDX))
    doc, _ = triangle_doc(TRI, TRI_IDX)
    doc["nodes"] = [{"name": "a", "children": [1]}, {"name": "b", "children": [0], "mesh": 0}]
    doc["scenes"] = [{"nodes": [0]}]
    files["node_cycle.glb"] = glb(doc, triangle_doc(TRI, TRI_IDX)[1])
    doc, _ = triangle_doc(TRI, TRI_IDX)
    doc["buffers"][0]["uri"] = "missing.bin"
    files["missing_buffer.gltf"] = json.dumps(doc).encode()
    files["not_json.gltf"] = b"{ this is : not json ]"
    doc, _ = triangle_doc(TRI, TRI_IDX)
    doc["extensionsRequired"] = ["KHR_draco_mesh_compression"]
    files["draco_required.glb"] = glb(doc, triangle_doc(TRI, TRI_IDX)[1])
    files["index_out_of_range.obj"] = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 99\n"
    files["binary_garbage.obj"] = b"v 0 0 0\n\0\0\0\xff\xfe garbage"
    files["nan_vertex.obj"] = b"v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n"
    files["no_geometry.obj"] = b"# just a comment\no empty\n"
    header = b"ply\nformat binary_little_endian 1.0\nelement vertex 1000\nproperty float x\nproperty float y\nproperty float z\nelement face 10\nproperty list uchar int vertex_indices\nend_header\n"
    files["header_lies.ply"] = header + b"\0" * 120
    files["billions.ply"] = header.replace(b"vertex 1000", b"vertex 4000000000") + b"\0" * 120
    files["ascii_truncated.ply"] = b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n"
    files["unknown_format.ply"] = b"ply\nformat gibberish 1.0\nelement vertex 3\nproperty float x\nend_header\n"
    files["billions.stl"] = b"binary stl".ljust(80, b" ") + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 50
    files["ascii_truncated.stl"] = b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0\n"
    files["billions.off"] = b"OFF\n3000000000 1000000000 0\n0 0 0\n"
    files["bad_header.off"] = b"NOTOFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n"
    files["not_zip.3mf"] = b"PK but not really a zip" * 10
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("3D/3dmodel.model", b"\0" * (300 * 1024 * 1024))
    files["zip_bomb.3mf"] = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "no model here")
    files["no_model.3mf"] = buf.getvalue()
    files["model.xyz"] = b"0 0 0\n1 0 0\n"
    files.update(wrong_shapes())
    # trimesh casts these to float32 and numpy warns of the overflow: the warning must not print
    files["float_overflow.ply"] = (b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                   b"property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                                   b"end_header\n0 0 0\n1e39 0 0\n0 1 0\n3 0 1 2\n")
    for name, data in files.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(files)} files to {OUT}")


if __name__ == "__main__":
    sys.exit(main())

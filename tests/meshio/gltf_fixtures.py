"""glTF files for tests, written with pygltflib directly (not with our writer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygltflib as g
import trimesh

MATERIALS = [
    {"name": "Copper", "baseColorFactor": [0.955, 0.637, 0.538, 1.0], "metallicFactor": 1.0,
     "roughnessFactor": 0.3125, "emissiveFactor": [0.0, 0.0, 0.0]},
    {"name": "Matte blue", "baseColorFactor": [0.1234567, 0.2345678, 0.8765432, 1.0], "metallicFactor": 0.0,
     "roughnessFactor": 0.8123456, "emissiveFactor": [0.0, 0.0, 0.0]},
    {"name": "Glow", "baseColorFactor": [0.9, 0.9, 0.9, 0.75], "metallicFactor": 0.25,
     "roughnessFactor": 0.5, "emissiveFactor": [0.9876543, 0.4567891, 0.1]},
]
NODES = [
    {"name": "Chassis", "translation": [0.1, 0.2, -0.3], "rotation": [0.0, 0.3826834323650898, 0.0, 0.9238795325112867],
     "scale": [1.0, 1.0, 1.0], "children": [1]},
    {"name": "Wheel", "translation": [0.5, -0.25, 0.125], "rotation": [0.7071067811865476, 0.0, 0.0, 0.7071067811865476],
     "scale": [0.5, 0.5, 0.5], "children": [2]},
    {"name": "Hubcap", "translation": [0.0, 0.0, 0.05], "rotation": [0.0, 0.0, 0.0, 1.0], "scale": [2.0, 1.0, 0.25],
     "children": []},
]


def three_node_glb(path: Path) -> dict:
    """A GLB with three nested nodes, three meshes and three PBR materials; returns what it holds."""
    shapes = [trimesh.creation.box((0.4, 0.2, 0.6)), trimesh.creation.cylinder(0.1, 0.05, sections=24),
              trimesh.creation.icosphere(subdivisions=2, radius=0.03)]
    gltf = g.GLTF2(asset=g.Asset(version="2.0"), scene=0, scenes=[g.Scene(nodes=[0])])
    blob = bytearray()
    for i, (shape, mat) in enumerate(zip(shapes, MATERIALS, strict=True)):
        pos = shape.vertices.astype("<f4")
        idx = shape.faces.astype("<u4").reshape(-1)
        for arr, target in ((pos, 34962), (idx, 34963)):
            gltf.bufferViews.append(g.BufferView(buffer=0, byteOffset=len(blob), byteLength=arr.nbytes, target=target))
            blob.extend(arr.tobytes())
        gltf.accessors.append(g.Accessor(bufferView=2 * i, componentType=g.FLOAT, count=len(pos), type=g.VEC3,
                                         min=pos.min(axis=0).tolist(), max=pos.max(axis=0).tolist()))
        gltf.accessors.append(g.Accessor(bufferView=2 * i + 1, componentType=g.UNSIGNED_INT, count=len(idx), type=g.SCALAR))
        gltf.meshes.append(g.Mesh(name=f"shape{i}", primitives=[
            g.Primitive(attributes=g.Attributes(POSITION=2 * i), indices=2 * i + 1, material=i)]))
        gltf.materials.append(g.Material(
            name=mat["name"], emissiveFactor=mat["emissiveFactor"],
            alphaMode="BLEND" if mat["baseColorFactor"][3] < 1 else "OPAQUE",
            pbrMetallicRoughness=g.PbrMetallicRoughness(
                baseColorFactor=mat["baseColorFactor"], metallicFactor=mat["metallicFactor"],
                roughnessFactor=mat["roughnessFactor"])))
        node = NODES[i]
        gltf.nodes.append(g.Node(name=node["name"], translation=node["translation"], rotation=node["rotation"],
                                 scale=node["scale"], children=node["children"], mesh=i))
    gltf.buffers.append(g.Buffer(byteLength=len(blob)))
    gltf.set_binary_blob(bytes(blob))
    gltf.save_binary(str(path))
    return {"vertex_counts": [len(s.vertices) for s in shapes]}


def read_back(path: Path) -> g.GLTF2:
    return g.GLTF2().load(str(path))


def node_vertex_count(gltf: g.GLTF2, node: g.Node) -> int:
    prim = gltf.meshes[node.mesh].primitives[0]
    return gltf.accessors[prim.attributes.POSITION].count


def walk(gltf: g.GLTF2, index: int, depth: int = 0):
    yield depth, gltf.nodes[index]
    for c in gltf.nodes[index].children or []:
        yield from walk(gltf, c, depth + 1)


def trs(node: g.Node) -> np.ndarray:
    return np.concatenate([node.translation or [0, 0, 0], node.rotation or [0, 0, 0, 1], node.scale or [1, 1, 1]])

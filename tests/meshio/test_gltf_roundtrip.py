"""A three-node, three-material GLB survives import into a project and export back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygltflib as g

from dstudio_desktop.services.geometry import import_files
from dstudio_desktop.services.models import export_project
from dstudio_desktop.store import Workspace

from .gltf_fixtures import MATERIALS, NODES, node_vertex_count, read_back, three_node_glb, trs, walk


def test_three_node_pbr_glb_round_trips_through_a_project(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "car.glb"
    facts = three_node_glb(src)
    out = tmp_path / "out" / "car.glb"
    with Workspace() as ws:
        ws.create_project("car")
        result = import_files(ws, "car", [src])
        assert [n.name for n in result.nodes] == ["Chassis"]
        assert result.materials == 3
        export_project(ws, "car", out)

    back = read_back(out)
    chain = list(walk(back, back.scenes[back.scene].nodes[0]))
    assert [(d, n.name) for d, n in chain] == [(0, "Chassis"), (1, "Wheel"), (2, "Hubcap")]
    for (_, node), expected in zip(chain, NODES, strict=True):
        want = np.concatenate([expected["translation"], expected["rotation"], expected["scale"]])
        assert np.allclose(trs(node), want, atol=1e-6, rtol=0)
    assert [node_vertex_count(back, n) for _, n in chain] == facts["vertex_counts"]
    by_name = {m.name: m for m in back.materials}
    assert set(by_name) == {m["name"] for m in MATERIALS}
    for want in MATERIALS:
        got = by_name[want["name"]]
        pbr = got.pbrMetallicRoughness
        assert np.allclose(pbr.baseColorFactor, want["baseColorFactor"], atol=1e-6, rtol=0)
        assert abs(pbr.metallicFactor - want["metallicFactor"]) <= 1e-6
        assert abs(pbr.roughnessFactor - want["roughnessFactor"]) <= 1e-6
        assert np.allclose(got.emissiveFactor, want["emissiveFactor"], atol=1e-6, rtol=0)
    # each node kept its own material
    for (_, node), want in zip(chain, MATERIALS, strict=True):
        assert back.materials[back.meshes[node.mesh].primitives[0].material].name == want["name"]


def test_textures_and_vertex_attributes_survive(home: Path, tmp_path: Path) -> None:
    import io

    import trimesh
    from PIL import Image

    img = Image.new("RGB", (8, 8))
    img.putpixel((3, 4), (250, 10, 20))
    png = io.BytesIO()
    img.save(png, format="PNG")
    box = trimesh.creation.box()
    uv = np.random.default_rng(0).random((len(box.vertices), 2))
    box.visual = trimesh.visual.TextureVisuals(
        uv=uv, material=trimesh.visual.material.PBRMaterial(name="tex", baseColorTexture=Image.open(png)))
    src = tmp_path / "tex.glb"
    box.export(src)
    out = tmp_path / "tex_out.glb"
    with Workspace() as ws:
        ws.create_project("t")
        result = import_files(ws, "t", [src])
        assert {a.asset_type for a in result.assets} == {"mesh", "texture"}
        export_project(ws, "t", out)
    back = read_back(out)
    mat = back.materials[0]
    assert mat.pbrMetallicRoughness.baseColorTexture is not None
    image = back.images[back.textures[mat.pbrMetallicRoughness.baseColorTexture.index].source]
    view = back.bufferViews[image.bufferView]
    data = back.binary_blob()[view.byteOffset: view.byteOffset + view.byteLength]
    assert Image.open(io.BytesIO(data)).getpixel((3, 4))[:3] == (250, 10, 20)
    prim = back.meshes[0].primitives[0]
    assert prim.attributes.TEXCOORD_0 is not None


def test_instanced_mesh_is_stored_once(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "car.glb"
    three_node_glb(src)
    gltf = g.GLTF2().load(str(src))
    gltf.nodes[2].mesh = 1  # hubcap reuses the wheel mesh
    gltf.save_binary(str(src))
    with Workspace() as ws:
        ws.create_project("car")
        result = import_files(ws, "car", [src])
        project = ws.load_project("car")
    wheel, hub = [n for n, _ in project.scene_graph.walk()][1:]
    assert wheel.asset_id == hub.asset_id
    assert len([a for a in result.assets if a.asset_type == "mesh"]) == 2

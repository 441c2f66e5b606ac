"""Blender (Debian's blender, set up by ./dev) reads what we write, and we read what it writes.

One Blender run (``blender_roundtrip.py``) does both directions: it imports our GLB, OBJ, STL and
PLY of a three-node, three-material scene, and exports its own three-object, three-material
scene with an image texture as GLB, glTF, OBJ, binary PLY and STL. The tests compare names,
hierarchy, triangle counts, bounds and material factors on both sides. Blender is Z-up; the
scene is Y-up, so a scene point (x, y, z) is Blender's (x, -z, y).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dstudio_desktop.meshio import read_scene, write_scene
from dstudio_desktop.meshio.scenedata import SceneData

from ..meshio.gltf_fixtures import MATERIALS, three_node_glb

BLENDER = shutil.which("blender")
SCRIPT = Path(__file__).with_name("blender_roundtrip.py")
TOL = 1e-4


def to_blender(points: np.ndarray) -> np.ndarray:
    return np.column_stack([points[:, 0], -points[:, 2], points[:, 1]])


def our_objects(scene: SceneData) -> dict[str, dict]:
    """Per mesh node: triangles and world bounds in Blender's frame."""
    out = {}
    for node, world in scene.world_geometry():
        mesh = scene.meshes[node.asset_id]
        pts = mesh.positions.astype(np.float64) @ world[:3, :3].T + world[:3, 3]
        b = to_blender(pts)
        out[node.name] = {"triangles": mesh.triangle_count, "bounds": np.array([b.min(0), b.max(0)]),
                          "material": scene.material(node.material_id)}
    return out


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory) -> dict:
    assert BLENDER, "Blender is not installed; run ./dev setup (Debian package blender)"
    work = tmp_path_factory.mktemp("blender")
    ours_dir, theirs_dir = work / "ours", work / "theirs"
    ours_dir.mkdir()
    theirs_dir.mkdir()
    three_node_glb(work / "three_nodes.glb")
    scene = read_scene(work / "three_nodes.glb")
    write_scene(scene, ours_dir / "ours.glb")
    write_scene(scene, ours_dir / "ours.obj")
    write_scene(scene, ours_dir / "ours_m_zup.stl", units="m", up="z")
    write_scene(scene, ours_dir / "ours_mm.stl")  # the default: millimetres, Z-up, as printers read STL
    write_scene(scene, ours_dir / "ours_m_zup.ply", units="m", up="z")
    jobs = [{"file": "ours.glb", "importer": "gltf"}, {"file": "ours.obj", "importer": "obj"},
            {"file": "ours_m_zup.stl", "importer": "stl"}, {"file": "ours_mm.stl", "importer": "stl", "scale": 0.001},
            {"file": "ours_m_zup.ply", "importer": "ply"}]
    (ours_dir / "imports.json").write_text(json.dumps(jobs))
    proc = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(SCRIPT),
                           "--", str(ours_dir), str(theirs_dir)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((theirs_dir / "blender_report.json").read_text())
    return {"scene": scene, "ours": our_objects(scene), "report": report, "theirs": theirs_dir}


def blender_objects(read: dict) -> dict[str, dict]:
    assert "error" not in read, read
    return {o["name"]: o for o in read["objects"] if o["type"] == "MESH"}


def test_blender_reads_our_glb_names_hierarchy_counts_bounds_materials(roundtrip) -> None:
    read = roundtrip["report"]["blender_reads"]["ours.glb"]
    objects = blender_objects(read)
    ours = roundtrip["ours"]
    assert set(objects) == set(ours)
    parents = {o["name"]: o["parent"] for o in read["objects"]}
    assert parents["Wheel"] == "Chassis" and parents["Hubcap"] == "Wheel" and parents["Chassis"] is None
    for name, mine in ours.items():
        assert objects[name]["triangles"] == mine["triangles"]
        assert np.allclose(objects[name]["bounds"], mine["bounds"], atol=TOL), name
    for spec in MATERIALS:
        got = read["materials"][spec["name"]]
        assert got["base_color"][:3] == pytest.approx(spec["baseColorFactor"][:3], abs=1e-6)
        assert (got["metallic"], got["roughness"]) == pytest.approx((spec["metallicFactor"], spec["roughnessFactor"]), abs=1e-6)
        assert got["emission"] == pytest.approx(spec["emissiveFactor"], abs=1e-6)


def test_blender_reads_our_obj_names_counts_bounds_and_pbr(roundtrip) -> None:
    read = roundtrip["report"]["blender_reads"]["ours.obj"]
    objects = blender_objects(read)
    ours = roundtrip["ours"]
    assert set(objects) == set(ours)  # OBJ is flat: names kept, hierarchy flattened into world coordinates
    for name, mine in ours.items():
        assert objects[name]["triangles"] == mine["triangles"]
        assert np.allclose(objects[name]["bounds"], mine["bounds"], atol=TOL), name
        assert objects[name]["materials"] == [mine["material"].name]
    for spec in MATERIALS:
        got = read["materials"][spec["name"]]
        assert got["base_color"][:3] == pytest.approx(spec["baseColorFactor"][:3], abs=1e-5)
        assert got["roughness"] == pytest.approx(spec["roughnessFactor"], abs=1e-4)  # Pr (or Ns by Blender's mapping)
        assert got["metallic"] == pytest.approx(spec["metallicFactor"], abs=1e-4)  # Pm
        assert got["emission"] == pytest.approx(spec["emissiveFactor"], abs=1e-5)  # Ke


@pytest.mark.parametrize("name", ["ours_m_zup.stl", "ours_mm.stl", "ours_m_zup.ply"])
def test_blender_reads_our_stl_and_ply_at_the_chosen_units_and_up_axis(roundtrip, name: str) -> None:
    """STL in metres, or in millimetres imported at 0.001 (as Blender's STL importer offers), and
    PLY written Z-up, lie in Blender where they lay here: same size, same way up."""
    objects = blender_objects(roundtrip["report"]["blender_reads"][name])
    ours = roundtrip["ours"]
    assert sum(o["triangles"] for o in objects.values()) == sum(m["triangles"] for m in ours.values())
    lo = np.min([o["bounds"][0] for o in objects.values()], axis=0)
    hi = np.max([o["bounds"][1] for o in objects.values()], axis=0)
    my_lo = np.min([m["bounds"][0] for m in ours.values()], axis=0)
    my_hi = np.max([m["bounds"][1] for m in ours.values()], axis=0)
    assert np.allclose(lo, my_lo, atol=TOL) and np.allclose(hi, my_hi, atol=TOL)


def their_expected(roundtrip) -> dict:
    return roundtrip["report"]["blender_wrote"]


@pytest.mark.parametrize("name", ["blender_scene.glb", "blender_scene.gltf", "blender_scene.obj"])
def test_we_read_blenders_scene_with_everything_kept(roundtrip, name: str) -> None:
    expected = their_expected(roundtrip)
    scene = read_scene(roundtrip["theirs"] / name, units="m", up="y")
    ours = our_objects(scene)
    assert scene.warnings == []
    assert set(ours) == set(expected["objects"])
    for obj_name, want in expected["objects"].items():
        assert ours[obj_name]["triangles"] == want["triangles"], obj_name
        assert np.allclose(ours[obj_name]["bounds"], want["bounds"], atol=TOL), obj_name
        mat = ours[obj_name]["material"]
        assert mat is not None and [mat.name] == want["materials"]
        spec = expected["materials"][mat.name]
        assert mat.base_color_factor[:3] == pytest.approx(spec["base_color"][:3], abs=2e-3) or spec["textured"]
        assert mat.roughness_factor == pytest.approx(spec["roughness"], abs=2e-3)
        assert mat.metallic_factor == pytest.approx(spec["metallic"], abs=2e-3)
        assert mat.emissive_factor == pytest.approx(spec["emission"], abs=2e-3)
        assert (mat.base_color_texture is not None) == spec["textured"]
        if spec["textured"]:
            assert scene.textures[mat.base_color_texture.asset_id].data[:4] == b"\x89PNG"
            assert mat.base_color_factor[:3] == pytest.approx((1.0, 1.0, 1.0), abs=2e-3)  # not darkened
    if name != "blender_scene.obj":  # OBJ has no hierarchy
        pole = next(n for n in scene.nodes[0].children or scene.nodes if n.name == "Pole") \
            if scene.nodes[0].name != "Pole" else scene.nodes[0]
        assert [c.name for c in pole.children] == ["Lamp"]


@pytest.mark.parametrize("name", ["blender_scene.ply", "blender_scene.stl"])
def test_we_read_blenders_ply_and_stl(roundtrip, name: str) -> None:
    """Blender's PLY has faces of 4, 16 and 12 vertices side by side; both are Z-up metres to Blender."""
    expected = their_expected(roundtrip)
    scene = read_scene(roundtrip["theirs"] / name, units="m", up="z")
    ours = our_objects(scene)
    assert sum(o["triangles"] for o in ours.values()) == sum(o["triangles"] for o in expected["objects"].values())
    lo = np.min([o["bounds"][0] for o in ours.values()], axis=0)
    want_lo = np.min([o["bounds"][0] for o in expected["objects"].values()], axis=0)
    want_hi = np.max([o["bounds"][1] for o in expected["objects"].values()], axis=0)
    hi = np.max([o["bounds"][1] for o in ours.values()], axis=0)
    assert np.allclose(lo, want_lo, atol=TOL) and np.allclose(hi, want_hi, atol=TOL)

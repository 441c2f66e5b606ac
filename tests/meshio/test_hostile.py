"""Each crash site and silent loss the formats issues found, as a test: the file is refused in
one line naming it, or imported with a warning naming what was dropped, never exit 70; and what
is imported exports again. The CLI runs in this process here (``cli.main``, what ``dstudio``
runs) so the corpus costs no interpreter start per file."""

from __future__ import annotations

import base64
import io
import json
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dstudio_desktop.cli.main import main as dstudio
from dstudio_desktop.errors import MeshFileError
from dstudio_desktop.meshio import read_scene, write_scene

from ..conftest import DATA

SEEDS = DATA / "fuzz_seeds"
ASSIMP = Path("/usr/share/assimp/models")
ASSIMP_HOSTILE = sorted(
    [p for p in (ASSIMP / "invalid").iterdir() if p.suffix.lower() in (".obj", ".off", ".ply", ".stl", ".glb", ".gltf")]
    + list((ASSIMP / "glTF2" / "wrongTypes").glob("*.gltf"))
    + list((ASSIMP / "glTF2" / "IndexOutOfRange").glob("*.gltf"))
    + list((ASSIMP / "glTF2" / "MissingBin").glob("*.gltf"))
    + list((ASSIMP / "glTF2" / "RecursiveNodes").glob("*.gltf"))
) if ASSIMP.is_dir() else []
CORPUS = sorted((DATA / "malformed").iterdir())
# mutants the fuzzer found that crashed a reader once and are valid enough to import now
FOUND = sorted((DATA / "fuzz_found").iterdir())


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = dstudio(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_assimps_hostile_models_are_here() -> None:
    """Debian's assimp-testmodels (./dev installs it): without it the next test would test nothing."""
    assert len(ASSIMP_HOSTILE) >= 15


@pytest.mark.parametrize("path", CORPUS + FOUND + ASSIMP_HOSTILE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_refused_in_one_line_or_imported_never_a_crash(home: Path, capsys, path: Path) -> None:
    assert run(capsys, "new", "victim")[0] == 0
    code, out, err = run(capsys, "import", "victim", str(path), "--json")
    assert code in (0, 1), err
    if code == 1:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dstudio: error: ") and path.name in lines[0], err
        assert "internal error" not in err and "Traceback" not in err
    else:
        assert err.strip() == "" and json.loads(out)["nodes"]
    if path.parent.name == "malformed":
        assert code == 1


def test_no_runtime_warning_reaches_the_user() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(MeshFileError):
            read_scene(DATA / "malformed" / "float_overflow.ply")
    assert seen == []


def test_charset_normalizer_is_installed_for_non_utf8_obj(tmp_path: Path) -> None:
    import charset_normalizer  # noqa: F401 - trimesh decodes OBJ that is not UTF-8 with it

    obj = tmp_path / "latin1.obj"
    obj.write_bytes("# Gehäuse für Größe\nmtllib latin1.mtl\no Gehäuse\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl Blätter\nf 1 2 3\n"
                    .encode("latin-1"))
    (tmp_path / "latin1.mtl").write_bytes("newmtl Blätter\nKd 0.2 0.6 0.2\n".encode("latin-1"))
    scene = read_scene(obj)
    assert scene.counts()["triangles"] == 1
    assert scene.materials[0].base_color_factor[:3] == pytest.approx((0.2, 0.6, 0.2))


def _truncated_png() -> bytes:
    data = (SEEDS / "seed.png").read_bytes()
    return data[: len(data) - 30]


def test_gltf_with_a_truncated_png_imports_with_a_warning_and_exports_everywhere(tmp_path: Path) -> None:
    doc = json.loads((SEEDS / "seed.gltf").read_text())
    doc["images"][0]["uri"] = "data:image/png;base64," + base64.b64encode(_truncated_png()).decode()
    src = tmp_path / "broken_texture.gltf"
    src.write_text(json.dumps(doc))
    scene = read_scene(src)
    assert any("texture" in w and "dropped" in w and "damaged image" in w for w in scene.warnings), scene.warnings
    assert scene.textures == {} and all(m.base_color_texture is None for m in scene.materials)
    for ext in ("obj", "ply", "glb", "stl", "3mf", "off"):
        assert write_scene(scene, tmp_path / f"out.{ext}")


def test_obj_whose_texture_opens_but_does_not_decode(tmp_path: Path) -> None:
    for name in ("seed.obj", "seed.mtl"):
        shutil.copy(SEEDS / name, tmp_path / name)
    (tmp_path / "seed.png").write_bytes(_truncated_png())
    scene = read_scene(tmp_path / "seed.obj")
    assert any("seed.png" in w and "dropped" in w for w in scene.warnings), scene.warnings
    assert write_scene(scene, tmp_path / "again.obj") and write_scene(scene, tmp_path / "again.ply")


def test_negative_ns_gives_a_real_roughness(tmp_path: Path) -> None:
    (tmp_path / "m.mtl").write_text("newmtl Odd\nKd 1 0 0\nNs -5\n")
    (tmp_path / "m.obj").write_text("mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl Odd\nf 1 2 3\n")
    mat = read_scene(tmp_path / "m.obj").materials[0]
    assert isinstance(mat.roughness_factor, float) and mat.roughness_factor == 1.0


def test_3mf_component_whose_mesh_is_gone(home: Path, capsys, tmp_path: Path) -> None:
    with zipfile.ZipFile(SEEDS / "seed.3mf") as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    model = parts["3D/3dmodel.model"].decode()
    model = model.replace("</resources>", '<object id="90" type="model"><components><component objectid="77"/>'
                          "</components></object></resources>").replace("<build>", '<build><item objectid="90"/>')
    parts["3D/3dmodel.model"] = model.encode()
    src = tmp_path / "dangling.3mf"
    with zipfile.ZipFile(src, "w") as zf:
        for n, d in parts.items():
            zf.writestr(n, d)
    run(capsys, "new", "p")
    code, _, err = run(capsys, "import", "p", str(src))
    assert code in (0, 1) and "internal error" not in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1 and "dangling.3mf" in err


def test_blenders_mixed_face_binary_ply_imports() -> None:
    """Blender 3.4's default binary PLY: a 24-sided cylinder (quads, two 24-gons) and a cone (triangles, an 8-gon)."""
    scene = read_scene(DATA / "blender" / "mixed_faces.ply")
    mesh = next(iter(scene.meshes.values()))
    assert mesh.triangle_count == 24 * 2 + 2 * 22 + 8 + 6
    assert mesh.vertex_count == 115 and mesh.normals is not None and mesh.uvs is not None
    assert mesh.bounds()[1][0] == pytest.approx(4.0)  # the cone's rim, 1 m round its centre at x = 3


def test_dropped_gltf_features_are_warned_about_by_name(home: Path, capsys, tmp_path: Path) -> None:
    doc = json.loads((SEEDS / "seed.gltf").read_text())
    doc["animations"] = [{"channels": [], "samplers": []}]
    doc["skins"] = [{"joints": [0]}]
    doc["cameras"] = [{"type": "perspective", "perspective": {"yfov": 1, "znear": 0.1}}]
    doc["nodes"].append({"name": "Eye", "camera": 0})
    doc["nodes"][0]["children"].append(len(doc["nodes"]) - 1)
    prim = doc["meshes"][0]["primitives"][0]
    prim["targets"] = [{"POSITION": 0}]
    prim["attributes"]["TEXCOORD_1"] = 2
    doc["materials"][0]["extensions"] = {"KHR_materials_clearcoat": {"clearcoatFactor": 1},
                                         "KHR_materials_pbrSpecularGlossiness": {}}
    doc["materials"][0]["pbrMetallicRoughness"]["baseColorTexture"]["texCoord"] = 1
    doc["samplers"][0]["wrapS"] = 33071
    src = tmp_path / "everything.gltf"
    src.write_text(json.dumps(doc))
    run(capsys, "new", "p")
    code, out, err = run(capsys, "import", "p", str(src), "--json")
    assert code == 0, err
    text = " | ".join(json.loads(out)["warnings"])
    for name in ("animation", "skin", "morph targets", "camera", "clearcoat", "specular-glossiness",
                 "texture samplers", "second UV set"):
        assert name in text, (name, text)
    # kept, so not warned about: the texture transform (the renderer draws it) and emissive strength
    assert "KHR_texture_transform" not in text and "emissive_strength" not in text


def test_texcoord_1_is_not_written_when_one_uv_set_is_kept(tmp_path: Path) -> None:
    scene = read_scene(ASSIMP / "glTF2" / "BoxTexcoords-glTF" / "boxTexcoords.gltf")
    write_scene(scene, tmp_path / "box.gltf")
    doc = json.loads((tmp_path / "box.gltf").read_text())
    infos = [m["pbrMetallicRoughness"].get("baseColorTexture", {}) for m in doc["materials"]]
    assert any(infos) and all(i.get("texCoord", 0) == 0 for i in infos)
    assert all(set(p["attributes"]) <= {"POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0", "TANGENT"}
               for m in doc["meshes"] for p in m["primitives"])


def test_obj_names_and_pbr_survive_our_own_round_trip(tmp_path: Path) -> None:
    scene = read_scene(SEEDS / "seed.obj")
    assert {m.name for m in scene.materials} == {"Painted wood", "Brass"}
    assert {n.name for n in scene.nodes[0].children} == {"Box", "Lid"}
    brass = next(m for m in scene.materials if m.name == "Brass")
    assert (brass.metallic_factor, brass.roughness_factor) == (1.0, 0.25)
    assert brass.emissive_factor == pytest.approx((0.1, 0.1, 0.0))
    assert brass.base_color_factor[3] == pytest.approx(0.9)  # Tr 0.1
    written = write_scene(scene, tmp_path / "again.obj")
    mtl = (tmp_path / "again.mtl").read_text()
    assert "Pr 0.25" in mtl and "Pm 1" in mtl and "Ke 0.1 0.1 0" in mtl
    again = read_scene(tmp_path / "again.obj")
    assert {m.name for m in again.materials} == {"Painted wood", "Brass"}
    assert {n.name for n in again.nodes[0].children} == {"Box", "Lid"}
    for m in again.materials:
        old = next(o for o in scene.materials if o.name == m.name)
        assert (m.metallic_factor, m.roughness_factor) == pytest.approx((old.metallic_factor, old.roughness_factor))
        assert m.base_color_factor == pytest.approx(old.base_color_factor)
        assert (m.base_color_texture is None) == (old.base_color_texture is None)
    assert any(p.suffix == ".png" for p in written)
    uv_old = next(m for m in scene.meshes.values() if m.uvs is not None).uvs
    uv_new = next(m for m in again.meshes.values() if m.uvs is not None).uvs
    assert np.allclose(uv_old, uv_new, atol=1e-6)


def test_textured_obj_material_without_kd_is_not_darkened(tmp_path: Path) -> None:
    shutil.copy(SEEDS / "seed.png", tmp_path / "t.png")
    (tmp_path / "m.mtl").write_text("newmtl Photo\nmap_Kd t.png\n")
    (tmp_path / "m.obj").write_text("mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 0 1\n"
                                    "usemtl Photo\nf 1/1 2/2 3/3\n")
    mat = read_scene(tmp_path / "m.obj").materials[0]
    assert mat.base_color_factor == (1.0, 1.0, 1.0, 1.0) and mat.base_color_texture is not None


def test_3mf_keeps_base_colours_and_names_without_suffixes(tmp_path: Path) -> None:
    scene = read_scene(DATA / "fuzz_seeds" / "seed.gltf")
    write_scene(scene, tmp_path / "out.3mf")
    with zipfile.ZipFile(tmp_path / "out.3mf") as zf:
        model = zf.read("3D/3dmodel.model").decode()
    assert 'name="Box"' in model and "Box_0" not in model and "<basematerials" in model
    again = read_scene(tmp_path / "out.3mf")
    names = {n.name for n in (again.nodes[0].children or again.nodes)}
    assert "Box" in names
    textured = next(m for m in scene.materials if m.name == "Textured")
    kept = next(m for m in again.materials if m.name == "Textured")
    assert kept.base_color_factor == pytest.approx(textured.base_color_factor, abs=0.01)


def test_info_on_a_project_named_like_a_model_file(home: Path, capsys) -> None:
    assert run(capsys, "new", "lamp.glb")[0] == 0
    code, out, err = run(capsys, "info", "lamp.glb", "--json")
    assert code == 0, err
    assert json.loads(out)["project"] == "lamp.glb"
    code, _, err = run(capsys, "info", "nothing.glb")
    assert code == 1 and "nothing.glb: no such file" in err


def test_exported_units_and_up_axis_are_the_users_choice(tmp_path: Path) -> None:
    scene = read_scene(DATA / "fuzz_seeds" / "seed_ascii.stl", units="m", up="y")  # a 1 x 0.5 x 0.25 m box
    for units, up, size in (("mm", "z", (1000, 250, 500)), ("m", "y", (1, 0.5, 0.25)), ("m", "z", (1, 0.25, 0.5))):
        for ext in ("stl", "ply"):
            out = tmp_path / f"box_{units}_{up}.{ext}"
            write_scene(scene, out, units=units, up=up)
            import trimesh

            extents = trimesh.load(out, process=False).extents
            assert extents == pytest.approx(size, rel=1e-5), (ext, units, up)


def test_budget_counts_every_use_of_a_shared_accessor(tmp_path: Path) -> None:
    """Many meshes sharing one accessor cannot multiply the budget either."""
    from dstudio_desktop.meshio.gltf_read import GltfReader

    data = (SEEDS / "seed.glb").read_bytes()
    scene = GltfReader(Path("seed.glb"), data, budget=10_000).read()
    assert scene.meshes
    with pytest.raises(MeshFileError, match="past 0 MB"):
        GltfReader(Path("seed.glb"), data, budget=100).read()


def test_png_bytes_helper_reports_damage() -> None:
    from PIL import Image

    from dstudio_desktop.meshio.images import png_bytes, verified_image

    assert verified_image(_truncated_png())[1].startswith("a damaged image")
    assert verified_image(b"not an image")[1] == "not an image"
    assert verified_image((SEEDS / "seed.png").read_bytes()) == ("image/png", None)
    img = Image.open(io.BytesIO(_truncated_png()))
    assert png_bytes(img)[0] is None


def test_a_gltf_with_a_large_external_bin_is_within_its_budget(tmp_path: Path) -> None:
    """The budget grows with the .bin a .gltf names: a 1.2 M-point cloud (14 MB) in a 1 KB .gltf imports."""
    n = 1_200_000
    pts = np.random.default_rng(0).random((n, 3), dtype=np.float32)
    (tmp_path / "cloud.bin").write_bytes(pts.tobytes())
    doc = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "mode": 0}]}],
           "buffers": [{"uri": "cloud.bin", "byteLength": pts.nbytes}],
           "bufferViews": [{"buffer": 0, "byteLength": pts.nbytes}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": n, "type": "VEC3"}] * 6}
    doc["meshes"][0]["primitives"] = [{"attributes": {"POSITION": i}, "mode": 0} for i in range(6)]
    (tmp_path / "cloud.gltf").write_text(json.dumps(doc))
    scene = read_scene(tmp_path / "cloud.gltf")  # 6 x 14 MB decoded: over the 64 MB floor, within 16 x the .bin
    assert scene.counts()["vertices"] == 6 * n

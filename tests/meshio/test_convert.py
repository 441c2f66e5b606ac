"""Conversions between every pair of formats, units and axes, and point clouds."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import trimesh

from dstudio_desktop.errors import MeshFileError
from dstudio_desktop.meshio import FORMATS, read_scene, write_scene

EXTENSIONS = [f.extensions[0] for f in FORMATS.values()]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A closed mesh (a torus-ish capsule) written in every format by our own writer."""
    folder = tmp_path_factory.mktemp("src")
    mesh = trimesh.creation.capsule(height=0.02, radius=0.01, count=[16, 16])
    assert mesh.is_watertight
    base = folder / "part.stl"
    base.write_bytes(trimesh.exchange.stl.export_stl(mesh))
    scene = read_scene(base)
    out = {}
    for ext in EXTENSIONS:
        written = write_scene(scene, folder / f"part{ext}")
        out[ext] = written[0]
    out["_triangles"] = len(mesh.faces)
    return out


@pytest.mark.parametrize(("src_ext", "dst_ext"), list(itertools.product(EXTENSIONS, EXTENSIONS)))
def test_convert_keeps_triangle_count_of_a_closed_mesh(sources, tmp_path: Path, src_ext: str, dst_ext: str) -> None:
    scene = read_scene(sources[src_ext])
    written = write_scene(scene, tmp_path / f"converted{dst_ext}")
    back = read_scene(written[0])
    assert back.counts()["triangles"] == sources["_triangles"]


def test_cli_convert_between_formats(cli, tmp_path: Path, sources) -> None:
    out = tmp_path / "via_cli.obj"
    res = cli("convert", str(sources[".3mf"]), str(out), "--json")
    assert res.returncode == 0, res.stderr
    assert res.json()["triangles"] == sources["_triangles"]
    assert read_scene(out).counts()["triangles"] == sources["_triangles"]


def test_stl_millimetres_become_metres_and_back(tmp_path: Path) -> None:
    box = trimesh.creation.box((20, 40, 60))  # mm, Z-up: 60 mm tall
    src = tmp_path / "box.stl"
    box.export(src)
    scene = read_scene(src)
    from dstudio_desktop.services.models import describe

    size = describe(scene)["size"]
    assert np.allclose(size, [0.02, 0.06, 0.04])  # metres, Y-up: the 60 mm height is now Y
    out = write_scene(scene, tmp_path / "back.stl")[0]
    again = trimesh.load_mesh(out)
    assert np.allclose(again.extents, [20, 40, 60], atol=1e-4)
    inches = read_scene(src, units="in")
    assert np.allclose(describe(inches)["size"], [0.508, 1.524, 1.016])


def test_export_keeps_winding_under_axis_change(tmp_path: Path) -> None:
    box = trimesh.creation.box((10, 10, 10))
    src = tmp_path / "b.obj"
    box.export(src)
    out = write_scene(read_scene(src), tmp_path / "b.stl")[0]
    again = trimesh.load_mesh(out)
    assert again.is_winding_consistent and again.volume > 0


def test_point_cloud_ply_imports_as_points_and_exports(tmp_path: Path) -> None:
    pts = np.random.default_rng(2).random((500, 3))
    colors = (np.random.default_rng(3).random((500, 4)) * 255).astype(np.uint8)
    src = tmp_path / "cloud.ply"
    trimesh.PointCloud(pts, colors=colors).export(src)
    scene = read_scene(src)
    mesh = next(iter(scene.meshes.values()))
    assert mesh.is_pointcloud and mesh.vertex_count == 500 and mesh.colors is not None
    assert scene.nodes[0].kind == "pointcloud"
    back = read_scene(write_scene(scene, tmp_path / "cloud.glb")[0])
    assert next(iter(back.meshes.values())).vertex_count == 500
    ply = read_scene(write_scene(scene, tmp_path / "cloud_out.ply")[0])
    assert next(iter(ply.meshes.values())).vertex_count == 500
    with pytest.raises(MeshFileError, match="holds triangles"):
        write_scene(scene, tmp_path / "cloud.stl")


def test_obj_mtl_materials_are_written_and_read(tmp_path: Path) -> None:
    from dstudio_desktop.core import Material
    from dstudio_desktop.meshio import SceneData

    box = trimesh.creation.box((1, 1, 1))
    src = tmp_path / "b.stl"
    box.export(src)
    scene = read_scene(src)
    mat = Material(name="Red", base_color_factor=(1.0, 0.0, 0.0, 1.0), metallic_factor=0.0)
    scene = SceneData(nodes=[scene.nodes[0].model_copy(update={"material_id": mat.id})], materials=[mat],
                      meshes=scene.meshes)
    written = write_scene(scene, tmp_path / "red.obj")
    assert {p.suffix for p in written} == {".obj", ".mtl"}
    back = read_scene(written[0])
    assert back.materials and np.allclose(back.materials[0].base_color_factor[:3], (1, 0, 0), atol=0.01)


def test_export_writes_nothing_when_it_fails(tmp_path: Path) -> None:
    from dstudio_desktop.meshio import SceneData

    with pytest.raises(MeshFileError, match="nothing to export"):
        write_scene(SceneData(nodes=[]), tmp_path / "empty.glb")
    with pytest.raises(MeshFileError, match="unsupported format"):
        write_scene(SceneData(nodes=[]), tmp_path / "x.fbx")
    assert list(tmp_path.iterdir()) == []

"""Textured PBR in the viewport's shader, checked on models made in code (nothing downloaded):
a BoxTextured-like cube read back through the glTF reader, quads with alpha-mask, emissive,
occlusion and normal maps, a shared texture, and KHR_texture_transform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .scenes import box_textured_glb, logo_image, run


def _load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(float)


def test_box_textured_shows_its_image_on_the_face(tmp_path: Path) -> None:
    glb = box_textured_glb(str(tmp_path / "BoxTextured.glb"))
    result = run("textured_box", glb, str(tmp_path / "box.png"))
    image = _load(result["image"])
    texture = logo_image()[..., :3].astype(float)
    # orthographic, 200 px per metre, the front face from -0.5 to 0.5: pixel -> (u, v)
    errors = []
    for py in range(30, 221, 3):
        for px in range(30, 221, 3):
            x, y = (px + 0.5 - 125) / 200, (125 - (py + 0.5)) / 200
            u, v = x + 0.5, 0.5 - y
            errors.append(np.abs(image[py, px] - texture[min(int(v * 256), 255), min(int(u * 256), 255)]).mean())
    assert np.mean(errors) < 10, np.mean(errors)
    assert image[40:210, 40:210].std() > 40        # a picture, not a plain box


@pytest.fixture(scope="module")
def maps(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("maps") / "maps.png"
    result = run("pbr_maps", str(out))
    result["pixels"] = _load(result["image"])
    return result


def _region(maps: dict, name: str, u0: float, u1: float, v0: float, v1: float) -> np.ndarray:
    """The pixels of one quad between the UVs given ((0, 0) at its image's top-left)."""
    w, h = maps["size"]
    scale = h / maps["ortho_height"]
    cx, cy = maps["spots"][name]
    x0, x1 = (cx - 0.5 + u0 + 1.8) * scale, (cx - 0.5 + u1 + 1.8) * scale
    y0, y1 = (1.2 - (cy + 0.5 - v0)) * scale, (1.2 - (cy + 0.5 - v1)) * scale
    return maps["pixels"][int(y0) + 2:int(y1) - 2, int(x0) + 2:int(x1) - 2]


def test_the_alpha_mask_cuts_out_and_shows_the_background(maps) -> None:
    hole = _region(maps, "mask", 0.4, 0.6, 0.4, 0.6).reshape(-1, 3).mean(axis=0)
    solid = _region(maps, "mask", 0.02, 0.12, 0.02, 0.12).reshape(-1, 3).mean(axis=0)
    background = maps["pixels"][3, 3]
    assert np.abs(hole - background).max() < 3, (hole, background)      # the green background shows through
    assert solid[0] > 150 and abs(solid[0] - solid[1]) < 20             # the light grey of the material


def test_emissive_and_occlusion_maps(maps) -> None:
    glowing = _region(maps, "emissive", 0.1, 0.9, 0.05, 0.45).reshape(-1, 3).mean(axis=0)
    dark = _region(maps, "emissive", 0.1, 0.9, 0.55, 0.95).reshape(-1, 3).mean(axis=0)
    assert glowing[0] > 230 and 120 < glowing[1] < 200 and glowing[2] < 60, glowing    # orange where the map is
    assert dark.max() < 60, dark
    open_side = _region(maps, "occlusion", 0.05, 0.45, 0.1, 0.9).mean()
    occluded = _region(maps, "occlusion", 0.55, 0.95, 0.1, 0.9).mean()
    assert occluded < open_side - 30, (open_side, occluded)


def test_normal_maps_bend_the_light_the_right_way(maps) -> None:
    """Lit from the upper right: the slopes of the bumps facing +x (across the image) and +Y
    (towards the image's top, glTF's convention) are the bright ones."""
    across = _region(maps, "normal", 0.0, 1.0, 0.45, 0.55).mean(axis=(0, 2))
    want = np.interp(np.linspace(0, 1, len(across)), np.linspace(0, 1, len(maps["maps"]["stripes_u"])),
                     maps["maps"]["stripes_u"])
    assert np.corrcoef(across, want)[0, 1] > 0.9
    down = _region(maps, "normal_v", 0.45, 0.55, 0.0, 1.0).mean(axis=(1, 2))
    want = np.interp(np.linspace(0, 1, len(down)), np.linspace(0, 1, len(maps["maps"]["stripes_v"])),
                     maps["maps"]["stripes_v"])
    assert np.corrcoef(down, want)[0, 1] > 0.9


def test_a_texture_used_by_three_materials_is_uploaded_once() -> None:
    result = run("shared_texture")
    assert result["uploads"] == 1 and result["asked"] == 1


def test_khr_texture_transform_offsets_and_scales(tmp_path: Path) -> None:
    image = _load(run("texture_transform", str(tmp_path / "tt.png"))["image"])
    texture = logo_image()[..., :3].astype(float)
    errors = []
    for py in range(30, 221, 4):
        for px in range(30, 221, 4):
            x, y = (px + 0.5 - 125) / 200, (125 - (py + 0.5)) / 200
            u, v = (x + 0.5) + 0.5, (0.5 - y) * 2.0          # uv * scale + offset, wrapped
            errors.append(np.abs(image[py, px] - texture[int((v % 1) * 256) % 256, int((u % 1) * 256) % 256]).mean())
    assert np.mean(errors) < 12, np.mean(errors)


def test_texture_transform_and_tangents_survive_a_gltf_round_trip(tmp_path: Path) -> None:
    from dstudio_desktop.core import Material, Node
    from dstudio_desktop.core.materials import TextureRef, TextureTransform
    from dstudio_desktop.meshio import MeshData, SceneData, Texture, read_scene
    from dstudio_desktop.meshio.gltf_write import glb_bytes

    from .scenes import _cube, _png

    positions, normals, uvs, faces = _cube()
    tangents = np.tile([1.0, 0.0, 0.0, -1.0], (len(positions), 1)).astype(np.float32)
    mesh = MeshData(positions=positions, faces=faces, normals=normals, uvs=uvs, tangents=tangents).validated("c")
    tex = "00000000-0000-4000-8000-0000000000aa"
    ref = TextureRef(asset_id=tex, transform=TextureTransform(offset=(0.25, 0.5), rotation=0.3, scale=(2.0, 3.0)))
    material = Material(name="m", base_color_texture=ref)
    node = Node(name="n", kind="mesh", asset_id="00000000-0000-4000-8000-0000000000bb", material_id=material.id)
    path = tmp_path / "t.glb"
    path.write_bytes(glb_bytes(SceneData(nodes=[node], materials=[material], meshes={node.asset_id: mesh},
                                         textures={tex: Texture("t.png", _png(logo_image(8)), "image/png")})))
    back = read_scene(path)
    transform = back.materials[0].base_color_texture.transform
    assert transform.offset == (0.25, 0.5) and transform.rotation == 0.3 and transform.scale == (2.0, 3.0)
    mesh_back = next(iter(back.meshes.values()))
    assert np.allclose(mesh_back.tangents, tangents)


def test_minified_textures_are_mipmapped(tmp_path: Path) -> None:
    image = _load(run("minified_checkerboard", str(tmp_path / "board.png"))["image"])
    inside = image[76:116, 76:116]                      # well inside the 48-pixel quad at the centre
    assert inside.std() < 12, inside.std()              # an even grey, not black-and-white noise
    assert 150 < inside.mean() < 215                    # the mean of black and white, in sRGB (~188)

"""Scenes built in code for the render tests, drawn in a fresh process (``run``) with no
display, so they exercise the headless path (EGL or OSMesa) and never fix this test process's
GL backend (vispy selects one per process, and the GUI tests need Qt's)."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def run(function: str, *args, timeout: float = 240) -> dict:
    """Call ``tests.render.scenes.<function>(*args)`` in a new process without a display and
    return what it printed (JSON)."""
    code = ("import json, sys\nfrom tests.render import scenes\n"
            f"print('RESULT ' + json.dumps(scenes.{function}(*json.loads(sys.argv[1]))))")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(list(args))], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"render process failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


# -- building blocks (run inside the render process) ----------------------------------------


def _project(nodes, materials, lights=None, env_image_id=None, **env):
    from dstudio_desktop.core import LightingConfig, MaterialSet, Project, SceneGraph

    project = Project(name="test", scene_graph=SceneGraph(nodes=nodes), material_overrides=MaterialSet(materials=materials),
                      lighting_config=LightingConfig(lights=lights or [], ambient_intensity=0.0, active_preset=None))
    e = project.environment_config
    e.grid.visible = False
    e.background.mode = "solid"
    e.background.color = env.pop("background", (0.0, 0.0, 0.0))
    e.shadow_catcher.enabled = env.pop("shadows", False)
    e.exposure = env.pop("exposure", 0.0)
    e.tone_mapping = env.pop("tone_mapping", "pbr_neutral")
    e.lighting.enabled = env.pop("ibl", True)
    if env_image_id is not None:
        e.lighting.asset_id = env_image_id
    for key, value in env.items():
        setattr(e.shadow_catcher, key, value)
    return project


def uniform_hdr(radiance: float = 1.0) -> bytes:
    from dstudio_desktop.render.hdr import write_radiance

    return write_radiance(np.full((64, 128, 3), radiance))


def _render(project, meshes: dict, images: dict, view, size=(256, 256), **options):
    from dstudio_desktop.render.headless import render_scene
    from dstudio_desktop.render.prepare import AssetSource

    info: dict = {}
    image = render_scene(project, AssetSource(lambda i: meshes[i], lambda i: images[i]), size, view=view, info=info,
                         **options)
    return image, info


def _save(image, path) -> str:
    from PIL import Image

    Image.fromarray(image).save(path)
    return str(path)


# -- the white furnace ----------------------------------------------------------------------


def furnace(colours: list[str]) -> dict:
    """A diffuse (non-metal, roughness 1) sphere of each sRGB colour, lit only by a uniform
    white environment of radiance 1, exposure 0, PBR Neutral: the centre pixel of each."""
    import trimesh

    from dstudio_desktop.core import CameraView, Material, Node
    from dstudio_desktop.core.color import hex_to_linear
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData

    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.5)
    mesh = MeshData(np.asarray(sphere.vertices, np.float32), np.asarray(sphere.faces, np.uint32)).validated("ball")
    env_id, mesh_id = new_id(), new_id()
    out, info = {}, {}
    for colour in colours:
        m = Material(name="m", base_color_factor=(*hex_to_linear(colour), 1.0), metallic_factor=0.0, roughness_factor=1.0)
        project = _project([Node(name="ball", kind="mesh", asset_id=mesh_id, material_id=m.id)], [m], env_image_id=env_id)
        image, info = _render(project, {mesh_id: mesh}, {env_id: uniform_hdr(1.0)},
                              CameraView(eye=(0, 0, 3), target=(0, 0, 0), fov=30), size=(128, 128))
        out[colour] = image[64, 64, :3].astype(int).tolist()
    return {"pixels": out, "info": info}


# -- textured models, made in code ----------------------------------------------------------


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG")
    return buf.getvalue()


def logo_image(size: int = 256) -> np.ndarray:
    """A picture with structure in every direction (quadrants, a ring, stripes), RGBA."""
    y, x = np.mgrid[0:size, 0:size] / size
    rgb = np.zeros((size, size, 3))
    rgb[..., 0] = np.where(x < 0.5, 0.9, 0.15)
    rgb[..., 1] = np.where(y < 0.5, 0.75, 0.2)
    rgb[..., 2] = 0.35 + 0.4 * (np.sin(x * 18) > 0)
    ring = np.abs(np.hypot(x - 0.5, y - 0.5) - 0.3) < 0.04
    rgb[ring] = (0.98, 0.98, 0.95)
    out = np.concatenate([rgb, np.ones((size, size, 1))], axis=-1)
    return (out * 255).astype(np.uint8)


def box_textured_glb(path: str) -> str:
    """A cube with one image on every face, as glTF-Sample-Models' BoxTextured is (written by
    our own exporter from code: nothing downloaded)."""
    from dstudio_desktop.core import Material, Node
    from dstudio_desktop.core.materials import TextureRef
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData, SceneData, Texture
    from dstudio_desktop.meshio.gltf_write import glb_bytes

    positions, normals, uvs, faces = _cube()
    tex_id, mesh_id = new_id(), new_id()
    material = Material(name="Texture", base_color_texture=TextureRef(asset_id=tex_id), metallic_factor=0.0,
                        roughness_factor=1.0)
    node = Node(name="BoxTextured", kind="mesh", asset_id=mesh_id, material_id=material.id)
    mesh = MeshData(positions=positions, faces=faces, normals=normals, uvs=uvs, name="box").validated("box")
    scene = SceneData(nodes=[node], materials=[material], meshes={mesh_id: mesh},
                      textures={tex_id: Texture(name="logo.png", data=_png(logo_image()), media_type="image/png")})
    Path(path).write_bytes(glb_bytes(scene))
    return path


def _cube(size: float = 1.0):
    """24 vertices (4 per face) with outward normals and each face's UVs covering the image,
    (0, 0) at the image's top-left corner seen from outside, as glTF's convention has it."""
    h = size / 2
    faces_def = [  # normal, right, up (seen from outside)
        ((0, 0, 1), (1, 0, 0), (0, 1, 0)), ((0, 0, -1), (-1, 0, 0), (0, 1, 0)),
        ((1, 0, 0), (0, 0, -1), (0, 1, 0)), ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
        ((0, 1, 0), (1, 0, 0), (0, 0, -1)), ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
    ]
    positions, normals, uvs, faces = [], [], [], []
    for n, r, u in faces_def:
        n, r, u = (np.asarray(v, float) for v in (n, r, u))
        base = len(positions)
        for s, t in ((0, 0), (1, 0), (1, 1), (0, 1)):   # s right, t up
            positions.append(n * h + r * (s - 0.5) * size + u * (t - 0.5) * size)
            normals.append(n)
            uvs.append((s, 1 - t))
        faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return (np.asarray(positions, np.float32), np.asarray(normals, np.float32), np.asarray(uvs, np.float32),
            np.asarray(faces, np.uint32))


def _flat_view(distance: float = 3.0):
    from dstudio_desktop.core import CameraView

    return CameraView(eye=(0, 0, distance), target=(0, 0, 0), projection="orthographic", ortho_height=1.25)


def textured_box(glb_path: str, out_png: str) -> dict:
    """The BoxTextured-like GLB, imported through the real reader, its front face under flat
    light (a uniform environment, no tone mapping), straight on; and the texture itself."""
    from dstudio_desktop.meshio import read_scene

    scene = read_scene(Path(glb_path))
    node = scene.nodes[0]
    material = scene.materials[0]
    images = {k: t.data for k, t in scene.textures.items()}
    env_id = "00000000-0000-4000-8000-0000000000e1"
    images[env_id] = uniform_hdr(1.0)
    project = _project([node], [material], env_image_id=env_id, tone_mapping="linear")
    image, info = _render(project, scene.meshes, images, _flat_view(), size=(250, 250))
    return {"image": _save(image, out_png), "info": info, "texture": logo_image().tolist() and "logo"}


def pbr_maps(out_png: str) -> dict:
    """A quad per map: base colour (a logo), alpha MASK (a disc cut out), emissive, occlusion,
    and a normal map's bumps lit from one side, over a coloured background."""
    from dstudio_desktop.core import CameraView, Light, Material, Node, Transform
    from dstudio_desktop.core.materials import NormalTextureRef, OcclusionTextureRef, TextureRef
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData

    size = 128
    y, x = np.mgrid[0:size, 0:size] / size
    disc = np.hypot(x - 0.5, y - 0.5) < 0.3
    mask = np.dstack([np.full((size, size, 3), 230, np.uint8), np.where(disc, 0, 255).astype(np.uint8)])
    emissive = np.zeros((size, size, 4), np.uint8)
    emissive[..., 3] = 255
    emissive[y < 0.5] = (255, 128, 0, 255)
    occlusion = np.full((size, size, 4), 255, np.uint8)
    occlusion[x >= 0.5, :3] = 64
    # bumps: a height field h = cos stripes along u; normal = (-dh/du, -dh/dv, 1) in tangent space (+v up)
    def normal_map(nx, ny):
        n = np.dstack([nx, ny, np.ones_like(nx)])
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        return np.dstack([np.round((n + 1) / 2 * 255).astype(np.uint8), np.full((size, size, 1), 255, np.uint8)])

    stripes_u = np.sin(x * 2 * math.pi * 4) * 0.8     # x of the normal varies across the image
    stripes_v = np.sin(y * 2 * math.pi * 4) * 0.8     # y (towards the image's top, glTF's +Y) down it
    images = {"base": _png(logo_image(size)), "mask": _png(mask), "emissive": _png(emissive), "occlusion": _png(occlusion),
              "normal": _png(normal_map(stripes_u, np.zeros_like(x))),
              "normal_v": _png(normal_map(np.zeros_like(x), stripes_v))}
    ids = {k: new_id() for k in images}
    data = {ids[k]: v for k, v in images.items()}
    env_id = new_id()
    data[env_id] = uniform_hdr(1.0)
    quad_p = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32)
    quad = MeshData(positions=quad_p, faces=np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
                    normals=np.tile([0, 0, 1], (4, 1)).astype(np.float32),
                    uvs=np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32), name="quad").validated("quad")
    mesh_id = new_id()
    mats = {
        "base": Material(name="base", base_color_texture=TextureRef(asset_id=ids["base"]), metallic_factor=0, roughness_factor=1),
        "mask": Material(name="mask", base_color_texture=TextureRef(asset_id=ids["mask"]), alpha_mode="MASK",
                         alpha_cutoff=0.5, metallic_factor=0, roughness_factor=1),
        "emissive": Material(name="emissive", base_color_factor=(0, 0, 0, 1), emissive_factor=(1, 1, 1),
                             emissive_texture=TextureRef(asset_id=ids["emissive"]), metallic_factor=0, roughness_factor=1),
        "occlusion": Material(name="occlusion", base_color_factor=(0.8, 0.8, 0.8, 1),
                              occlusion_texture=OcclusionTextureRef(asset_id=ids["occlusion"]),
                              metallic_factor=0, roughness_factor=1),
        "normal": Material(name="normal", base_color_factor=(0.8, 0.8, 0.8, 1),
                           normal_texture=NormalTextureRef(asset_id=ids["normal"]), metallic_factor=0,
                           roughness_factor=1),
        "normal_v": Material(name="normal_v", base_color_factor=(0.8, 0.8, 0.8, 1),
                             normal_texture=NormalTextureRef(asset_id=ids["normal_v"]), metallic_factor=0,
                             roughness_factor=1),
    }
    spots = {"base": (-1.2, 0.6), "mask": (0.0, 0.6), "emissive": (1.2, 0.6), "occlusion": (-1.2, -0.6),
             "normal": (0.0, -0.6), "normal_v": (1.2, -0.6)}
    nodes = [Node(name=k, kind="mesh", asset_id=mesh_id, material_id=mats[k].id,
                  transform=Transform(translation=(*spots[k], 0.0))) for k in mats]
    # the normal maps are judged under one light from the upper right (+x, +y): the faces of
    # the bumps turned towards it are brighter
    light = Light(name="side", direction=(-1.0, -1.0, -0.4), intensity=2.5)
    project = _project(nodes, list(mats.values()), lights=[light], env_image_id=env_id, tone_mapping="linear",
                       background=(0.0, 0.3, 0.0))
    project.environment_config.lighting.intensity = 0.5
    view = CameraView(eye=(0, 0, 5), target=(0, 0, 0), projection="orthographic", ortho_height=2.4)
    image, info = _render(project, {mesh_id: quad}, data, view, size=(480, 320))
    maps = {"stripes_u": stripes_u[0].tolist(), "stripes_v": stripes_v[:, 0].tolist(), "mask_disc": True}
    return {"image": _save(image, out_png), "info": info, "spots": spots, "ortho_height": 2.4, "size": [480, 320],
            "maps": maps}


def shared_texture() -> dict:
    """Three materials on three parts using one image: how many times it was uploaded."""
    from dstudio_desktop.core import CameraView, Material, Node, Transform
    from dstudio_desktop.core.materials import TextureRef
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.render.headless import choose_backend
    from dstudio_desktop.render.prepare import AssetSource

    backend = choose_backend()
    from dstudio_desktop.render.textures import resources_for
    from dstudio_desktop.render.viewport import Viewport

    positions, normals, uvs, faces = _cube(0.5)
    from dstudio_desktop.meshio import MeshData

    mesh = MeshData(positions=positions, faces=faces, normals=normals, uvs=uvs).validated("cube")
    tex, mesh_id = new_id(), new_id()
    mats = [Material(name=f"m{i}", base_color_texture=TextureRef(asset_id=tex), roughness_factor=0.5 + 0.1 * i)
            for i in range(3)]
    nodes = [Node(name=f"n{i}", kind="mesh", asset_id=mesh_id, material_id=m.id,
                  transform=Transform(translation=(i - 1.0, 0, 0))) for i, m in enumerate(mats)]
    project = _project(nodes, mats)
    asked = []

    def image(asset_id):
        asked.append(asset_id)
        return _png(logo_image(64))

    viewport = Viewport(size=(200, 100), show=False)
    viewport.set_project(project, AssetSource(lambda _: mesh, image))
    viewport.camera.set_view(CameraView(eye=(0, 0, 4), target=(0, 0, 0)))
    viewport.render()
    uploads = resources_for(viewport.scene_view).uploads
    viewport.close()
    return {"uploads": uploads, "asked": len([a for a in asked if a == tex]), "backend": backend}


def texture_transform(out_png: str) -> dict:
    """A quad whose base colour texture is offset by half its width and scaled 2x vertically
    (KHR_texture_transform), straight on under flat light."""
    from dstudio_desktop.core import Material, Node
    from dstudio_desktop.core.materials import TextureRef, TextureTransform
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData

    tex, mesh_id, env_id = new_id(), new_id(), new_id()
    quad = MeshData(positions=np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32),
                    faces=np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
                    normals=np.tile([0, 0, 1], (4, 1)).astype(np.float32),
                    uvs=np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)).validated("quad")
    transform = TextureTransform(offset=(0.5, 0.0), scale=(1.0, 2.0))
    m = Material(name="t", base_color_texture=TextureRef(asset_id=tex, transform=transform), metallic_factor=0,
                 roughness_factor=1)
    project = _project([Node(name="q", kind="mesh", asset_id=mesh_id, material_id=m.id)], [m], env_image_id=env_id,
                       tone_mapping="linear")
    image, info = _render(project, {mesh_id: quad}, {tex: _png(logo_image()), env_id: uniform_hdr(1.0)},
                          _flat_view(), size=(250, 250))
    return {"image": _save(image, out_png), "info": info}


# -- shadows --------------------------------------------------------------------------------


def shadow_scene(enabled: bool, out_png: str) -> dict:
    """A cube on the ground, the key light at 45 degrees; where its shadow and lit ground are."""
    import trimesh

    from dstudio_desktop.core import CameraView, Light, Material, Node
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData

    box = trimesh.creation.box((0.2, 0.2, 0.2))
    box.apply_translation((0, 0.1, 0))
    mesh = MeshData(np.asarray(box.vertices, np.float32), np.asarray(box.faces, np.uint32)).validated("cube")
    mesh_id, env_id = new_id(), new_id()
    m = Material(name="grey", base_color_factor=(0.5, 0.5, 0.5, 1), metallic_factor=0, roughness_factor=0.6)
    direction = (0.0, -math.sqrt(0.5), -math.sqrt(0.5))   # travels down at 45 degrees towards -z
    project = _project([Node(name="cube", kind="mesh", asset_id=mesh_id, material_id=m.id)], [m],
                       lights=[Light(name="Key", direction=direction, intensity=3.0)], env_image_id=env_id,
                       shadows=enabled, background=(0.5, 0.5, 0.5), opacity=0.7, softness=0.2)
    view = CameraView(eye=(0, 1.6, 0.0001), target=(0, 0, 0), up=(0, 0, -1), projection="orthographic",
                      ortho_height=1.0)
    image, info = _render(project, {mesh_id: mesh}, {env_id: uniform_hdr(0.3)}, view, size=(256, 256))
    # top view: +x right, -z up. The shadow falls towards -z (up in the image), past the cube's far edge.
    px = lambda x, z: (int(round((x / 1.0 + 0.5) * 256)), int(round((z / 1.0 + 0.5) * 256)))  # noqa: E731
    shadow = image[px(0, -0.2)[1], px(0, -0.2)[0], :3].astype(int).tolist()
    lit = image[px(0.35, 0.3)[1], px(0.35, 0.3)[0], :3].astype(int).tolist()
    return {"image": _save(image, out_png), "shadow": shadow, "lit": lit, "info": info}


# -- lighting presets -----------------------------------------------------------------------


def sample_under_presets(names: list[str], folder: str) -> dict:
    """The sample lamp from its three-quarter camera under each preset, as applied by the
    Lighting panel (lights, environment, exposure and background)."""
    from dstudio_desktop.core.lighting import apply_preset, builtin_presets
    from dstudio_desktop.meshio.gltf_read import read_gltf_bytes
    from dstudio_desktop.render.headless import render_scene
    from dstudio_desktop.render.prepare import AssetSource
    from dstudio_desktop.sample import build_sample

    project, assets = build_sample()
    meshes = {a.id: next(iter(read_gltf_bytes(d).meshes.values())) for a, d in assets}
    out = {}
    for name in names:
        lighting, env = apply_preset(builtin_presets()[name], project.lighting_config, project.environment_config)
        project.lighting_config, project.environment_config = lighting, env
        image = render_scene(project, AssetSource(lambda i: meshes[i]), (240, 200), camera="Three-quarter")
        out[name] = _save(image, Path(folder) / f"{name}.png")
    return out


def minified_checkerboard(out_png: str) -> dict:
    """A 512-pixel one-pixel checkerboard on a quad drawn 48 pixels wide: mipmapped, it greys
    out evenly; sampled without mipmaps it would shimmer in black and white."""
    from dstudio_desktop.core import CameraView, Material, Node
    from dstudio_desktop.core.materials import TextureRef
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData

    board = ((np.indices((512, 512)).sum(axis=0) % 2) * 255).astype(np.uint8)
    rgba = np.dstack([board, board, board, np.full_like(board, 255)])
    tex, mesh_id, env_id = new_id(), new_id(), new_id()
    quad = MeshData(positions=np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32),
                    faces=np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
                    normals=np.tile([0, 0, 1], (4, 1)).astype(np.float32),
                    uvs=np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)).validated("quad")
    m = Material(name="board", base_color_texture=TextureRef(asset_id=tex), metallic_factor=0, roughness_factor=1)
    project = _project([Node(name="q", kind="mesh", asset_id=mesh_id, material_id=m.id)], [m], env_image_id=env_id,
                       tone_mapping="linear", background=(1.0, 0.0, 0.0))
    view = CameraView(eye=(0, 0, 5), target=(0, 0, 0), projection="orthographic", ortho_height=4.0)
    image, info = _render(project, {mesh_id: quad}, {tex: _png(rgba), env_id: uniform_hdr(1.0)}, view, size=(192, 192))
    return {"image": _save(image, out_png), "info": info}


def lit_sphere(lights: list[dict], out_png: str) -> dict:
    """A matte white sphere at the origin under the given lights only (no environment),
    tone mapping off; the linear radiance at its top, front and bottom."""
    import trimesh

    from dstudio_desktop.core import CameraView, Light, Material, Node
    from dstudio_desktop.core.color import srgb_to_linear
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData

    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.5)
    mesh = MeshData(np.asarray(sphere.vertices, np.float32), np.asarray(sphere.faces, np.uint32)).validated("ball")
    mesh_id = new_id()
    m = Material(name="white", base_color_factor=(0.5, 0.5, 0.5, 1), metallic_factor=0, roughness_factor=1)
    project = _project([Node(name="ball", kind="mesh", asset_id=mesh_id, material_id=m.id)], [m],
                       lights=[Light(name=f"l{i}", **spec) for i, spec in enumerate(lights)], ibl=False,
                       tone_mapping="linear")
    view = CameraView(eye=(0, 0, 3), target=(0, 0, 0), projection="orthographic", ortho_height=1.2)
    image, info = _render(project, {mesh_id: mesh}, {}, view, size=(120, 120))
    lin = lambda p: np.asarray(srgb_to_linear(image[p[1], p[0], :3] / 255.0)).tolist()  # noqa: E731
    return {"image": _save(image, out_png), "top": lin((60, 20)), "front": lin((60, 60)), "bottom": lin((60, 100))}


def preset_brightness(names: list[str]) -> dict:
    """Under each preset (tone mapping off, background black), the brightest point of a matte
    grey sphere over its albedo, seen from three sides."""
    import trimesh

    from dstudio_desktop.core import CameraView, Material, Node, Project, SceneGraph
    from dstudio_desktop.core.color import srgb_to_linear
    from dstudio_desktop.core.lighting import apply_preset, builtin_presets
    from dstudio_desktop.core.materials import MaterialSet
    from dstudio_desktop.core.schema import new_id
    from dstudio_desktop.meshio import MeshData

    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.5)
    mesh = MeshData(np.asarray(sphere.vertices, np.float32) + np.array([0, 0.5, 0], np.float32),
                    np.asarray(sphere.faces, np.uint32)).validated("ball")
    mesh_id = new_id()
    albedo = 0.18
    m = Material(name="grey", base_color_factor=(albedo, albedo, albedo, 1), metallic_factor=0, roughness_factor=1)
    out = {}
    for name in names:
        p = Project(name="x", scene_graph=SceneGraph(nodes=[Node(name="b", kind="mesh", asset_id=mesh_id, material_id=m.id)]),
                    material_overrides=MaterialSet(materials=[m]))
        lighting, env = apply_preset(builtin_presets()[name], p.lighting_config, p.environment_config)
        env.tone_mapping, env.grid.visible, env.shadow_catcher.enabled = "linear", False, False
        env.background.mode, env.background.color = "solid", (0.0, 0.0, 0.0)
        p.lighting_config, p.environment_config = lighting, env
        best = 0.0
        for eye in ((1.5, 1.3, 1.8), (0, 0.5, 3), (-2, 1, 1), (1, 2.5, -1)):
            image, _ = _render(p, {mesh_id: mesh}, {}, CameraView(eye=eye, target=(0, 0.5, 0), projection="orthographic",
                                                                   ortho_height=1.3), size=(120, 120))
            linear = np.asarray(srgb_to_linear(image[..., :3].reshape(-1, 3) / 255.0))
            best = max(best, float(linear.mean(axis=1).max()))
        out[name] = best / albedo   # as drawn: the preset's exposure applied
    return out

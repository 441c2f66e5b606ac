"""Blender script (run by ``python -m gpu.scenes.pathtraced render``, or
``blender -b --factory-startup --python product_scene.py -- FOLDER [SAMPLES [ONLY]]``):
a glossy, painted teapot-like product (a body, a thin spout, a thin handle, a lid knob,
one manifold mesh by boolean union) on a tiled floor under a procedural sky, path traced
with Cycles on the CPU from the cameras in ``pathtraced``, written as JPEG photos, with the
true surface and the cameras beside them.

Everything is procedural (no downloaded textures or HDRIs), so the set can be remade
anywhere Blender 3.4 runs."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np


def _parameters():
    """gpu/scenes/pathtraced.py loaded by path: Blender has a ``gpu`` module of its own."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pathtraced", Path(__file__).with_name("pathtraced.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["pathtraced"] = module    # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


P = _parameters()

# Blender is Z-up; the scene's frame is Y-up: (x, y, z)_scene = (x, z, -y)_blender
TO_SCENE = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])


def _clear(bpy) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _apply_modifiers(bpy, obj) -> None:
    bpy.context.view_layer.objects.active = obj
    for mod in list(obj.modifiers):
        bpy.ops.object.modifier_apply(modifier=mod.name)


def _product(bpy):
    """The teapot: body (a squashed sphere on a foot), spout (a tapering cone leaning out),
    handle (a torus in the xz plane, half inside the body), knob; unioned into one mesh."""
    ops = bpy.ops
    ops.mesh.primitive_uv_sphere_add(segments=96, ring_count=48, radius=0.42, location=(0, 0, 0.36))
    body = bpy.context.object
    body.scale = (1.0, 1.0, 0.8)
    ops.object.transform_apply(scale=True)
    ops.mesh.primitive_cylinder_add(vertices=96, radius=0.26, depth=0.1, location=(0, 0, 0.05))
    foot = bpy.context.object
    lean = math.radians(50)
    d = np.array([math.sin(lean), 0, math.cos(lean)])
    base = np.array([0.22, 0.0, 0.30])
    ops.mesh.primitive_cone_add(vertices=48, radius1=0.085, radius2=0.032, depth=0.48,
                                location=tuple(base + d * 0.24), rotation=(0, lean, 0))
    spout = bpy.context.object
    ops.mesh.primitive_torus_add(major_segments=96, minor_segments=24, major_radius=0.2, minor_radius=0.036,
                                 location=(-0.41, 0, 0.38), rotation=(math.radians(90), 0, 0))
    handle = bpy.context.object
    ops.mesh.primitive_uv_sphere_add(segments=32, ring_count=16, radius=0.07, location=(0, 0, 0.70))
    knob = bpy.context.object
    for part in (foot, spout, handle, knob):
        mod = body.modifiers.new(name=f"union_{part.name}", type="BOOLEAN")
        mod.operation, mod.solver, mod.object = "UNION", "EXACT", part
        _apply_modifiers(bpy, body)
        bpy.data.objects.remove(part, do_unlink=True)
    bpy.context.view_layer.objects.active = body
    ops.object.shade_smooth()
    body.name = "product"
    return body


def _node(tree, kind, **inputs):
    node = tree.nodes.new(kind)
    for key, value in inputs.items():
        node.inputs[key].default_value = value
    return node


def _product_material(bpy):
    """Glazed ceramic with a painted pattern: colour cells, stripes and fine speckle in the
    object's own coordinates (so the pattern is fixed to the surface), under a clear coat."""
    mat = bpy.data.materials.new("glaze")
    mat.use_nodes = True
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    coords = tree.nodes.new("ShaderNodeTexCoord")
    cells = _node(tree, "ShaderNodeTexVoronoi", Scale=7.0)
    tree.links.new(coords.outputs["Object"], cells.inputs["Vector"])
    stripes = _node(tree, "ShaderNodeTexWave", Scale=3.0, Distortion=6.0, Detail=4.0)
    tree.links.new(coords.outputs["Object"], stripes.inputs["Vector"])
    speckle = _node(tree, "ShaderNodeTexNoise", Scale=40.0, Detail=6.0, Roughness=0.6)
    tree.links.new(coords.outputs["Object"], speckle.inputs["Vector"])
    ramp = tree.nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].color = (0.05, 0.12, 0.45, 1)
    ramp.color_ramp.elements[1].color = (0.95, 0.85, 0.6, 1)
    tree.links.new(stripes.outputs["Fac"], ramp.inputs["Fac"])
    mix = tree.nodes.new("ShaderNodeMixRGB")
    mix.blend_type = "MULTIPLY"
    mix.inputs["Fac"].default_value = 0.6
    tree.links.new(ramp.outputs["Color"], mix.inputs["Color1"])
    tree.links.new(cells.outputs["Color"], mix.inputs["Color2"])
    grain = tree.nodes.new("ShaderNodeMixRGB")
    grain.blend_type = "OVERLAY"
    grain.inputs["Fac"].default_value = 0.5
    tree.links.new(mix.outputs["Color"], grain.inputs["Color1"])
    tree.links.new(speckle.outputs["Color"], grain.inputs["Color2"])
    tree.links.new(grain.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.35
    bsdf.inputs["Specular"].default_value = 0.5
    bsdf.inputs["Clearcoat"].default_value = 0.35
    bsdf.inputs["Clearcoat Roughness"].default_value = 0.08
    return mat


def _floor(bpy):
    bpy.ops.mesh.primitive_plane_add(size=7.0, location=(0, 0, 0))
    floor = bpy.context.object
    floor.name = "floor"
    mat = bpy.data.materials.new("tiles")
    mat.use_nodes = True
    tree = mat.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    coords = tree.nodes.new("ShaderNodeTexCoord")
    bricks = _node(tree, "ShaderNodeTexBrick", Scale=6.0, Color1=(0.55, 0.32, 0.2, 1), Color2=(0.35, 0.3, 0.26, 1),
                   Mortar=(0.8, 0.78, 0.72, 1))
    tree.links.new(coords.outputs["Object"], bricks.inputs["Vector"])
    noise = _node(tree, "ShaderNodeTexNoise", Scale=25.0, Detail=8.0)
    tree.links.new(coords.outputs["Object"], noise.inputs["Vector"])
    mix = tree.nodes.new("ShaderNodeMixRGB")
    mix.blend_type = "OVERLAY"
    mix.inputs["Fac"].default_value = 0.6
    tree.links.new(bricks.outputs["Color"], mix.inputs["Color1"])
    tree.links.new(noise.outputs["Color"], mix.inputs["Color2"])
    tree.links.new(mix.outputs["Color"], bsdf.inputs["Base Color"])
    bsdf.inputs["Roughness"].default_value = 0.7
    floor.data.materials.append(mat)
    return floor


def _world(bpy) -> None:
    """A sky with its sun low and its disc off: soft light from everywhere, brighter on one side."""
    world = bpy.data.worlds.new("sky")
    bpy.context.scene.world = world
    world.use_nodes = True
    tree = world.node_tree
    sky = tree.nodes.new("ShaderNodeTexSky")
    sky.sky_type = "NISHITA"
    sky.sun_disc = False
    sky.sun_elevation = math.radians(35)
    sky.sun_rotation = math.radians(60)
    background = tree.nodes["Background"]
    background.inputs["Strength"].default_value = 0.22
    tree.links.new(sky.outputs["Color"], background.inputs["Color"])


def _settings(bpy, samples: int) -> None:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_adaptive_sampling = True
    scene.cycles.adaptive_threshold = 0.02
    scene.cycles.use_denoising = False          # no OpenImageDenoise in Debian's build
    scene.cycles.max_bounces = 3
    scene.cycles.diffuse_bounces = 1
    scene.cycles.glossy_bounces = 2
    scene.cycles.transmission_bounces = 0
    scene.cycles.caustics_reflective = scene.cycles.caustics_refractive = False
    scene.cycles.blur_glossy = 1.0
    scene.cycles.seed = 3
    scene.render.resolution_x, scene.render.resolution_y = P.WIDTH, P.HEIGHT
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "JPEG"
    scene.render.image_settings.quality = P.JPEG_QUALITY
    scene.view_settings.view_transform = "Standard"   # a phone's punchy colours, not Filmic's pastels


def _camera(bpy, cam: P.Camera):
    """A Blender camera for an OpenCV camera in the scene's frame."""
    import mathutils

    data = bpy.data.cameras.new(cam.name)
    data.sensor_fit = "HORIZONTAL"
    data.sensor_width = 36.0
    data.lens = P.FOCAL * 36.0 / P.WIDTH
    obj = bpy.data.objects.new(cam.name, data)
    bpy.context.scene.collection.objects.link(obj)
    # Blender's camera axes: x right, y up, looking down -z; OpenCV's rows: right, down, forward
    axes = np.stack([cam.R[0], -cam.R[1], -cam.R[2]], axis=1)    # columns, in the scene's frame
    rotation = TO_SCENE.T @ axes
    world = np.eye(4)
    world[:3, :3] = rotation
    world[:3, 3] = TO_SCENE.T @ cam.centre
    obj.matrix_world = mathutils.Matrix(world.tolist())
    return obj


def _truth(bpy, product, floor, cams: list[P.Camera], folder: Path) -> float:
    """Writes the product's surface in the scene's frame, samples on it by area and how many
    photos see each sample (in frame, and the first hit from the camera is the sample)."""
    from mathutils import Vector
    from mathutils.bvhtree import BVHTree

    depsgraph = bpy.context.evaluated_depsgraph_get()
    mesh = product.evaluated_get(depsgraph).to_mesh()
    mesh.calc_loop_triangles()
    world = np.array(product.matrix_world)
    verts = np.array([world[:3, :3] @ np.array(v.co) + world[:3, 3] for v in mesh.vertices])
    tris = np.array([tuple(t.vertices) for t in mesh.loop_triangles], dtype=np.int64)
    vertices = verts @ TO_SCENE.T
    a, b, c = (vertices[tris[:, k]] for k in range(3))
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    rng = np.random.default_rng(7)
    pick = rng.choice(len(tris), size=P.SURFACE_SAMPLES, p=area / area.sum())
    u, v = rng.uniform(size=(2, P.SURFACE_SAMPLES))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    samples = a[pick] + u[:, None] * (b[pick] - a[pick]) + v[:, None] * (c[pick] - a[pick])

    # the whole scene's triangles for occlusion, in Blender's frame
    all_verts, all_tris = [], []
    for obj in (product, floor):
        m = obj.evaluated_get(depsgraph).to_mesh()
        m.calc_loop_triangles()
        w = np.array(obj.matrix_world)
        base = len(all_verts)
        all_verts += [tuple(w[:3, :3] @ np.array(v.co) + w[:3, 3]) for v in m.vertices]
        all_tris += [tuple(base + i for i in t.vertices) for t in m.loop_triangles]
    tree = BVHTree.FromPolygons(all_verts, all_tris)
    samples_b = samples @ TO_SCENE     # back to Blender's frame
    seen = np.zeros(len(samples), int)
    for cam in cams:
        rel = samples - cam.centre
        pix = (cam.K @ (cam.R @ rel.T)).T
        with np.errstate(divide="ignore", invalid="ignore"):
            px, py = pix[:, 0] / pix[:, 2], pix[:, 1] / pix[:, 2]
        framed = (pix[:, 2] > 0) & (px >= 0) & (px < P.WIDTH) & (py >= 0) & (py < P.HEIGHT)
        origin = Vector(TO_SCENE.T @ cam.centre)
        for i in np.flatnonzero(framed):
            direction = Vector(samples_b[i]) - origin
            dist = direction.length
            hit, _, _, t = tree.ray_cast(origin, direction.normalized(), dist + 1.0)
            if hit is None or t > dist - 1e-3:
                seen[i] += 1
    np.savez_compressed(folder / "surface.npz", vertices=vertices.astype(np.float32), faces=tris.astype(np.int32),
                        samples=samples.astype(np.float32), seen=seen.astype(np.int16))
    return float((vertices.max(0) - vertices.min(0)).max())


def main() -> None:
    import bpy

    argv = sys.argv[sys.argv.index("--") + 1:]
    folder = Path(argv[0])
    samples = int(argv[1]) if len(argv) > 1 else P.SAMPLES
    only = int(argv[2]) if len(argv) > 2 else None
    _clear(bpy)
    scene = bpy.context.scene
    _settings(bpy, samples)
    product = _product(bpy)
    product.data.materials.append(_product_material(bpy))
    floor = _floor(bpy)
    _world(bpy)
    cams, held = P.cameras(), P.heldout_cameras()
    if only is not None:
        cams, held = cams[:only], []
    # a quick look (``only``) skips the true surface: it takes a minute of ray casting
    size = _truth(bpy, product, floor, P.cameras(), folder) if only is None else 0.0
    meta = {**P.parameters(), "object_size": size, "cameras": [c.to_json() for c in P.cameras()],
            "heldout_cameras": [c.to_json() for c in P.heldout_cameras()],
            "frame": "+Y up, floor y = 0, OpenCV cameras (R world to camera), the units of gpu.synthetic",
            "blender": bpy.app.version_string}
    (folder / "scene.json").write_text(json.dumps(meta, indent=1))
    for sub, group in (("images", cams), ("heldout", held)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        for cam in group:
            scene.camera = _camera(bpy, cam)
            scene.render.filepath = str(folder / sub / f"{cam.name}.jpg")
            bpy.ops.render.render(write_still=True)
            print(f"rendered {cam.name}", flush=True)
    print("PRODUCT_SCENE_DONE", flush=True)


if __name__ == "__main__":
    main()

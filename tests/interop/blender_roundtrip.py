"""Run inside Blender (``blender -b --factory-startup --python THIS -- IN_DIR OUT_DIR``), once for
all the checks because Blender takes seconds to start.

1. Reads each of our exports listed in IN_DIR/imports.json with Blender's own importer and
   records what Blender sees: objects (name, parent, triangles, world bounds in Blender's Z-up
   metres), materials (name, base colour, metallic, roughness, emission).
2. Builds a three-object, three-material scene with an image texture and a parent, writes it
   as GLB, glTF, OBJ, binary PLY and STL into OUT_DIR, with OUT_DIR/blender_scene.json saying
   what it holds.
Everything it finds goes to OUT_DIR/blender_report.json.
"""

import json
import os
import sys

import bpy
import numpy
from mathutils import Vector

# Debian's Blender 3.4 glTF importer still uses numpy.bool, which Debian's numpy (1.24) no longer
# has; the alias is what that add-on meant. Only this Blender session sees it.
if not hasattr(numpy, "bool"):
    numpy.bool = bool

args = sys.argv[sys.argv.index("--") + 1:]
IN_DIR, OUT_DIR = args[0], args[1]


def clear():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def principled(mat):
    if not mat or not mat.use_nodes:
        return None
    node = next((n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if node is None:
        return None
    base = node.inputs["Base Color"]
    textured = any(link.to_socket == base for link in mat.node_tree.links)
    emission = list(node.inputs["Emission"].default_value)[:3]
    strength = node.inputs["Emission Strength"].default_value if "Emission Strength" in node.inputs else 1.0
    return {"base_color": list(base.default_value), "metallic": node.inputs["Metallic"].default_value,
            "roughness": node.inputs["Roughness"].default_value, "alpha": node.inputs["Alpha"].default_value,
            "emission": [c * strength for c in emission], "textured": textured}


def facts():
    depsgraph = bpy.context.evaluated_depsgraph_get()
    objects = []
    for obj in bpy.context.scene.objects:
        entry = {"name": obj.name, "type": obj.type, "parent": obj.parent.name if obj.parent else None}
        if obj.type == "MESH":
            mesh = obj.evaluated_get(depsgraph).to_mesh()
            mesh.calc_loop_triangles()
            world = [obj.matrix_world @ Vector(v.co) for v in mesh.vertices]
            entry["triangles"] = len(mesh.loop_triangles)
            entry["vertices"] = len(mesh.vertices)
            if world:
                entry["bounds"] = [[min(p[i] for p in world) for i in range(3)], [max(p[i] for p in world) for i in range(3)]]
            entry["materials"] = [s.material.name for s in obj.material_slots if s.material]
            entry["uv_layers"] = len(mesh.uv_layers)
            obj.evaluated_get(depsgraph).to_mesh_clear()
        objects.append(entry)
    materials = {m.name: principled(m) for m in bpy.data.materials if m.users}
    images = [i.name for i in bpy.data.images if i.users and i.size[0] > 0]
    return {"objects": objects, "materials": materials, "images": images}


def read_ours(report):
    with open(os.path.join(IN_DIR, "imports.json")) as fh:
        jobs = json.load(fh)
    for job in jobs:
        clear()
        path = os.path.join(IN_DIR, job["file"])
        kind = job["importer"]
        try:
            if kind == "gltf":
                bpy.ops.import_scene.gltf(filepath=path)
            elif kind == "obj":
                bpy.ops.wm.obj_import(filepath=path, forward_axis="NEGATIVE_Z", up_axis="Y")
            elif kind == "stl":
                bpy.ops.import_mesh.stl(filepath=path, global_scale=job.get("scale", 1.0))
            elif kind == "ply":
                bpy.ops.import_mesh.ply(filepath=path)
            report["blender_reads"][job["file"]] = facts()
        except Exception as err:  # noqa: BLE001 - reported, and the test fails on it
            report["blender_reads"][job["file"]] = {"error": f"{type(err).__name__}: {err}"}


def write_scene(report):
    clear()
    image = bpy.data.images.new("checker", 8, 8)
    pixels = []
    for y in range(8):
        for x in range(8):
            v = 1.0 if (x + y) % 2 else 0.2
            pixels += [v, v * 0.5, 0.1, 1.0]
    image.pixels = pixels
    image.filepath_raw = os.path.join(OUT_DIR, "checker.png")
    image.file_format = "PNG"
    image.save()
    specs = [("Crate", "Painted", (0.8, 0.2, 0.1, 1.0), 0.0, 0.7, True, (0.0, 0.0, 0.0)),
             ("Pole", "Steel", (0.6, 0.6, 0.65, 1.0), 1.0, 0.3, False, (0.0, 0.0, 0.0)),
             ("Lamp", "Glow", (1.0, 0.9, 0.5, 1.0), 0.0, 0.2, False, (1.0, 0.5, 0.25))]
    expected = {"objects": {}, "materials": {}}
    for name, mat_name, color, metallic, roughness, textured, emission in specs:
        if name == "Crate":
            bpy.ops.mesh.primitive_cube_add(size=1.0, location=(0, 0, 0.5))
        elif name == "Pole":
            bpy.ops.mesh.primitive_cylinder_add(vertices=16, radius=0.05, depth=2.0, location=(1.5, 0, 1.0))
        else:
            bpy.ops.mesh.primitive_uv_sphere_add(segments=12, ring_count=6, radius=0.2, location=(1.5, 0, 2.2))
        obj = bpy.context.active_object
        obj.name = name
        obj.data.name = name + "Mesh"
        mat = bpy.data.materials.new(mat_name)
        mat.use_nodes = True
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = color
        bsdf.inputs["Metallic"].default_value = metallic
        bsdf.inputs["Roughness"].default_value = roughness
        bsdf.inputs["Emission"].default_value = (*emission, 1.0)
        if textured:
            tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
            tex.image = image
            mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
        obj.data.materials.append(mat)
        expected["materials"][mat_name] = {"base_color": list(color), "metallic": metallic, "roughness": roughness,
                                           "emission": list(emission), "textured": textured}
    bpy.data.objects["Lamp"].parent = bpy.data.objects["Pole"]
    bpy.data.objects["Lamp"].matrix_parent_inverse = bpy.data.objects["Pole"].matrix_world.inverted()
    bpy.context.view_layer.update()
    found = facts()
    for obj in found["objects"]:
        expected["objects"][obj["name"]] = {k: obj[k] for k in ("parent", "triangles", "bounds", "materials")}
    out = os.path.join(OUT_DIR, "blender_scene")
    bpy.ops.export_scene.gltf(filepath=out + ".glb", export_format="GLB")
    bpy.ops.export_scene.gltf(filepath=out + ".gltf", export_format="GLTF_SEPARATE")
    bpy.ops.wm.obj_export(filepath=out + ".obj", forward_axis="NEGATIVE_Z", up_axis="Y", path_mode="COPY",
                         export_pbr_extensions=True)
    bpy.ops.object.select_all(action="SELECT")
    bpy.ops.export_mesh.ply(filepath=out + ".ply")
    bpy.ops.export_mesh.stl(filepath=out + ".stl")
    report["blender_wrote"] = expected
    report["blender_version"] = bpy.app.version_string


report = {"blender_reads": {}}
read_ours(report)
write_scene(report)
with open(os.path.join(OUT_DIR, "blender_report.json"), "w") as fh:
    json.dump(report, fh, indent=1)

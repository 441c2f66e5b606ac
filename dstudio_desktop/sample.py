"""The bundled sample project: a small desk lamp of four parts, built from code.

``python -m dstudio_desktop.sample`` regenerates ``resources/sample_project`` (in a checkout
or an editable install, that is the repository's folder); the output is deterministic, and a
test checks the shipped copy matches it.
"""

from __future__ import annotations

import math
import shutil
import sys
import uuid
from pathlib import Path

import trimesh

from .core import CameraPreset, CameraPresets, Material, MaterialSet, Node, Project, SceneGraph, Transform
from .core.color import hex_to_linear
from .core.lighting import LightingConfig, builtin_presets
from .meshio import MeshData
from .resources import resource
from .services.geometry import mesh_asset
from .store.bundle import write_bundle

SAMPLE_DIR = resource("sample_project")
_NS = uuid.UUID("6f1c2a52-9d0e-4c55-9a7b-2b6a0f3d1e10")


def _id(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


def _quat_x(deg: float) -> tuple[float, float, float, float]:
    h = math.radians(deg) / 2
    return (math.sin(h), 0.0, 0.0, math.cos(h))


def build_sample() -> tuple[Project, list]:
    """The sample project and its mesh assets; ids are fixed so reinstalling finds it."""
    pid = _id("project")
    parts = {
        "Base": trimesh.creation.cylinder(radius=0.09, height=0.02, sections=96),
        "Arm": trimesh.creation.cylinder(radius=0.008, height=0.30, sections=32),
        "Shade": trimesh.creation.cone(radius=0.07, height=0.09, sections=96),
        "Bulb": trimesh.creation.icosphere(subdivisions=3, radius=0.025),
    }
    materials = [
        Material(id=_id("m-base"), name="Anodised graphite", library_origin="sample",
                 base_color_factor=(0.08, 0.085, 0.09, 1.0), metallic_factor=0.9, roughness_factor=0.35),
        Material(id=_id("m-arm"), name="Brushed aluminium", library_origin="sample",
                 base_color_factor=(0.91, 0.92, 0.92, 1.0), metallic_factor=1.0, roughness_factor=0.25),
        Material(id=_id("m-shade"), name="Signal red plastic", library_origin="sample",
                 base_color_factor=(*hex_to_linear("#cc140d"), 1.0), metallic_factor=0.0, roughness_factor=0.45,
                 double_sided=True),
        Material(id=_id("m-bulb"), name="Warm glow", library_origin="sample",
                 base_color_factor=(1.0, 0.95, 0.8, 1.0), metallic_factor=0.0, roughness_factor=0.1,
                 emissive_factor=(1.0, 0.8, 0.45)),
    ]
    # trimesh builds along Z; the scene is Y-up, so each part turns -90 deg about X.
    up = _quat_x(-90.0)
    placements = {
        "Base": Transform(translation=(0.0, 0.01, 0.0), rotation=up),
        "Arm": Transform(translation=(0.0, 0.17, 0.0), rotation=up),
        "Shade": Transform(translation=(0.0, 0.30, 0.0), rotation=up),  # apex up, opening down
        "Bulb": Transform(translation=(0.0, 0.29, 0.0)),
    }
    assets, nodes = [], []
    for (name, mesh), material in zip(parts.items(), materials, strict=True):
        asset_id = _id(f"a-{name}")
        data = MeshData(positions=mesh.vertices, faces=mesh.faces, name=name).validated(name)
        assets.append(mesh_asset(pid, asset_id, data, f"{name}.generated", "m", "y"))
        nodes.append(Node(id=_id(f"n-{name}"), name=name, kind="mesh", transform=placements[name],
                          asset_id=asset_id, material_id=material.id))
    head = Node(id=_id("n-head"), name="Head", children=nodes[2:])
    lamp = Node(id=_id("n-lamp"), name="Desk lamp", children=[*nodes[:2], head])
    cameras = [
        CameraPreset(id=_id("c-front"), name="Front", eye=(0.0, 0.21, 0.62), target=(0.0, 0.19, 0.0)),
        CameraPreset(id=_id("c-34"), name="Three-quarter", eye=(0.36, 0.36, 0.44), target=(0.0, 0.18, 0.0)),
        CameraPreset(id=_id("c-top"), name="Top", eye=(0.0, 0.9, 0.001), target=(0.0, 0.0, 0.0),
                     up=(0.0, 0.0, -1.0), projection="orthographic", ortho_height=0.4),
    ]
    lighting = LightingConfig().with_preset(builtin_presets()["studio"])
    lighting.lights = [lt.model_copy(update={"id": _id(f"l-{lt.name}")}) for lt in lighting.lights]
    project = Project(
        id=pid,
        name="Sample: desk lamp",
        description="A four-part desk lamp with distinct PBR materials, studio lighting and three camera views.",
        created_at="2026-01-01T00:00:00.000+00:00",
        updated_at="2026-01-01T00:00:00.000+00:00",
        scene_graph=SceneGraph(nodes=[lamp]),
        material_overrides=MaterialSet(materials=materials),
        lighting_config=lighting,
        camera_presets=CameraPresets(presets=cameras, default_id=cameras[1].id),
    )
    fixed = [(a.model_copy(update={"created_at": "2026-01-01T00:00:00.000+00:00"}), d) for a, d in assets]
    return project, fixed


def generate(folder: Path = SAMPLE_DIR) -> Path:
    project, assets = build_sample()
    if folder.exists():
        shutil.rmtree(folder)
    write_bundle(project, assets, folder)
    return folder


if __name__ == "__main__":
    out = generate(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_DIR)
    print(f"wrote {out}")

"""The bundled sample project is what its generator makes, and is a good first project."""

from __future__ import annotations

import filecmp
from pathlib import Path

from dstudio_desktop.sample import SAMPLE_DIR, build_sample, generate


def test_shipped_sample_matches_its_generator(tmp_path: Path) -> None:
    fresh = generate(tmp_path / "sample")
    cmp = filecmp.dircmp(fresh, SAMPLE_DIR)
    assert not cmp.left_only and not cmp.right_only and not cmp.diff_files
    assert filecmp.cmpfiles(fresh / "assets", SAMPLE_DIR / "assets", [p.name for p in (fresh / "assets").iterdir()],
                            shallow=False)[1] == []


def test_sample_has_parts_materials_lighting_and_cameras() -> None:
    project, assets = build_sample()
    meshes = [n for n, _ in project.scene_graph.walk() if n.kind == "mesh"]
    assert len(meshes) >= 3
    assert len({n.material_id for n in meshes}) == len(meshes)
    colours = {m.base_color_factor for m in project.material_overrides.materials}
    assert len(colours) == len(project.material_overrides.materials)
    assert project.lighting_config.active_preset == "studio" and project.lighting_config.lights
    assert len(project.camera_presets.presets) == 3 and project.camera_presets.default() is not None

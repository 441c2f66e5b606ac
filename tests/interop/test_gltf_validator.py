"""Our GLB and glTF exports pass the Khronos glTF-Validator with zero errors: the sample
project, our own fixtures, and assimp's test models read here and written back."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dstudio_desktop.meshio import read_scene, write_scene
from dstudio_desktop.services.models import export_project
from dstudio_desktop.services.sample import install_sample
from dstudio_desktop.store import Workspace

from ..conftest import DATA
from ..meshio.gltf_fixtures import three_node_glb
from .exports import ASSIMP, ASSIMP_MODELS

VALIDATOR = Path(sys.prefix) / "share" / "gltf-validator"
SCRIPT = Path(__file__).with_name("validate.mjs")


def validate(files: list[Path]) -> dict[str, dict]:
    assert (VALIDATOR / "node_modules" / "gltf-validator").is_dir(), \
        f"the Khronos glTF-Validator is not in {VALIDATOR}; run ./dev setup"
    proc = subprocess.run(["node", str(SCRIPT), str(VALIDATOR), *map(str, files)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {Path(r["file"]).name: r for r in json.loads(proc.stdout)}


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("exports")
    sources: dict[str, Path] = {}
    with Workspace(home=out / "ws") as ws:
        project = install_sample(ws)
        for ext in ("glb", "gltf"):
            export_project(ws, project.id, out / f"sample.{ext}")
            sources[f"sample.{ext}"] = out / f"sample.{ext}"
    three_node_glb(out / "three_nodes_src.glb")
    fixtures = {"three_nodes": out / "three_nodes_src.glb",
                "fuzz_seed_gltf": DATA / "fuzz_seeds" / "seed.gltf", "fuzz_seed_obj": DATA / "fuzz_seeds" / "seed.obj",
                "fuzz_seed_3mf": DATA / "fuzz_seeds" / "seed.3mf", "blender_ply": DATA / "blender" / "mixed_faces.ply"}
    fixtures.update({f"assimp_{Path(m).stem}": ASSIMP / m for m in ASSIMP_MODELS})
    for name, src in fixtures.items():
        assert src.exists(), f"{src} is missing (assimp's test models come from Debian's assimp-testmodels)"
        scene = read_scene(src)
        for ext in ("glb", "gltf"):
            write_scene(scene, out / f"{name}.{ext}")
            sources[f"{name}.{ext}"] = out / f"{name}.{ext}"
    return sources


def test_every_export_passes_the_khronos_validator(exports: dict[str, Path]) -> None:
    reports = validate(list(exports.values()))
    assert set(reports) == set(exports)
    failing = {name: r["messages"] for name, r in reports.items() if r["errors"]}
    assert failing == {}
    table = "\n".join(f"{name:45s} errors {r['errors']}  warnings {r['warnings']}  {r['info']}"
                      for name, r in sorted(reports.items()))
    print("\n" + table)  # the table of what was checked, with pytest -s


def test_the_validator_does_find_errors(tmp_path: Path) -> None:
    """The check could fail: a GLB with an index out of range is an error to the validator."""
    bad = tmp_path / "bad.glb"
    shutil.copy(DATA / "malformed" / "index_out_of_range.glb", bad)
    assert validate([bad])["bad.glb"]["errors"] > 0

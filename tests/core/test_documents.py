"""The core model: validation that names fields, exact JSON round trips, migrations, events."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dstudio_desktop.core import (
    ALL_DOCUMENTS,
    CameraPreset,
    CameraPresets,
    LightingConfig,
    Material,
    MaterialSet,
    Node,
    Project,
    SceneGraph,
    Transform,
    builtin_presets,
    load_document,
    new_id,
)
from dstudio_desktop.core.schema import register_migration, unregister_migration
from dstudio_desktop.errors import DocumentError
from dstudio_desktop.sample import build_sample


def _sample_project() -> Project:
    return build_sample()[0]


def test_every_document_round_trips_exactly() -> None:
    project = _sample_project()
    for name, cls in ALL_DOCUMENTS.items():
        x = json.loads(json.dumps(getattr(project, name).to_json()))
        assert x["schema_version"] == cls.SCHEMA_VERSION
        assert load_document(cls, x).to_json() == x, name


def test_project_round_trips_through_json() -> None:
    project = _sample_project()
    data = json.loads(json.dumps(project.to_json()))
    assert Project.from_json(data).to_json() == data


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
unit = st.floats(min_value=0.0, max_value=1.0)


@settings(max_examples=60, deadline=None)
@given(
    t=st.tuples(finite, finite, finite),
    s=st.tuples(*(st.floats(min_value=0.001, max_value=1000),) * 3),
    q=st.tuples(*(st.floats(min_value=-1, max_value=1),) * 4).filter(lambda q: sum(c * c for c in q) > 0.01),
    color=st.tuples(unit, unit, unit, unit),
    metallic=unit,
    roughness=unit,
)
def test_random_documents_round_trip(t, s, q, color, metallic, roughness) -> None:
    n = math.sqrt(sum(c * c for c in q))
    mat = Material(name="m", base_color_factor=color, metallic_factor=metallic, roughness_factor=roughness)
    node = Node(name="n", transform=Transform(translation=t, rotation=tuple(c / n for c in q), scale=s),
                material_id=mat.id)
    for doc in (SceneGraph(nodes=[node]), MaterialSet(materials=[mat])):
        x = json.loads(json.dumps(doc.to_json()))
        assert load_document(type(doc), x).to_json() == x


@pytest.mark.parametrize(
    ("cls", "data", "field", "words"),
    [
        (SceneGraph, {"schema_version": 1, "nodes": [{"name": "a", "transform": {"scale": [1, "x", 1]}}]},
         "nodes[0].transform.scale[1]", "number"),
        (SceneGraph, {"schema_version": 1, "nodes": [{"name": "a", "kind": "mesh"}]}, "nodes[0]", "asset_id"),
        (SceneGraph, {"schema_version": 1, "nodes": [{"name": "a", "kind": "blob"}]}, "nodes[0].kind", "group"),
        (SceneGraph, {"schema_version": 1, "nodes": [{"name": "a", "transform": {"rotation": [0, 0, 0, 2]}}]},
         "nodes[0].transform.rotation", "unit quaternion"),
        (MaterialSet, {"schema_version": 1, "materials": [{"name": "m", "roughness_factor": 1.5}]},
         "materials[0].roughness_factor", "less than or equal"),
        (MaterialSet, {"schema_version": 1, "materials": [{"name": "m", "alpha_mode": "SOMETIMES"}]},
         "materials[0].alpha_mode", "OPAQUE"),
        (CameraPresets, {"schema_version": 1, "presets": [{"name": "c", "eye": [0, 0, 1], "target": [0, 0, 1]}]},
         "presets[0]", "eye and target"),
        (LightingConfig, {"schema_version": 1, "lights": [{"name": "l", "color": [2, 0, 0]}]},
         "lights[0].color[0]", "less than or equal"),
        (SceneGraph, {"schema_version": 1, "nodes": [], "surprise": 1}, "surprise", "Extra"),
        (SceneGraph, {"nodes": []}, "schema_version", "missing"),
        (SceneGraph, {"schema_version": 99, "nodes": []}, "schema_version", "newer"),
    ],
)
def test_invalid_documents_name_the_field(cls, data, field, words) -> None:
    with pytest.raises(DocumentError) as info:
        load_document(cls, data)
    assert info.value.field == field
    assert words.lower() in info.value.problem.lower()
    assert str(info.value).startswith(f"{cls.DOC_NAME}.{field}: ")


def test_duplicate_node_ids_are_refused() -> None:
    node = Node(name="a").to_json()
    with pytest.raises(DocumentError, match="appears twice"):
        load_document(SceneGraph, {"schema_version": 1, "nodes": [node, node]})


def test_cross_document_reference_is_checked() -> None:
    data = _sample_project().to_json()
    data["material_overrides"]["materials"] = []
    with pytest.raises(DocumentError, match="is not a material of the project"):
        Project.from_json(data)


def test_migration_hook_upgrades_older_documents() -> None:
    @register_migration("camera_presets", 0)
    def rename_field(data: dict) -> dict:
        data["presets"] = data.pop("views")
        return data

    try:
        old = {"schema_version": 0, "views": [CameraPreset(name="A").to_json()]}
        doc = load_document(CameraPresets, old)
        assert doc.schema_version == 1 and doc.presets[0].name == "A"
    finally:
        unregister_migration("camera_presets", 0)
    with pytest.raises(DocumentError, match="no migration from version 0"):
        load_document(CameraPresets, {"schema_version": 0, "views": []})


def test_models_emit_one_event_per_field_after_validation() -> None:
    mat = Material(name="m")
    seen: list = []
    mat.events.roughness_factor.connect(seen.append)
    mat.roughness_factor = 0.3
    with pytest.raises(ValidationError):
        mat.roughness_factor = 7.0  # refused before any event fires
    assert seen == [0.3]
    assert mat.roughness_factor == 0.3


@settings(max_examples=50, deadline=None)
@given(
    t=st.tuples(finite, finite, finite),
    s=st.tuples(*(st.floats(min_value=0.01, max_value=100),) * 3),
    q=st.tuples(*(st.floats(min_value=-1, max_value=1),) * 4).filter(lambda q: sum(c * c for c in q) > 0.01),
)
def test_transform_matrix_decomposition_round_trips(t, s, q) -> None:
    n = math.sqrt(sum(c * c for c in q))
    tr = Transform(translation=t, rotation=tuple(c / n for c in q), scale=s)
    back = Transform.from_matrix(tr.matrix())
    assert np.allclose(back.matrix(), tr.matrix(), atol=1e-6 * max(1.0, max(abs(v) for v in t)))


def test_lighting_presets_give_fresh_ids_and_keep_saved_presets() -> None:
    config = LightingConfig()
    lit = config.with_preset(builtin_presets()["three-point"])
    again = lit.with_preset(builtin_presets()["three-point"])
    assert lit.active_preset == "three-point" and len(lit.lights) == 3
    assert {light.id for light in lit.lights}.isdisjoint({light.id for light in again.lights})
    assert {"studio", "three-point", "outdoor"} <= set(builtin_presets())


def test_new_ids_are_uuid4() -> None:
    assert new_id() != new_id() and len(new_id()) == 36


def test_core_does_not_import_qt_vispy_network_or_sqlite() -> None:
    """The model layer must work where Qt is not installed (a worker, a server)."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'PySide6', 'vispy', 'httpx', 'requests', 'sqlite3'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import dstudio_desktop.core as c\n"
        "c.Project(name='x').to_json()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

"""Edit commands: each does what it says, undo restores the exact JSON, redo repeats it."""

from __future__ import annotations

import numpy as np
import pytest

from dstudio_desktop.core import Material, Transform
from dstudio_desktop.core.commands import (
    AddMaterial,
    AddNodes,
    DuplicateNodes,
    GroupNodes,
    Macro,
    MoveNode,
    RemoveNodes,
    ReplaceDocument,
    SetMaterialField,
    SetNodeField,
)
from dstudio_desktop.core.lighting import builtin_presets
from dstudio_desktop.errors import DStudioError
from dstudio_desktop.sample import build_sample


@pytest.fixture
def project():
    return build_sample()[0]


def _node(project, name):
    return next(n for n, _ in project.scene_graph.walk() if n.name == name)


def _roundtrip(project, command):
    before = project.to_json()
    command.do(project)
    after = project.to_json()
    assert after != before
    command.undo(project)
    assert project.to_json() == before
    command.do(project)
    assert project.to_json() == after


def test_node_fields_undo_exactly(project) -> None:
    shade = _node(project, "Shade")
    _roundtrip(project, SetNodeField(shade.id, "name", "Lampshade"))
    _roundtrip(project, SetNodeField(shade.id, "transform", Transform(translation=(0.1, 0.2, 0.3))))
    _roundtrip(project, SetNodeField(shade.id, "visible", False))
    with pytest.raises(ValueError):
        SetNodeField(shade.id, "asset_id", None)


def test_locked_nodes_refuse_edits_but_can_be_unlocked(project) -> None:
    arm = _node(project, "Arm")
    SetNodeField(arm.id, "locked", True).do(project)
    with pytest.raises(DStudioError, match="locked"):
        SetNodeField(arm.id, "name", "x").do(project)
    with pytest.raises(DStudioError, match="locked"):
        RemoveNodes(node_ids=[arm.id]).do(project)
    SetNodeField(arm.id, "locked", False).do(project)
    SetNodeField(arm.id, "name", "x").do(project)


def test_material_edits_and_assignment(project) -> None:
    shade = _node(project, "Shade")
    _roundtrip(project, SetMaterialField(shade.material_id, "base_color_factor", (0.1, 0.9, 0.1, 1.0)))
    new = Material(name="Blue", base_color_factor=(0, 0, 1, 1))
    add = AddMaterial(new.to_json())
    _roundtrip(project, add)
    assign = Macro([SetNodeField(_node(project, n).id, "material_id", new.id) for n in ("Base", "Arm")], "Assign")
    _roundtrip(project, assign)
    with pytest.raises(DStudioError, match="no material"):
        SetNodeField(shade.id, "material_id", "00000000-0000-4000-8000-000000000000").do(project)


def test_a_failing_macro_undoes_what_it_did(project) -> None:
    before = project.to_json()
    bad = Macro([SetNodeField(_node(project, "Base").id, "name", "B"),
                 SetNodeField("00000000-0000-4000-8000-000000000000", "name", "C")])
    with pytest.raises(DStudioError):
        bad.do(project)
    assert project.to_json() == before


def test_tree_edits_keep_world_positions(project) -> None:
    bulb = _node(project, "Bulb")
    world = project.scene_graph.world_matrix(bulb.id)
    move = MoveNode(node_id=bulb.id, new_parent_id=None)
    _roundtrip(project, move)
    assert [n.name for n in project.scene_graph.nodes] == ["Desk lamp", "Bulb"]
    assert np.allclose(project.scene_graph.world_matrix(bulb.id), world)
    with pytest.raises(DStudioError, match="into itself"):
        lamp = _node(project, "Desk lamp")
        MoveNode(node_id=lamp.id, new_parent_id=_node(project, "Arm").id).do(project)


def test_group_duplicate_delete_add(project) -> None:
    base, arm = _node(project, "Base"), _node(project, "Arm")
    worlds = {n: project.scene_graph.world_matrix(_node(project, n).id) for n in ("Base", "Arm")}
    group = GroupNodes(node_ids=[base.id, arm.id], name="Stand")
    _roundtrip(project, group)
    assert [c.name for c in _node(project, "Stand").children] == ["Base", "Arm"]
    for name, world in worlds.items():
        assert np.allclose(project.scene_graph.world_matrix(_node(project, name).id), world)
    dup = DuplicateNodes(node_ids=[_node(project, "Head").id])
    _roundtrip(project, dup)
    copy = project.scene_graph.find(dup.new_ids[0])
    assert copy.name == "Head copy" and [c.name for c in copy.children] == ["Shade", "Bulb"]
    assert {c.id for c in copy.children}.isdisjoint({c.id for c in _node(project, "Head").children})
    _roundtrip(project, RemoveNodes(node_ids=[copy.id]))
    _roundtrip(project, AddNodes(nodes=[{"name": "Empty"}]))


def test_whole_documents_are_replaced_and_restored(project) -> None:
    outdoor = project.lighting_config.with_preset(builtin_presets()["outdoor"])
    events: list[str] = []
    project.changed.connect(events.append)
    _roundtrip(project, ReplaceDocument("lighting_config", outdoor.to_json(), "Outdoor lighting"))
    assert events == ["lighting_config"] * 3
    env = project.environment_config.to_json() | {"exposure": 1.5}
    _roundtrip(project, ReplaceDocument("environment_config", env))
    with pytest.raises(ValueError):
        ReplaceDocument("scene_graph", {}).do(project)

"""Three-way merge: one side's changes are taken, both sides' changes to different things are
kept, and the same value changed on both sides is a conflict where mine is kept."""

from __future__ import annotations

import copy

from dstudio_desktop.core import Node, Project, Transform
from dstudio_desktop.core.merge import merge, merge_project


def _node(name: str, x: float = 0.0) -> Node:
    return Node(name=name, kind="group", transform=Transform(translation=(x, 0.0, 0.0)))


def test_a_part_added_elsewhere_and_a_part_moved_here_both_survive():
    base = Project(name="p")
    base.scene_graph.nodes = [_node("a"), _node("b")]
    mine, theirs = copy.deepcopy(base.to_json()), copy.deepcopy(base.to_json())
    mine["scene_graph"]["nodes"][0]["transform"]["translation"] = [1.0, 2.0, 3.0]
    imported = _node("imported").to_json()
    theirs["scene_graph"]["nodes"].append(imported)
    merged, conflicts = merge_project(base.to_json(), mine, theirs)
    assert conflicts == {}
    names = [n["name"] for n in merged["scene_graph"]["nodes"]]
    assert names == ["a", "b", "imported"]
    assert merged["scene_graph"]["nodes"][0]["transform"]["translation"] == [1.0, 2.0, 3.0]
    Project.from_json(merged)  # still a valid project


def test_the_same_value_changed_on_both_sides_is_a_conflict_and_mine_is_kept():
    base = {"nodes": [{"id": "n1", "name": "shade"}], "v": 1}
    mine = {"nodes": [{"id": "n1", "name": "mine"}], "v": 1}
    theirs = {"nodes": [{"id": "n1", "name": "theirs"}], "v": 2}
    result = merge(base, mine, theirs)
    assert result.value == {"nodes": [{"id": "n1", "name": "mine"}], "v": 2}
    assert result.conflicts == ["nodes[n1].name"]


def test_deletions_on_one_side_are_taken_and_a_delete_against_an_edit_is_reported():
    base = [{"id": "a", "x": 1}, {"id": "b", "x": 1}, {"id": "c", "x": 1}]
    mine = [{"id": "a", "x": 1}, {"id": "b", "x": 5}, {"id": "c", "x": 1}]
    theirs = [{"id": "b", "x": 1}]  # deleted a (untouched here) and c (untouched here)
    assert merge(base, mine, theirs).value == [{"id": "b", "x": 5}]
    edited_then_deleted = merge(base, [{"id": "a", "x": 9}, *base[1:]], base[1:])
    assert edited_then_deleted.conflicts == ["[a]"]
    assert edited_then_deleted.value[0] == {"id": "a", "x": 9}


def test_items_only_theirs_added_go_where_theirs_put_them():
    base = [{"id": "a"}, {"id": "c"}]
    mine = [{"id": "c"}, {"id": "a"}, {"id": "m"}]   # reordered and added here
    theirs = [{"id": "a"}, {"id": "b"}, {"id": "c"}]  # b added after a elsewhere
    assert [i["id"] for i in merge(base, mine, theirs).value] == ["c", "a", "b", "m"]


def test_the_viewport_state_is_always_this_windows():
    base = Project(name="p").to_json()
    mine, theirs = copy.deepcopy(base), copy.deepcopy(base)
    mine["canvas_state"]["selection"] = ["x"]
    theirs["canvas_state"]["selection"] = ["y"]
    theirs["description"] = "from the CLI"
    merged, conflicts = merge_project(base, mine, theirs)
    assert merged["canvas_state"]["selection"] == ["x"] and merged["description"] == "from the CLI"
    assert conflicts == {}


def test_undoing_a_tree_edit_keeps_what_arrived_since():
    from dstudio_desktop.core.commands import AddNodes, DuplicateNodes

    project = Project(name="p")
    project.scene_graph.nodes = [_node("a")]
    duplicate = DuplicateNodes(node_ids=[project.scene_graph.nodes[0].id])
    duplicate.do(project)
    AddNodes(nodes=[_node("imported elsewhere").to_json()]).do(project)  # stands in for a merge
    duplicate.undo(project)
    assert [n.name for n in project.scene_graph.nodes] == ["a", "imported elsewhere"]
    duplicate.do(project)  # redo
    assert [n.name for n in project.scene_graph.nodes] == ["a", "imported elsewhere", "a copy"]

"""Review without a window: surface points, threads, roles, and what changed between versions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dstudio_desktop.core.commands import SetMaterialField, SetNodeField
from dstudio_desktop.errors import DStudioError, PermissionDenied
from dstudio_desktop.services import review
from dstudio_desktop.services.models import load_mesh
from dstudio_desktop.services.sample import install_sample
from dstudio_desktop.store import Workspace

SAMPLE = "Sample: desk lamp"


@pytest.fixture
def ws(home: Path):
    with Workspace() as ws:
        install_sample(ws)
        yield ws


def _part(project, name):
    return next(n for n, _ in project.scene_graph.walk() if n.name == name)


def test_diff_after_moving_one_node_and_recolouring_another_lists_exactly_those(ws):
    project = ws.load_project(SAMPLE)
    base, shade = _part(project, "Base"), _part(project, "Shade")
    SetNodeField(base.id, "transform", {**base.transform.to_json(), "translation": (0.05, 0.0, 0.0)}).do(project)
    SetMaterialField(shade.material_id, "base_color_factor", (0.1, 0.3, 0.9, 1.0)).do(project)
    ws.save_project(project)
    ws.save_version(SAMPLE, notes="moved and recoloured")
    changes = review.version_diff(ws, SAMPLE, 1, 2)
    assert [(c.kind, c.name) for c in changes] == [
        ("node_moved", "Base"),
        ("material_changed", project.material_overrides.get(shade.material_id).name)]
    assert changes[0].fields == ["translation"]
    assert changes[1].fields == ["base_color_factor"]
    from dstudio_desktop.core.diff import changed_node_ids

    assert changed_node_ids(changes, ws.get_version(SAMPLE, 2).snapshot) == {base.id, shade.id}
    assert review.version_diff(ws, SAMPLE, 2, 2) == []


def test_surface_point_is_exact_and_refuses_points_off_the_surface(ws):
    project = ws.load_project(SAMPLE)
    base = _part(project, "Base")
    mesh = load_mesh(ws, base.asset_id)
    world = project.scene_graph.world_matrix(base.id)
    a, b, c = mesh.positions[mesh.faces[7]].astype(float)
    local = (a + b + c) / 3
    point = world[:3, :3] @ local + world[:3, 3]
    found = review.surface_point(ws, project, point)
    assert found.node_id == base.id
    assert np.allclose(found.point, point, atol=1e-9)
    expected = np.linalg.inv(world[:3, :3]).T @ np.cross(b - a, c - a)  # the face's normal, in the world
    assert np.allclose(found.normal, expected / np.linalg.norm(expected), atol=1e-6)
    with pytest.raises(DStudioError, match="not on a part's surface"):
        review.surface_point(ws, project, point + np.array([0.0, 0.05, 0.3]))
    with pytest.raises(DStudioError, match="no part 'Teapot'"):
        review.surface_point(ws, project, point, node_key="Teapot")


def test_threads_resolve_reopen_and_roles(ws):
    project = ws.load_project(SAMPLE)
    first = review.add(ws, project, "fillet the base", None, None)
    second = review.add(ws, project, "shade too red", None, None)
    reply = review.reply(ws, project, first.id[:8], "2 mm?")
    assert reply.author_id == ws.local_profile()["id"] and reply.version_id == first.version_id
    review.reply(ws, project, reply.id, "yes")  # a reply to a reply joins the same thread
    found = review.threads(ws.list_annotations(project.id))
    assert [(t.number, t.annotation.content, [r.content for r in t.replies]) for t in found] == [
        (1, "fillet the base", ["2 mm?", "yes"]), (2, "shade too red", [])]
    assert review.set_resolved(ws, project, first.id, True).resolved
    assert [t.annotation.id for t in review.threads(ws.list_annotations(project.id)) if not t.annotation.resolved] \
        == [second.id]
    assert not review.set_resolved(ws, project, first.id, False).resolved
    assert first.version_id == ws.list_versions(project.id)[-1].id
    ws.set_role(SAMPLE, "viewer")
    with pytest.raises(PermissionDenied, match="viewer may not annotate"):
        review.add(ws, project, "x", None, None)
    ops = [(row["entity"], row["op"]) for row in ws.outbox()]
    assert ops.count(("annotation", "insert")) == 4 and ops.count(("annotation", "update")) == 2


def test_cli_annotate_round_trip(cli, home):
    assert cli("sample").returncode == 0
    added = cli("annotate", "add", SAMPLE, "--text", "edge too sharp", "--point", "0.09,0.01,0", "--json")
    assert added.returncode == 0, added.stderr
    annotation = json.loads(added.stdout)
    assert annotation["position"]["node_id"] and annotation["camera_state"] is not None
    off = cli("annotate", "add", SAMPLE, "--text", "x", "--point", "1,1,1")
    assert off.returncode == 1 and "not on a part's surface" in off.stderr and off.stderr.count("\n") == 1
    assert cli("annotate", "add", SAMPLE, "--text", "x", "--point", "1,1").returncode == 2
    assert cli("annotate", "reply", SAMPLE, annotation["id"][:8], "--text", "agreed").returncode == 0
    listed = json.loads(cli("annotate", "list", SAMPLE, "--json").stdout)
    assert len(listed) == 1 and [r["content"] for r in listed[0]["replies"]] == ["agreed"]
    assert cli("annotate", "resolve", SAMPLE, annotation["id"]).returncode == 0
    assert json.loads(cli("annotate", "list", SAMPLE, "--open", "--json").stdout) == []
    assert cli("annotate", "reopen", SAMPLE, annotation["id"]).returncode == 0
    assert len(json.loads(cli("annotate", "list", SAMPLE, "--open", "--json").stdout)) == 1
    missing = cli("annotate", "resolve", SAMPLE, "ffffffff")
    assert missing.returncode == 1 and "no annotation 'ffffffff'" in missing.stderr


def test_cli_reviewer_annotates_but_cannot_change_the_scene(cli, tmp_path):
    assert cli("sample").returncode == 0
    assert cli("role", SAMPLE, "reviewer").returncode == 0
    assert cli("annotate", "add", SAMPLE, "--text", "ok", "--point", "0.09,0.01,0").returncode == 0
    part = tmp_path / "box.stl"
    import trimesh

    trimesh.creation.box((1, 1, 1)).export(part)
    for args in (("import", SAMPLE, str(part)), ("version", "save", SAMPLE), ("version", "restore", SAMPLE, "1")):
        refused = cli(*args)
        assert refused.returncode == 1 and "reviewer may not change the scene" in refused.stderr, args


def test_cli_version_diff(cli):
    assert cli("sample").returncode == 0
    same = cli("version", "diff", SAMPLE, "1", "1", "--json")
    assert json.loads(same.stdout)["changes"] == []
    assert cli("version", "diff", SAMPLE, "1", "9").returncode == 1

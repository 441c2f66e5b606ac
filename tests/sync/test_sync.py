"""Offline-first sync between two desktops and the server: nothing lost, nothing doubled."""

from __future__ import annotations

from pathlib import Path

import trimesh

from dstudio_desktop.core.commands import SetNodeField
from dstudio_desktop.services import review
from dstudio_desktop.services.geometry import import_files
from dstudio_desktop.services.models import load_mesh
from dstudio_desktop.services.sample import install_sample
from dstudio_desktop.store.syncstate import SyncState

SAMPLE = "Sample: desk lamp"


def _server_state(api, project_id: str) -> dict:
    versions = api.ok(api.get("design_studio_versions", project_id=f"eq.{project_id}", order="version_number"))
    annotations = api.ok(api.get("design_studio_annotations", project_id=f"eq.{project_id}", order="id"))
    ids = ",".join(a["id"] for a in annotations)
    replies = api.ok(api.get("design_studio_annotation_replies", annotation_id=f"in.({ids})", order="id")) if ids else []
    assets = api.ok(api.get("design_studio_assets", project_id=f"eq.{project_id}", order="id"))
    return {
        "versions": [(v["id"], v["version_number"]) for v in versions],
        "annotations": sorted((a["id"], a["content"], a["resolved"]) for a in annotations),
        "replies": sorted((r["id"], r["annotation_id"], r["content"]) for r in replies),
        "assets": sorted((a["id"], a["sha256"]) for a in assets),
    }


def _local_state(desktop, project_id: str) -> dict:
    ws, state = desktop.ws, SyncState(desktop.ws)
    versions = sorted(((v.id, state.server_number(v.id)) for v in ws.list_versions(project_id)), key=lambda v: v[1] or 0)
    annotations = ws.list_annotations(project_id)
    return {
        "versions": versions,
        "annotations": sorted((a.id, a.content, a.resolved) for a in annotations if a.parent_id is None),
        "replies": sorted((a.id, a.parent_id, a.content) for a in annotations if a.parent_id is not None),
        "assets": sorted((a.id, a.sha256) for a in ws.list_assets(project_id) if a.asset_type != "thumbnail"),
    }


def test_two_desktops_editing_offline_converge(team, tmp_path: Path):
    a, b, org = team
    project = install_sample(a.ws)
    report = a.sync()
    assert report.state == "up to date", report.message
    assert report.rejected == [] and report.uploaded == 4  # the lamp's four meshes, once each
    assert b.sync().state == "up to date"
    assert b.ws.load_project(project.id).name == SAMPLE
    assert load_mesh(b.ws, b.ws.load_project(project.id).scene_graph.nodes[0].children[0].asset_id)  # fetched

    # offline on both sides
    a.ws.save_version(project.id, notes="a: first look")
    pa = a.ws.load_project(project.id)
    note = review.add(a.ws, pa, "base edge too sharp", None, None)
    review.reply(a.ws, pa, note.id, "2 mm fillet?")
    part = tmp_path / "bracket.stl"
    trimesh.creation.box((30, 10, 5)).export(part)
    import_files(a.ws, project.id, [part])

    b.ws.save_version(project.id, notes="b: lighting pass")
    pb = b.ws.load_project(project.id)
    b_note = review.add(b.ws, pb, "shade too saturated", None, None)
    review.set_resolved(b.ws, pb, b_note.id, True)

    # both come back online, in either order, a couple of times
    reports = [a.sync(), b.sync(), a.sync(), b.sync()]
    assert all(r.state == "up to date" for r in reports), [r.message for r in reports]
    assert all(r.rejected == [] for r in reports)
    # B's reply lands on A's note once A's note is there
    review.reply(b.ws, b.ws.load_project(project.id), note.id, "yes, 2 mm")
    review.set_resolved(b.ws, b.ws.load_project(project.id), note.id, True)
    assert b.sync().state == "up to date" and a.sync().state == "up to date"

    server = _server_state(a.api, project.id)
    notes = [v["notes"] for v in a.api.ok(a.api.get("design_studio_versions", project_id=f"eq.{project.id}",
                                                     order="version_number"))]
    assert [n for _, n in server["versions"]] == [1, 2, 3], notes
    assert len(server["annotations"]) == 2 and all(resolved for _, _, resolved in server["annotations"])
    assert sorted(c for _, _, c in server["replies"]) == ["2 mm fillet?", "yes, 2 mm"]
    assert len(server["assets"]) == 5
    for desktop in (a, b):
        local = _local_state(desktop, project.id)
        assert local["versions"] == server["versions"]
        assert local["annotations"] == server["annotations"]
        assert local["replies"] == server["replies"]
        assert local["assets"] == server["assets"]
        assert desktop.ws.outbox() == []
    assert any(n.name == "bracket" for n, _ in b.ws.load_project(project.id).scene_graph.walk())


def _new_project(ws, tmp_path: Path, name: str = "Bracket"):
    part = tmp_path / "base.stl"
    trimesh.creation.box((30, 10, 5)).export(part)
    project = ws.create_project(name)
    import_files(ws, project.id, [part])
    return project


def test_concurrent_scene_edits_keep_the_losing_side_as_a_version(team, tmp_path: Path):
    a, b, _ = team
    project = _new_project(a.ws, tmp_path)
    assert a.sync().state == "up to date" and b.sync().state == "up to date"
    for desktop, name in ((a, "Base (a)"), (b, "Base (b)")):
        p = desktop.ws.load_project(project.id)
        base = next(n for n, _ in p.scene_graph.walk() if n.name == "base")
        SetNodeField(base.id, "name", name).do(p)
        desktop.ws.save_project(p)
    assert a.sync().state == "up to date"
    report = b.sync()
    assert report.state == "up to date" and len(report.conflicts) == 1, report.to_json()
    assert "kept as version" in report.conflicts[0]
    a.sync()
    names = {d: {n.name for n, _ in d.ws.load_project(project.id).scene_graph.walk()} for d in (a, b)}
    assert "Base (a)" in names[a] and names[a] == names[b]  # one current copy everywhere
    kept = [v for v in b.ws.list_versions(project.id) if v.notes.startswith("Kept from this computer")]
    assert len(kept) == 1
    assert any(n["name"] == "Base (b)" for n in _walk(kept[0].snapshot["scene_graph"]["nodes"]))
    assert [v.id for v in a.ws.list_versions(project.id)] == [v.id for v in b.ws.list_versions(project.id)]


def _walk(nodes):
    for n in nodes:
        yield n
        yield from _walk(n.get("children", []))


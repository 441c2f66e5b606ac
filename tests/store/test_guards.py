"""The store's two rules: a save based on an older revision is refused (never applied), and
every write is checked against the user's role on the project."""

from __future__ import annotations

import pytest

from dstudio_desktop.core import Annotation, Asset, Node
from dstudio_desktop.core.records import PrintJob
from dstudio_desktop.errors import ConflictError, PermissionDenied
from dstudio_desktop.store import Workspace, sha256_bytes


def _stored(ws: Workspace, project_id: str) -> dict:
    row = dict(ws._db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone())
    return {**row, "assets": len(ws.list_assets(project_id)), "versions": len(ws.list_versions(project_id)),
            "print_jobs": len(ws.list_print_jobs(project_id)), "outbox": len(ws.outbox())}


def test_a_save_based_on_an_older_revision_is_refused_and_changes_nothing(tmp_path):
    with Workspace(tmp_path) as ws:
        p = ws.create_project("lamp")
        window, cli = ws.load_project(p.id), ws.load_project(p.id)
        cli.scene_graph.nodes = [Node(name="imported", kind="group")]
        ws.save_project(cli)
        assert cli.revision == window.revision + 1 == ws.project_revision(p.id)
        before = _stored(ws, p.id)
        window.scene_graph.nodes = [Node(name="stale", kind="group")]
        with pytest.raises(ConflictError, match="changed elsewhere"):
            ws.save_project(window)
        assert _stored(ws, p.id) == before
        assert window.revision == before["revision"] - 1  # the refused copy still names its base
        assert [n.name for n in ws.load_project(p.id).scene_graph.nodes] == ["imported"]


def test_restoring_a_version_moves_the_revision_on(tmp_path):
    with Workspace(tmp_path) as ws:
        p = ws.create_project("lamp")
        ws.save_version(p.id, "one")
        open_copy = ws.load_project(p.id)
        ws.restore_version(p.id, 1)
        with pytest.raises(ConflictError):
            ws.save_project(open_copy)


def _asset(project_id: str, data: bytes = b"texture bytes") -> tuple[Asset, bytes]:
    return Asset(project_id=project_id, asset_type="texture", name="t.png", sha256=sha256_bytes(data),
                 file_size=len(data), media_type="image/png"), data


@pytest.mark.parametrize("role", ["reviewer", "viewer"])
def test_every_scene_write_is_refused_for_a_reviewer_or_viewer(tmp_path, role):
    with Workspace(tmp_path) as ws:
        p = ws.create_project("lamp")
        ws.save_version(p.id, "one")
        ws.set_role(p.id, role)
        before = _stored(ws, p.id)
        project = ws.load_project(p.id)
        project.scene_graph.nodes = [Node(name="sneaked in", kind="group")]
        writes = {
            "save_project": lambda: ws.save_project(project),
            "save_project with assets": lambda: ws.save_project(ws.load_project(p.id), [_asset(p.id)]),
            "add_assets": lambda: ws.add_assets([_asset(p.id, b"other")]),
            "save_version": lambda: ws.save_version(p.id, "mine"),
            "restore_version": lambda: ws.restore_version(p.id, 1),
            "add_print_job": lambda: ws.add_print_job(PrintJob(
                design_project_id=p.id, material="PLA", infill_percent=20, layer_height=0.2, estimated_time_minutes=1,
                estimated_material_grams=1, printer_id="ender3")),
        }
        for name, write in writes.items():
            with pytest.raises(PermissionDenied, match=f"a {role} may not change the scene"):
                write()
            assert _stored(ws, p.id) == before, name


def test_a_reviewer_annotates_and_a_viewer_does_not(tmp_path):
    with Workspace(tmp_path) as ws:
        p = ws.create_project("lamp")
        ws.set_role(p.id, "reviewer")
        note = ws.add_annotation(Annotation(project_id=p.id, content="fillet this"))
        ws.update_annotation(note, resolved=True)
        ws.set_role(p.id, "viewer")
        with pytest.raises(PermissionDenied, match="a viewer may not annotate"):
            ws.add_annotation(Annotation(project_id=p.id, content="x"))
        with pytest.raises(PermissionDenied):
            ws.update_annotation(note, resolved=False)
        assert [a.resolved for a in ws.list_annotations(p.id)] == [True]


def test_an_old_workspace_gains_revisions_when_opened(tmp_path):
    import sqlite3

    with Workspace(tmp_path) as ws:
        p = ws.create_project("lamp")
    db = sqlite3.connect(tmp_path / "workspace.sqlite3")
    db.execute("ALTER TABLE projects DROP COLUMN revision")
    db.execute("PRAGMA user_version=4")
    db.commit()
    db.close()
    with Workspace(tmp_path) as ws:
        project = ws.load_project(p.id)
        assert project.revision == 1
        ws.save_project(project)
        assert ws.project_revision(p.id) == 2

"""A workspace written by the first release (tests/data/workspace_release1, made by
tests/data/make_release1_workspace.sh with the code at commit db84a4f, workspace schema 4) opens
in this one: it is backed up, upgraded in place, and keeps every project, version, annotation and
asset. A workspace from a newer release is refused in one line and left byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from dstudio_desktop.core.project import load_snapshot
from dstudio_desktop.errors import WorkspaceError
from dstudio_desktop.store import Workspace
from dstudio_desktop.store.workspace import DB_SCHEMA_VERSION

from ..conftest import DATA

FIXTURE = DATA / "workspace_release1"


def _rows(db_path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def release1(tmp_path: Path) -> Path:
    home = tmp_path / "workspace"
    shutil.copytree(FIXTURE, home)
    return home


def test_the_fixture_is_a_first_release_workspace(release1: Path) -> None:
    db = release1 / "workspace.sqlite3"   # a copy: reading a WAL database leaves -shm/-wal beside it
    assert _rows(db, "PRAGMA user_version") == [(4,)]
    assert "revision" not in {r[1] for r in _rows(db, "PRAGMA table_info(projects)")}
    assert sorted(r[0] for r in _rows(db, "SELECT name FROM projects")) == ["Bracket", "Empty idea", "Sample: desk lamp"]


def test_a_first_release_workspace_is_backed_up_and_upgraded_keeping_everything(release1: Path) -> None:
    db_path = release1 / "workspace.sqlite3"
    original = db_path.read_bytes()
    projects = _rows(db_path, "SELECT id, name, version_count, current_version_id, scene_graph FROM projects ORDER BY id")
    versions = _rows(db_path, "SELECT id, project_id, version_number, snapshot, notes FROM versions ORDER BY id")
    annotations = _rows(db_path, "SELECT id, project_id, parent_id, body FROM annotations ORDER BY id")
    assets = _rows(db_path, "SELECT id, project_id, sha256, file_size FROM assets ORDER BY id")
    assert len(projects) == 3 and len(versions) == 4 and len(annotations) == 3 and len(assets) == 6

    with Workspace(release1) as ws:
        assert ws.upgraded_from == 4
        backup = ws.backup_path
        assert backup is not None and backup.parent == release1 / "backups"
        assert _rows(db_path, "PRAGMA user_version") == [(DB_SCHEMA_VERSION,)]

        assert sorted((p["id"], p["name"], p["version_count"]) for p in ws.list_projects()) == \
            sorted((p[0], p[1], p[2]) for p in projects)
        for project_id, name, count, current_version, scene_graph in projects:
            project = ws.load_project(project_id)  # every document validates, migrated to today's schemas
            assert project.name == name and project.revision == 1
            old_nodes = [n["id"] for n in json.loads(scene_graph)["nodes"]]
            assert [n.id for n in project.scene_graph.nodes] == old_nodes
            listed = ws.list_versions(project_id)
            assert len(listed) == count and (not listed or listed[-1].id == current_version)
        by_id = {v.id: v for p in projects for v in ws.list_versions(p[0])}
        for version_id, project_id, number, snapshot, notes in versions:
            kept = by_id[version_id]
            assert (kept.project_id, kept.version_number, kept.notes) == (project_id, number, notes)
            assert kept.snapshot == json.loads(snapshot)  # stored as written, upgraded when read
            load_snapshot(kept.snapshot)
        kept_notes = {a.id: a for p in projects for a in ws.list_annotations(p[0])}
        assert sorted(kept_notes) == [a[0] for a in annotations]
        for annotation_id, _, parent_id, body in annotations:
            assert kept_notes[annotation_id].parent_id == parent_id
            assert kept_notes[annotation_id].to_json() == json.loads(body)
        for asset_id, project_id, sha, size in assets:
            asset = ws.get_asset(asset_id)
            data = ws.asset_bytes(asset)
            assert (asset.project_id, len(data), hashlib.sha256(data).hexdigest()) == (project_id, size, sha)

        # and it is a working workspace of this release: a save bumps the revision
        bracket = ws.load_project("Bracket")
        ws.save_project(bracket)
        assert ws.project_revision(bracket.id) == 2

    # the backup is the first release's database, whole
    assert _rows(backup, "PRAGMA user_version") == [(4,)]
    assert _rows(backup, "SELECT id, name, version_count, current_version_id, scene_graph FROM projects ORDER BY id") == projects
    assert _rows(backup, "SELECT id, project_id, version_number, snapshot, notes FROM versions ORDER BY id") == versions
    assert original != db_path.read_bytes()

    # opening again upgrades nothing and makes no second backup
    with Workspace(release1) as ws:
        assert ws.upgraded_from is None
    assert len(list((release1 / "backups").iterdir())) == 1


def test_the_cli_opens_a_first_release_workspace(release1: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("DSTUDIO_HOME", str(release1))
    result = cli("list", "--json", env={"DSTUDIO_HOME": str(release1)})
    assert result.returncode == 0, result.stderr
    assert sorted(p["name"] for p in result.json()) == ["Bracket", "Empty idea", "Sample: desk lamp"]
    info = cli("info", "Bracket", "--json", env={"DSTUDIO_HOME": str(release1)})
    assert info.returncode == 0, info.stderr
    assert info.json()["nodes"] == 2 and info.json()["versions"] == 2


def test_a_newer_release_workspace_is_refused_and_left_untouched(release1: Path, cli) -> None:
    db = sqlite3.connect(release1 / "workspace.sqlite3")
    db.execute(f"PRAGMA user_version={DB_SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    (release1 / "blobs" / "tmp").mkdir()
    (release1 / "blobs" / "tmp" / "upload.part").write_bytes(b"the newer app's own half-written file")
    before = _digest(release1)

    with pytest.raises(WorkspaceError, match="newer Design Studio") as err:
        Workspace(release1)
    assert "\n" not in str(err.value) and "nothing was changed" in str(err.value)
    result = cli("list", env={"DSTUDIO_HOME": str(release1)})
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and "newer Design Studio" in result.stderr
    assert "Traceback" not in result.stderr

    assert _digest(release1) == before  # no backup, no WAL switch, no clean-up, no migration
    assert not (release1 / "backups").exists()


def test_a_failed_backup_refuses_the_upgrade(release1: Path) -> None:
    (release1 / "backups").write_text("a file where the backups folder would go")
    before = (release1 / "workspace.sqlite3").read_bytes()
    with pytest.raises(WorkspaceError, match="cannot back up the workspace"):
        Workspace(release1)
    assert _rows(release1 / "workspace.sqlite3", "PRAGMA user_version") == [(4,)]
    assert (release1 / "workspace.sqlite3").read_bytes() == before

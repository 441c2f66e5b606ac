"""The local workspace: versions, restore, outbox in the same transaction, content addressing."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from dstudio_desktop.core import Annotation, Asset, Material, Node
from dstudio_desktop.errors import DStudioError, NotFoundError, WorkspaceError
from dstudio_desktop.store import Workspace, sha256_bytes


def test_home_comes_from_environment(home: Path) -> None:
    with Workspace() as ws:
        ws.create_project("p")
    assert (home / "workspace.sqlite3").is_file()
    with sqlite3.connect(home / "workspace.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_versions_number_from_one_and_restore_copies_the_snapshot(home: Path) -> None:
    with Workspace() as ws:
        p = ws.create_project("lamp")
        p.scene_graph.nodes = [Node(name="first")]
        ws.save_project(p)
        v1 = ws.save_version("lamp", "one")
        p.scene_graph.nodes = [Node(name="second"), Node(name="third")]
        ws.save_project(p)
        v2 = ws.save_version("lamp", "two")
        v3 = ws.restore_version("lamp", 1)
        assert [v.version_number for v in ws.list_versions("lamp")] == [1, 2, 3]
        assert v3.snapshot == v1.snapshot != v2.snapshot
        assert [n.name for n in ws.load_project("lamp").scene_graph.nodes] == ["first"]
        row = ws.project_row("lamp")
        assert row["version_count"] == 3 and row["current_version_id"] == v3.id
        with pytest.raises(NotFoundError):
            ws.get_version("lamp", 9)


def test_concurrent_version_saves_get_distinct_numbers(home: Path) -> None:
    with Workspace() as ws:
        ws.create_project("race")
    numbers: list[int] = []
    errors: list[BaseException] = []

    def save() -> None:
        try:
            with Workspace() as own:
                for _ in range(5):
                    numbers.append(own.save_version("race").version_number)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == list(range(1, 21))


def test_every_change_writes_its_outbox_row_in_the_same_transaction(home: Path) -> None:
    with Workspace() as ws:
        p = ws.create_project("p")
        ws.save_version("p")
        ws.add_annotation(Annotation(project_id=p.id, content="looks good"))
        data = b"texture bytes"
        ws.add_asset(Asset(project_id=p.id, asset_type="texture", name="t.png", sha256=sha256_bytes(data),
                           file_size=len(data)), data)
        entities = [(r["entity"], r["op"]) for r in ws.outbox()]
        assert entities == [("project", "insert"), ("version", "insert"), ("annotation", "insert"), ("asset", "insert")]
        assert len({r["mutation_id"] for r in ws.outbox()}) == 4

        before = (ws.outbox(), ws.load_project("p").to_json())
        p.material_overrides.materials = [Material(name="m")]
        p.scene_graph.nodes = [Node(name="n", material_id="00000000-0000-4000-8000-000000000000")]
        bad = Asset(project_id=p.id, asset_type="texture", name="x", sha256="0" * 64, file_size=1)
        with pytest.raises(WorkspaceError):
            ws.save_project(p, [(bad, b"x")])  # bytes do not match the hash: nothing is written
        with pytest.raises(sqlite3.IntegrityError):
            with ws.transaction() as db:
                ws._enqueue(db, "project", p.id, "update", {})
                db.execute("INSERT INTO versions (id, project_id, version_number, snapshot, created_at) "
                           "VALUES ('x', 'no-such-project', 1, '{}', 'now')")
        assert (ws.outbox(), ws.load_project("p").to_json()) == before


def test_identical_bytes_are_stored_once(home: Path) -> None:
    with Workspace() as ws:
        p = ws.create_project("p")
        data = b"same bytes" * 100
        for name in ("a", "b"):
            ws.add_asset(Asset(project_id=p.id, asset_type="texture", name=name, sha256=sha256_bytes(data),
                               file_size=len(data)), data)
        assert len(ws.list_assets(p.id)) == 2
        stored = [f for f in (home / "blobs").rglob("*") if f.is_file()]
        assert len(stored) == 1 and stored[0].read_bytes() == data


def test_partial_blob_files_are_cleaned_on_open(home: Path) -> None:
    with Workspace() as ws:
        ws.create_project("p")
    leftover = home / "blobs" / "tmp" / "deadbeef.part"
    leftover.write_bytes(b"half")
    hours_ago = time.time() - 2 * 3600
    os.utime(leftover, (hours_ago, hours_ago))
    under_way = home / "blobs" / "tmp" / "cafe.part"  # another writer's, being written now
    under_way.write_bytes(b"half so far")
    with Workspace():
        assert not leftover.exists()
        assert under_way.read_bytes() == b"half so far"


def test_projects_resolve_by_name_id_or_prefix(home: Path) -> None:
    with Workspace() as ws:
        a = ws.create_project("alpha")
        ws.create_project("twin")
        ws.create_project("twin")
        assert ws.resolve_project("alpha") == a.id
        assert ws.resolve_project(a.id[:8]) == a.id
        with pytest.raises(DStudioError, match="2 projects match"):
            ws.resolve_project("twin")
        with pytest.raises(NotFoundError):
            ws.resolve_project("gamma")
        with pytest.raises(DStudioError, match="non-empty"):
            ws.create_project("  ")


def test_a_newer_workspace_is_refused(home: Path) -> None:
    with Workspace() as ws:
        ws.create_project("p")
    with sqlite3.connect(home / "workspace.sqlite3") as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(WorkspaceError, match="newer"):
        Workspace()


def test_a_corrupt_database_gives_a_clear_error(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "workspace.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(WorkspaceError, match="cannot open the workspace database"):
        Workspace()


def test_a_new_workspace_opened_by_two_at_once_is_made_once(tmp_path):
    """The app reads a model file on a thread that opens the workspace while the window opens
    it too: on a new workspace both find schema 0, and the one that waited for the other's
    upgrade must take it, not fail on its tables being there ("duplicate column name")."""
    def open_it(home: Path, start: threading.Barrier, failures: list) -> None:
        start.wait()
        try:
            Workspace(home).close()
        except Exception as err:  # noqa: BLE001 - the failure is what this test looks for
            failures.append(err)

    for attempt in range(12):
        home = tmp_path / f"home{attempt}"
        start = threading.Barrier(3)
        failures: list = []
        threads = [threading.Thread(target=open_it, args=(home, start, failures)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        with Workspace(home) as ws:
            assert ws.create_project("after").name == "after"

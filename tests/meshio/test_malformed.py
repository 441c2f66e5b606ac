"""Every malformed file fails fast with one line naming the file, and touches nothing."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import trimesh

from dstudio_desktop.errors import MeshFileError
from dstudio_desktop.meshio import read_scene

from ..conftest import DATA

CORPUS = sorted((DATA / "malformed").iterdir())
# glTF of the wrong shape (shape_*) and fuzzer finds (fuzz_*) go through the CLI in-process in
# test_hostile.py; a subprocess each would add minutes to the suite and test the same code
SUBPROCESS_CORPUS = [p for p in CORPUS if not p.name.startswith(("shape_", "fuzz_"))]


def _workspace_fingerprint(home: Path) -> str:
    """What a user could observe: the database contents and the stored blobs."""
    import sqlite3

    digest = hashlib.sha256()
    with sqlite3.connect(home / "workspace.sqlite3") as db:
        for table in ("projects", "versions", "assets", "annotations", "outbox"):
            for row in db.execute(f"SELECT * FROM {table} ORDER BY 1"):
                digest.update(repr(tuple(row)).encode())
    for blob in sorted((home / "blobs").rglob("*")):
        if blob.is_file():
            digest.update(blob.name.encode())
    return digest.hexdigest()


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("path", SUBPROCESS_CORPUS, ids=[p.name for p in SUBPROCESS_CORPUS])
def test_malformed_file_fails_with_one_line_and_workspace_unchanged(cli, home: Path, path: Path) -> None:
    assert cli("new", "victim").returncode == 0
    before = _workspace_fingerprint(home)
    start = time.monotonic()
    # the whole command, interpreter start included, beside another test worker: a hang is over 10 s
    res = cli("import", "victim", str(path), timeout=30)
    elapsed = time.monotonic() - start
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert path.name in lines[0] and lines[0].startswith("dstudio: error: ")
    assert "Traceback" not in res.stderr + res.stdout and "internal error" not in lines[0]
    assert elapsed < 10
    assert _workspace_fingerprint(home) == before


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_malformed_file_is_refused_by_the_library_too(path: Path) -> None:
    with pytest.raises(MeshFileError) as info:
        read_scene(path)
    assert info.value.path == str(path)


def test_json_error_is_machine_readable(cli) -> None:
    res = cli("info", str(DATA / "malformed" / "truncated.glb"), "--json")
    assert res.returncode == 1
    assert "truncated" in res.json()["error"]


def test_file_over_the_size_limit_is_refused(cli, tmp_path: Path) -> None:
    big = tmp_path / "big.stl"
    trimesh.creation.icosphere(subdivisions=4).export(big)
    cli("new", "p")
    res = cli("import", "p", str(big), env={"DSTUDIO_MAX_IMPORT_MB": "0.01"})
    assert res.returncode == 1
    assert "over the import limit" in res.stderr and "big.stl" in res.stderr
    assert cli("import", "p", str(big)).returncode == 0


def test_missing_file_and_folder(cli, tmp_path: Path) -> None:
    cli("new", "p")
    res = cli("import", "p", str(tmp_path / "nope.glb"))
    assert res.returncode == 1 and "nope.glb: no such file" in res.stderr
    folder = tmp_path / "dir.stl"
    folder.mkdir()
    res = cli("import", "p", str(folder))
    assert res.returncode == 1 and "is a folder" in res.stderr


def test_one_bad_file_among_good_ones_imports_nothing(cli, home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.stl"
    trimesh.creation.box().export(good)
    cli("new", "p")
    before = _workspace_fingerprint(home)
    res = cli("import", "p", str(good), str(DATA / "malformed" / "truncated.glb"))
    assert res.returncode == 1
    assert _workspace_fingerprint(home) == before

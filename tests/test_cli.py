"""The dstudio command line, driven as a user drives it."""

from __future__ import annotations

from pathlib import Path

import trimesh

from dstudio_desktop import __version__


def test_version(cli) -> None:
    res = cli("--version")
    assert res.returncode == 0 and __version__ in res.stdout


def test_help_states_unit_assumptions(cli) -> None:
    res = cli("import", "--help")
    assert res.returncode == 0
    assert "STL" in res.stdout and "mm, Z-up" in res.stdout and "OBJ" in res.stdout


def test_project_lifecycle_with_json(cli, tmp_path: Path) -> None:
    part = tmp_path / "part.stl"
    trimesh.creation.box((10, 20, 30)).export(part)
    new = cli("new", "bracket", "--json")
    assert new.returncode == 0
    pid = new.json()["id"]
    assert cli("list", "--json").json()[0]["id"] == pid
    imported = cli("import", "bracket", str(part), "--json").json()
    node_id = imported["nodes"][0]["id"]
    assert imported["project_id"] == pid and imported["assets"][0]["file_size"] > 0

    info = cli("info", pid, "--json").json()
    assert info["triangles"] == 12 and info["watertight"] is True
    assert [round(s, 6) for s in info["size"]] == [0.01, 0.03, 0.02]

    assert cli("version", "save", "bracket", "-m", "first cut", "--json").json()["version_number"] == 1
    cli("import", "bracket", str(part))
    assert cli("version", "save", "bracket", "-m", "two parts").returncode == 0
    restored = cli("version", "restore", "bracket", "1", "--json").json()
    assert restored["version_number"] == 3 and restored["restored_from"] == 1
    versions = cli("version", "list", "bracket", "--json").json()
    assert [v["version_number"] for v in versions] == [1, 2, 3]
    assert cli("info", "bracket", "--json").json()["triangles"] == 12

    out = tmp_path / "export" / "bracket.3mf"
    assert cli("export", "bracket", "-o", str(out), "--node", node_id).returncode == 0
    assert cli("info", str(out), "--json").json()["triangles"] == 12
    res = cli("export", "bracket", "-o", str(tmp_path / "x.glb"), "--node", "no-such-node")
    assert res.returncode == 1 and "no node 'no-such-node'" in res.stderr


def test_errors_are_one_line_and_nonzero(cli) -> None:
    for args in (("info", "no-such-project"), ("version", "restore", "nothing", "1"), ("import", "x", "y.stl")):
        res = cli(*args)
        assert res.returncode == 1
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_usage_error_exits_two(cli) -> None:
    assert cli("export", "p").returncode == 2


def test_sample_installs_once(cli) -> None:
    first = cli("sample", "--json").json()["id"]
    assert cli("sample", "--json").json()["id"] == first
    info = cli("info", first, "--json").json()
    assert info["materials"] >= 3 and len(info["meshes"]) >= 3
    assert cli("version", "list", first, "--json").json()[0]["version_number"] == 1


def test_a_version_saved_from_the_command_line_keeps_a_thumbnail(cli, home: Path, tmp_path: Path) -> None:
    """Drawn without a window (EGL or OSMesa when there is no display), from the project's view;
    an install that cannot draw still saves the version and says why there is no picture."""
    import io
    import os

    import numpy as np
    from PIL import Image

    from dstudio_desktop.services.versions import THUMBNAIL_SIZE, thumbnails
    from dstudio_desktop.store import Workspace

    assert cli("sample").returncode == 0
    saved = cli("version", "save", "Sample: desk lamp", "-m", "from the shell", "--json")
    assert saved.returncode == 0 and saved.json()["thumbnail"] is True
    with Workspace(home) as ws:
        project = ws.load_project("Sample: desk lamp")
        thumb = thumbnails(ws, project.id)[saved.json()["id"]]
        picture = np.asarray(Image.open(io.BytesIO(ws.asset_bytes(thumb))).convert("RGB")).astype(int)
    assert picture.shape[:2] == THUMBNAIL_SIZE[::-1]
    red = (picture[..., 0] > 120) & (picture[..., 1] < 60) & (picture[..., 2] < 60)   # the lamp's red shade
    assert red.sum() > 50, "the thumbnail shows the lamp"

    blocked = tmp_path / "blocked"
    (blocked / "vispy").mkdir(parents=True)
    (blocked / "vispy" / "__init__.py").write_text('raise ImportError("vispy is not installed (blocked by the test)")')
    pythonpath = os.pathsep.join(p for p in (str(blocked), os.environ.get("PYTHONPATH", "")) if p)
    plain = cli("version", "save", "Sample: desk lamp", "-m", "no drawing here", env={"PYTHONPATH": pythonpath})
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("saved version 3 (no thumbnail: ") and "vispy is not installed" in plain.stdout
    skipped = cli("version", "save", "Sample: desk lamp", "--no-thumbnail", "--json")
    assert skipped.json()["version_number"] == 4 and skipped.json()["thumbnail"] is False

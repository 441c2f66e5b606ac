"""Every command of the CLI is classified here, so a new one cannot slip past: run as a
reviewer, each command that would change a project is refused and leaves it as it was;
annotating is allowed."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest
import trimesh

from dstudio_desktop.cli.main import build_parser

SAMPLE = "Sample: desk lamp"

# commands that change a project: a reviewer is refused (the arguments follow the project)
EDITS = {
    "import": lambda tmp: ["import", SAMPLE, str(tmp / "part.stl")],
    "version save": lambda tmp: ["version", "save", SAMPLE, "-m", "mine"],
    "version restore": lambda tmp: ["version", "restore", SAMPLE, "1"],
    "slice": lambda tmp: ["slice", SAMPLE, "-o", str(tmp / "out.gcode"), "--repair", "holes"],
    "reconstruct": lambda tmp: ["reconstruct", str(tmp / "photos"), "-o", str(tmp / "scan.glb"), "--project", SAMPLE],
}
# a plain slice of a project records a print job and its G-code in it: an edit too
EDITS_EXTRA = {"slice without repair": lambda tmp: ["slice", SAMPLE, "-o", str(tmp / "plain.gcode"), "--scale-to-fit"]}
# notes: what a reviewer is for
ANNOTATIONS = {"annotate add", "annotate reply", "annotate resolve", "annotate reopen"}
# read a project or files, write only files outside the workspace
READS = {"list", "export", "convert", "info", "version list", "version diff", "annotate list", "review-report",
         "render", "printers", "print-jobs"}
# not an edit of an existing project: a new project of one's own, the app itself, the
# account, and the local stand-in for the server's roles
OTHERS = {"new", "sample", "open", "login", "signup", "logout", "sync", "role", "print-server"}
# the organisation's cloud jobs and credits: the server decides who may (a job's result landed in
# a project with `jobs wait --project` goes through the same refusing workspace as an import)
CLOUD = {"jobs list", "jobs show", "jobs cancel", "jobs wait", "credits"}
# edits that need a print job first (the sample has none): a reviewer's send and cancel-print
# are refused in tests/printing/test_octoprint.py
EDITS_OF_PRINT_JOBS = {"send", "cancel-print"}


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = _commands(sub, f"{prefix}{name} ")
                found |= inner or {f"{prefix}{name}"}
    return found


def test_every_command_is_classified():
    assert _commands(build_parser()) == set(EDITS) | ANNOTATIONS | READS | OTHERS | EDITS_OF_PRINT_JOBS | CLOUD


def _state(home: Path) -> dict:
    db = sqlite3.connect(home / "workspace.sqlite3")
    try:
        row = db.execute("SELECT scene_graph, material_overrides, revision, version_count FROM projects").fetchone()
        counts = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                  for table in ("assets", "versions", "print_jobs", "outbox", "annotations")}
    finally:
        db.close()
    return {"project": row, **counts}


@pytest.mark.slow
def test_a_reviewer_is_refused_every_edit_and_the_project_stays_as_it_was(cli, home, tmp_path):
    assert cli("sample").returncode == 0
    trimesh.creation.box((20, 20, 20)).export(tmp_path / "part.stl")
    (tmp_path / "photos").mkdir()
    assert cli("role", SAMPLE, "reviewer").returncode == 0
    before = _state(home)
    for name, args in {**EDITS, **EDITS_EXTRA}.items():
        run = cli(*args(tmp_path), timeout=120)
        assert run.returncode == 1, (name, run.stdout, run.stderr)
        assert "a reviewer may not change the scene" in run.stderr, (name, run.stderr)
        assert "Traceback" not in run.stderr
        assert _state(home) == before, name
    assert not (tmp_path / "scan.glb").exists()


def test_a_reviewer_annotates(cli, home):
    assert cli("sample").returncode == 0
    assert cli("role", SAMPLE, "reviewer").returncode == 0
    added = cli("annotate", "add", SAMPLE, "--text", "fillet this", "--point", "0.09,0.01,0", "--json")  # on the base
    assert added.returncode == 0, added.stderr
    note = added.json()["id"]
    assert cli("annotate", "reply", SAMPLE, note, "--text", "2 mm").returncode == 0
    assert cli("annotate", "resolve", SAMPLE, note).returncode == 0
    assert cli("annotate", "reopen", SAMPLE, note).returncode == 0
    listed = cli("annotate", "list", SAMPLE, "--json").json()
    assert [(a["content"], len(a["replies"]), a["resolved"]) for a in listed] == [("fillet this", 1, False)]

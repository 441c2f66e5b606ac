"""Shared fixtures: an isolated workspace per test and a way to run the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty workspace folder, exported as DSTUDIO_HOME."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("DSTUDIO_HOME", str(ws))
    return ws


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def cli(home: Path):
    """Run ``dstudio ARGS`` as a user would, in a subprocess, against ``home``."""

    def run(*args: str, timeout: float = 60, env: dict | None = None) -> CliResult:
        full_env = {**os.environ, "DSTUDIO_HOME": str(home), **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "dstudio_desktop", *args],
            capture_output=True, text=True, timeout=timeout, env=full_env, cwd=REPO,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The local Supabase-style backend over its own throwaway PostgreSQL, for the whole run."""
    from dstudio_backend.process import start_server

    running = start_server(tmp_path_factory.mktemp("storage"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def cloud_server(tmp_path_factory):
    """A backend of its own for the cloud job tests, so its `reconstruct` queue holds only their jobs."""
    from dstudio_backend.process import start_server

    running = start_server(tmp_path_factory.mktemp("cloud-storage"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def synthetic_photos(tmp_path_factory) -> Path:
    """The 24-view synthetic scene (sphere and box on a textured ground), rendered once per run;
    its true cameras are in ``gpu.synthetic.cameras()``. Only images in the folder."""
    from gpu.synthetic import write_photo_set

    folder = tmp_path_factory.mktemp("synthetic") / "photos"
    write_photo_set(folder)
    (folder / "ground_truth.json").rename(folder.parent / "ground_truth.json")
    return folder

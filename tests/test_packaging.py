"""The install: a wheel carries its resources and migrations, its base dependencies run the CLI
and the backend without Qt or vispy, and the settings are read in one module the README lists.

The slow test builds the wheel, installs it with the ``server`` extra into a fresh virtual
environment outside the repository (dependencies from the package index), and uses it from a
folder outside the repository with no PYTHONPATH, as someone who ran ``pip install`` would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import psycopg
import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CODE_ROOTS = ("dstudio_desktop", "dstudio_backend", "gpu")


def test_every_package_in_the_tree_is_listed_for_the_wheel() -> None:
    """The package list is explicit (two packages are mapped from elsewhere); a new subpackage
    left out of it would be missing from the wheel while working in a checkout."""
    found = set()
    for root in CODE_ROOTS:
        for folder in [REPO / root, *(p for p in (REPO / root).rglob("*") if p.is_dir())]:
            if "__pycache__" not in folder.parts and any(folder.glob("*.py")):
                found.add(".".join(folder.relative_to(REPO).parts))
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapped == {"dstudio_desktop.resources": "resources", "dstudio_backend.sql_migrations": "supabase/migrations"}
    assert not list((REPO / "supabase" / "migrations").glob("*.py")), "the Supabase CLI reads that folder"


def test_the_checkout_reads_the_repository_folders() -> None:
    """In the editable install ./dev makes, the readers find the top-level folders themselves,
    so editing a resource or a migration needs no reinstall."""
    from dstudio_desktop.resources import resource

    from dstudio_backend.migrations import migration_files, migrations_dir

    assert resource("printing", "printers.json") == REPO / "resources" / "printing" / "printers.json"
    assert resource("sample_project").is_dir()
    assert migrations_dir() == REPO / "supabase" / "migrations"
    assert [p.name for _, _, p in migration_files()] == sorted(p.name for p in migrations_dir().glob("*.sql"))
    with pytest.raises(FileNotFoundError, match="no-such-file"):
        resource("no-such-file")


def test_the_material_library_loads_without_qt() -> None:
    """The library is plain data read by a core function; run where PySide6 cannot be imported."""
    code = ("import sys; sys.modules['PySide6'] = None; sys.modules['vispy'] = None\n"
            "from dstudio_desktop.core.materials import material_library\n"
            "lib = material_library()\n"
            "assert len({m.id for m in lib}) == len(lib) and all(m.library_origin == 'library' for m in lib)\n"
            "print(len(lib))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    shipped = json.loads((REPO / "resources" / "materials" / "library.json").read_text())["materials"]
    assert int(proc.stdout) == len(shipped) > 0


def test_settings_and_resources_import_only_the_standard_library_and_platformdirs() -> None:
    """core and gpu import these two modules; neither may drag anything else in. (import-linter
    cannot see dstudio_desktop.resources: it lives outside the package folder.)"""
    code = ("import sys\n"
            "before = set(sys.modules)\n"
            "import dstudio_desktop.settings, dstudio_desktop.resources\n"
            "print('\\n'.join(sorted(set(sys.modules) - before)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    third_party = {name.split(".")[0] for name in proc.stdout.split()} - set(sys.stdlib_module_names)
    assert third_party <= {"dstudio_desktop", "platformdirs"}


def test_the_readme_lists_every_setting() -> None:
    from dstudio_desktop import settings

    read = set(re.findall(r"DSTUDIO_[A-Z_]+", Path(settings.__file__).read_text()))
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    assert read == {name for name, _, _ in settings.describe()}
    assert {name for name in read if f"`{name}`" not in section} == set()


def test_a_bad_setting_falls_back_to_its_default_and_says_so_once(monkeypatch, caplog) -> None:
    from dstudio_desktop import settings

    monkeypatch.setenv("DSTUDIO_MAX_IMPORT_MB", "lots")
    monkeypatch.setattr(settings, "_reported", set())
    assert settings.max_import_bytes() == 2048 * 1024 * 1024
    assert settings.max_import_bytes() == 2048 * 1024 * 1024
    assert [r.getMessage() for r in caplog.records] == [
        "ignoring DSTUDIO_MAX_IMPORT_MB='lots': expected a number of at least 0.001; using 2048.0"]
    monkeypatch.setenv("DSTUDIO_MAX_IMPORT_MB", "0.5")
    assert settings.max_import_bytes() == 512 * 1024
    monkeypatch.setenv("DSTUDIO_MSAA", "8")
    assert settings.msaa_samples() == 8


# -- the wheel, installed ------------------------------------------------------------------------

def _run(argv: list[str], cwd: Path, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel built from this checkout, installed with the ``server`` extra in a new venv."""
    base = tmp_path_factory.mktemp("wheel-install")
    assert REPO not in base.parents
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-w", str(base / "dist")],
                           capture_output=True, text=True, timeout=600, cwd=base)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("dstudio_desktop-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update({"DSTUDIO_HOME": str(base / "home"), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"})
    work = base / "elsewhere"
    work.mkdir()
    pip = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                f"{wheel}[server]"], work, env, timeout=1200)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-3000:]
    return {"venv": venv, "bin": venv / "bin", "env": env, "cwd": work, "wheel": wheel}


@pytest.mark.slow
def test_the_installed_package_is_the_wheels_and_has_no_gui(installed) -> None:
    code = ("import importlib.util, json, dstudio_desktop, dstudio_desktop.resources, dstudio_backend, gpu\n"
            "from dstudio_backend.migrations import migrations_dir\n"
            "print(json.dumps({'files': [m.__file__ for m in (dstudio_desktop, dstudio_desktop.resources,"
            " dstudio_backend, gpu)] + [str(migrations_dir())], 'gui': [n for n in ('PySide6', 'vispy', 'torch',"
            " 'pycolmap') if importlib.util.find_spec(n)]}))")
    proc = _run([str(installed["bin"] / "python"), "-c", code], installed["cwd"], installed["env"])
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    for file in found["files"]:
        assert Path(file).is_relative_to(installed["venv"]) and not Path(file).is_relative_to(REPO), file
    assert found["gui"] == [], "the base install and the server extra need no GUI or reconstruction packages"


@pytest.mark.slow
def test_the_installed_cli_finds_the_sample_profiles_and_library(installed) -> None:
    bin_, cwd, env = installed["bin"], installed["cwd"], installed["env"]
    sample = _run([str(bin_ / "dstudio"), "sample", "--json"], cwd, env)
    assert sample.returncode == 0, sample.stderr
    assert json.loads(sample.stdout)["name"] == "Sample: desk lamp"
    listed = _run([str(bin_ / "dstudio"), "list", "--json"], cwd, env)
    assert listed.returncode == 0 and "Sample: desk lamp" in listed.stdout, listed.stderr

    printers = _run([str(bin_ / "dstudio"), "printers", "--json"], cwd, env)
    assert printers.returncode == 0, printers.stderr
    shipped = json.loads((REPO / "resources" / "printing" / "printers.json").read_text())["printers"]
    assert {p["id"] for p in json.loads(printers.stdout)["printers"]} == {p["id"] for p in shipped}
    assert json.loads(printers.stdout)["materials"]

    code = "from dstudio_desktop.core.materials import material_library; print(len(material_library()))"
    library = _run([str(bin_ / "python"), "-c", code], cwd, env)
    assert library.returncode == 0, library.stderr
    assert int(library.stdout) == len(json.loads((REPO / "resources" / "materials" / "library.json").read_text())["materials"])


@pytest.mark.slow
def test_a_gui_command_without_the_desktop_extra_says_so_in_one_line(installed) -> None:
    proc = _run([str(installed["bin"] / "dstudio"), "open"], installed["cwd"], installed["env"])
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.slow
def test_a_gui_command_without_the_desktop_extra_names_the_extra(installed) -> None:
    for argv in (["open"], []):  # `dstudio` alone opens the app too
        proc = _run([str(installed["bin"] / "dstudio"), *argv], installed["cwd"], installed["env"])
        assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "desktop" in proc.stderr and "internal error" not in proc.stderr, proc.stderr


@pytest.mark.slow
def test_the_installed_backend_applies_its_migrations_and_serves(installed) -> None:
    storage = installed["cwd"] / "storage"
    proc = subprocess.Popen([str(installed["bin"] / "dstudio-backend"), "start", "--port", "0", "--json",
                             "--storage-dir", str(storage)], cwd=installed["cwd"], env=installed["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()[-3000:] if proc.poll() is not None else "no connection details"
        info = json.loads(line)
        with psycopg.connect(info["db_url"]) as conn:
            versions = [r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations order by 1")]
        assert versions == sorted(p.name[:14] for p in (REPO / "supabase" / "migrations").glob("*.sql"))
        signup = httpx.post(f"{info['api_url']}/auth/v1/signup", json={"email": "wheel@example.com",
                            "password": "correct horse"}, headers={"apikey": info["anon_key"]}, timeout=30)
        assert signup.status_code == 200, signup.text
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode in (0, -signal.SIGINT, 130)
    with pytest.raises(psycopg.OperationalError):  # its throwaway cluster stopped with it
        psycopg.connect(info["db_url"], connect_timeout=5).close()

"""The installable app: build the package (packaging/build_package.py, the PyInstaller onedir
build cached by a hash of its sources), unpack the .deb into a temporary root with ``dpkg -x``
and use it from there as a designer's machine would: no source checkout on sys.path, no
virtual environment, no PYTHONPATH, a PATH of system folders only. Then ``dpkg -i``/``dpkg -r``
on this machine when the tests run as root.

The first run on a clean checkout builds (several minutes: see the README's packaging section
for the figure); later runs with unchanged sources reuse the build and only repackage.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .screen import screenshot, shows_the_sample, xvfb

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "build" / "package"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.fixture(scope="module")
def package() -> dict:
    proc = subprocess.run([sys.executable, str(REPO / "packaging" / "build_package.py"), "--out", str(OUT),
                           "--compress", "fast"], capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def root(package, tmp_path_factory) -> Path:
    """The .deb's files unpacked into a fresh root (what dpkg -i would put in /)."""
    root = tmp_path_factory.mktemp("debroot")
    subprocess.run(["dpkg-deb", "-x", package["deb"], str(root)], check=True)
    return root


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a desktop session gives a launched app: no venv, no PYTHONPATH, system PATH only."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "DSTUDIO_HOME": str(home / "workspace"),
           "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": str(home / "run")}
    (home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    env.update(extra)
    return env


def _run(root: Path, home: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    exe = root / "opt" / "dstudio" / "dstudio"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout, cwd=home,
                          env=_clean_env(home, **env))


def test_the_deb_lays_out_the_app_the_path_entry_icon_and_mime_types(package, root) -> None:
    assert (root / "opt" / "dstudio" / "dstudio").is_file()
    assert os.readlink(root / "usr" / "bin" / "dstudio") == "/opt/dstudio/dstudio"
    desktop = root / "usr" / "share" / "applications" / "dstudio.desktop"
    check = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    entry = desktop.read_text()
    assert "Exec=dstudio open %f" in entry and "Icon=dstudio" in entry
    for mime in ("model/gltf-binary", "model/gltf+json", "model/obj", "model/stl", "model/x-ply",
                 "model/x-geomview-off", "model/3mf"):
        assert mime in entry
    assert (root / "usr/share/icons/hicolor/scalable/apps/dstudio.svg").is_file()
    assert (root / "usr/share/icons/hicolor/256x256/apps/dstudio.png").is_file()
    control = subprocess.run(["dpkg-deb", "-f", package["deb"], "Depends"], capture_output=True, text=True).stdout
    for lib in ("libgl1", "libegl1", "libosmesa6", "libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4"):
        assert lib in control
    with tarfile.open(package["tar.gz"]) as tar:
        assert any(name.endswith("/dstudio") and name.count("/") == 1 for name in tar.getnames())


def test_the_mime_xml_gives_ply_and_off_their_types(root, tmp_path) -> None:
    """update-mime-database (the tool postinst runs) compiles our XML beside the standard one."""
    mime = tmp_path / "mime"
    (mime / "packages").mkdir(parents=True)
    shutil.copy("/usr/share/mime/packages/freedesktop.org.xml", mime / "packages")
    shutil.copy(root / "usr/share/mime/packages/dstudio.xml", mime / "packages")
    subprocess.run(["update-mime-database", str(mime)], check=True, capture_output=True)
    globs = (mime / "globs2").read_text()
    assert ":model/x-ply:*.ply" in globs and ":model/x-geomview-off:*.off" in globs
    for standard in ("model/stl:*.stl", "model/gltf-binary:*.glb", "model/obj:*.obj", "model/3mf:*.3mf"):
        assert standard in globs


def test_version_runs_without_the_checkout_or_a_virtualenv(root, tmp_path) -> None:
    from dstudio_desktop import __version__

    proc = _run(root, tmp_path, "--version")
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout
    # the frozen app's code is its own: nothing from this checkout or the venv is on its path
    probe = _run(root, tmp_path, "-m", "gpu.worker", "--help")
    assert probe.returncode == 0, probe.stderr
    assert str(REPO) not in probe.stdout + probe.stderr


def test_render_of_the_sample_with_no_display(root, tmp_path) -> None:
    assert _run(root, tmp_path, "sample").returncode == 0
    out = tmp_path / "sample.png"
    proc = _run(root, tmp_path, "render", "Sample: desk lamp", "-o", str(out), "--size", "480x360", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["backend"] in ("egl", "osmesa")
    image = np.asarray(Image.open(out).convert("RGB")).astype(float)
    assert image.shape == (360, 480, 3)
    assert image.std() > 10 and len(np.unique(image.reshape(-1, 3), axis=0)) > 200


def test_the_gui_starts_under_xvfb_and_shows_the_sample(root, tmp_path) -> None:
    with xvfb() as display:
        assert screenshot(display).astype(float).std() < 1   # nothing on the screen yet
        app = subprocess.Popen([str(root / "opt" / "dstudio" / "dstudio")], cwd=tmp_path,
                               env=_clean_env(tmp_path, DISPLAY=display), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                time.sleep(1)
                assert app.poll() is None, app.communicate()[1][-3000:]
                shot = screenshot(display, tmp_path / "window.png")
                if shows_the_sample(shot):
                    break
                assert time.monotonic() < deadline, f"no window content after 120 s; see {tmp_path / 'window.png'}"
            shots = Path("/tmp/helpers/shots/packaging")
            if shots.is_dir():
                shutil.copy(tmp_path / "window.png", shots / "installed_app.png")
        finally:
            if app.poll() is None:
                os.killpg(app.pid, signal.SIGTERM)
                try:
                    app.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(app.pid, signal.SIGKILL)
                    app.wait(10)


def test_a_double_click_opens_the_file_in_a_new_project(root, tmp_path) -> None:
    """The file manager runs the desktop entry's Exec line with the file for %f."""
    import trimesh

    model = tmp_path / "Bracket v2.stl"
    trimesh.creation.box((30, 20, 10)).export(model)
    entry = (root / "usr/share/applications/dstudio.desktop").read_text()
    exec_line = next(line.split("=", 1)[1] for line in entry.splitlines() if line.startswith("Exec="))
    argv = [str(model) if arg == "%f" else arg for arg in exec_line.split()]
    assert argv[0] == "dstudio"
    argv[0] = str(root / "opt" / "dstudio" / "dstudio")   # what /usr/bin/dstudio points at once installed
    with xvfb() as display:
        app = subprocess.Popen(argv, cwd=tmp_path, env=_clean_env(tmp_path, DISPLAY=display),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                time.sleep(1)
                assert app.poll() is None, app.communicate()[1][-3000:]
                if shows_the_sample(screenshot(display)):   # a window with the part drawn
                    break
                assert time.monotonic() < deadline, "no window content after 120 s"
        finally:
            os.killpg(app.pid, signal.SIGTERM)
            app.wait(20)
    listed = _run(root, tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    projects = json.loads(listed.stdout)
    assert [p["name"] for p in projects] == ["Bracket v2"]
    info = json.loads(_run(root, tmp_path, "info", "Bracket v2", "--json").stdout)
    assert info["nodes"] == 1 and info["triangles"] == 12


def test_reconstruct_the_synthetic_scene_at_draft_quality(root, tmp_path, synthetic_photos) -> None:
    """Half the synthetic scene's ring of views (12 neighbours of 24): the frozen torch, pycolmap
    and the worker child all run, in about half the time of the whole set (tests/gpu covers that)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for view in sorted(synthetic_photos.glob("*.png"))[:12]:
        shutil.copy(view, photos)
    out = tmp_path / "scan.glb"
    proc = _run(root, tmp_path, "reconstruct", str(photos), "-o", str(out), "--quality", "draft",
                "--device", "cpu", "--report", str(tmp_path / "report.json"), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert sum(1 for i in report["images"] if i["registered"]) == 12
    import trimesh

    mesh = trimesh.load(out, force="mesh")
    assert len(mesh.faces) > 1000


def _depends_installed(deb: str) -> bool:
    depends = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True).stdout
    names = [d.strip().split()[0] for d in depends.split(",") if d.strip()]
    status = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n", *names], capture_output=True, text=True)
    return status.stdout.count("install ok installed") == len(names)


def _dpkg(*args: str) -> subprocess.CompletedProcess:
    """dpkg, waiting up to five minutes for another apt or dpkg run on the machine to finish."""
    deadline = time.monotonic() + 300
    while True:
        proc = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=600)
        if "lock" not in proc.stderr or time.monotonic() > deadline:
            return proc
        time.sleep(3)


@pytest.mark.skipif(os.geteuid() != 0, reason="dpkg -i needs root")
def test_dpkg_installs_and_removes_cleanly(package, tmp_path) -> None:
    assert _depends_installed(package["deb"]), "./dev setup installs the package's Depends"
    if _status() == "deinstall ok config-files":   # a removed one an earlier run did not purge
        _dpkg("-P", "dstudio")
    assert _status() in ("", "unknown ok not-installed"), "a dstudio package is installed; remove it first"
    try:
        proc = _dpkg("-i", package["deb"])
        assert proc.returncode == 0, proc.stderr
        version = subprocess.run(["/usr/bin/dstudio", "--version"], capture_output=True, text=True,
                                 env=_clean_env(tmp_path), timeout=120)
        assert version.returncode == 0, version.stderr
        assert "model/x-ply" in Path("/usr/share/mime/globs2").read_text()  # postinst ran update-mime-database
        listed = subprocess.run(["dpkg", "-L", "dstudio"], capture_output=True, text=True).stdout
        assert "/opt/dstudio/dstudio" in listed and "/usr/share/applications/dstudio.desktop" in listed
    finally:
        removed = _dpkg("-r", "dstudio")
    assert removed.returncode == 0, removed.stderr
    assert not Path("/opt/dstudio").exists() and not Path("/usr/bin/dstudio").is_symlink()
    assert not Path("/usr/share/applications/dstudio.desktop").exists()
    assert "model/x-ply" not in Path("/usr/share/mime/globs2").read_text()
    assert _status() == "deinstall ok config-files"   # removed; dpkg keeps the record for the postrm purge
    purged = _dpkg("-P", "dstudio")
    assert purged.returncode == 0, purged.stderr
    assert _status() in ("", "unknown ok not-installed")


def _status() -> str:
    return subprocess.run(["dpkg-query", "-W", "-f=${Status}", "dstudio"], capture_output=True,
                          text=True).stdout.strip()

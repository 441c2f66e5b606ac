"""Builds the installable app: a PyInstaller onedir build, then ``dstudio-VERSION-linux-x86_64.tar.gz``
and ``dstudio_VERSION_amd64.deb`` (installs into /opt/dstudio, ``dstudio`` on the PATH, a desktop
entry with icon and MIME associations). Run by ``./dev package``; tests/test_package_build.py
runs it too.

The PyInstaller build is cached under ``OUT/cache/KEY`` where KEY hashes everything that goes
into it (the staged sources and resources, this folder, the Python and package versions of the
build environment), so running again with nothing changed reuses it; a clean checkout builds once.

    python packaging/build_package.py [--out build/package] [--compress fast|best]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
APP = "dstudio"
# what the .deb needs from the system: libc/libstdc++ for everything; Mesa's GL, EGL and OSMesa
# (viewport, headless renders); the xcb libraries Qt's xcb platform plugin loads; fontconfig,
# dbus, xkbcommon for Qt; the desktop database tools run by postinst are optional (Recommends)
DEPENDS = ("libc6 (>= 2.34), libstdc++6, libgcc-s1, libgl1, libglx-mesa0, libgl1-mesa-dri, libegl1, libegl-mesa0, "
           "libosmesa6, libxkbcommon0, libxkbcommon-x11-0, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, "
           "libxcb-shape0, libxcb-xinerama0, libxcb-randr0, libxcb-render-util0, libxcb-image0, libxcb-xkb1, "
           "libxcb-xfixes0, libxcb-shm0, libxcb-sync1, libx11-xcb1, libfontconfig1, libfreetype6, libdbus-1-3, "
           "libglib2.0-0")
RECOMMENDS = "shared-mime-info, desktop-file-utils, hicolor-icon-theme"
SUGGESTS = "cura-engine, cura"   # slicing: the system's CuraEngine and Cura's printer definitions


def log(message: str) -> None:
    print(f"build_package: {message}", file=sys.stderr, flush=True)


def version() -> str:
    text = (REPO / "dstudio_desktop" / "__init__.py").read_text()
    return text.split('__version__ = "', 1)[1].split('"', 1)[0]


def _copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, symlinks=False, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))


def stage(dest: Path) -> None:
    """The sources laid out as the wheel installs them: resources/ inside dstudio_desktop."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _copy_tree(REPO / "dstudio_desktop", dest / "dstudio_desktop")
    res = dest / "dstudio_desktop" / "resources"
    if res.is_symlink() or res.is_file():
        res.unlink()
    elif res.exists():
        shutil.rmtree(res)
    _copy_tree(REPO / "resources", res)
    _copy_tree(REPO / "gpu", dest / "gpu")


# what PyInstaller reads besides the staged sources (the .deb's own files are laid out afresh each run)
BUILD_INPUTS = ("dstudio.spec", "dstudio_entry.py", "hooks")


def build_key(staged: Path) -> str:
    """A hash of everything the PyInstaller build depends on."""
    digest = hashlib.sha256()
    files = [(staged, p) for p in staged.rglob("*")]
    for name in BUILD_INPUTS:
        files += [(HERE, p) for p in ([HERE / name] if (HERE / name).is_file() else (HERE / name).rglob("*"))]
    for root, path in sorted(files, key=lambda f: str(f[1])):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
                   if d.metadata["Name"])
    digest.update("\n".join([sys.version, platform.machine(), *dists]).encode())
    return digest.hexdigest()[:16]


def pyinstaller(staged: Path, cache: Path) -> Path:
    """The onedir build for these sources, from the cache when there."""
    key = build_key(staged)
    done = cache / key / APP
    if (done / APP).is_file():
        log(f"PyInstaller build {key} is cached: {done}")
        return done
    if cache.exists():
        shutil.rmtree(cache)  # older keys: a build is about 1 GB
    work = cache / key / "work"
    log(f"PyInstaller build {key} (several minutes; log: {cache / key / 'pyinstaller.log'})")
    started = time.monotonic()
    env = {**os.environ, "DSTUDIO_STAGED": str(staged)}
    env.pop("PYTHONPATH", None)  # only the staged sources (pathex in the spec) and the build environment
    (cache / key).mkdir(parents=True)
    with open(cache / key / "pyinstaller.log", "w") as out:
        proc = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                               "--distpath", str(cache / key), "--workpath", str(work),
                               str(HERE / "dstudio.spec")], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=staged)
    if proc.returncode != 0:
        tail = (cache / key / "pyinstaller.log").read_text().splitlines()[-30:]
        raise SystemExit("\n".join(tail) + f"\nbuild_package: PyInstaller failed (exit {proc.returncode})")
    shutil.rmtree(work, ignore_errors=True)
    log(f"PyInstaller took {time.monotonic() - started:.0f} s")
    return done


def desktop_root(root: Path, onedir: Path) -> None:
    """The installed file tree: /opt/dstudio, /usr/bin/dstudio, desktop entry, icons, MIME types."""
    opt = root / "opt" / APP
    shutil.copytree(onedir, opt, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    os.symlink(f"/opt/{APP}/{APP}", root / "usr" / "bin" / APP)
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy(HERE / "dstudio.desktop", apps / "dstudio.desktop")
    mime = root / "usr" / "share" / "mime" / "packages"
    mime.mkdir(parents=True)
    shutil.copy(HERE / "dstudio-mime.xml", mime / "dstudio.xml")
    icons = REPO / "resources" / "icons"
    scalable = root / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy(icons / "dstudio.svg", scalable / "dstudio.svg")
    for png in sorted(icons.glob("dstudio-*.png")):
        size = png.stem.split("-")[1]
        folder = root / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, folder / "dstudio.png")
    docs = root / "usr" / "share" / "doc" / APP
    docs.mkdir(parents=True)
    shutil.copy(HERE / "copyright", docs / "copyright")


def deb(root: Path, out: Path, compress: str) -> Path:
    size_kb = sum(p.lstat().st_size for p in root.rglob("*") if not p.is_dir()) // 1024
    debian = root / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(
        f"Package: {APP}\nVersion: {version()}\nSection: graphics\nPriority: optional\nArchitecture: amd64\n"
        f"Maintainer: Design Studio <dstudio@localhost>\nInstalled-Size: {size_kb}\n"
        f"Depends: {DEPENDS}\nRecommends: {RECOMMENDS}\nSuggests: {SUGGESTS}\n"
        "Description: Design Studio Desktop, a 3D editor for designers\n"
        " Open, arrange, light, review and print 3D designs, and reconstruct models\n"
        " from photos, on your own machine. Bundles its own Python, Qt, vispy and torch (CPU).\n")
    for name in ("postinst", "postrm"):
        script = debian / name
        shutil.copy(HERE / "deb" / name, script)
        script.chmod(0o755)
    target = out / f"{APP}_{version()}_amd64.deb"
    level = ["-Zzstd", "-z3"] if compress == "fast" else ["-Zxz", "-z6"]
    subprocess.run(["dpkg-deb", "--root-owner-group", *level, "--build", str(root), str(target)],
                   check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(debian)
    return target


def tarball(onedir: Path, out: Path, compress: str) -> Path:
    target = out / f"{APP}-{version()}-linux-x86_64.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=1 if compress == "fast" else 6) as tar:
        tar.add(onedir, arcname=f"{APP}-{version()}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build the .tar.gz and .deb of Design Studio")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "package")
    parser.add_argument("--compress", choices=["fast", "best"], default="best",
                        help="fast: zstd -3 / gzip -1 (tests); best: xz -6 / gzip -6 (releases)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    staged = out / "staged"
    stage(staged)
    onedir = pyinstaller(staged, out / "cache")
    # the .deb and .tar.gz are remade only when the build or the files laid around it changed
    package_key = hashlib.sha256((onedir.parent.name + args.compress).encode() + b"".join(
        p.read_bytes() for p in sorted(HERE.rglob("*")) if p.is_file() and "__pycache__" not in p.parts)).hexdigest()[:16]
    previous = json.loads((out / "built.json").read_text()) if (out / "built.json").is_file() else {}
    if previous.get("package_key") == package_key and all(Path(previous[k]).is_file() for k in ("deb", "tar.gz")):
        log("the .deb and .tar.gz of this build are there already")
        print(json.dumps(previous, indent=2))
        return 0
    root = out / "root"
    if root.exists():
        shutil.rmtree(root)
    desktop_root(root, onedir)
    built = {"tar.gz": str(tarball(onedir, out, args.compress)), "deb": str(deb(root, out, args.compress)),
             "onedir": str(onedir),
             "onedir_bytes": sum(p.lstat().st_size for p in onedir.rglob("*") if not p.is_dir())}
    shutil.rmtree(root)
    built["seconds"] = round(time.monotonic() - started, 1)
    built["package_key"] = package_key
    (out / "built.json").write_text(json.dumps(built, indent=2))
    print(json.dumps(built, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

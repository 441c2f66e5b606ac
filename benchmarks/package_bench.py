"""The installed package against the source checkout: its size on disk and in the download, and
the time from launch to the first frame of the sample project on the screen.

Both start as a designer would (a fresh workspace, the app opening on the sample): the package's
``/opt/dstudio/dstudio`` unpacked from the .deb (``dpkg -x``, built by ``./dev package`` into
build/package), against ``python -m dstudio_desktop`` from the checkout's virtual environment.
"First frame" is the first whole-screen picture of a private Xvfb (``xwd``, every 0.1 s) in
which the window shows the lamp (tests/screen.shows_the_sample). Each is started three times,
after one untimed start that warms the disk cache; the median is printed with the ratio.

    python benchmarks/package_bench.py
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.screen import screenshot, shows_the_sample, xvfb  # noqa: E402

BUILT = REPO / "build" / "package" / "built.json"
RUNS = 3


def _size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir()) if path.is_dir() else path.stat().st_size


def launch_to_first_frame(command: list[str], env: dict[str, str], display: str, timeout: float = 180) -> float:
    with tempfile.TemporaryDirectory() as home:
        env = {**env, "HOME": home, "DSTUDIO_HOME": f"{home}/workspace", "DISPLAY": display,
               "XDG_RUNTIME_DIR": home}
        started = time.perf_counter()
        app = subprocess.Popen(command, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
        try:
            while True:
                if app.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited: {app.stderr.read()[-2000:]}")
                if shows_the_sample(screenshot(display)):
                    return time.perf_counter() - started
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"{command[0]}: no first frame in {timeout} s")
                time.sleep(0.1)
        finally:
            os.killpg(app.pid, signal.SIGTERM)
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(app.pid, signal.SIGKILL)
                app.wait()


def main() -> None:
    if not BUILT.is_file():
        print(f"package_bench: no package built ({BUILT} missing): run ./dev package first")
        return
    built = json.loads(BUILT.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        subprocess.run(["dpkg-deb", "-x", built["deb"], str(root)], check=True)
        installed = root / "opt" / "dstudio"
        print("Package size")
        print(f"  .deb download         {Path(built['deb']).stat().st_size / 1e6:8.1f} MB")
        print(f"  .tar.gz download      {Path(built['tar.gz']).stat().st_size / 1e6:8.1f} MB")
        print(f"  installed /opt/dstudio {_size(installed) / 1e6:7.1f} MB")
        biggest = sorted(((_size(p), p.name) for p in (installed / "_internal").iterdir()), reverse=True)[:6]
        print("  largest parts: " + ", ".join(f"{name} {size / 1e6:.0f} MB" for size, name in biggest))

        system = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
        peers = {
            "package (/opt/dstudio/dstudio)": ([str(installed / "dstudio")], system),
            "source checkout (python -m dstudio_desktop)": (
                [str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv").is_dir() else sys.executable,
                 "-m", "dstudio_desktop"], {**system, "PYTHONPATH": str(REPO)}),
        }
        print(f"Launch to the first frame of the sample (median of {RUNS}, after one warm-up start)")
        medians = {}
        with xvfb() as display:
            for name, (command, env) in peers.items():
                launch_to_first_frame(command, env, display)
                times = [launch_to_first_frame(command, env, display) for _ in range(RUNS)]
                medians[name] = statistics.median(times)
                print(f"  {name:45s} {medians[name]:6.2f} s  ({', '.join(f'{t:.2f}' for t in times)})")
        package, source = medians.values()
        print(f"  package / source: {package / source:.2f}x")


if __name__ == "__main__":
    main()

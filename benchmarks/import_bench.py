"""Import of a 1M-triangle GLB and STL: Design Studio against trimesh.load, same run.

Each measurement runs in a fresh Python process (so peak memory is its own) and
is repeated; the median is reported. Figures:

- ``read``: our parse + validation of the file (``read_scene``), the work the
  peer also does, against ``trimesh.load`` with its default processing;
- ``import``: the whole ``import_files`` into a workspace (read, encode the mesh
  asset, hash, fsync'd blob write, one SQLite transaction);
- peak RSS of each process, how much of it the operation itself added ("op MB"),
  and the ratios ours / trimesh.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import trimesh

OUT = Path(__file__).resolve().parent / "out"

WORKERS = {
    "trimesh.load": "import trimesh; m = trimesh.load(PATH)",
    "dstudio read": "from dstudio_desktop.meshio import read_scene; s = read_scene(PATH)",
    "dstudio import": (
        "from dstudio_desktop.store import Workspace; from dstudio_desktop.services.geometry import import_files\n"
        "ws = Workspace(HOME); p = ws.create_project('bench')\n"
        "import_files(ws, p.id, [PATH])"
    ),
}

# Peak memory is read from VmHWM: getrusage's ru_maxrss survives exec on Linux, so a child
# would report its parent's high-water mark.
HARNESS = """
import sys, time
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
PATH, HOME = sys.argv[1], sys.argv[2]
import numpy, trimesh, dstudio_desktop.meshio, dstudio_desktop.store, dstudio_desktop.services.geometry  # warm imports
base = hwm()
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
print(elapsed, hwm(), base)
"""


def make_inputs(folder: Path) -> dict[str, Path]:
    torus = trimesh.creation.torus(major_radius=0.1, minor_radius=0.03, major_sections=1000, minor_sections=500)
    assert len(torus.faces) == 1_000_000
    paths = {"glb": folder / "torus_1m.glb", "stl": folder / "torus_1m.stl"}
    torus.export(paths["glb"])
    torus.export(paths["stl"])
    return paths


def measure(name: str, path: Path, repeats: int) -> dict:
    times, peaks, growth = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as home:
            out = subprocess.run(
                [sys.executable, "-c", HARNESS.format(body=WORKERS[name]), str(path), home],
                capture_output=True, text=True, check=True,
            )
        elapsed, peak, base = (float(v) for v in out.stdout.split())
        times.append(elapsed)
        peaks.append(peak)
        growth.append(peak - base)
    return {
        "seconds": statistics.median(times),
        "peak_rss_mb": statistics.median(peaks) / 2**20,
        # the operation's own memory: how far it pushed the high-water mark past the imported libraries
        "peak_growth_mb": statistics.median(growth) / 2**20,
    }


def main(repeats: int = 3) -> dict:
    OUT.mkdir(exist_ok=True)
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp))
        for fmt, path in inputs.items():
            results[fmt] = {name: measure(name, path, repeats) for name in WORKERS}
            results[fmt]["file_mb"] = path.stat().st_size / 2**20
    print(f"Import of a 1,000,000-triangle torus (median of {repeats} fresh processes)")
    print(f"{'format':6s} {'what':16s} {'seconds':>8s} {'peak MB':>8s} {'op MB':>7s} {'time ratio':>11s} {'op mem ratio':>13s}")
    for fmt, rows in results.items():
        peer = rows["trimesh.load"]
        for name in WORKERS:
            r = rows[name]
            ratio_t = r["seconds"] / peer["seconds"]
            ratio_m = r["peak_growth_mb"] / max(peer["peak_growth_mb"], 1e-9)
            print(f"{fmt:6s} {name:16s} {r['seconds']:8.3f} {r['peak_rss_mb']:8.1f} {r['peak_growth_mb']:7.1f} "
                  f"{ratio_t:10.2f}x {ratio_m:12.2f}x")
    (OUT / "import_bench.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

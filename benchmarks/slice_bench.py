"""`dstudio slice` against raw CuraEngine on the same mesh and settings, same run.

Parts: tori of 100k and 1M triangles, 100 mm across. The raw run gets exactly the
command line dstudio builds (``cura_command``), on the mesh already placed on the
bed; the dstudio run is the whole CLI (start-up, read, checks, slicing, header fix).
The figure is the overhead ratio dstudio / raw.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trimesh

from dstudio_desktop.printing.profiles import materials, printers
from dstudio_desktop.printing.service import place_on_bed
from dstudio_desktop.printing.slicers import cura_command, cura_settings, require_slicer

OUT = Path(__file__).resolve().parent / "out"
PARTS = {"100k": (500, 100), "1M": (1000, 500)}


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(repeats: int = 2) -> dict:
    OUT.mkdir(exist_ok=True)
    slicer = require_slicer()
    printer, material = printers()["ender3"], materials()["PLA"]
    settings = cura_settings(printer, material, 0.2, 20, False, "skirt")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, (major, minor) in PARTS.items():
            torus = trimesh.creation.torus(major_radius=40, minor_radius=10, major_sections=major,
                                           minor_sections=minor)
            part = tmp / f"torus_{label}.stl"
            torus.export(part)
            placed = tmp / f"placed_{label}.stl"
            place_on_bed(torus, printer.build_volume_mm).export(placed)
            raw_cmd, raw_env = cura_command(slicer, printer, settings, placed, tmp / "raw.gcode")
            ours = [sys.executable, "-m", "dstudio_desktop", "slice", str(part), "-o", str(tmp / "ours.gcode"),
                    "--units", "mm", "--printer", "ender3", "--material", "PLA", "--infill", "20"]
            env = {**os.environ, "DSTUDIO_HOME": str(tmp / "home")}
            raw_t = statistics.median(_timed(raw_cmd, raw_env) for _ in range(repeats))
            our_t = statistics.median(_timed(ours, env) for _ in range(repeats))
            results[label] = {"triangles": len(torus.faces), "curaengine_s": raw_t, "dstudio_s": our_t,
                              "overhead_ratio": our_t / raw_t}
    print(f"Slicing a torus, 100 mm across, 0.2 mm layers, 20% infill (median of {repeats})")
    print(f"{'part':5s} {'triangles':>10s} {'CuraEngine s':>13s} {'dstudio slice s':>16s} {'ratio':>7s}")
    for label, r in results.items():
        print(f"{label:5s} {r['triangles']:10,d} {r['curaengine_s']:13.2f} {r['dstudio_s']:16.2f} "
              f"{r['overhead_ratio']:6.2f}x")
    (OUT / "slice_bench.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)

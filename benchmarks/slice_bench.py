"""`dstudio slice` against the raw slicer on the same mesh and settings, same run, for both
slicers (CuraEngine and PrusaSlicer).

Parts: tori of 100k and 1M triangles, 100 mm across. The raw run gets exactly the command
line dstudio builds (``cura_command`` / ``prusa_command`` with the same config), on the mesh
already placed on the bed; the dstudio run is the whole CLI (start-up, read, checks beside
the slicer, slicing, header). The first dstudio run of a part checks it (cold cache); the
later ones find its printability in the cache, as a second slice of a part does. The figure
is the overhead ratio dstudio / raw (median of the warm runs), with the cold run beside it.
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
from dstudio_desktop.printing.prusa import prusa_command, prusa_config, write_config
from dstudio_desktop.printing.service import place_on_bed, slicer_frame
from dstudio_desktop.printing.slicers import cura_command, cura_settings, find_slicers

OUT = Path(__file__).resolve().parent / "out"
PARTS = {"100k": (500, 100), "1M": (1000, 500)}


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _raw_command(kind: str, info, printer, material, placed: Path, tmp: Path) -> tuple[list[str], dict[str, str]]:
    if kind == "cura":
        shifted = tmp / "cura_frame.stl"
        slicer_frame(trimesh.load(placed), "cura", printer).export(shifted)
        return cura_command(info, printer, cura_settings(printer, material, 0.2, 20, False, "skirt"), shifted,
                            tmp / "raw.gcode")
    config = tmp / "prusa.ini"
    write_config(prusa_config(printer, material, 0.2, 20, False, "skirt"), config)
    return prusa_command(info.executable, config, tmp / "prusa-datadir", placed, tmp / "raw.gcode"), dict(os.environ)


def main(repeats: int = 2) -> dict:
    OUT.mkdir(exist_ok=True)
    slicers = {s.kind: s for s in find_slicers() if s.usable}
    printer, material = printers()["ender3"], materials()["PLA"]
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "DSTUDIO_HOME": str(tmp / "home"), "XDG_CACHE_HOME": str(tmp / "cache")}
        for label, (major, minor) in PARTS.items():
            torus = trimesh.creation.torus(major_radius=40, minor_radius=10, major_sections=major,
                                           minor_sections=minor)
            part = tmp / f"torus_{label}.stl"
            torus.export(part)
            placed = tmp / f"placed_{label}.stl"
            place_on_bed(torus, printer.build_volume_mm).export(placed)
            for kind, info in slicers.items():
                raw_cmd, raw_env = _raw_command(kind, info, printer, material, placed, tmp)
                ours = [sys.executable, "-m", "dstudio_desktop", "slice", str(part), "-o", str(tmp / "ours.gcode"),
                        "--units", "mm", "--printer", "ender3", "--material", "PLA", "--infill", "20",
                        "--slicer", kind]
                raw_t = statistics.median(_timed(raw_cmd, raw_env) for _ in range(repeats))
                cold_t = _timed(ours, env)   # the first slice of this part: its checks run beside the slicer
                warm_t = statistics.median(_timed(ours, env) for _ in range(repeats))
                results[f"{kind} {label}"] = {"slicer": info.name, "triangles": len(torus.faces), "raw_s": raw_t,
                                              "dstudio_cold_s": cold_t, "dstudio_s": warm_t,
                                              "overhead_ratio": warm_t / raw_t, "cold_ratio": cold_t / raw_t}
    print(f"Slicing a torus, 100 mm across, 0.2 mm layers, 20% infill (median of {repeats}; "
          "a shared machine: expect noise of 10% or more)")
    print(f"{'slicer':12s} {'part':5s} {'triangles':>10s} {'raw s':>8s} {'dstudio s':>10s} {'ratio':>7s} "
          f"{'first run s':>12s} {'ratio':>7s}")
    for key, r in results.items():
        print(f"{r['slicer']:12s} {key.split()[1]:5s} {r['triangles']:10,d} {r['raw_s']:8.2f} {r['dstudio_s']:10.2f} "
              f"{r['overhead_ratio']:6.2f}x {r['dstudio_cold_s']:12.2f} {r['cold_ratio']:6.2f}x")
    (OUT / "slice_bench.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)

"""`dstudio slice` against the raw slicer on the same mesh and settings, same run, for both
slicers (CuraEngine and PrusaSlicer).

Parts: tori of 100k and 1M triangles, 100 mm across. The raw run gets exactly the command
line dstudio builds (``cura_command`` / ``prusa_command`` with the same config), on the mesh
already placed on the bed; the dstudio run is the whole CLI (start-up, read, checks beside
the slicer, slicing, header). Two rows per part and slicer: the first slice of a part (its
printability cache emptied before each such run, so the checks run beside the slicer, as
when a user slices a new part) and a slice again (the checks found in the cache). The runs
are interleaved (raw, first, again, raw, ...) so a neighbour's load falls on all three
alike; the figures are medians, and the machine's load average is printed beside them.
"""

from __future__ import annotations

import json
import os
import shutil
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
# runs of each kind per row: on this 2-core machine medians of 3 moved by 0.05-0.1x between runs
# of the same code an hour apart, as much as the 1.15x floor leaves
REPEATS = 5


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


def main(repeats: int = REPEATS, parts: tuple[str, ...] = tuple(PARTS), kinds: tuple[str, ...] = ("cura", "prusa")) -> dict:
    OUT.mkdir(exist_ok=True)
    slicers = {s.kind: s for s in find_slicers() if s.usable and s.kind in kinds}
    printer, material = printers()["ender3"], materials()["PLA"]
    results: dict = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "DSTUDIO_HOME": str(tmp / "home"), "XDG_CACHE_HOME": str(tmp / "cache")}
        findings_cache = tmp / "cache" / "dstudio" / "printability"
        for label, (major, minor) in ((k, v) for k, v in PARTS.items() if k in parts):
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
                raw, first, again = [], [], []
                for _ in range(repeats):
                    raw.append(_timed(raw_cmd, raw_env))
                    shutil.rmtree(findings_cache, ignore_errors=True)   # a part never sliced here
                    first.append(_timed(ours, env))
                    again.append(_timed(ours, env))                     # its checks now in the cache
                raw_t, first_t, again_t = (statistics.median(v) for v in (raw, first, again))
                results[f"{kind} {label}"] = {"slicer": info.name, "triangles": len(torus.faces), "raw_s": raw_t,
                                              "dstudio_first_s": first_t, "dstudio_again_s": again_t,
                                              "first_ratio": first_t / raw_t, "again_ratio": again_t / raw_t,
                                              "runs": {"raw": raw, "first": first, "again": again}}
                print(f"  {info.name} {label}: raw {raw_t:.2f} s, first {first_t:.2f} s ({first_t / raw_t:.2f}x), "
                      f"again {again_t:.2f} s ({again_t / raw_t:.2f}x); load {os.getloadavg()[0]:.1f}", flush=True)
    load_after = os.getloadavg()
    print(f"Slicing a torus, 100 mm across, 0.2 mm layers, 20% infill (median of {repeats}, interleaved; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, on {os.cpu_count()} cores)")
    print(f"{'slicer':12s} {'part':5s} {'triangles':>10s} {'run':22s} {'raw s':>7s} {'dstudio s':>10s} {'ratio':>7s}")
    for key, r in results.items():
        for run, seconds, ratio in (("first slice (checks)", r["dstudio_first_s"], r["first_ratio"]),
                                    ("again (checks cached)", r["dstudio_again_s"], r["again_ratio"])):
            print(f"{r['slicer']:12s} {key.split()[1]:5s} {r['triangles']:10,d} {run:22s} {r['raw_s']:7.2f} "
                  f"{seconds:10.2f} {ratio:6.2f}x")
    (OUT / "slice_bench.json").write_text(json.dumps({"load_average": [load_before, load_after], **results},
                                                     indent=2))
    return results


if __name__ == "__main__":
    # slice_bench.py [REPEATS [PARTS [SLICERS]]], e.g. slice_bench.py 3 100k,1M cura,prusa
    main(int(sys.argv[1]) if len(sys.argv) > 1 else REPEATS,
         tuple(sys.argv[2].split(",")) if len(sys.argv) > 2 else tuple(PARTS),
         tuple(sys.argv[3].split(",")) if len(sys.argv) > 3 else ("cura", "prusa"))

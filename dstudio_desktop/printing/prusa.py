"""Slicing with PrusaSlicer's command line, headless, as a ``jobs.ProcessJob``.

The same settings CuraEngine gets (``slicers.cura_settings``) are written as a PrusaSlicer
config file; PrusaSlicer runs with a private ``--datadir`` inside the job's staging folder
(so the user's own PrusaSlicer presets never leak into a slice, and nothing is left behind),
``--dont-arrange`` (the parts are already placed on the bed). Its ``NN => message`` lines on
stdout become progress; the estimates come from the comments it writes at the end of the
G-code (time, filament length, volume and grams — grams only because ``filament_density`` is
set), and the file gets the same true summary header as CuraEngine's (``gcode_header``).
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any, Optional

from ..errors import DStudioError
from ..jobs import ProcessJob, ProcessRun
from .gcode_header import HeaderFacts, write_with_header
from .profiles import MaterialProfile, PrinterProfile

# PrusaSlicer's names for the flavours the profiles use (it has no UltiGCode or Griffin)
FLAVORS = {"Marlin": "marlin2", "RepRap": "reprapfirmware", "Makerbot": "makerware"}
TAIL_BYTES = 262144  # PrusaSlicer's estimates and its config dump sit at the end of the file


def prusa_config(printer: PrinterProfile, material: MaterialProfile, layer_height: float, infill: float,
                 supports: bool, adhesion: str) -> dict[str, Any]:
    """A PrusaSlicer config (key = value) for the same slice ``cura_settings`` describes."""
    flavor = FLAVORS.get(printer.gcode_flavor)
    if flavor is None:
        raise DStudioError(f"PrusaSlicer cannot write {printer.gcode_flavor} G-code for {printer.name}; "
                           "choose CuraEngine for this printer")
    width, depth, height = printer.build_volume_mm
    # as for CuraEngine: two walls, 0.8 mm of top and bottom skin, grid infill up to 25%
    shell_layers = math.ceil(round(0.8 / layer_height, 4))
    return {
        "bed_shape": f"0x0,{width:g}x0,{width:g}x{depth:g},0x{depth:g}", "max_print_height": height,
        "gcode_flavor": flavor, "nozzle_diameter": printer.nozzle_mm,
        "filament_diameter": printer.filament_diameter_mm, "filament_density": material.density_g_cm3,
        "temperature": material.nozzle_temp_c, "first_layer_temperature": material.nozzle_temp_c,
        "bed_temperature": material.bed_temp_c if printer.heated_bed else 0,
        "first_layer_bed_temperature": material.bed_temp_c if printer.heated_bed else 0,
        "layer_height": layer_height, "first_layer_height": layer_height,
        "fill_density": f"{infill:g}%", "fill_pattern": "grid" if infill <= 25 else "rectilinear",
        "perimeters": 2, "top_solid_layers": shell_layers, "bottom_solid_layers": shell_layers,
        "support_material": int(supports), "support_material_auto": 1,
        "skirts": 1 if adhesion == "skirt" else 0, "brim_width": 8 if adhesion == "brim" else 0,
        "raft_layers": 3 if adhesion == "raft" else 0,
        "start_gcode": "G28 ; home all axes\\nG1 Z5 F5000 ; lift nozzle",
        "end_gcode": "M104 S0\\nM140 S0\\nG28 X0\\nM84",
    }


def write_config(config: dict[str, Any], path: Path) -> None:
    path.write_text("".join(f"{key} = {value}\n" for key, value in config.items()))


def prusa_command(executable: str, config_ini: Path, datadir: Path, model_stl: Path, out: Path,
                  center: Optional[tuple[float, float]] = None) -> list[str]:
    """The command line; with ``center``, PrusaSlicer itself places the part (its bounding box
    centred there, standing on the bed), so an unplaced file needs no placed copy."""
    place = ["--center", f"{center[0]:.6f},{center[1]:.6f}"] if center is not None else []
    return [executable, "--datadir", str(datadir), "--loglevel", "1", "--load", str(config_ini),
            "--export-gcode", "--dont-arrange", *place, "-o", str(out), str(model_stl)]


_PROGRESS = re.compile(r"^(\d{1,3}) => (.+)$")


def prusa_line(line: str) -> Optional[dict[str, Any]]:
    """One stdout/stderr line as a job event: ``70 => Infilling layers`` is progress."""
    m = _PROGRESS.match(line.strip())
    if m:
        return {"event": "progress", "fraction": min(int(m.group(1)) / 100.0, 1.0), "message": "slicing"}
    if "[error]" in line or line.startswith("Error"):
        return {"event": "error", "message": line.strip()}
    return None


def _duration_s(text: str) -> float:
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", text)))


def prusa_estimates(gcode: Path) -> dict[str, float]:
    """Time (s), filament (mm, cm3, g) and layer count from the G-code PrusaSlicer wrote."""
    size = gcode.stat().st_size
    layers = 0
    with open(gcode, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            layers += block.count(b"\n;LAYER_CHANGE")
        fh.seek(max(0, size - TAIL_BYTES))
        tail = fh.read().decode("utf-8", "replace")
    facts: dict[str, float] = {"layers": float(layers)}
    for key, pattern in (("mm", r"^; filament used \[mm\] = ([\d.]+)"), ("cm3", r"^; filament used \[cm3\] = ([\d.]+)"),
                         ("g", r"^; filament used \[g\] = ([\d.]+)")):
        m = re.search(pattern, tail, re.MULTILINE)
        if m:
            facts[key] = float(m.group(1))
    m = re.search(r"^; estimated printing time \(normal mode\) = (.+)$", tail, re.MULTILINE)
    if m:
        facts["time"] = _duration_s(m.group(1))
    return facts


class PrusaRun:
    """What one PrusaSlicer run gave (the same fields as ``slicers.CuraRun``, plus grams)."""

    def __init__(self, print_time_s: float, filament_mm3: float, filament_g: float, filament_mm: float,
                 layers: int, seconds: float) -> None:
        self.print_time_s, self.filament_mm3, self.filament_g = print_time_s, filament_mm3, filament_g
        self.filament_mm, self.layers, self.seconds = filament_mm, layers, seconds


def prusa_job(executable: str, printer: PrinterProfile, config: dict[str, Any], model_stl: Path, out: Path,
              bounds, center: Optional[tuple[float, float]] = None) -> ProcessJob:
    """A job slicing ``model_stl`` into ``out`` (moved into place only when it succeeded);
    ``center``: see ``prusa_command``."""

    def command(staging: Optional[Path]) -> list[str]:
        assert staging is not None
        write_config(config, staging / "config.ini")
        return prusa_command(executable, staging / "config.ini", staging / "datadir", model_stl,
                             staging / "raw.gcode", center)

    def finish(run: ProcessRun) -> PrusaRun:
        assert run.staging is not None
        raw = run.staging / "raw.gcode"
        if run.returncode != 0 or not raw.is_file():
            errors = [e["message"] for e in run.events if e.get("event") == "error"]
            detail = errors[-1] if errors else run.last_stderr or f"exit code {run.returncode}"
            raise DStudioError(f"PrusaSlicer failed to slice {model_stl.name}: {detail}")
        facts = prusa_estimates(raw)
        if "time" not in facts or "cm3" not in facts or "g" not in facts:
            raise DStudioError("PrusaSlicer finished without writing its time and filament estimates")
        layers = int(facts["layers"])
        write_with_header(raw, run.staging / "out.gcode", HeaderFacts(
            printer.gcode_flavor, facts["time"], facts.get("mm", 0.0) / 1000, float(config["layer_height"]),
            layers, bounds))
        return PrusaRun(facts["time"], facts["cm3"] * 1000, facts["g"], facts.get("mm", 0.0), layers,
                        time.monotonic() - run.started)

    return ProcessJob("slicing", command, stdout=prusa_line, stderr=prusa_line, stage_beside=out,
                      outputs={"out.gcode": out}, finish=finish,
                      cannot_start=f"{executable}: cannot start PrusaSlicer")

"""The slicers attached to this machine (CuraEngine, PrusaSlicer: ``prusa``), and running CuraEngine.

CuraEngine runs as a ``jobs.ProcessJob`` (its own process group, so cancel can kill it
and anything it spawned; output staged beside the target), its ``Progress:`` lines become
progress reports, and the real print time and filament volume it logs on stderr replace the placeholders
(``;TIME:6666``, ``;Filament used: 0m``, the ``;MINX:2.14748e+06`` bounds) a stand-alone run
writes into the header (``gcode_header``).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .. import settings
from ..atomic import atomic_write
from ..core.progress import CancelToken, ProgressCallback, no_progress
from ..errors import DStudioError
from ..jobs import ProcessJob, ProcessRun, run
from .gcode_header import HeaderFacts, write_with_header
from .profiles import MaterialProfile, PrinterProfile

INSTALL_HINT = (
    "install CuraEngine (Debian/Ubuntu: 'sudo apt-get install cura-engine'; './dev setup' also unpacks the "
    "printer definitions it needs from Debian's cura package) or PrusaSlicer ('sudo apt-get install prusa-slicer')"
)
#: the slicer kinds a user picks from (``--slicer``, the Print dialog), and their display names
SLICER_NAMES = {"cura": "CuraEngine", "prusa": "PrusaSlicer"}
FLAVORS = {"Marlin": "RepRap (Marlin/Sprinter)", "RepRap": "RepRap (RepRap)", "UltiGCode": "UltiGCode",
           "Griffin": "Griffin", "Makerbot": "Makerbot"}


@dataclass(frozen=True)
class SlicerInfo:
    kind: str          # "cura" or "prusa"
    name: str
    executable: str
    version: str
    resources: Optional[Path]
    usable: bool
    problem: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "executable": self.executable, "version": self.version,
                "resources": str(self.resources) if self.resources else None,
                "usable": self.usable, "problem": self.problem}


def cura_resource_dirs() -> list[Path]:
    return [c for c in settings.cura_resource_candidates() if (c / "definitions" / "fdmprinter.def.json").is_file()]


def _version(executable: str, pattern: str = r"version\s+([\w.\-]+)") -> str:
    """The slicer's version from its ``--help``, remembered per executable file: asking costs
    a process start (half a second for PrusaSlicer), paid again only when the binary changes."""
    try:
        stat = os.stat(executable)
        key = f"{os.path.realpath(executable)}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        return "unknown"
    known = _known_versions()
    if key in known:
        return known[key]
    try:
        out = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(pattern, out.stdout + out.stderr)
    version = match.group(1) if match else "unknown"
    try:
        atomic_write(_versions_file(), json.dumps({**known, key: version}).encode())
    except OSError:
        pass   # an unwritable cache only means asking again next time
    return version


def _versions_file() -> Path:
    return settings.cache_home() / "slicer-versions.json"


def _known_versions() -> dict[str, str]:
    try:
        known = json.loads(_versions_file().read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in known.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(known, dict) else {}


def find_slicers() -> list[SlicerInfo]:
    found = []
    cura = shutil.which("CuraEngine")
    if cura:
        dirs = cura_resource_dirs()
        found.append(SlicerInfo(
            "cura", "CuraEngine", cura, _version(cura), dirs[0] if dirs else None, bool(dirs),
            "" if dirs else "its printer definitions (fdmprinter.def.json) were not found; "
                            "set DSTUDIO_CURA_RESOURCES or run './dev setup'",
        ))
    for exe in ("prusa-slicer", "PrusaSlicer"):
        path = shutil.which(exe)
        if path:
            found.append(SlicerInfo("prusa", "PrusaSlicer", path, _version(path, r"PrusaSlicer-([\d.]+)"), None, True))
            break
    return found


def require_slicer(kind: Optional[str] = None, supported: Optional[tuple[str, ...]] = None) -> SlicerInfo:
    """The slicer to use: ``kind`` when given, else the first usable one the profiles support."""
    if kind is not None and kind not in SLICER_NAMES:
        raise DStudioError(f"unknown slicer {kind!r}: choose one of {', '.join(SLICER_NAMES)}")
    slicers = find_slicers()
    wanted = [s for s in slicers if (kind is None or s.kind == kind) and (supported is None or s.kind in supported)]
    usable = [s for s in wanted if s.usable]
    if usable:
        return usable[0]
    if wanted:
        raise DStudioError(f"{wanted[0].name} at {wanted[0].executable}: {wanted[0].problem}")
    if kind is not None and any(s.kind == kind for s in slicers):
        raise DStudioError(f"{SLICER_NAMES[kind]} does not support this printer and material; "
                           f"choose {' or '.join(SLICER_NAMES[k] for k in supported or ())}")
    if kind is not None:
        raise DStudioError(f"{SLICER_NAMES[kind]} is not installed here: {INSTALL_HINT}")
    raise DStudioError(f"no slicer found on this machine: {INSTALL_HINT}")


def _definition(resources: Path, name: str) -> dict[str, Any]:
    for folder in ("definitions", "extruders"):
        path = resources / folder / f"{name}.def.json"
        if path.is_file():
            return json.loads(path.read_text())
    raise DStudioError(f"{resources}: no printer definition {name!r} (is the cura resources folder complete?)")


def extruder_definition(resources: Path, printer_definition: str) -> str:
    """The extruder definition a printer names in machine_extruder_trains, following 'inherits'."""
    name: Optional[str] = printer_definition
    while name:
        doc = _definition(resources, name)
        trains = doc.get("metadata", {}).get("machine_extruder_trains")
        if trains:
            return trains.get("0", "fdmextruder")
        name = doc.get("inherits")
    return "fdmextruder"


@dataclass
class CuraRun:
    print_time_s: float
    filament_mm3: float
    layers: int
    seconds: float


def cura_settings(printer: PrinterProfile, material: MaterialProfile, layer_height: float, infill: float,
                  supports: bool, adhesion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(global settings, extruder settings) for one slice."""
    width, depth, height = printer.build_volume_mm
    # Stand-alone CuraEngine does not evaluate the definitions' formulas; derived settings are
    # computed here as Cura's front end would (fdmprinter.def.json "value" expressions).
    pattern = "grid" if infill <= 25 else "lines"
    line_distance = 0 if infill == 0 else printer.nozzle_mm * 100 / infill * (2 if pattern == "grid" else 1)
    shell_layers = 0 if infill >= 100 else math.ceil(round(0.8 / layer_height, 4))
    derived = {
        "infill_pattern": pattern, "infill_line_distance": line_distance,
        "infill_sparse_thickness": layer_height, "support_infill_sparse_thickness": layer_height,
        "top_layers": shell_layers, "bottom_layers": shell_layers, "initial_bottom_layers": shell_layers,
    }
    global_settings = {
        "machine_width": width, "machine_depth": depth, "machine_height": height,
        "machine_center_is_zero": "false", "center_object": "false",
        "machine_heated_bed": str(printer.heated_bed).lower(),
        "machine_gcode_flavor": FLAVORS.get(printer.gcode_flavor, printer.gcode_flavor),
        "layer_height": layer_height, "layer_height_0": layer_height,
        "infill_sparse_density": infill,
        "support_enable": str(supports).lower(),
        "adhesion_type": adhesion,
        "material_print_temperature": material.nozzle_temp_c,
        "material_print_temperature_layer_0": material.nozzle_temp_c,
        "material_bed_temperature": material.bed_temp_c,
        "material_bed_temperature_layer_0": material.bed_temp_c,
        **derived,
    }
    extruder = {
        "machine_nozzle_size": printer.nozzle_mm,
        "material_diameter": printer.filament_diameter_mm,
        "infill_sparse_density": infill,
        "layer_height": layer_height,
        **derived,
    }
    return global_settings, extruder


def _args(settings: dict[str, Any]) -> list[str]:
    out = []
    for key, value in settings.items():
        out += ["-s", f"{key}={value}"]
    return out


_PROGRESS = re.compile(r"^Progress:[^:]+:\d+:\d+\s+([\d.]+)%")


def cura_command(info: SlicerInfo, printer: PrinterProfile, settings: tuple[dict[str, Any], dict[str, Any]],
                 model_stl: Path, out: Path) -> tuple[list[str], dict[str, str]]:
    """The CuraEngine command line (and environment) for one slice."""
    assert info.resources is not None
    resources = info.resources
    global_settings, extruder_settings = settings
    printer_def = resources / "definitions" / f"{printer.cura_definition}.def.json"
    if not printer_def.is_file():
        raise DStudioError(f"{printer_def}: printer definition for {printer.name} not found")
    extruder_name = extruder_definition(resources, printer.cura_definition)
    extruder_def = next((resources / d / f"{extruder_name}.def.json" for d in ("extruders", "definitions")
                         if (resources / d / f"{extruder_name}.def.json").is_file()), None)
    cmd = [info.executable, "slice", "-v", "-p", "-j", str(printer_def), *_args(global_settings), "-e0"]
    if extruder_def is not None:
        cmd += ["-j", str(extruder_def)]
    cmd += [*_args(extruder_settings), "-l", str(model_stl), "-o", str(out)]
    return cmd, {**os.environ, **cura_env(resources)}


def cura_env(resources: Path) -> dict[str, str]:
    """The environment CuraEngine needs beyond ours: where its definitions are."""
    return {"CURA_ENGINE_SEARCH_PATH": f"{resources / 'definitions'}:{resources / 'extruders'}"}


_FACTS = (("time", re.compile(r"^Print time \(s\):\s*([\d.]+)")),
          ("volume", re.compile(r"^Filament \(mm\^3\):\s*([\d.]+)")),
          ("layers", re.compile(r"^Layer count:\s*(\d+)")))


def cura_line(line: str) -> Optional[dict[str, Any]]:
    """One line of CuraEngine's stderr as a job event: its ``Progress:`` lines, the facts it
    logs at the end (print time, filament volume, layer count), and its error lines."""
    line = line.rstrip()
    m = _PROGRESS.match(line)
    if m:
        return {"event": "progress", "fraction": min(float(m.group(1)) / 100.0, 1.0), "message": "slicing"}
    for key, pattern in _FACTS:
        m = pattern.match(line)
        if m:
            return {"event": "fact", "key": key, "value": float(m.group(1))}
    if "[ERROR]" in line or line.lower().startswith("error"):
        return {"event": "error", "message": line}
    return None


def cura_job(info: SlicerInfo, printer: PrinterProfile, settings: tuple[dict[str, Any], dict[str, Any]],
             model_stl: Path, out: Path, bounds) -> ProcessJob:
    """A job slicing ``model_stl`` into ``out``: CuraEngine writes into a staging folder beside
    ``out``, and the G-code with its header corrected (``bounds``: the parts as placed) moves
    into place only when it succeeded. Its result is a ``CuraRun``."""
    assert info.resources is not None
    env = cura_env(info.resources)

    def command(staging: Optional[Path]) -> list[str]:
        assert staging is not None
        return cura_command(info, printer, settings, model_stl, staging / "raw.gcode")[0]

    def finish(run: ProcessRun) -> CuraRun:
        assert run.staging is not None
        if run.returncode != 0:
            errors = [e["message"] for e in run.events if e["event"] == "error"]
            detail = errors[-1] if errors else f"exit code {run.returncode}"
            raise DStudioError(f"CuraEngine failed to slice {model_stl.name}: {detail}")
        facts = {e["key"]: e["value"] for e in run.events if e["event"] == "fact"}
        if "time" not in facts or "volume" not in facts:
            raise DStudioError("CuraEngine finished without reporting print time and filament volume")
        raw = run.staging / "raw.gcode"
        layers = int(facts.get("layers", 0)) or _layer_count(raw)
        write_with_header(raw, run.staging / "out.gcode", HeaderFacts(
            printer.gcode_flavor, facts["time"], filament_length_mm(facts["volume"], printer.filament_diameter_mm) / 1000,
            float(settings[0]["layer_height"]), layers, bounds))
        return CuraRun(facts["time"], facts["volume"], layers, time.monotonic() - run.started)

    return ProcessJob("slicing", command, env=env, stdout=None, stderr=cura_line, stage_beside=out,
                      outputs={"out.gcode": out}, finish=finish,
                      cannot_start=f"{info.executable}: cannot start CuraEngine")


def run_cura(info: SlicerInfo, printer: PrinterProfile, settings: tuple[dict[str, Any], dict[str, Any]],
             model_stl: Path, out: Path, bounds, progress: ProgressCallback = no_progress,
             cancel: Optional[CancelToken] = None) -> CuraRun:
    """Slice ``model_stl`` into ``out`` (written only on success, header corrected)."""
    return run(cura_job(info, printer, settings, model_stl, Path(out), bounds), progress, cancel)


def _layer_count(gcode: Path) -> int:
    with open(gcode, "rb") as fh:
        head = fh.read(65536)
    m = re.search(rb";LAYER_COUNT:(\d+)", head)
    return int(m.group(1)) if m else 0


def filament_length_mm(volume_mm3: float, diameter_mm: float) -> float:
    return volume_mm3 / (math.pi * (diameter_mm / 2) ** 2)

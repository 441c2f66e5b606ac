"""The quick path for the commonest slice: one binary STL file, no repair, scale, orientation
or arrangement. The triangles are read and placed with numpy alone and the slicer starts at
once; the full printability checks (trimesh, seconds on a big part) run beside it, and a file
sliced before finds its findings in the cache by the file's own hash, so nothing is checked
again. Anything else goes the full way (``service.slice_target``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Optional

import numpy as np

from ..atomic import atomic_write
from ..core.progress import CancelToken, ProgressCallback, check, no_progress
from ..errors import DStudioError
from ..jobs import ThreadJob
from ..jobs import run as run_job
from ..settings import cache_home
from .options import SliceOptions, SliceReport
from .printability import Finding, fits_printer
from .profiles import materials, pick, printers, supported_slicers
from .prusa import prusa_config, prusa_job
from .slicers import cura_job, cura_settings, filament_length_mm, require_slicer

STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attribute", "<u2")])
# the same record with its corners as one 36-byte item, for copying them out in one move each
STL_CORNER_BYTES = np.dtype([("normal", "V12"), ("corners", "V36"), ("attribute", "V2")])
assert STL_CORNER_BYTES.itemsize == STL_RECORD.itemsize
FILE_CHECKS_VERSION = 2



def quick_eligible(target: object, options: SliceOptions) -> bool:
    return (isinstance(target, str) and target.lower().endswith(".stl") and Path(target).is_file()
            and not options.repairs and not options.orient and not options.arrange and options.scale == 1.0
            and options.units in (None, "mm") and options.up in (None, "z"))


def read_binary_stl(path: Path) -> Optional[tuple[bytes, np.ndarray]]:
    """(file bytes, records) of a binary STL, or None (ASCII, or not what its header says)."""
    data = path.read_bytes()
    if len(data) < 84:
        return None
    count = int(np.frombuffer(data, "<u4", 1, 80)[0])
    if count == 0 or len(data) != 84 + count * STL_RECORD.itemsize:
        return None
    return data, np.frombuffer(data, STL_RECORD, count, 84)


def stl_bounds(data: bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) corners of a binary STL's triangles, in float64. The corners are taken
    column by column of a packed copy: a reduction over the strided 50-byte records, or over
    axis 0 of an (n, 3) array, is some thirty times slower on a million triangles. The copy
    moves each record's 36 corner bytes as one item (a byte-by-byte copy of the same slice
    costs 0.1-0.3 s on a million triangles, before the slicer can start)."""
    packed = np.ascontiguousarray(np.frombuffer(data, STL_CORNER_BYTES, count, 84)["corners"]).view("<f4").reshape(-1, 3)
    columns = [np.ascontiguousarray(packed[:, i]) for i in range(3)]
    if not all(np.isfinite(c).all() for c in columns):
        raise DStudioError("the file has coordinates that are not finite numbers")
    return (np.array([c.min() for c in columns], dtype=np.float64),
            np.array([c.max() for c in columns], dtype=np.float64))


def _file_key(data: bytes, printer) -> str:
    digest = hashlib.sha256(f"{FILE_CHECKS_VERSION}:{printer.build_volume_mm}:{printer.name}".encode())
    digest.update(data)
    return digest.hexdigest()


def _cached(key: str) -> Optional[list[Finding]]:
    try:
        return [Finding(**f) for f in json.loads((cache_home() / "printability" / f"file-{key}.json").read_text())]
    except (OSError, ValueError, TypeError):
        return None


def _checks(triangles: np.ndarray, printer, key: str, token: CancelToken) -> list[Finding]:
    """The full checks of the file's triangles (read once, by the quick path), kept in the
    cache under the file's key. Numpy and qhull only: no trimesh, no second read of the file."""
    from .check_cache import findings_of
    from .mesh_figures import Part, weld

    part = Part(*weld(triangles))
    check(token, "checking")
    findings = findings_of(part, printer.build_volume_mm, printer.name)
    try:
        atomic_write(cache_home() / "printability" / f"file-{key}.json",
                     json.dumps([f.to_json() for f in findings]).encode())
    except OSError:
        pass
    return findings


def quick_slice(target: str, out: Path, options: SliceOptions, progress: ProgressCallback = no_progress,
                cancel: Optional[CancelToken] = None) -> Optional[SliceReport]:
    """Slice ``target`` the quick way, or return None when it needs the full way."""
    options.validate()
    printer = pick(printers(), options.printer, "printer")
    material = pick(materials(), options.material, "material")
    slicer = require_slicer(options.slicer, supported_slicers(printer, material))
    read = read_binary_stl(Path(target))
    if read is None:
        return None
    data, records = read
    try:
        lo, hi = stl_bounds(data, len(records))
    except DStudioError as err:
        raise DStudioError(f"{target}: {err}") from None
    too_big = fits_printer(hi - lo, printer.build_volume_mm, printer.name)
    if too_big is not None:
        if options.scale_to_fit:
            return None
        raise DStudioError(f"{target}: {too_big.message}; {too_big.suggestion} ({too_big.cli})")
    width, depth, _ = printer.build_volume_mm
    shift = np.array([width / 2 - (lo[0] + hi[0]) / 2, depth / 2 - (lo[1] + hi[1]) / 2, -lo[2]])
    bounds = (tuple(float(v) for v in lo + shift), tuple(float(v) for v in hi + shift))
    # The slicer reads the file itself and places it (no placed copy is written): CuraEngine
    # moves it by mesh_position (on top of the half bed it adds, see service.slicer_frame),
    # PrusaSlicer centres it on the bed and stands it there.
    check(cancel, "slicing")
    progress(0.05, "slicing")
    if slicer.kind == "prusa":
        config = prusa_config(printer, material, options.layer_height, options.infill, options.supports,
                              options.adhesion)
        job = prusa_job(slicer.executable, printer, config, Path(target), out, bounds, center=(width / 2, depth / 2))
    else:
        settings = cura_settings(printer, material, options.layer_height, options.infill, options.supports,
                                 options.adhesion)
        frame = shift - np.array([width / 2, depth / 2, 0.0])
        position = {f"mesh_position_{axis}": f"{value:.6f}" for axis, value in zip("xyz", frame, strict=True)}
        job = cura_job(slicer, printer, (settings[0], {**settings[1], **position}), Path(target), out, bounds)
    job.progressed.connect(lambda f, m: progress(0.05 + 0.9 * f, m))
    job.start()
    checks = None
    try:
        # beside the slicer: the cache of this file's findings, else the checks themselves
        key = _file_key(data, printer)
        findings = _cached(key)
        if findings is None:
            triangles = records["vertices"]
            checks = ThreadJob(lambda p, token: _checks(triangles, printer, key, token), "printability checks",
                               yielding=True).start()
        del data, records
        result = run_job(job, no_progress, cancel)
        if checks is not None:
            progress(0.96, "checking the part")
            findings = checks.result()
    except BaseException:
        job.cancel()
        job.wait()
        if checks is not None:
            checks.cancel()
            checks.wait()
        raise
    grams = getattr(result, "filament_g", None)
    size = [float(v) for v in hi - lo]
    return SliceReport(
        output=out, slicer=f"{slicer.name} {slicer.version}", printer=printer.id, material=material.id,
        estimated_time_s=result.print_time_s,
        filament_mm=getattr(result, "filament_mm", 0.0) or filament_length_mm(result.filament_mm3,
                                                                               printer.filament_diameter_mm),
        filament_g=grams if grams is not None else result.filament_mm3 / 1000.0 * material.density_g_cm3,
        layers=result.layers, findings=findings or [], size_mm=size, slice_seconds=result.seconds,
        slicer_kind=slicer.kind, parts=[{"name": Path(target).stem, "bounds": [list(bounds[0]), list(bounds[1])]}],
        bounds=[list(bounds[0]), list(bounds[1])],
    )

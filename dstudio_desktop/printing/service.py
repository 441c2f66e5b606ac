"""Slicing a model file, a project node or a plate of several: check, optionally repair,
scale and orient, place on the bed, slice with CuraEngine or PrusaSlicer, record.

Shared by ``dstudio slice`` and the Print dialog. Parts are taken in the printer's frame
(millimetres, Z up) and placed on the bed as they stand relative to each other, or arranged
(``plate``); a repair makes a new asset and node, never changing the original.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import trimesh

from ..core import Asset
from ..core.progress import CancelToken, ProgressCallback, check, no_progress
from ..core.records import PrintJob
from ..errors import DStudioError
from ..jobs import ThreadJob
from ..jobs import run as run_job
from ..meshio import SceneData, read_scene
from ..meshio.formats import axis_conversion, is_model_path
from ..meshio.meshdata import merge_exact
from ..meshio.trimesh_io import world_meshes
from ..store import Workspace, sha256_bytes
from .check_cache import cached_findings
from .options import ADHESION, REPAIRS, SliceOptions, SliceReport  # noqa: F401 - the names callers know
from .orient import best_orientation
from .plate import PlatePart, arrange, keep_placed, overlapping, plate_mesh
from .printability import Finding, fits_printer
from .profiles import materials, pick, printers, supported_slicers
from .prusa import prusa_config, prusa_job
from .slicers import cura_job, cura_settings, filament_length_mm, require_slicer

TO_PRINTER = np.linalg.inv(axis_conversion("mm", "z"))


def printer_mesh(scene: SceneData) -> trimesh.Trimesh:
    """Every visible triangle mesh of ``scene``, in millimetres with Z up, as one merged mesh."""
    parts = [trimesh.Trimesh(v, m.faces, process=False) for _, m, v in world_meshes(scene, TO_PRINTER)
             if not m.is_pointcloud]
    if not parts:
        raise DStudioError(f"{scene.source}: nothing to print (no visible triangle mesh)")
    mesh = trimesh.util.concatenate(parts) if len(parts) > 1 else parts[0]
    vertices, faces = merge_exact(np.asarray(mesh.vertices), np.asarray(mesh.faces))
    return trimesh.Trimesh(vertices, faces, process=False)


def repair(mesh: trimesh.Trimesh, repairs: tuple[str, ...]) -> trimesh.Trimesh:
    mesh = mesh.copy()
    if "degenerate" in repairs:
        mesh.update_faces(mesh.nondegenerate_faces())
        mesh.remove_unreferenced_vertices()
    if "holes" in repairs:
        trimesh.repair.fill_holes(mesh)
    if "normals" in repairs:
        trimesh.repair.fix_normals(mesh)
    if "flat" in repairs:  # rest on the largest flat face of the convex hull
        hull = mesh.convex_hull
        normal = hull.facets_normal[np.argmax(hull.facets_area)] if len(hull.facets) else np.array([0, 0, -1.0])
        mesh.apply_transform(trimesh.geometry.align_vectors(normal, [0.0, 0.0, -1.0]))
    return mesh


def place_on_bed(mesh: trimesh.Trimesh, build_volume: tuple[float, float, float]) -> trimesh.Trimesh:
    lo, hi = mesh.bounds
    shift = np.array([build_volume[0] / 2 - (lo[0] + hi[0]) / 2, build_volume[1] / 2 - (lo[1] + hi[1]) / 2, -lo[2]])
    return mesh.copy().apply_translation(shift)


def _target_scene(ws: Optional[Workspace], target: str, options: SliceOptions):
    path = Path(target)
    if is_model_path(path):
        return read_scene(path, units=options.units, up=options.up), None, None
    if ws is None:
        raise DStudioError(f"{target}: no such file")
    from ..errors import NotFoundError
    from ..services.models import project_scene

    # a project's name may hold a colon ("Sample: desk lamp"): the whole target is tried as a
    # project first, and only then as PROJECT:NODE split at the last colon
    try:
        project, node = ws.load_project(target), None
    except NotFoundError:
        if ":" not in target:
            raise
        key, _, node = target.rpartition(":")
        project = ws.load_project(key)
    return project_scene(ws, project, node or None), project, (node or None)


@dataclass
class PreparedPart:
    """A plate ready to slice: its parts in the printer's frame, repaired, scaled, oriented and
    placed on the bed as asked; the findings so far (all of them once ``checked``)."""

    mesh: trimesh.Trimesh              # the whole plate as placed
    findings: list[Finding]
    printer: Any
    material: Any
    project_id: Optional[str]
    repairs: list[str]
    scaled_by: float
    repaired_node_id: Optional[str] = None
    parts: list[PlatePart] = field(default_factory=list)
    unplaced: list[trimesh.Trimesh] = field(default_factory=list)   # each part before it was placed (for the checks)
    checked: bool = False

    @property
    def refusal(self) -> Optional[Finding]:
        return next((f for f in self.findings if f.severity == "error"), None)

    def run_checks(self, cancel: Optional[CancelToken] = None) -> list[Finding]:
        """Every printability finding of every part (cached per geometry); a plate's are named by part."""
        findings = []
        for part, mesh in zip(self.parts, self.unplaced, strict=True):
            check(cancel, "checking")
            found = cached_findings(mesh, self.printer.build_volume_mm, self.printer.name)
            if len(self.parts) > 1:
                found = [replace(f, message=f"{part.name}: {f.message}") for f in found]
            findings += found
        known = {f.code for f in findings}
        self.findings = findings + [f for f in self.findings if f.code not in known]
        self.checked = True
        return self.findings


def _scene_parts(scene: SceneData, split: bool) -> list[tuple[str, trimesh.Trimesh]]:
    """(name, mesh) for a target: one part, or one per top-level node when a plate is arranged."""
    if split and len(scene.nodes) > 1:
        parts = []
        for root in scene.nodes:
            sub = copy.copy(scene)
            sub.nodes = [root]
            if sub.world_geometry():
                parts.append((root.name, printer_mesh(sub)))
        if parts:
            return parts
    name = scene.nodes[0].name if len(scene.nodes) == 1 else Path(scene.source).stem or scene.source
    return [(name, printer_mesh(scene))]


def prepare(target: Union[str, Sequence[str]], options: SliceOptions, ws: Optional[Workspace] = None,
            store_repairs: bool = True, cancel: Optional[CancelToken] = None, checks: bool = True) -> PreparedPart:
    """Read, repair, scale, orient and place the parts; check them unless ``checks`` is False
    (then only the bed's limits are checked, and ``run_checks`` does the rest). Nothing is sliced."""
    options.validate()
    printer = pick(printers(), options.printer, "printer")
    material = pick(materials(), options.material, "material")
    targets = [target] if isinstance(target, str) else list(target)
    named: list[tuple[str, trimesh.Trimesh]] = []
    project = None
    repaired_node_id = None
    for key in targets:
        scene, target_project, node_key = _target_scene(ws, key, options)
        if target_project is not None and ws is not None and store_repairs:
            ws.require(target_project.id, "edit")  # a project's slice records a print job (and a repair, a part) in it
        project = project or target_project
        check(cancel, "slicing")
        for name, mesh in _scene_parts(scene, options.arrange and len(targets) == 1):
            if options.repairs:
                mesh = repair(mesh, options.repairs)
                if store_repairs and target_project is not None and ws is not None:
                    repaired_node_id = _store_repaired(ws, target_project.id, mesh, name)
            named.append((name, mesh))
    volume = printer.build_volume_mm
    fits: list[float] = []
    parts = []
    for name, mesh in named:
        if options.scale != 1.0:
            mesh.apply_scale(options.scale)
        if options.orient:
            mesh.apply_transform(best_orientation(mesh)[1].rotation)
        if options.scale_to_fit and np.any(mesh.extents > np.asarray(volume)):
            fit = float(np.min(np.asarray(volume) / mesh.extents)) * 0.95
            mesh.apply_scale(fit)
            fits.append(fit)
        parts.append(PlatePart(name, mesh))
    scaled = options.scale * (min(fits) if fits else 1.0)
    unplaced = [p.mesh for p in parts]
    findings = [f for m in unplaced for f in fits_findings(m, volume, printer.name)]
    placed: list[PlatePart] = []
    if not findings:
        placed = arrange(parts, volume) if options.arrange else keep_placed(parts, volume)
        findings += plate_findings(placed, volume, printer.name, options.arrange)
    placed = placed or parts
    prepared = PreparedPart(plate_mesh(placed), findings, printer, material, project.id if project else None,
                            list(options.repairs), scaled, repaired_node_id, placed, unplaced)
    if checks:
        prepared.run_checks(cancel)
    return prepared


def fits_findings(mesh: trimesh.Trimesh, volume: tuple[float, float, float], printer_name: str) -> list[Finding]:
    """The one refusal that needs no real check: the part is larger than the printer builds."""
    finding = fits_printer(mesh.extents, volume, printer_name)
    return [finding] if finding is not None else []


def plate_findings(placed: list[PlatePart], volume: tuple[float, float, float], printer_name: str,
                   arranged: bool) -> list[Finding]:
    found = []
    plate = plate_mesh(placed)
    if len(placed) > 1 and np.any(plate.extents > np.asarray(volume) + 1e-6):
        dims = " x ".join(f"{v:.0f}" for v in plate.extents)
        found.append(Finding("plate_exceeds_build_volume", "error",
                             f"the parts as placed cover {dims} mm, more than {printer_name} builds",
                             "arrange them on the bed, or slice them on separate plates", cli="--arrange"))
    if not arranged and len(placed) > 1:
        pairs = overlapping(placed)
        if pairs:
            a, b = pairs[0]
            found.append(Finding("parts_overlap", "info", f"{a} and {b} stand on overlapping footprints",
                                 "fine if they are meant to touch; otherwise arrange them on the bed",
                                 len(pairs), "--arrange"))
    return found


def slicer_frame(plate: trimesh.Trimesh, kind: str, printer: Any) -> trimesh.Trimesh:
    """The plate in the coordinates the slicer reads: PrusaSlicer takes bed coordinates as they
    are (``--dont-arrange``); stand-alone CuraEngine adds half the bed to every model
    coordinate (its front end's centred frame), so its copy is shifted back by that much."""
    if kind != "cura":
        return plate
    width, depth, _ = printer.build_volume_mm
    return plate.copy().apply_translation((-width / 2, -depth / 2, 0.0))


def slice_target(target: Union[str, Sequence[str]], out: str | Path, options: SliceOptions,
                 ws: Optional[Workspace] = None, progress: ProgressCallback = no_progress,
                 cancel: Optional[CancelToken] = None) -> SliceReport:
    """Check and slice a part (or a plate of parts) into ``out``; for a project, record it.

    The printability checks (cached per geometry) run in a thread beside the slicer, which
    starts as soon as the part is placed: only a part that does not fit the printer is
    refused before slicing, and the others' findings are reported with the result."""
    options.validate()
    printer = pick(printers(), options.printer, "printer")
    material = pick(materials(), options.material, "material")
    slicer = require_slicer(options.slicer, supported_slicers(printer, material))
    out = Path(out)
    progress(0.02, "reading the part")
    part = prepare(target, options, ws, cancel=cancel, checks=False)
    if part.refusal is not None:
        label = target if isinstance(target, str) else ", ".join(target)
        hint = f" ({part.refusal.cli})" if part.refusal.cli else ""
        raise DStudioError(f"{label}: {part.refusal.message}; {part.refusal.suggestion}{hint}")
    check(cancel, "slicing")
    bounds = (tuple(float(v) for v in part.mesh.bounds[0]), tuple(float(v) for v in part.mesh.bounds[1]))
    checks = ThreadJob(lambda p, token: part.run_checks(token), "printability checks", yielding=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="dstudio-slice-") as tmp:
            stl = Path(tmp) / "plate.stl"
            stl.write_bytes(trimesh.exchange.stl.export_stl(slicer_frame(part.mesh, slicer.kind, printer)))
            settings = cura_settings(printer, material, options.layer_height, options.infill, options.supports,
                                     options.adhesion)
            if slicer.kind == "prusa":
                config = prusa_config(printer, material, options.layer_height, options.infill, options.supports,
                                      options.adhesion)
                job = prusa_job(slicer.executable, printer, config, stl, out, bounds)
            else:
                job = cura_job(slicer, printer, settings, stl, out, bounds)
            result = run_job(job, lambda f, m: progress(0.1 + 0.85 * f, m), cancel)
        progress(0.96, "checking the part")
        findings = checks.result()
    except BaseException:
        checks.cancel()
        checks.wait()
        raise
    grams = getattr(result, "filament_g", None)
    report = SliceReport(
        output=out, slicer=f"{slicer.name} {slicer.version}", printer=printer.id, material=material.id,
        estimated_time_s=result.print_time_s,
        filament_mm=getattr(result, "filament_mm", 0.0) or filament_length_mm(result.filament_mm3,
                                                                               printer.filament_diameter_mm),
        filament_g=grams if grams is not None else result.filament_mm3 / 1000.0 * material.density_g_cm3,
        layers=result.layers, findings=findings, size_mm=[float(v) for v in part.mesh.extents],
        repairs=part.repairs, scaled_by=part.scaled_by, repaired_node_id=part.repaired_node_id,
        slice_seconds=result.seconds, slicer_kind=slicer.kind,
        parts=[{"name": p.name, "bounds": [[float(v) for v in p.mesh.bounds[0]], [float(v) for v in p.mesh.bounds[1]]]}
               for p in part.parts],
        bounds=[list(bounds[0]), list(bounds[1])],
    )
    if part.project_id is not None and ws is not None:
        _record(ws, part.project_id, report, options)
    progress(1.0, "done")
    return report


def _store_repaired(ws: Workspace, project_id: str, mesh: trimesh.Trimesh, name: str) -> str:
    """The repaired part as a new asset and node beside the original (which stays as it was),
    through the one door geometry enters a project by."""
    from ..services.changes import land
    from ..services.geometry import repaired_part

    change = repaired_part(project_id, np.asarray(mesh.vertices), np.asarray(mesh.faces), name)
    land(ws, change)
    return change.command.commands[-1].nodes[0]["id"]


def _record(ws: Workspace, project_id: str, report: SliceReport, options: SliceOptions) -> None:
    data = report.output.read_bytes()
    asset = Asset(project_id=project_id, asset_type="gcode", name=report.output.name[:256],
                  sha256=sha256_bytes(data), file_size=len(data), media_type="text/x-gcode",
                  metadata={"printer": report.printer, "material": report.material, "layers": report.layers,
                            "estimated_time_s": report.estimated_time_s, "filament_g": report.filament_g})
    job = PrintJob(
        design_project_id=project_id, material=report.material, color=options.color,
        infill_percent=options.infill, support_material=options.supports, layer_height=options.layer_height,
        print_orientation={"repairs": report.repairs, "scaled_by": report.scaled_by},
        gcode_asset_id=asset.id, estimated_time_minutes=report.estimated_time_s / 60,
        estimated_material_grams=report.filament_g, printer_id=report.printer, slicer=report.slicer,
    )
    ws.add_print_job(job, (asset, data))
    report.project_id, report.print_job_id, report.gcode_asset_id = project_id, job.id, asset.id

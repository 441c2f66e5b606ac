"""Slicing a model file or a project node: check, optionally repair, slice, record.

Shared by ``dstudio slice`` and the Print dialog. The part is taken in the printer's
frame (millimetres, Z up), centred on the bed and dropped onto it; a repair makes a
new asset and node, never changing the original.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import trimesh

from ..core import Asset
from ..core.progress import CancelToken, ProgressCallback, check, no_progress
from ..core.records import PrintJob
from ..errors import DStudioError
from ..meshio import SceneData, read_scene
from ..meshio.formats import axis_conversion, is_model_path
from ..meshio.meshdata import merge_exact
from ..meshio.trimesh_io import world_meshes
from ..store import Workspace, sha256_bytes
from .printability import Finding
from .printability import check as check_printability
from .profiles import materials, pick, printers
from .slicers import cura_settings, filament_length_mm, require_slicer, run_cura

REPAIRS = ("holes", "normals", "degenerate", "flat")
ADHESION = ("none", "skirt", "brim", "raft")


@dataclass
class SliceOptions:
    printer: str = "ender3"
    material: str = "PLA"
    layer_height: float = 0.2
    infill: float = 20.0
    supports: bool = False
    adhesion: str = "skirt"
    color: Optional[str] = None
    scale_to_fit: bool = False
    repairs: tuple[str, ...] = ()
    units: Optional[str] = None
    up: Optional[str] = None

    def validate(self) -> None:
        if not 0.04 <= self.layer_height <= 1.0:
            raise DStudioError(f"layer height {self.layer_height} mm is outside 0.04-1.0 mm")
        if not 0 <= self.infill <= 100:
            raise DStudioError(f"infill {self.infill}% is outside 0-100%")
        if self.adhesion not in ADHESION:
            raise DStudioError(f"adhesion {self.adhesion!r}: choose one of {', '.join(ADHESION)}")
        unknown = [r for r in self.repairs if r not in REPAIRS]
        if unknown:
            raise DStudioError(f"unknown repair {unknown[0]!r}: choose from {', '.join(REPAIRS)}")


@dataclass
class SliceReport:
    output: Path
    slicer: str
    printer: str
    material: str
    estimated_time_s: float
    filament_mm: float
    filament_g: float
    layers: int
    findings: list[Finding]
    size_mm: list[float]
    repairs: list[str] = field(default_factory=list)
    scaled_by: float = 1.0
    project_id: Optional[str] = None
    print_job_id: Optional[str] = None
    gcode_asset_id: Optional[str] = None
    repaired_node_id: Optional[str] = None
    slice_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "output": str(self.output), "slicer": self.slicer, "printer": self.printer, "material": self.material,
            "estimated_time_s": self.estimated_time_s, "filament_mm": self.filament_mm, "filament_g": self.filament_g,
            "layers": self.layers, "findings": [f.to_json() for f in self.findings], "size_mm": self.size_mm,
            "repairs": self.repairs, "scaled_by": self.scaled_by, "project_id": self.project_id,
            "print_job_id": self.print_job_id, "gcode_asset_id": self.gcode_asset_id,
            "repaired_node_id": self.repaired_node_id, "slice_seconds": self.slice_seconds,
        }


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
    """A part ready to slice: in the printer's frame, repaired and scaled as asked, with its findings."""

    mesh: trimesh.Trimesh
    findings: list[Finding]
    printer: Any
    material: Any
    project_id: Optional[str]
    repairs: list[str]
    scaled_by: float
    repaired_node_id: Optional[str] = None

    @property
    def refusal(self) -> Optional[Finding]:
        return next((f for f in self.findings if f.severity == "error"), None)


def prepare(target: str, options: SliceOptions, ws: Optional[Workspace] = None, store_repairs: bool = True,
            cancel: Optional[CancelToken] = None) -> PreparedPart:
    """Read, repair, scale and check the part; nothing is sliced."""
    options.validate()
    printer = pick(printers(), options.printer, "printer")
    material = pick(materials(), options.material, "material")
    scene, project, node_key = _target_scene(ws, target, options)
    if project is not None and ws is not None and store_repairs:
        ws.require(project.id, "edit")  # a project's slice records a print job (and a repair, a part) in it
    check(cancel, "slicing")
    mesh = printer_mesh(scene)
    repaired_node_id = None
    if options.repairs:
        mesh = repair(mesh, options.repairs)
        if store_repairs and project is not None and ws is not None:
            parts = scene.world_geometry()
            label = parts[0][0].name if len(parts) == 1 else scene.nodes[0].name if node_key else project.name
            repaired_node_id = _store_repaired(ws, project.id, mesh, label)
    scaled = 1.0
    volume = printer.build_volume_mm
    if options.scale_to_fit and np.any(mesh.extents > np.asarray(volume)):
        scaled = float(np.min(np.asarray(volume) / mesh.extents)) * 0.95
        mesh.apply_scale(scaled)
    findings = check_printability(mesh, volume, printer.name)
    return PreparedPart(mesh, findings, printer, material, project.id if project else None, list(options.repairs),
                        scaled, repaired_node_id)


def slice_target(target: str, out: str | Path, options: SliceOptions, ws: Optional[Workspace] = None,
                 progress: ProgressCallback = no_progress, cancel: Optional[CancelToken] = None) -> SliceReport:
    slicer = require_slicer()
    out = Path(out)
    progress(0.02, "reading and checking the part")
    part = prepare(target, options, ws, cancel=cancel)
    if part.refusal is not None:
        raise DStudioError(f"{target}: {part.refusal.message}; {part.refusal.suggestion}")
    check(cancel, "slicing")
    printer, material = part.printer, part.material
    placed = place_on_bed(part.mesh, printer.build_volume_mm)
    with tempfile.TemporaryDirectory(prefix="dstudio-slice-") as tmp:
        stl = Path(tmp) / "part.stl"
        stl.write_bytes(trimesh.exchange.stl.export_stl(placed))
        settings = cura_settings(printer, material, options.layer_height, options.infill, options.supports,
                                 options.adhesion)
        run = run_cura(slicer, printer, settings, stl, out,
                       progress=lambda f, m: progress(0.25 + 0.75 * f, m), cancel=cancel)
    report = SliceReport(
        output=out, slicer=f"{slicer.name} {slicer.version}", printer=printer.id, material=material.id,
        estimated_time_s=run.print_time_s, filament_mm=filament_length_mm(run.filament_mm3, printer.filament_diameter_mm),
        filament_g=run.filament_mm3 / 1000.0 * material.density_g_cm3, layers=run.layers, findings=part.findings,
        size_mm=[float(v) for v in part.mesh.extents], repairs=part.repairs, scaled_by=part.scaled_by,
        repaired_node_id=part.repaired_node_id, slice_seconds=run.seconds,
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

"""Handlers for 3D-printing commands: slice and printers."""

from __future__ import annotations

import argparse

from .common import _run_cancellable, _workspace
from .output import Output


def add_slice_arguments(p: argparse.ArgumentParser) -> None:
    """The options ``slice`` has beyond the print settings: which slicer, and how the plate is made."""
    p.add_argument("--slicer", choices=["cura", "prusa"],
                   help="CuraEngine or PrusaSlicer (default: the first the printer and material support)")
    p.add_argument("--arrange", action="store_true",
                   help="pack the parts on the bed without overlap (default: where they were placed)")
    p.add_argument("--orient", action="store_true", help="stand each part on its best side (least support)")
    p.add_argument("--scale", type=float, default=1.0, help="scale the parts by this factor (e.g. 25.4 from inches)")


def cmd_slice(args: argparse.Namespace, out: Output) -> int:
    from ..printing.service import SliceOptions, slice_target

    options = SliceOptions(
        printer=args.printer, material=args.material, layer_height=args.layer_height, infill=args.infill,
        supports=args.supports, adhesion=args.adhesion, color=args.color, scale_to_fit=args.scale_to_fit,
        repairs=tuple(r for r in (args.repair or "").split(",") if r), units=args.units, up=args.up,
        slicer=args.slicer, arrange=args.arrange, orient=args.orient, scale=args.scale,
    )
    target = args.target[0] if len(args.target) == 1 else args.target
    with _workspace() as ws:
        report = _run_cancellable(
            out, lambda token: slice_target(target, args.output, options, ws=ws, progress=out.progress,
                                            cancel=token))
    minutes = report.estimated_time_s / 60
    lines = [f"wrote {report.output} with {report.slicer}",
             f"  {report.layers} layers, {int(minutes // 60)} h {int(minutes % 60)} min, "
             f"{report.filament_mm / 1000:.2f} m of filament ({report.filament_g:.1f} g {report.material})"]
    lines += [f"  {f.severity}: {f.message} — {f.suggestion}" + (f" ({f.cli})" if f.cli else "")
              for f in report.findings]
    if report.print_job_id:
        lines.append(f"  recorded print job {report.print_job_id} in project {report.project_id}")
    if report.repaired_node_id:
        lines.append(f"  the repaired part is a new node {report.repaired_node_id}; the original is unchanged")
    out.result(report.to_json(), "\n".join(lines))
    return 0


def cmd_printers(args: argparse.Namespace, out: Output) -> int:
    from ..printing.profiles import materials, printers
    from ..printing.slicers import find_slicers

    slicers = find_slicers()
    data = {
        "slicers": [s.to_json() for s in slicers],
        "printers": [p.model_dump() for p in printers().values()],
        "materials": [m.model_dump() for m in materials().values()],
    }
    lines = ["slicers:"] + ([f"  {s.kind:6s} {s.name} {s.version} ({s.executable})"
                             + ("" if s.usable else f": {s.problem}") for s in slicers] or ["  none found"])
    lines += ["printers:"] + [f"  {p.id:12s} {p.name} ({' x '.join(f'{v:g}' for v in p.build_volume_mm)} mm; "
                              f"{', '.join(p.slicers)})" for p in printers().values()]
    lines += ["materials:"] + [f"  {m.id:6s} {m.name}, {m.density_g_cm3} g/cm3" for m in materials().values()]
    out.result(data, "\n".join(lines))
    return 0

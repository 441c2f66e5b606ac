"""Handlers for 3D-printing commands: slice, printers, print servers, sending a job, print jobs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    from ..printing.options import SliceOptions

    options = SliceOptions(
        printer=args.printer, material=args.material, layer_height=args.layer_height, infill=args.infill,
        supports=args.supports, adhesion=args.adhesion, color=args.color, scale_to_fit=args.scale_to_fit,
        repairs=tuple(r for r in (args.repair or "").split(",") if r), units=args.units, up=args.up,
        slicer=args.slicer, arrange=args.arrange, orient=args.orient, scale=args.scale,
    )
    target = args.target[0] if len(args.target) == 1 else args.target

    def work(token):
        from ..printing.quick import quick_eligible, quick_slice

        # one plain STL file: sliced at once, checked beside the slicer (see printing.quick)
        report = quick_slice(target, Path(args.output), options, out.progress, token) \
            if quick_eligible(target, options) else None
        if report is not None:
            return report
        from ..printing.service import slice_target

        with _workspace() as ws:
            return slice_target(target, args.output, options, ws=ws, progress=out.progress, cancel=token)

    report = _run_cancellable(out, work)
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
        "printers": [p.to_json() for p in printers().values()],
        "materials": [m.to_json() for m in materials().values()],
    }
    lines = ["slicers:"] + ([f"  {s.kind:6s} {s.name} {s.version} ({s.executable})"
                             + ("" if s.usable else f": {s.problem}") for s in slicers] or ["  none found"])
    lines += ["printers:"] + [f"  {p.id:12s} {p.name} ({' x '.join(f'{v:g}' for v in p.build_volume_mm)} mm; "
                              f"{', '.join(p.slicers)})" for p in printers().values()]
    lines += ["materials:"] + [f"  {m.id:6s} {m.name}, {m.density_g_cm3} g/cm3" for m in materials().values()]
    out.result(data, "\n".join(lines))
    return 0


def add_print_server_commands(add) -> None:
    """``print-server add|list|remove``, ``send`` and ``print-jobs`` (registered by ``main``)."""
    p = add("print-server", cmd_print_server, "add, list or remove a print server (OctoPrint; the key goes to the keyring)")
    p.add_argument("action", choices=["add", "list", "remove"])
    p.add_argument("name", nargs="?", help="a name for the printer (add, remove)")
    p.add_argument("--url", help="the server's address, e.g. http://octopi.local (add)")
    p.add_argument("--api-key-stdin", action="store_true", help="read the API key from standard input (add)")
    p = add("send", cmd_send, "send a sliced print job to a print server, start it and follow it to the end")
    p.add_argument("job", help="the print job's id (or a unique prefix of 6+ characters)")
    p.add_argument("--printer", required=True, help="the print server's name (see 'dstudio print-server list')")
    p.add_argument("--no-follow", action="store_true", help="start the print and return (do not wait for it)")
    p = add("cancel-print", cmd_cancel_print, "cancel a print job printing on its print server (the G-code is kept)")
    p.add_argument("job", help="the print job's id (or a unique prefix of 6+ characters)")
    p.add_argument("--printer", help="the print server's name, if not the one the job was sent to")
    p = add("print-jobs", cmd_print_jobs, "list print jobs (all, or one project's), with their state and times")
    p.add_argument("project", nargs="?")


def cmd_print_server(args: argparse.Namespace, out: Output) -> int:
    from ..errors import DStudioError
    from ..printing.print_servers import add_server, list_servers, remove_server

    if args.action == "list":
        servers = list_servers()
        out.result({"servers": [s.__dict__ for s in servers]},
                   "\n".join(f"{s.name}: {s.kind} at {s.url}" for s in servers) or "no print servers added")
        return 0
    if not args.name:
        raise DStudioError(f"print-server {args.action}: give the printer's name")
    if args.action == "remove":
        remove_server(args.name)
        out.result({"removed": args.name}, f"removed print server {args.name}")
        return 0
    if not args.url:
        raise DStudioError("print-server add: give the server's --url")
    if args.api_key_stdin:
        key = sys.stdin.readline().strip()
    else:
        import getpass

        key = getpass.getpass("API key: ")
    about = add_server(args.name, args.url, key)
    out.result({"name": args.name, "url": args.url, "server": about},
               f"added print server {args.name} ({about}); its API key is in the keyring")
    return 0


def cmd_send(args: argparse.Namespace, out: Output) -> int:
    from ..printing.print_servers import send_print_job

    with _workspace() as ws:
        job = _run_cancellable(out, lambda token: send_print_job(ws, args.job, args.printer, follow=not args.no_follow,
                                                                 progress=out.progress, cancel=token))
    text = f"print job {job.id}: {job.status} on {args.printer}"
    if job.actual_time_minutes is not None:
        text += f", took {job.actual_time_minutes:.1f} min (estimated {job.estimated_time_minutes:.1f})"
    out.result(job.to_json(), text)
    return 0


def cmd_cancel_print(args: argparse.Namespace, out: Output) -> int:
    from ..printing.print_servers import cancel_print_job

    with _workspace() as ws:
        job = cancel_print_job(ws, args.job, args.printer, progress=out.progress)
    out.result(job.to_json(), f"print job {job.id}: cancelled on the print server; its G-code is kept")
    return 0


def cmd_print_jobs(args: argparse.Namespace, out: Output) -> int:
    with _workspace() as ws:
        project_id = ws.resolve_project(args.project) if args.project else None
        jobs = ws.list_print_jobs(project_id)
    lines = [f"{j.id[:8]}  {j.status:9s}  {j.material:5s} est {j.estimated_time_minutes:.1f} min"
             + (f", took {j.actual_time_minutes:.1f} min" if j.actual_time_minutes is not None else "")
             for j in jobs]
    out.result({"print_jobs": [j.to_json() for j in jobs]}, "\n".join(lines) or "no print jobs")
    return 0

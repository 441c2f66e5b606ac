"""The ``dstudio`` command line. Run with no command to open the app on the sample project."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

from .. import __version__
from ..errors import DStudioError
from ..meshio import units_help
from .output import Output

EPILOG = (
    "Units and up axis: the scene is metres and Y-up, as glTF is. Files without a unit are read as:\n"
    + units_help()
    + "\n(3MF files that declare a unit use it.) Override with --units {m,cm,mm,in,ft,um} and --up {y,z}.\n"
    "The workspace lives in $DSTUDIO_HOME, or the platform's user data folder when it is unset."
)


def _workspace():
    from ..store import Workspace
    from ..sync.runner import attach_fetcher

    ws = Workspace()
    attach_fetcher(ws)  # assets pulled as metadata are fetched when first needed
    return ws


# -- commands ------------------------------------------------------------------


def cmd_new(args: argparse.Namespace, out: Output) -> int:
    with _workspace() as ws:
        project = ws.create_project(args.name)
        if args.description:
            project.description = args.description
            ws.save_project(project)
    out.result({"id": project.id, "name": project.name}, project.id)
    return 0


def cmd_list(args: argparse.Namespace, out: Output) -> int:
    with _workspace() as ws:
        rows = ws.list_projects()
    text = "\n".join(f"{r['id']}  {r['name']}  (versions: {r['version_count']}, updated {r['updated_at'][:19]})" for r in rows)
    out.result(rows, text or "no projects yet (create one with 'dstudio new NAME')")
    return 0


def _run_cancellable(out: Output, work: Callable[[Any], Any]) -> Any:
    """Run ``work(token)``; Ctrl+C sets the token so the work stops at its next check."""
    from ..core.progress import CancelToken

    token = CancelToken()

    def on_sigint(signum: int, frame: Any) -> None:
        token.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return work(token)
    finally:
        signal.signal(signal.SIGINT, previous)
        out.end_progress()


def cmd_import(args: argparse.Namespace, out: Output) -> int:
    from ..project_io import import_files

    with _workspace() as ws:
        _require_edit(ws, args.project)
        result = _run_cancellable(
            out,
            lambda token: import_files(ws, args.project, args.files, units=args.units, up=args.up,
                                       progress=out.progress, cancel=token),
        )
    lines = [f"imported {len(result.nodes)} node(s), {len(result.assets)} asset(s), {result.materials} material(s)"]
    lines += [f"  {n.id}  {n.name} ({n.kind})" for n in result.nodes]
    lines += [f"warning: {w}" for w in result.warnings]
    out.result(result.to_json(), "\n".join(lines))
    return 0


def cmd_export(args: argparse.Namespace, out: Output) -> int:
    from ..project_io import export_project

    with _workspace() as ws:
        written = export_project(ws, args.project, args.output, node_id=args.node, units=args.units, up=args.up)
    out.result({"files": [str(p) for p in written]}, "\n".join(f"wrote {p}" for p in written))
    return 0


def cmd_convert(args: argparse.Namespace, out: Output) -> int:
    from ..meshio import read_scene, write_scene

    scene = read_scene(args.input, units=args.in_units, up=args.in_up)
    written = write_scene(scene, args.output, units=args.out_units, up=args.out_up)
    counts = scene.counts()
    out.result({"files": [str(p) for p in written], **counts},
               "\n".join(f"wrote {p}" for p in written) + f"\n{counts['triangles']} triangles, {counts['vertices']} vertices")
    return 0


def cmd_info(args: argparse.Namespace, out: Output) -> int:
    from ..meshio.formats import is_model_path
    from ..project_io import describe, project_scene

    target = Path(args.target)
    if is_model_path(target):
        from ..meshio import read_scene

        scene = read_scene(target, units=args.units, up=args.up)
        facts = {"file": str(target), **describe(scene)}
    else:
        with _workspace() as ws:
            project = ws.load_project(args.target)
            facts = {"project": project.name, "project_id": project.id, **describe(project_scene(ws, project))}
            facts["versions"] = ws.project_row(project.id)["version_count"]
    out.result(facts, _info_text(facts))
    return 0


def _info_text(f: dict[str, Any]) -> str:
    head = f"file {f['file']}" if "file" in f else f"project {f['project']} ({f['project_id']})"
    lines = [head, f"  nodes: {f['nodes']}  vertices: {f['vertices']}  triangles: {f['triangles']}  materials: {f['materials']}"]
    if f["bounds"]:
        lo, hi = f["bounds"]
        size = " x ".join(f"{s:.4g}" for s in f["size"])
        lines.append(f"  bounds (m): [{', '.join(f'{v:.4g}' for v in lo)}] .. [{', '.join(f'{v:.4g}' for v in hi)}]  size {size}")
    lines.append(f"  watertight: {'yes' if f['watertight'] else 'no'}")
    for m in f["meshes"]:
        lines.append(f"    {m['node']}: {m['triangles']} triangles, {m['vertices']} vertices, "
                     f"{'watertight' if m['watertight'] else 'open'}")
    if f["material_names"]:
        lines.append(f"  materials: {', '.join(f['material_names'])}")
    return "\n".join(lines)


def _version_json(v: Any) -> dict[str, Any]:
    return {"id": v.id, "version_number": v.version_number, "notes": v.notes, "created_at": v.created_at}


def _require_edit(ws, key: str) -> None:
    from ..core.permissions import require

    require(ws.role(key), "edit", f"project {key!r}")


def cmd_version(args: argparse.Namespace, out: Output) -> int:
    with _workspace() as ws:
        if args.version_cmd in ("save", "restore"):
            _require_edit(ws, args.project)
        if args.version_cmd == "save":
            v = ws.save_version(args.project, notes=args.message)
            out.result(_version_json(v), f"saved version {v.version_number}")
        elif args.version_cmd == "list":
            from ..store.syncstate import SyncState

            versions = ws.list_versions(args.project)
            numbers = SyncState(ws)
            server = {v.id: numbers.server_number(v.id) for v in versions}
            synced = any(n is not None for n in server.values())  # this project has been synced
            text = "\n".join(f"{v.version_number:4d}  {v.created_at[:19]}  {v.notes}" + (
                f"  [server v{server[v.id]}]" if server[v.id] else "  [pending]" if synced else "") for v in versions)
            out.result([{**_version_json(v), "server_number": server[v.id]} for v in versions],
                       text or "no versions yet")
        else:
            v = ws.restore_version(args.project, args.number)
            out.result({**_version_json(v), "restored_from": args.number},
                       f"restored version {args.number} as version {v.version_number}")
    return 0


def cmd_version_diff(args: argparse.Namespace, out: Output) -> int:
    from ..review import version_diff

    with _workspace() as ws:
        changes = version_diff(ws, args.project, args.a, args.b)
    text = "\n".join(c.describe() for c in changes) or f"versions {args.a} and {args.b} are the same"
    out.result({"from": args.a, "to": args.b, "changes": [c.to_json() for c in changes]}, text)
    return 0


def _point(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not all(map(math.isfinite, values)):
        raise argparse.ArgumentTypeError(f"{text!r}: expected X,Y,Z (three numbers, metres)")
    return values


def _annotation_json(a: Any, number: Optional[int] = None) -> dict[str, Any]:
    data = a.to_json()
    if number is not None:
        data["number"] = number
    return data


def cmd_annotate(args: argparse.Namespace, out: Output) -> int:
    from .. import review

    with _workspace() as ws:
        project = ws.load_project(args.project)
        if args.annotate_cmd == "add":
            camera = None
            if args.camera is not None:
                preset = project.camera_presets.get(args.camera)
                if preset is None:
                    raise DStudioError(f"project {project.name!r} has no camera preset {args.camera!r}")
                camera = preset.view()
            else:
                default = project.camera_presets.default()
                camera = project.canvas_state.camera or (default.view() if default else None)
            position = review.surface_point(ws, project, args.point, args.node)
            a = review.add(ws, project, args.text, position, camera)
            out.result(_annotation_json(a), f"added annotation {a.id[:8]} on {project.scene_graph.find(position.node_id).name}")
        elif args.annotate_cmd == "list":
            found = review.threads(ws.list_annotations(project.id))
            if args.open:
                found = [t for t in found if not t.annotation.resolved]
            lines = []
            for t in found:
                a = t.annotation
                state = "resolved" if a.resolved else "open"
                lines.append(f"#{t.number} {a.id[:8]} [{state}] {a.content}")
                lines += [f"    ↳ {r.content}" for r in t.replies]
            data = [{**_annotation_json(t.annotation, t.number), "replies": [r.to_json() for r in t.replies]}
                    for t in found]
            out.result(data, "\n".join(lines) or "no annotations")
        elif args.annotate_cmd == "reply":
            a = review.reply(ws, project, args.id, args.text)
            out.result(_annotation_json(a), f"replied to {a.parent_id[:8]}")
        else:
            a = review.set_resolved(ws, project, args.id, args.annotate_cmd == "resolve")
            out.result(_annotation_json(a), f"annotation {a.id[:8]} is {'resolved' if a.resolved else 'open'}")
    return 0


def cmd_review_report(args: argparse.Namespace, out: Output) -> int:
    from ..report import write_report

    with _workspace() as ws:
        result = write_report(ws, args.project, Path(args.output))
    out.result(result, f"wrote {args.output}: {result['annotations']} annotations "
                       f"({result['open']} open, {result['resolved']} resolved)")
    return 0


def cmd_login(args: argparse.Namespace, out: Output) -> int:
    import getpass

    from ..sync.runner import sign_in

    email = args.email or input("Email: ").strip()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    session = sign_in(args.url, email, password, args.anon_key or os.environ.get("DSTUDIO_ANON_KEY", ""))
    out.result({"url": session.url, "user_id": session.user_id, "email": session.email},
               f"signed in to {session.url} as {session.email}")
    return 0


def cmd_logout(args: argparse.Namespace, out: Output) -> int:
    from ..sync.runner import sign_out

    session = sign_out()
    out.result({"signed_out": session is not None}, "signed out" if session else "was not signed in")
    return 0


def cmd_sync(args: argparse.Namespace, out: Output) -> int:
    from ..sync.runner import engine_for

    with _workspace() as ws:
        engine = engine_for(ws)
        try:
            report = _run_cancellable(out, lambda token: engine.run(progress=out.progress, cancel=token))
        finally:
            engine.client.close()
    out.result(report.to_json(), report.summary())
    return 0 if report.state == "up to date" else (3 if report.state == "offline" else 1)


def cmd_role(args: argparse.Namespace, out: Output) -> int:
    with _workspace() as ws:
        if args.role is not None:
            ws.set_role(args.project, args.role)
        role = ws.role(args.project)
    out.result({"project": args.project, "role": role}, f"your role on {args.project}: {role}")
    return 0


def cmd_sample(args: argparse.Namespace, out: Output) -> int:
    from ..sample import install_sample

    with _workspace() as ws:
        project = install_sample(ws)
    out.result({"id": project.id, "name": project.name}, project.id)
    return 0


def cmd_slice(args: argparse.Namespace, out: Output) -> int:
    from ..printing.service import SliceOptions, slice_target

    options = SliceOptions(
        printer=args.printer, material=args.material, layer_height=args.layer_height, infill=args.infill,
        supports=args.supports, adhesion=args.adhesion, color=args.color, scale_to_fit=args.scale_to_fit,
        repairs=tuple(r for r in (args.repair or "").split(",") if r), units=args.units, up=args.up,
    )
    with _workspace() as ws:
        report = _run_cancellable(
            out, lambda token: slice_target(args.target, args.output, options, ws=ws, progress=out.progress,
                                            cancel=token))
    minutes = report.estimated_time_s / 60
    lines = [f"wrote {report.output} with {report.slicer}",
             f"  {report.layers} layers, {int(minutes // 60)} h {int(minutes % 60)} min, "
             f"{report.filament_mm / 1000:.2f} m of filament ({report.filament_g:.1f} g {report.material})"]
    lines += [f"  {f.severity}: {f.message} — {f.suggestion}" for f in report.findings]
    if report.print_job_id:
        lines.append(f"  recorded print job {report.print_job_id} in project {report.project_id}")
    if report.repaired_node_id:
        lines.append(f"  the repaired part is a new node {report.repaired_node_id}; the original is unchanged")
    out.result(report.to_json(), "\n".join(lines))
    return 0


def cmd_reconstruct(args: argparse.Namespace, out: Output) -> int:
    from gpu.launch import ReconstructionRefused, run_worker

    from ..project_io import import_files

    output = Path(args.output)
    if output.suffix.lower() != ".glb":
        out.error(f"{output}: the output must be a .glb file")
        return 2
    if args.project:  # refuse before an hour of work, not after
        with _workspace() as ws:
            _require_edit(ws, args.project)
    try:
        report = _run_cancellable(out, lambda token: run_worker(
            Path(args.images), output, args.quality, args.device, Path(args.report) if args.report else None,
            progress=out.progress, cancel=token))
    except ReconstructionRefused as err:
        if not out.as_json:
            for finding in err.photos.get("findings", []):
                print(f"  {finding['file']}: {finding['problem']}", file=sys.stderr)
        out.error(f"{args.images}: {err.photos.get('refused')}")
        return 1
    lines = [f"wrote {output}: {report['faces']} triangles from {report['num_registered']} of "
             f"{report['num_images']} photos ({report['num_points']} points, "
             f"{report['mean_reprojection_error']:.2f} px) on {report['device']} in {report['seconds']:.0f} s"]
    lines += [f"  {stage}: {seconds:.1f} s" for stage, seconds in report["timings"].items()]
    lines += [f"  warning: {f['file']}: {f['problem']}" for f in report["findings"]]
    lines += [f"  not placed: {i['name']}" for i in report["images"] if not i["registered"]]
    result = {"output": str(output), "report": report}
    if args.project:
        with _workspace() as ws:
            imported = _run_cancellable(out, lambda token: import_files(ws, args.project, [output], progress=out.progress,
                                                                         cancel=token))
            version = ws.save_version(args.project, notes=f"Reconstructed from {report['num_registered']} photos "
                                                          f"in {Path(args.images).name}")
        node = imported.nodes[0]
        lines.append(f"added node {node.id} ({node.name}) to {args.project}; saved version {version.version_number}")
        result.update(node_id=node.id, asset_id=imported.assets[0].id, version=version.version_number)
    out.result(result, "\n".join(lines))
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"{text}: each side must be 16..8192 pixels")
    return w, h


def cmd_render(args: argparse.Namespace, out: Output) -> int:
    from ..render.headless import render_project, save_png

    with _workspace() as ws:
        image = render_project(ws, args.project, size=args.size, camera=args.camera)
    save_png(image, Path(args.output))
    out.result({"file": args.output, "width": int(image.shape[1]), "height": int(image.shape[0])},
               f"wrote {args.output} ({image.shape[1]}x{image.shape[0]})")
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
    lines = ["slicers:"] + ([f"  {s.name} {s.version} ({s.executable})" + ("" if s.usable else f": {s.problem}")
                             for s in slicers] or ["  none found"])
    lines += ["printers:"] + [f"  {p.id:12s} {p.name} ({' x '.join(f'{v:g}' for v in p.build_volume_mm)} mm)"
                              for p in printers().values()]
    lines += ["materials:"] + [f"  {m.id:6s} {m.name}, {m.density_g_cm3} g/cm3" for m in materials().values()]
    out.result(data, "\n".join(lines))
    return 0


def cmd_open(args: argparse.Namespace, out: Output) -> int:
    from ..ui.app import run_app

    return run_app(args.project)


# -- parser --------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dstudio", description="Design Studio Desktop: open, edit and convert 3D projects.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dstudio {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print a machine-readable result on stdout")
    frame = argparse.ArgumentParser(add_help=False)
    frame.add_argument("--units", help="unit of the file's coordinates (m, cm, mm, in, ft, um)")
    frame.add_argument("--up", choices=["y", "z"], help="the file's up axis")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, fn: Callable, help: str, parents: list = ()) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common, *parents], epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=fn)
        return p

    p = add("new", cmd_new, "create a project and print its id")
    p.add_argument("name")
    p.add_argument("--description", default="")
    add("list", cmd_list, "list the projects in the workspace")
    p = add("import", cmd_import, "import model files into a project", [frame])
    p.add_argument("project", help="project name or id")
    p.add_argument("files", nargs="+", metavar="FILE")
    p = add("export", cmd_export, "export a project or one node to a model file", [frame])
    p.add_argument("project", help="project name or id")
    p.add_argument("-o", "--output", required=True, help="output file; the format comes from its extension")
    p.add_argument("--node", help="export only this node (id or name) and its children")
    p = add("convert", cmd_convert, "convert a model file to another format")
    p.add_argument("input")
    p.add_argument("output")
    for side in ("in", "out"):
        p.add_argument(f"--{side}-units", help=f"unit of the {side}put file's coordinates")
        p.add_argument(f"--{side}-up", choices=["y", "z"], help=f"up axis of the {side}put file")
    p = add("info", cmd_info, "describe a model file or a project", [frame])
    p.add_argument("target", metavar="FILE|PROJECT")
    p = add("version", cmd_version, "save, list and restore versions")
    vsub = p.add_subparsers(dest="version_cmd", metavar="ACTION", required=True)
    v = vsub.add_parser("save", help="save the project's current state as a new version", parents=[common])
    v.add_argument("project")
    v.add_argument("-m", "--message", default="", help="notes for the version")
    v = vsub.add_parser("list", help="list the project's versions", parents=[common])
    v.add_argument("project")
    v = vsub.add_parser("restore", help="make version N current again (as a new version)", parents=[common])
    v.add_argument("project")
    v.add_argument("number", type=int)
    v = vsub.add_parser("diff", help="what changed from version A to version B", parents=[common])
    v.add_argument("project")
    v.add_argument("a", type=int)
    v.add_argument("b", type=int)
    v.set_defaults(func=cmd_version_diff)
    p = add("annotate", cmd_annotate, "pin review comments to a project's surface, reply, resolve")
    asub = p.add_subparsers(dest="annotate_cmd", metavar="ACTION", required=True)
    a = asub.add_parser("add", help="pin a comment at a point on a part's surface", parents=[common])
    a.add_argument("project")
    a.add_argument("--text", required=True)
    a.add_argument("--point", required=True, type=_point, help="X,Y,Z in metres, on a part's surface")
    a.add_argument("--node", help="the part (id or name); default: the part nearest the point")
    a.add_argument("--camera", help="the view to remember (a camera preset; default: the current view)")
    a = asub.add_parser("list", help="list annotations and their replies", parents=[common])
    a.add_argument("project")
    a.add_argument("--open", action="store_true", help="only those not resolved")
    a = asub.add_parser("reply", help="reply to an annotation", parents=[common])
    a.add_argument("project")
    a.add_argument("id", help="the annotation's id (or the start of it)")
    a.add_argument("--text", required=True)
    for action, what in (("resolve", "mark an annotation resolved"), ("reopen", "open a resolved annotation again")):
        a = asub.add_parser(action, help=what, parents=[common])
        a.add_argument("project")
        a.add_argument("id", help="the annotation's id (or the start of it)")
    p = add("review-report", cmd_review_report, "write a review report (summary, then a page per annotation)")
    p.add_argument("project")
    p.add_argument("-o", "--output", required=True, help="report.pdf or report.html")
    p = add("login", cmd_login, "sign in to a Supabase-style backend (the session is kept in the system keyring)")
    p.add_argument("--url", required=True, help="the backend's URL")
    p.add_argument("--email")
    p.add_argument("--anon-key", help="the project's anon key (or $DSTUDIO_ANON_KEY)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add("logout", cmd_logout, "sign out and forget the session")
    add("sync", cmd_sync, "run one sync cycle: send local changes, fetch the server's (exit 3 when offline)")
    p = add("role", cmd_role, "show or set your role on a project (owner, editor, reviewer, viewer)")
    p.add_argument("project")
    p.add_argument("role", nargs="?", choices=["owner", "editor", "reviewer", "viewer"])
    p = add("slice", cmd_slice, "check a part and slice it to G-code with the attached slicer", [frame])
    p.add_argument("target", metavar="MODEL_OR_PROJECT[:NODE]", help="a model file, a project, or project:node")
    p.add_argument("-o", "--output", required=True, help="the G-code file to write")
    p.add_argument("--printer", default="ender3", help="printer profile id or name (see 'dstudio printers')")
    p.add_argument("--material", default="PLA", help="material profile (PLA, PETG, ABS, TPU, ...)")
    p.add_argument("--layer-height", type=float, default=0.2, help="mm (default 0.2)")
    p.add_argument("--infill", type=float, default=20.0, help="percent (default 20)")
    p.add_argument("--supports", action="store_true", help="generate support structures")
    p.add_argument("--adhesion", default="skirt", choices=["none", "skirt", "brim", "raft"])
    p.add_argument("--color", help="filament colour, recorded with the print job")
    p.add_argument("--scale-to-fit", action="store_true", help="shrink a part that does not fit the printer")
    p.add_argument("--repair", metavar="LIST", help="comma-separated: holes, normals, degenerate, flat "
                   "(a repaired project part becomes a new node; the original is unchanged)")
    p = add("render", cmd_render, "render a project to a PNG without opening a window")
    p.add_argument("project")
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--camera", help="a saved camera preset (default: the project's default view)")
    p.add_argument("--size", type=_size, default=(1280, 800), help="WIDTHxHEIGHT (default 1280x800)")
    p = add("reconstruct", cmd_reconstruct, "reconstruct a coloured mesh from a folder of photos")
    p.add_argument("images", metavar="IMAGES_DIR", help="a folder of photos of one object from all around")
    p.add_argument("-o", "--output", required=True, help="the .glb file to write")
    p.add_argument("--quality", choices=["draft", "normal", "high"], default="normal")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="auto uses CUDA when torch sees a GPU (default)")
    p.add_argument("--report", metavar="REPORT.json", help="write the reconstruction report here")
    p.add_argument("--project", help="add the mesh to this project as an asset and a node, and save a version")
    add("printers", cmd_printers, "list slicers found on this machine, printer and material profiles")
    add("sample", cmd_sample, "add the bundled sample project to the workspace and print its id")
    p = add("open", cmd_open, "open the app on a project (default: the sample project)")
    p.add_argument("project", nargs="?")
    return parser


def _log_crash() -> Path:
    from ..store.paths import workspace_home

    log = workspace_home() / "logs" / "crash.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as fh:
            fh.write(traceback.format_exc() + "\n")
    except OSError:
        pass
    return log


def main(argv: Optional[list[str]] = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from ..ui.app import run_app

        return run_app(None)
    out = Output(getattr(args, "json", False))
    try:
        return args.func(args, out)
    except DStudioError as err:
        out.error(str(err))
        return 130 if type(err).__name__ == "Cancelled" else 1
    except KeyboardInterrupt:
        out.error("cancelled")
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away; say nothing more and exit as a pipe writer should
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as err:  # noqa: BLE001 - a bug: say so in one line, keep the traceback in the log
        log = _log_crash()
        out.error(f"internal error ({type(err).__name__}: {err}); details in {log}")
        return 70


if __name__ == "__main__":
    sys.exit(main())

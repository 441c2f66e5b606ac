"""The ``dstudio`` command line. Run with no command to open the app on the sample project.

This module builds the parser, dispatches to the handlers (one module per area: projects, versions,
review, printing, reconstruct, account) and turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path
from typing import Callable, Optional

from .. import __version__
from ..errors import DStudioError
from ..meshio import units_help
from . import account, cloud, printing, projects, reconstruct, review, versions
from .common import _point, _size, open_app
from .output import Output

EPILOG = (
    "Units and up axis: the scene is metres and Y-up, as glTF is. Files without a unit are read as:\n"
    + units_help()
    + "\n(3MF files that declare a unit use it.) Override with --units {m,cm,mm,in,ft,um} and --up {y,z}.\n"
    "The workspace lives in $DSTUDIO_HOME, or the platform's user data folder when it is unset."
)


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

    p = add("new", projects.cmd_new, "create a project and print its id")
    p.add_argument("name")
    p.add_argument("--description", default="")
    add("list", projects.cmd_list, "list the projects in the workspace")
    p = add("import", projects.cmd_import, "import model files into a project", [frame])
    p.add_argument("project", help="project name or id")
    p.add_argument("files", nargs="+", metavar="FILE")
    p = add("export", projects.cmd_export, "export a project or one node to a model file", [frame])
    p.add_argument("project", help="project name or id")
    p.add_argument("-o", "--output", required=True, help="output file; the format comes from its extension")
    p.add_argument("--node", help="export only this node (id or name) and its children")
    p.add_argument("--cloud", metavar="PRESET", choices=["normal", "web", "lod"],
                   help="optimise on the server for credits (prices shown first): normal = compressed and "
                        "quantised GLB, web = also simplified to half, lod = three levels of detail")
    p.add_argument("--yes", action="store_true", help="with --cloud: accept the price without a question")
    p.add_argument("--no-wait", action="store_true", help="with --cloud: submit and print the job's id")
    p = add("convert", projects.cmd_convert, "convert a model file to another format")
    p.add_argument("input")
    p.add_argument("output")
    for side in ("in", "out"):
        p.add_argument(f"--{side}-units", help=f"unit of the {side}put file's coordinates")
        p.add_argument(f"--{side}-up", choices=["y", "z"], help=f"up axis of the {side}put file")
    p = add("info", projects.cmd_info, "describe a model file or a project", [frame])
    p.add_argument("target", metavar="FILE|PROJECT")
    p = add("version", versions.cmd_version, "save, list and restore versions")
    vsub = p.add_subparsers(dest="version_cmd", metavar="ACTION", required=True)
    v = vsub.add_parser("save", help="save the project's current state as a new version", parents=[common])
    v.add_argument("project")
    v.add_argument("-m", "--message", default="", help="notes for the version")
    v.add_argument("--no-thumbnail", action="store_true", help="save without drawing a thumbnail of the view")
    v = vsub.add_parser("list", help="list the project's versions", parents=[common])
    v.add_argument("project")
    v = vsub.add_parser("restore", help="make version N current again (as a new version)", parents=[common])
    v.add_argument("project")
    v.add_argument("number", type=int)
    v = vsub.add_parser("diff", help="what changed from version A to version B", parents=[common])
    v.add_argument("project")
    v.add_argument("a", type=int)
    v.add_argument("b", type=int)
    v.set_defaults(func=versions.cmd_version_diff)
    p = add("annotate", review.cmd_annotate, "pin review comments to a project's surface, reply, resolve")
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
    p = add("review-report", review.cmd_review_report, "write a review report (summary, then a page per annotation)")
    p.add_argument("project")
    p.add_argument("-o", "--output", required=True, help="report.pdf or report.html")
    for name, what in (("login", "sign in to a Supabase-style backend (the session is kept in the system keyring)"),
                       ("signup", "create an account on a Supabase-style backend and sign in")):
        p = add(name, account.cmd_login, what)
        p.add_argument("--url", required=True, help="the backend's URL")
        p.add_argument("--email")
        p.add_argument("--anon-key", help="the project's anon key (or $DSTUDIO_ANON_KEY)")
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add("logout", account.cmd_logout, "sign out and forget the session")
    add("sync", account.cmd_sync, "run one sync cycle: send local changes, fetch the server's (exit 3 when offline)")
    p = add("role", projects.cmd_role, "show or set your role on a project (owner, editor, reviewer, viewer)")
    p.add_argument("project")
    p.add_argument("role", nargs="?", choices=["owner", "editor", "reviewer", "viewer"])
    p = add("slice", printing.cmd_slice, "check a part and slice it to G-code with the attached slicer", [frame])
    p.add_argument("target", nargs="+", metavar="MODEL_OR_PROJECT[:NODE]",
                   help="a model file, a project, or project:node; several make one plate")
    printing.add_slice_arguments(p)
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
    p = add("render", projects.cmd_render, "render a project to a PNG without opening a window")
    p.add_argument("project")
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--camera", help="a saved camera preset (default: the project's default view)")
    p.add_argument("--size", type=_size, default=(1280, 800), help="WIDTHxHEIGHT (default 1280x800)")
    p.add_argument("--supersample", type=int, choices=[1, 2, 3, 4], default=1,
                   help="draw N x N samples per pixel and average them (smoother edges)")
    p.add_argument("--transparent", action="store_true", help="leave the background out (a PNG with alpha)")
    p = add("reconstruct", reconstruct.cmd_reconstruct, "reconstruct a coloured mesh from a folder of photos")
    p.add_argument("images", metavar="IMAGES_DIR", help="a folder of photos of one object from all around, or a "
                   "video (.mp4, .mov, ...) walking round it: its sharp frames with motion between them are used")
    p.add_argument("-o", "--output", required=True, help="the .glb file to write")
    p.add_argument("--quality", choices=["draft", "normal", "high"], default="normal")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="auto uses CUDA when torch sees a GPU (default)")
    p.add_argument("--report", metavar="REPORT.json", help="write the reconstruction report here")
    p.add_argument("--project", help="add the mesh to this project as an asset and a node, and save a version")
    p.add_argument("--cloud", action="store_true", help="run it on the backend's workers (prints the price first)")
    p.add_argument("--yes", action="store_true", help="with --cloud: accept the price without asking")
    p.add_argument("--no-wait", action="store_true", help="with --cloud: submit, print the job's id and return")
    cloud.register(add, common)
    add("printers", printing.cmd_printers, "list slicers found on this machine, printer and material profiles")
    printing.add_print_server_commands(add)
    add("sample", projects.cmd_sample, "add the bundled sample project to the workspace and print its id")
    p = add("open", projects.cmd_open, "open the app on a project (default: the sample project)")
    p.add_argument("project", nargs="?")
    return parser


def _log_crash() -> Path:
    from ..settings import crash_log

    log = crash_log()
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
    out = Output(getattr(args, "json", False))
    try:
        if args.command is None:
            return open_app(None)
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

"""Handlers for project and model-file commands: new, list, import, export, convert, info, sample,
role, render and open."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import _run_cancellable, _workspace, open_app
from .output import Output


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


def cmd_import(args: argparse.Namespace, out: Output) -> int:
    from ..services.geometry import import_files

    with _workspace() as ws:
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
    from ..services.models import export_local

    if args.cloud:
        from .cloud import cmd_export_cloud

        return cmd_export_cloud(args, out)

    with _workspace() as ws:
        written = export_local(ws, args.project, args.output, node_id=args.node, units=args.units, up=args.up)
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
    from ..services.models import describe, project_scene

    target = Path(args.target)
    if target.is_file() or (is_model_path(target) and not _names_project(args.target)):
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


def _names_project(key: str) -> bool:
    """Whether ``key`` is a project's name or id (a project may be called "lamp.glb")."""
    from ..errors import DStudioError

    with _workspace() as ws:
        try:
            ws.resolve_project(key)
            return True
        except DStudioError:
            return False


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


def cmd_role(args: argparse.Namespace, out: Output) -> int:
    with _workspace() as ws:
        if args.role is not None:
            ws.set_role(args.project, args.role)
        role = ws.role(args.project)
    out.result({"project": args.project, "role": role}, f"your role on {args.project}: {role}")
    return 0


def cmd_sample(args: argparse.Namespace, out: Output) -> int:
    from ..services.sample import install_sample

    with _workspace() as ws:
        project = install_sample(ws)
    out.result({"id": project.id, "name": project.name}, project.id)
    return 0


def cmd_render(args: argparse.Namespace, out: Output) -> int:
    from ..render.headless import save_png
    from ..services.images import render_project

    info: dict = {}
    with _workspace() as ws:
        image = _run_cancellable(out, lambda token: render_project(
            ws, args.project, size=args.size, camera=args.camera, supersample=args.supersample,
            transparent=args.transparent, progress=out.progress, cancel=token, info=info))
    save_png(image, Path(args.output))
    out.result({"file": args.output, "width": int(image.shape[1]), "height": int(image.shape[0]),
                "backend": info.get("backend"), "renderer": info.get("renderer")},
               f"wrote {args.output} ({image.shape[1]}x{image.shape[0]}, {info.get('backend', 'GL')})")
    return 0


def cmd_open(args: argparse.Namespace, out: Output) -> int:
    return open_app(args.project)

"""Handler for ``dstudio reconstruct``: a mesh from a folder of photos, optionally added to a project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import _run_cancellable, _workspace
from .output import Output


def cmd_reconstruct(args: argparse.Namespace, out: Output) -> int:
    from ..jobs.reconstruct import ReconstructionRefused, run_worker
    from ..services.geometry import add_reconstruction

    output = Path(args.output)
    if output.suffix.lower() != ".glb":
        out.error(f"{output}: the output must be a .glb file")
        return 2
    if getattr(args, "cloud", False):
        from .cloud import cmd_reconstruct_cloud

        return cmd_reconstruct_cloud(args, out)
    if args.project:  # refuse before an hour of work, not after
        with _workspace() as ws:
            ws.require(args.project, "edit")
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
    why = report.get("unregistered_why", {})
    lines += [f"  not placed: {i['name']}" + (f": {why[i['name']]}" if i["name"] in why else "")
              for i in report["images"] if not i["registered"]]
    result = {"output": str(output), "report": report}
    if args.project:
        with _workspace() as ws:
            imported, version = _run_cancellable(out, lambda token: add_reconstruction(
                ws, args.project, output, {**report, "images_folder": str(args.images)}, progress=out.progress,
                cancel=token))
        node = imported.nodes[0]
        lines.append(f"added node {node.id} ({node.name}) to {args.project}; saved version {version.version_number}")
        result.update(node_id=node.id, asset_id=imported.assets[0].id, version=version.version_number)
    out.result(result, "\n".join(lines))
    return 0

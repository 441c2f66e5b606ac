"""Handlers for review commands: ``dstudio annotate`` and ``dstudio review-report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Optional

from ..errors import DStudioError
from .common import _workspace
from .output import Output


def _annotation_json(a: Any, number: Optional[int] = None) -> dict[str, Any]:
    data = a.to_json()
    if number is not None:
        data["number"] = number
    return data


def cmd_annotate(args: argparse.Namespace, out: Output) -> int:
    from ..services import review

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
    from ..services.report import write_report

    with _workspace() as ws:
        result = write_report(ws, args.project, Path(args.output), pdf_writer=_pdf_writer(args.output))
    out.result(result, f"wrote {args.output}: {result['annotations']} annotations "
                       f"({result['open']} open, {result['resolved']} resolved)")
    return 0


def _pdf_writer(output: str):
    """Qt's PDF writer, when a PDF is asked for (it lives in the desktop part: ui/)."""
    from importlib.util import find_spec

    if not output.lower().endswith(".pdf") or find_spec("PySide6") is None:
        return None  # installed without the desktop extra: write_report says what to do instead
    from ..ui.report_pdf import html_to_pdf

    return html_to_pdf

"""The review report: a summary table, then one section per annotation with a render from
its captured camera showing its pin, its text and thread, status and version. Written as
HTML (images inline) or as PDF, through a writer the caller hands in (Qt's, in ``ui/``: only
the UI layer touches Qt)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..atomic import atomic_write
from ..errors import DStudioError
from .review import threads

#: Turns the report's HTML and its images (by the names the HTML uses) into PDF bytes.
PdfWriter = Callable[[str, dict[str, bytes]], bytes]

IMAGE_SIZE = (960, 600)


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image[..., :3]).save(buf, format="PNG")
    return buf.getvalue()


def build(ws, key: str) -> tuple[str, dict[str, bytes], dict]:
    """The report's HTML (images referenced as ``pinN.png``), the images, and a summary."""
    from ..render.pins import annotation_pins
    from .images import render_project

    project = ws.load_project(key)
    versions = ws.list_versions(project.id)
    numbers = {v.id: v.version_number for v in versions}
    shown = versions[-1].id if versions else None
    found = threads(ws.list_annotations(project.id))
    names = {ws.local_profile()["id"]: ws.local_profile()["display_name"]}
    pins = annotation_pins(found, project, numbers, shown)
    images: dict[str, bytes] = {}
    rows, sections = [], []
    for t in found:
        a = t.annotation
        status = "resolved" if a.resolved else "open"
        version = f"v{numbers[a.version_id]}" if a.version_id in numbers else "working copy"
        author = names.get(a.author_id, a.author_id or "unknown")
        node = project.scene_graph.find(a.position.node_id) if a.position else None
        part = node.name if node else "(part removed)"
        rows.append(f"<tr><td>{t.number}</td><td>{html.escape(_short(a.content))}</td><td>{html.escape(part)}</td>"
                    f"<td>{status}</td><td>{version}</td><td>{html.escape(author)}</td><td>{a.created_at[:10]}</td>"
                    f"<td>{len(t.replies)}</td></tr>")
        image_name = f"pin{t.number}.png"
        images[image_name] = _png(render_project(ws, project.id, size=IMAGE_SIZE, view=_facing_pin(a), pins=pins,
                                                 selected_pin=a.id))
        replies = "".join(f"<li><b>{html.escape(names.get(r.author_id, r.author_id or 'unknown'))}</b> "
                          f"({r.created_at[:16].replace('T', ' ')}): {html.escape(r.content)}</li>" for r in t.replies)
        sections.append(
            f"<h2>{t.number}. {html.escape(_short(a.content, 60))}</h2>"
            f"<p><b>Status:</b> {status} &nbsp; <b>Version:</b> {version} &nbsp; <b>Part:</b> {html.escape(part)}"
            f" &nbsp; <b>Author:</b> {html.escape(author)} &nbsp; <b>Date:</b> {a.created_at[:16].replace('T', ' ')}</p>"
            f'<p><img src="{image_name}" width="{IMAGE_SIZE[0] * 7 // 8}" height="{IMAGE_SIZE[1] * 7 // 8}"></p>'
            f"<p>{html.escape(a.content)}</p>" + (f"<ul>{replies}</ul>" if replies else ""))
    open_count = sum(not t.annotation.resolved for t in found)
    summary = {"project": project.name, "annotations": len(found), "open": open_count,
               "resolved": len(found) - open_count}
    body = (f"<h1>Review: {html.escape(project.name)}</h1>"
            f"<p>{len(found)} annotations: {open_count} open, {len(found) - open_count} resolved.</p>"
            "<table border='1' cellspacing='0' cellpadding='4'><tr><th>#</th><th>Comment</th><th>Part</th>"
            "<th>Status</th><th>Version</th><th>Author</th><th>Date</th><th>Replies</th></tr>"
            + "".join(rows) + "</table>" + "".join(sections))
    page = f"<html><head><meta charset='utf-8'><title>Review: {html.escape(project.name)}</title></head><body>{body}</body></html>"
    return page, images, summary


def _facing_pin(annotation):
    """The captured camera, slid sideways so the pin is in the middle of the picture: the same
    direction, distance and lens as the reviewer's view."""
    view = annotation.camera_state
    if view is None or annotation.position is None:
        return view
    point = np.asarray(annotation.position.point, float)
    offset = np.subtract(view.eye, view.target)
    return view.model_copy(update={"eye": tuple(point + offset), "target": tuple(point)})


def _short(text: str, limit: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def write_report(ws, key: str, output: Path, pdf_writer: Optional[PdfWriter] = None) -> dict:
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise DStudioError(f"{output}: the report is written as .pdf or .html")
    if suffix == ".pdf" and pdf_writer is None:
        raise DStudioError(f"{output}: writing PDF needs the desktop part of Design Studio; write .html instead")
    page, images, summary = build(ws, key)
    if suffix == ".pdf":
        data = pdf_writer(page, images)
    else:
        for name, png in images.items():
            page = page.replace(f'src="{name}"', f'src="data:image/png;base64,{base64.b64encode(png).decode()}"')
        data = page.encode("utf-8")
    try:
        atomic_write(output, data)
    except OSError as err:
        raise DStudioError(f"{output}: cannot write the report: {err}") from None
    return {**summary, "file": str(output), "sections": len(images)}

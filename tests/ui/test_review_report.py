"""The review report, read back: a summary and a section per annotation, each with a render
whose centre shows the pinned part."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from dstudio_desktop.services import review
from dstudio_desktop.services.models import load_mesh
from dstudio_desktop.services.sample import install_sample
from dstudio_desktop.store import Workspace

pytestmark = pytest.mark.gui
SAMPLE = "Sample: desk lamp"


def _five_annotations(home: Path) -> None:
    """Five pins where a reviewer would click: the first hit of a ray from the camera towards
    each part (the Shade twice, higher up the second time)."""
    from dstudio_desktop.core.picking import MeshPicker

    with Workspace() as ws:
        install_sample(ws)
        project = ws.load_project(SAMPLE)
        camera = project.camera_presets.default().view()
        eye = np.asarray(camera.eye, float)
        parts = [n for n, _ in project.scene_graph.walk() if n.kind == "mesh"]
        shade = next(n for n in parts if n.name == "Shade")
        for i, node in enumerate([*parts, shade]):
            mesh = load_mesh(ws, node.asset_id)
            world = project.scene_graph.world_matrix(node.id)
            inv = np.linalg.inv(world)
            aim = world[:3, :3] @ mesh.bounds().mean(axis=0) + world[:3, 3] + (0.0, 0.03 if i == 4 else 0.0, 0.0)
            t, face = MeshPicker(mesh.positions, mesh.faces).intersect(inv[:3, :3] @ eye + inv[:3, 3],
                                                                       inv[:3, :3] @ (aim - eye))
            hit = eye + (aim - eye) * t
            made = review.add(ws, project, f"note {i + 1} on {node.name}",
                              review.surface_point(ws, project, hit, node.id), camera)
            if i == 1:
                review.reply(ws, project, made.id, "a reply in the thread")
                review.set_resolved(ws, project, made.id, True)


def test_review_report_pdf_has_a_summary_and_a_section_with_a_picture_per_annotation(cli, home, tmp_path):
    _five_annotations(home)
    out = tmp_path / "review.pdf"
    result = cli("review-report", SAMPLE, "-o", str(out), "--json", timeout=180)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sections"] == 5
    reader = PdfReader(out)
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())  # Qt writes tabs between words
    assert "5 annotations: 4 open, 1 resolved" in text
    for i in range(1, 6):
        assert f"{i}. note {i} on" in text
    assert "a reply in the thread" in text
    images = [np.asarray(Image.open(io.BytesIO(image.data)).convert("RGB")).astype(float)
              for page in reader.pages for image in page.images]
    assert len(images) == 5
    # the centre of each picture is the pinned part: hiding that part changes it
    from dstudio_desktop.render.pins import annotation_pins
    from dstudio_desktop.services.images import render_project
    from dstudio_desktop.services.report import IMAGE_SIZE, _facing_pin

    with Workspace() as ws:
        found = review.threads(ws.list_annotations(ws.resolve_project(SAMPLE)))
        pins = annotation_pins(found, ws.load_project(SAMPLE), {}, None)
        for thread, image in zip(found, images, strict=True):
            project = ws.load_project(SAMPLE)
            project.scene_graph.find(thread.annotation.position.node_id).visible = False
            ws.save_project(project)
            without = render_project(ws, SAMPLE, size=IMAGE_SIZE, view=_facing_pin(thread.annotation), pins=pins,
                                     selected_pin=thread.annotation.id)
            project.scene_graph.find(thread.annotation.position.node_id).visible = True
            ws.save_project(project)
            h, w = image.shape[:2]
            window = (slice(int(h * 0.45), int(h * 0.55)), slice(int(w * 0.45), int(w * 0.55)))
            changed = np.abs(image[window] - without[window][..., :3].astype(float)).max(axis=-1) > 12
            assert changed.mean() > 0.05, f"{thread.annotation.content}: the centre shows its part"


def test_review_report_html_embeds_its_images(cli, home, tmp_path):
    _five_annotations(home)
    out = tmp_path / "review.html"
    assert cli("review-report", SAMPLE, "-o", str(out), timeout=180).returncode == 0
    page = out.read_text()
    assert page.count("data:image/png;base64,") == 5 and "<table" in page
    bad = cli("review-report", SAMPLE, "-o", str(tmp_path / "review.docx"))
    assert bad.returncode == 1 and ".pdf or .html" in bad.stderr

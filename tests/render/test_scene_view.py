"""View tier: a SceneView built straight from a model, no window; and the rule that the
preparation module stays importable without vispy or Qt (worker threads, headless code)."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import trimesh

from dstudio_desktop.core import Node, Project, SceneGraph
from dstudio_desktop.core.schema import new_id
from dstudio_desktop.meshio import MeshData


def test_prepare_imports_neither_vispy_nor_qt() -> None:
    code = ("import sys, dstudio_desktop.render.prepare\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'vispy', 'PySide6'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def ball() -> tuple[Project, MeshData]:
    sphere = trimesh.creation.icosphere(subdivisions=3)
    mesh = MeshData(np.asarray(sphere.vertices, np.float32), np.asarray(sphere.faces, np.uint32)).validated("ball")
    asset_id = new_id()
    project = Project(name="p", scene_graph=SceneGraph(nodes=[Node(name="ball", kind="mesh", asset_id=asset_id)]))
    return project, mesh


def test_close_waits_for_running_work_and_cancels_queued(ball, monkeypatch) -> None:
    """Closing a scene view while a stand-in is being made: close() returns only after that
    work has ended, queued work never starts, and no worker thread is left running."""
    from vispy import scene

    from dstudio_desktop.render import prepare, scene_view
    from dstudio_desktop.render.prepare import PreparedAsset

    project, mesh = ball
    asset_id = project.scene_graph.nodes[0].asset_id
    monkeypatch.setattr(scene_view, "LOD_TRIANGLES", 10)
    monkeypatch.setattr(scene_view, "BACKGROUND_WORKERS", 1)   # so the picker build has to queue
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_coarse(mesh, targets):
        started.set()
        release.wait(5)
        finished.set()

    picker_built = threading.Event()
    monkeypatch.setattr(prepare, "coarse_displays", slow_coarse)
    monkeypatch.setattr(scene_view, "MeshPicker", lambda *a: picker_built.set())

    view = scene_view.SceneView(project, lambda _: mesh, scene.Node())
    assert view.coarse_display(asset_id) is None           # asked for: being made in the background
    assert started.wait(5)
    view.preload(asset_id, PreparedAsset(mesh, prepare.prepare_display(mesh), None))  # queues a picker build
    threading.Timer(0.2, release.set).start()
    view.close()
    assert finished.is_set()                               # the running stand-in ended before close returned
    assert not picker_built.is_set()                       # the queued picker build was cancelled
    assert view.coarse_display("another") is None                # asking after close starts nothing
    assert not [t for t in threading.enumerate() if t.name.startswith("scene-view") and t.is_alive()]


def test_view_follows_its_model_until_closed(ball) -> None:
    from vispy import scene

    from dstudio_desktop.render.scene_view import SceneView

    project, mesh = ball
    node = project.scene_graph.nodes[0]
    view = SceneView(project, lambda _: mesh, scene.Node())
    node_view = view.node_views[node.id]
    assert node_view.visual.visible and view.triangle_count() == mesh.triangle_count
    node.visible = False
    assert not node_view.visual.visible and view.triangle_count() == 0
    view.close()
    node.visible = True                                    # a closed view no longer listens
    assert not node_view.visual.visible and node_view.visual.parent is None


def test_creases_split_the_vertices_that_smooth_surfaces_share() -> None:
    """Hard edges shade crisply: a cube's 8 corners become 24 (3 faces' own), a cylinder's rim
    is split from its side but its side stays one smooth band, and a smooth closed torus keeps
    every vertex shared; the geometry drawn is the same triangles either way."""
    import trimesh

    from dstudio_desktop.render.prepare import split_at_creases

    for mesh, expected in ((trimesh.creation.box(), 24),
                           (trimesh.creation.cylinder(radius=1, height=2, sections=32), 130),
                           (trimesh.creation.torus(major_radius=1, minor_radius=0.3, major_sections=40,
                                                   minor_sections=16), 640)):
        vertices, faces = split_at_creases(mesh.vertices.astype(np.float32), mesh.faces.astype(np.uint32))
        assert len(vertices) == expected
        assert np.allclose(vertices[faces], mesh.vertices[mesh.faces], atol=1e-6)

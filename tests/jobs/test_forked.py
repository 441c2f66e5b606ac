"""A function run in a forked child, its arrays handed back through shared pages. Each test
runs in a fresh interpreter: forking is only allowed while a process runs a single thread,
and pytest's process (Qt, xdist) runs several."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import trimesh


def _run(code: str, *args: str, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_childs_arrays_arrive_whole_and_writable_and_its_errors_as_raised() -> None:
    out = _run("""
        import os, numpy as np
        from dstudio_desktop.jobs.forked import ForkedCall, ChildLost
        from dstudio_desktop.errors import DocumentError
        assert ForkedCall.possible()
        def work():
            rng = np.random.default_rng(7)
            big = rng.random((300_000, 3)).astype(np.float32)
            return {"big": big, "same": big, "faces": np.arange(12, dtype=np.uint32).reshape(4, 3),
                    "pid": os.getpid(), "text": "ok"}
        call = ForkedCall(work)
        got = call.result()
        want = np.random.default_rng(7).random((300_000, 3)).astype(np.float32)
        assert got["pid"] != os.getpid() and got["text"] == "ok"
        assert np.array_equal(got["big"], want) and got["big"].dtype == np.float32
        assert got["same"] is got["big"]                      # one array, sent once
        assert got["faces"].tolist() == np.arange(12).reshape(4, 3).tolist()
        got["big"][0] = 5.0                                    # copy-on-write pages: writable here
        assert call.done() and call.result() is got
        def refuse():
            raise DocumentError("scene_graph", "nodes[0].name", "is empty")   # wants three arguments
        try:
            ForkedCall(refuse).result()
        except Exception as err:
            print(type(err).__name__, "|", err)
        def die():
            os._exit(3)
        try:
            ForkedCall(die).result()
        except ChildLost as err:
            print("lost |", err)
        """)
    refused, lost = out.strip().splitlines()
    assert refused.startswith("DStudioError | ") and "nodes[0].name" in refused and "is empty" in refused
    assert lost == "lost | the child process ended without an answer"


def test_no_fork_once_another_thread_runs() -> None:
    out = _run("""
        import threading, time
        from dstudio_desktop.jobs.forked import ForkedCall
        before = ForkedCall.possible()
        t = threading.Thread(target=time.sleep, args=(1,)); t.start()
        print(before, ForkedCall.possible())
        """)
    assert out.split() == ["True", "False"]


def test_a_model_file_opened_at_start_is_read_stored_and_prepared_in_a_child(tmp_path: Path) -> None:
    """As `dstudio open part.glb` starts (before Qt): the reading runs in a forked child, and
    the parent gets the stored project, its drawing data and the light it is shown in."""
    import os

    part = tmp_path / "ring.glb"
    shape = trimesh.creation.annulus(r_min=0.02, r_max=0.05, height=0.03, sections=48)
    shape.export(part)
    env = {**os.environ, "DSTUDIO_HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = _run("""
        import os, sys
        from dstudio_desktop.ui.app import models_before_qt, start_reading
        from dstudio_desktop.jobs.forked import ForkedCall
        models_before_qt()
        reading = start_reading(sys.argv[1])
        assert isinstance(reading.future, ForkedCall), type(reading.future)
        from dstudio_desktop.render import ibl
        from dstudio_desktop.sync.runner import open_workspace
        with open_workspace() as ws:
            project, prepared = reading.project(ws)
            (asset_id, asset), = prepared.items()
            node, = [n for n, _ in project.scene_graph.walk()]
            print(project.name, node.asset_id == asset_id, asset.mesh.triangle_count, len(asset.display.faces),
                  asset.display.vertices.dtype, len(ibl._CACHE), ibl._BRDF_LUT is not None,
                  ws.get_asset(asset_id).metadata["triangle_count"])
        """, str(part), env=env)
    name, linked, triangles, drawn, dtype, environments, lut, stored = out.split()
    assert (name, linked, dtype, lut) == ("ring", "True", "float32", "True")
    assert int(triangles) == int(drawn) == int(stored) == len(shape.faces)
    assert int(environments) == 1      # prepared in the child, held by the parent

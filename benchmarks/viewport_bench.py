"""A 2M-triangle part in the viewport: load-to-first-frame and orbit frame times at 1280x800,
beside F3D on the same file with the same Mesa renderer, same run.

The viewport draws as a new project does: PBR shading, the studio environment's image-based
light and the key light's soft shadows on the ground (and on the part) all on. Then the same
orbit with the shadows off and with the environment light off gives what each costs, and a
frame in which the part moved (so the shadow maps are remade) gives the shadow pass's cost.
F3D is timed plain and with the same environment as its --hdri light.

Ours: a fresh process imports the GLB into a workspace, opens it in the real main window and
reports when the first frame has been drawn; then it orbits the camera through 40 steps,
repainting synchronously, and reports the median frame time, first of the full mesh (as a
preset's fly-to draws it) and then as a user's drag draws it (the decimated stand-in). F3D: `f3d --output` renders the
same file once at the same size and exits; its wall time is load-to-first-frame (F3D has no
scriptable orbit, so only that figure is compared).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trimesh

OUT = Path(__file__).resolve().parent / "out"
SIZE = (1280, 800)

OURS = r"""
import sys, time, json, statistics
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
from vispy import app as vapp
app = QApplication(sys.argv[:1]); vapp.use_app("pyside6")
from dstudio_desktop.store import Workspace
from dstudio_desktop.services.geometry import import_files
from dstudio_desktop.ui.main_window import MainWindow
from dstudio_desktop.core import camera_math as cm
ws = Workspace(sys.argv[2]); p = ws.create_project("bench"); import_files(ws, p.id, [sys.argv[1]])
w = MainWindow(ws); w.open_project(p.id)
for dock in w.findChildren(type(w.outliner).__mro__[1]):
    dock.hide()
w.resize(1280, 800); w.show()
native = w.viewport.canvas.native
drawn = []
w.viewport.canvas.events.draw.connect(lambda e: drawn.append(time.perf_counter()), position="last")
# a large project opens on a worker: the first frame that counts is the first with the part in it
while not drawn or w.viewport.scene_view is None or not w.viewport.scene_view.node_views:
    if w.viewport.scene_view is None or not w.viewport.scene_view.node_views:
        drawn.clear()
    app.processEvents()
    time.sleep(0.002)  # millions of bare processEvents() calls crash PySide6 (a None refcount bug)
first = drawn[0] - t0
w.fit_all(); app.processEvents()
times = []
for i in range(40):
    w.apply_camera(cm.orbit(w.viewport.camera.view, 0.08, 0.0))
    s = time.perf_counter(); native.repaint(); app.processEvents(); times.append(time.perf_counter() - s)
# the same orbit as a user's drag: the decimated stand-in is drawn while the camera moves
scene_view = w.viewport.scene_view
asset = next(iter(scene_view.node_views.values())).node.asset_id
waited = time.perf_counter()
while scene_view.coarse_display(asset) is None and time.perf_counter() - waited < 60:
    app.processEvents(); time.sleep(0.05)
moving = []
for i in range(40):
    w.viewport._interacting()
    w.apply_camera(cm.orbit(w.viewport.camera.view, 0.08, 0.0))
    s = time.perf_counter(); native.repaint(); app.processEvents(); moving.append(time.perf_counter() - s)
ready = time.perf_counter() - waited
def orbit(n=20):
    out = []
    for i in range(n):
        w.apply_camera(cm.orbit(w.viewport.camera.view, 0.08, 0.0))
        s = time.perf_counter(); native.repaint(); app.processEvents(); out.append(time.perf_counter() - s)
    return statistics.median(out) * 1000
env = w.project.environment_config
shadows = w.viewport.scene_view.environment.shadows
passes_before = shadows.passes if shadows is not None else 0
node = next(iter(scene_view.node_views.values())).node
moved = []
for i in range(5):   # the part moves: the shadow maps are remade in that frame
    t = node.transform
    node.transform = t.model_copy(update={"translation": (t.translation[0] + 0.001, *t.translation[1:])})
    s = time.perf_counter(); native.repaint(); app.processEvents(); moved.append(time.perf_counter() - s)
moved_ms = statistics.median(moved) * 1000
still_ms = orbit(10)
remade = (shadows.passes - passes_before) if shadows is not None else 0
env.shadow_catcher.enabled = False; app.processEvents()
no_shadows_ms = orbit()
env.lighting.enabled = False; app.processEvents()
no_shadows_no_ibl_ms = orbit()
env.shadow_catcher.enabled = True; env.lighting.enabled = True; app.processEvents()
print(json.dumps({"first_frame_s": first, "median_frame_ms": statistics.median(times) * 1000,
                  "median_moving_frame_ms": statistics.median(moving) * 1000,
                  "stand_in_ready_s": ready,
                  "frame_with_shadow_pass_ms": moved_ms, "shadow_passes": remade, "orbit_again_ms": still_ms,
                  "no_shadows_frame_ms": no_shadows_ms, "no_shadows_no_ibl_frame_ms": no_shadows_no_ibl_ms,
                  "viewport": list(w.viewport.canvas.size)}))
w.close()
"""


def main() -> dict:
    OUT.mkdir(exist_ok=True)
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torus = trimesh.creation.torus(major_radius=0.1, minor_radius=0.03, major_sections=2000, minor_sections=500)
        part = tmp / "torus_2m.glb"
        torus.export(part)
        results["triangles"] = len(torus.faces)
        out = subprocess.run([sys.executable, "-c", OURS, str(part), str(tmp / "home")], capture_output=True,
                             text=True, env={**os.environ, "DSTUDIO_HOME": str(tmp / "home")}, timeout=600)
        if out.returncode != 0:
            raise SystemExit(f"viewport benchmark failed:\n{out.stderr[-2000:]}")
        results["dstudio"] = json.loads(out.stdout.strip().splitlines()[-1])
        f3d = shutil.which("f3d")
        if f3d:
            start = time.perf_counter()
            subprocess.run([f3d, "--output", str(tmp / "f3d.png"), "--resolution", f"{SIZE[0]},{SIZE[1]}", str(part)],
                           check=True, capture_output=True, timeout=600)
            results["f3d"] = {"first_frame_s": time.perf_counter() - start}
            hdr = Path(__file__).resolve().parents[1] / "resources" / "environments" / "studio.hdr"
            if hdr.exists():
                start = time.perf_counter()
                subprocess.run([f3d, "--output", str(tmp / "f3d_ibl.png"), "--resolution", f"{SIZE[0]},{SIZE[1]}",
                                "--hdri", str(hdr), "-t", str(part)], check=True, capture_output=True, timeout=600)
                results["f3d"]["first_frame_hdri_s"] = time.perf_counter() - start
    ours = results["dstudio"]
    print(f"2M-triangle torus at {SIZE[0]}x{SIZE[1]} (viewport {ours['viewport'][0]}x{ours['viewport'][1]}), Mesa llvmpipe")
    print(f"  Design Studio: load to first frame {ours['first_frame_s']:.2f} s (includes import into a workspace), "
          f"median orbit frame {ours['median_frame_ms']:.1f} ms (full mesh), "
          f"{ours['median_moving_frame_ms']:.1f} ms while the camera moves (150k-triangle stand-in)")
    print(f"  with shading, IBL and shadows on; shadows off: {ours['no_shadows_frame_ms']:.1f} ms a full-mesh frame, "
          f"shadows and IBL off: {ours['no_shadows_no_ibl_frame_ms']:.1f} ms; a frame that remakes the shadow maps "
          f"(the part moved): {ours['frame_with_shadow_pass_ms']:.1f} ms against {ours['orbit_again_ms']:.1f} ms "
          f"({ours['shadow_passes']} remakes in 5 moves)")
    if "f3d" in results:
        ratio = ours["first_frame_s"] / results["f3d"]["first_frame_s"]
        print(f"  F3D:           load to first frame {results['f3d']['first_frame_s']:.2f} s   ratio {ratio:.2f}x")
        if "first_frame_hdri_s" in results["f3d"]:
            print(f"  F3D --hdri studio.hdr -t: load to first frame {results['f3d']['first_frame_hdri_s']:.2f} s "
                  "(F3D 1.3 has no ground shadows)")
    else:
        print("  F3D not installed (Debian package f3d): no peer figure")
    (OUT / "viewport_bench.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

"""A 2M-triangle part in the viewport: load-to-first-frame and orbit frame times at 1280x800,
beside F3D on the same file with the same Mesa renderer, same run.

The viewport draws as a new project does: PBR shading, the studio environment's image-based
light and the key light's soft shadows on the ground (and on the part) all on. Then the same
orbit with the shadows off and with the environment light off gives what each costs, and a
frame in which the part moved (so the shadow maps are remade) gives the shadow pass's cost.
F3D is timed plain and with the same environment as its --hdri light. Peak memory (the
process's maximum resident set) is reported for both.

A second scene, 200 parts of 50,000 triangles each (10M in all), gives the open time and the
frame times (at rest, and while the camera moves) of a large assembly.

Ours: a fresh process opens the GLB as `dstudio open torus.glb` does (read while Qt starts,
stored in the workspace as a new project, shown in the real main window) and reports when the
first frame with the part in it has been drawn; then it orbits the camera through 40 steps,
repainting synchronously, and reports the median frame time, first of the full mesh (as a
preset's fly-to draws it) and then as a user's drag draws it (the decimated stand-in). F3D: `f3d --output` renders the
same file once at the same size and exits; its wall time is load-to-first-frame (F3D has no
scriptable orbit, so only that figure is compared). That figure is the median of five runs of
each program, interleaved, after one unmeasured run of each (the first run of either after a
while reads its libraries from disk: F3D took 1.5 s cold and 0.95 s warm here).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trimesh

OUT = Path(__file__).resolve().parent / "out"
SIZE = (1280, 800)
OPENS = 5   # load-to-first-frame runs of each program, after one unmeasured run

OURS = r"""
import sys, time, json, statistics
t0 = time.perf_counter()
from dstudio_desktop.ui.app import prepare_window
# as `dstudio open torus.glb` starts: the file is read while Qt starts, stored as a new project
app, w, open_it = prepare_window(sys.argv[1])
from dstudio_desktop.core import camera_math as cm
for dock in w.findChildren(type(w.outliner).__mro__[1]):
    dock.hide()
w.resize(1280, 800); w.show(); open_it()
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
stand_in = next(iter(scene_view.node_views.values()))
stand_in_triangles = len(scene_view.coarse_display(asset, stand_in.coarse_level).faces)
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
                  "draft_frames": w.viewport.canvas.draft_frames, "draft_scale": w.viewport.canvas.draft_scale,
                  "stand_in_triangles": stand_in_triangles,
                  "peak_rss_mb": __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 1024,
                  # the forked process that read the file (reaped by now): its own peak
                  "reader_peak_rss_mb": __import__("resource").getrusage(
                      __import__("resource").RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "viewport": list(w.viewport.canvas.size)}))
w.close()
"""

# The first frame alone: started as OURS is, it exits once the part is drawn (repeated, beside F3D).
assert OURS.count("first = drawn[0] - t0") == 1
OPEN_ONLY = OURS.split("first = drawn[0] - t0")[0] + """first = drawn[0] - t0
print(json.dumps({"first_frame_s": first}))
w.close()
"""

ASSEMBLY = r"""
import sys, time, json, statistics
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication
from vispy import app as vapp
app = QApplication(sys.argv[:1]); vapp.use_app("pyside6")
from dstudio_desktop.store import Workspace
from dstudio_desktop.ui.main_window import MainWindow
from dstudio_desktop.core import camera_math as cm
ws = Workspace(sys.argv[2]); key = sys.argv[1]
w = MainWindow(ws)
for dock in w.findChildren(type(w.outliner).__mro__[1]):
    dock.hide()
w.resize(1280, 800); w.show()
opened = time.perf_counter()
w.open_project(key)
drawn = []
w.viewport.canvas.events.draw.connect(lambda e: drawn.append(time.perf_counter()), position="last")
while not drawn or w.viewport.scene_view is None or len(w.viewport.scene_view.node_views) < 200:
    if w.viewport.scene_view is None or len(w.viewport.scene_view.node_views) < 200:
        drawn.clear()
    app.processEvents()
    time.sleep(0.002)
first = drawn[0] - opened
w.fit_all(); app.processEvents()
native = w.viewport.canvas.native
def orbit(n, moving):
    out = []
    for i in range(n):
        if moving:
            w.viewport._interacting()
        w.apply_camera(cm.orbit(w.viewport.camera.view, 0.08, 0.0))
        s = time.perf_counter(); native.repaint(); out.append(time.perf_counter() - s)
        app.processEvents()
    return statistics.median(out) * 1000
rest = orbit(10, False)
moving = orbit(20, True)
print(json.dumps({"open_to_first_frame_s": first, "rest_frame_ms": rest, "moving_frame_ms": moving,
                  "parts": len(w.viewport.scene_view.node_views),
                  "peak_rss_mb": __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss / 1024}))
w.close()
"""


def _peak_mb(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of a program run to its end."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode})")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def assembly(tmp: Path) -> dict:
    """200 parts of 50k triangles (10M), imported into a project; then a fresh process opens it."""
    from dstudio_desktop.services.geometry import import_files
    from dstudio_desktop.store import Workspace

    home = tmp / "assembly_home"
    base = trimesh.creation.torus(major_radius=0.02, minor_radius=0.006, major_sections=250, minor_sections=100)
    files = []
    for i in range(200):
        part = base.copy()
        part.apply_translation(((i % 20) * 0.05, 0.0, (i // 20) * 0.05))
        path = tmp / f"part_{i:03d}.glb"
        part.export(path)
        files.append(str(path))
    # the window's saved layout (docks hidden here) goes to a folder of the run, not the user's settings
    env = {**os.environ, "DSTUDIO_HOME": str(home), "XDG_CONFIG_HOME": str(tmp / "config")}
    os.environ["DSTUDIO_HOME"] = str(home)
    with Workspace(home) as ws:
        project = ws.create_project("assembly")
        import_files(ws, project.id, files)
        key = project.id
    out = subprocess.run([sys.executable, "-c", ASSEMBLY, key, str(home)], capture_output=True, text=True, env=env,
                         timeout=1200)
    if out.returncode != 0:
        raise SystemExit(f"assembly benchmark failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["triangles"] = 200 * len(base.faces)
    return result


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
                             text=True, env={**os.environ, "DSTUDIO_HOME": str(tmp / "home"),
                                                 "XDG_CONFIG_HOME": str(tmp / "config")}, timeout=600)
        if out.returncode != 0:
            raise SystemExit(f"viewport benchmark failed:\n{out.stderr[-2000:]}")
        results["dstudio"] = json.loads(out.stdout.strip().splitlines()[-1])
        f3d = shutil.which("f3d")
        f3d_cmd = [f3d, "--output", str(tmp / "f3d.png"), "--resolution", f"{SIZE[0]},{SIZE[1]}", str(part)] \
            if f3d else None
        # load to first frame: one run of each unmeasured (a cold disk cache would go to
        # whichever ran first), then OPENS of each interleaved; the medians are compared
        ours_open, f3d_open, peaks = [], [], []
        for i in range(OPENS + 1):
            opened = subprocess.run([sys.executable, "-c", OPEN_ONLY, str(part), str(tmp / f"home_open{i}")],
                                    capture_output=True, text=True, timeout=600,
                                    env={**os.environ, "DSTUDIO_HOME": str(tmp / f"home_open{i}"),
                                         "XDG_CONFIG_HOME": str(tmp / "config")})
            if opened.returncode != 0:
                raise SystemExit(f"viewport benchmark failed:\n{opened.stderr[-2000:]}")
            seconds, peak = _peak_mb(f3d_cmd) if f3d_cmd else (0.0, 0.0)
            if i:
                ours_open.append(json.loads(opened.stdout.strip().splitlines()[-1])["first_frame_s"])
                f3d_open.append(seconds)
                peaks.append(peak)
        results["dstudio"]["open_runs_s"] = ours_open
        results["dstudio"]["open_median_s"] = statistics.median(ours_open)
        if f3d:
            results["f3d"] = {"first_frame_s": statistics.median(f3d_open), "runs_s": f3d_open,
                              "peak_rss_mb": max(peaks)}
            hdr = Path(__file__).resolve().parents[1] / "resources" / "environments" / "studio.hdr"
            if hdr.exists():
                start = time.perf_counter()
                subprocess.run([f3d, "--output", str(tmp / "f3d_ibl.png"), "--resolution", f"{SIZE[0]},{SIZE[1]}",
                                "--hdri", str(hdr), "-t", str(part)], check=True, capture_output=True, timeout=600)
                results["f3d"]["first_frame_hdri_s"] = time.perf_counter() - start
        results["assembly"] = assembly(tmp)
    ours = results["dstudio"]
    print(f"2M-triangle torus at {SIZE[0]}x{SIZE[1]} (viewport {ours['viewport'][0]}x{ours['viewport'][1]}), Mesa llvmpipe")
    print(f"  Design Studio: load to first frame {ours['open_median_s']:.2f} s "
          f"(median of {OPENS} after one unmeasured; `dstudio open`: stored into the workspace too), "
          f"median orbit frame {ours['median_frame_ms']:.1f} ms (full mesh), "
          f"{ours['median_moving_frame_ms']:.1f} ms while the camera moves "
          f"({ours['stand_in_triangles'] / 1000:.1f}k-triangle stand-in, "
          f"draft frames at 1/{ours['draft_scale']} resolution), peak memory {ours['peak_rss_mb']:.0f} MB "
          f"(and {ours['reader_peak_rss_mb']:.0f} MB in the process that read the file)")
    print(f"  with shading, IBL and shadows on; shadows off: {ours['no_shadows_frame_ms']:.1f} ms a full-mesh frame, "
          f"shadows and IBL off: {ours['no_shadows_no_ibl_frame_ms']:.1f} ms; a frame that remakes the shadow maps "
          f"(the part moved): {ours['frame_with_shadow_pass_ms']:.1f} ms against {ours['orbit_again_ms']:.1f} ms "
          f"({ours['shadow_passes']} remakes in 5 moves)")
    if "f3d" in results:
        ratio = ours["open_median_s"] / results["f3d"]["first_frame_s"]
        print(f"  F3D:           load to first frame {results['f3d']['first_frame_s']:.2f} s   ratio {ratio:.2f}x "
              f"(medians of {OPENS}, interleaved, after one unmeasured run of each; ours "
              f"{', '.join(f'{v:.2f}' for v in ours['open_runs_s'])}, F3D "
              f"{', '.join(f'{v:.2f}' for v in results['f3d']['runs_s'])}); "
              f"peak memory {results['f3d']['peak_rss_mb']:.0f} MB (ours "
              f"{ours['peak_rss_mb'] / results['f3d']['peak_rss_mb']:.2f}x; with the reading process's peak added, "
              f"{(ours['peak_rss_mb'] + ours['reader_peak_rss_mb']) / results['f3d']['peak_rss_mb']:.2f}x)")
        if "first_frame_hdri_s" in results["f3d"]:
            print(f"  F3D --hdri studio.hdr -t: load to first frame {results['f3d']['first_frame_hdri_s']:.2f} s "
                  "(F3D 1.3 has no ground shadows)")
    else:
        print("  F3D not installed (Debian package f3d): no peer figure")
    a = results["assembly"]
    print(f"  assembly of {a['parts']} parts, {a['triangles'] / 1e6:.0f}M triangles: open to first frame "
          f"{a['open_to_first_frame_s']:.2f} s, frame at rest {a['rest_frame_ms']:.0f} ms, while the camera moves "
          f"{a['moving_frame_ms']:.0f} ms, peak memory {a['peak_rss_mb']:.0f} MB")
    (OUT / "viewport_bench.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

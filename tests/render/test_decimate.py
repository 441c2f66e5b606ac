"""Stand-ins are decimated in a child process, so the window never waits on the interpreter
lock that fast_simplification holds for the whole of a call."""

from __future__ import annotations

import threading
import time

import numpy as np
import trimesh

from dstudio_desktop.render import decimate


def _torus(sections: int) -> tuple[np.ndarray, np.ndarray]:
    mesh = trimesh.creation.torus(major_radius=0.1, minor_radius=0.03, major_sections=sections,
                                  minor_sections=sections // 4)
    return mesh.vertices.astype(np.float32), mesh.faces.astype(np.uint32)


def test_the_stand_in_has_about_the_target_and_valid_indices() -> None:
    positions, faces = _torus(400)
    kept, triangles = decimate.simplify(positions, faces, 4000)
    assert 3000 <= len(triangles) <= 4200
    assert triangles.max() < len(kept) and kept.dtype == np.float32
    # still the torus: every kept vertex lies near its surface
    ring = np.hypot(kept[:, 0], kept[:, 2]) if np.ptp(positions[:, 1]) < np.ptp(positions[:, 2]) else \
        np.hypot(kept[:, 0], kept[:, 1])
    tube = np.hypot(ring - 0.1, kept[:, 1] if np.ptp(positions[:, 1]) < np.ptp(positions[:, 2]) else kept[:, 2])
    assert np.abs(tube - 0.03).max() < 0.003


def test_the_calling_program_keeps_running_while_a_large_part_is_decimated() -> None:
    positions, faces = _torus(1600)   # 1.28M triangles: in-process the lock was held ~1 s
    decimate.simplify(*_torus(40), 100)  # the child is started
    done = threading.Event()
    worker = threading.Thread(target=lambda: (decimate.simplify(positions, faces, 100_000), done.set()))
    worker.start()
    gaps, last = [], time.perf_counter()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    assert len(gaps) > 20 and max(gaps) < 0.25, f"the program stood still for {max(gaps):.2f} s"


def test_a_child_that_died_is_started_again() -> None:
    positions, faces = _torus(200)
    decimate.simplify(positions, faces, 1000)
    decimate._child.kill()
    decimate._child.wait()
    kept, triangles = decimate.simplify(positions, faces, 1000)
    assert 500 <= len(triangles) <= 1100


def test_a_stand_in_not_much_lighter_than_what_it_is_made_from_is_left_out() -> None:
    from dstudio_desktop.meshio import MeshData
    from dstudio_desktop.render.prepare import coarse_displays

    positions, faces = _torus(400)   # 80,000 triangles
    mesh = MeshData(positions, faces)
    fine, coarser = coarse_displays(mesh, (8000, 2000))
    assert len(coarser.faces) < 0.7 * len(fine.faces) and len(fine.faces) < 0.7 * len(faces)
    assert coarse_displays(mesh, (int(0.9 * len(faces)),)) == ()      # drawn in full instead
    assert len(coarse_displays(mesh, (8000, 7600))) == 1               # the finer level only

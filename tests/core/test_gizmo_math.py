"""Gizmo arithmetic: projection, drags along axes, planes and rings, snapping, pivots, node edits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dstudio_desktop.core import CameraView, Transform
from dstudio_desktop.core import camera_math as cm
from dstudio_desktop.core import gizmo_math as gm
from dstudio_desktop.core.transform import quat_to_matrix

W, H = 800.0, 500.0
VIEWS = [
    CameraView(eye=(0.3, 0.4, 1.5), target=(0.0, 0.1, 0.0), fov=40.0),
    CameraView(eye=(-2.0, 1.0, -1.0), target=(0.2, 0.0, 0.1), projection="orthographic", ortho_height=1.3),
]


@pytest.mark.parametrize("view", VIEWS)
def test_project_inverts_ray_through(view) -> None:
    rng = np.random.default_rng(1)
    for x, y in rng.uniform((0, 0), (W, H), (20, 2)):
        origin, direction = cm.ray_through(view, x, y, W, H)
        point = origin + direction * rng.uniform(0.5, 3)
        px, py, depth = gm.project(view, point, W, H)[0]
        assert abs(px - x) < 1e-7 and abs(py - y) < 1e-7 and depth > 0


@pytest.mark.parametrize("view", VIEWS)
def test_world_per_pixel_is_one_pixel_at_that_depth(view) -> None:
    point = np.array([0.1, 0.05, -0.2])
    right, _, _ = cm.frame(view)
    a, b = gm.project(view, np.array([point, point + right * gm.world_per_pixel(view, point, H)]), W, H)
    assert abs(np.linalg.norm(b[:2] - a[:2]) - 1.0) < 1e-9


def test_behind_the_eye_has_negative_depth_and_no_screen_rect() -> None:
    view = VIEWS[0]
    _, _, forward = cm.frame(view)
    behind = np.asarray(view.eye) - forward
    assert gm.project(view, behind, W, H)[0, 2] < 0
    assert gm.screen_rect(view, np.array([behind, np.zeros(3)]), W, H) is None


@pytest.mark.parametrize("view", VIEWS)
def test_along_axis_reads_the_distance_under_the_pointer(view) -> None:
    pivot, axis = np.array([0.05, 0.1, 0.0]), np.array([1.0, 0.0, 0.0])
    _, _, forward = cm.frame(view)
    for d in (-0.2, 0.0, 0.07, 0.3):
        x, y, _ = gm.project(view, pivot + axis * d, W, H)[0]
        ray = cm.ray_through(view, x, y, W, H)
        assert abs(gm.along_axis(pivot, axis, forward, ray) - d) < 1e-9


def test_an_axis_pointing_at_the_viewer_has_no_drag_plane() -> None:
    assert gm.axis_plane_normal(np.array([0, 0, 1.0]), np.array([0, 0, -1.0])) is None


def test_plane_offset_stays_in_the_plane() -> None:
    view = VIEWS[0]
    pivot, normal = np.array([0.0, 0.1, 0.0]), np.array([0.0, 1.0, 0.0])
    r0 = cm.ray_through(view, 300, 260, W, H)
    r1 = cm.ray_through(view, 420, 300, W, H)
    offset = gm.plane_offset(pivot, normal, r0, r1)
    assert abs(offset @ normal) < 1e-12 and np.linalg.norm(offset) > 0.01


@pytest.mark.parametrize("degrees", [-170, -45, 10, 90, 135])
def test_ring_angle_is_the_angle_swept_on_the_ring(degrees) -> None:
    view = CameraView(eye=(0.2, 1.5, 0.4), target=(0.0, 0.0, 0.0))
    pivot, axis = np.zeros(3), np.array([0.0, 1.0, 0.0])
    start = np.array([0.2, 0.0, 0.0])
    end = gm.rotation(axis, math.radians(degrees)) @ start
    rays = [cm.ray_through(view, *gm.project(view, p, W, H)[0, :2], W, H) for p in (start, end)]
    assert abs(math.degrees(gm.ring_angle(pivot, axis, *rays)) - degrees) < 1e-7


def test_unwrapping_counts_past_half_a_turn() -> None:
    total, last = 0.0, 0.0
    for raw in np.radians([60, 120, 179, -170, -100]):   # one way round, past 180°
        total += gm.wrap_angle(raw - last)
        last = raw
    assert abs(math.degrees(total) - 260) < 1e-9


def test_snapping() -> None:
    assert gm.snap(0.0237, 0.01) == pytest.approx(0.02)
    assert gm.snap(math.radians(37), math.radians(15)) == pytest.approx(math.radians(30))
    assert gm.snap(0.3, 0) == 0.3
    assert np.allclose(gm.snap(np.array([0.014, -0.026]), 0.01), [0.01, -0.03])
    assert gm.snap_factor(1.26, 0.1) == pytest.approx(1.3)
    assert gm.snap_factor(0.01, 0.1) == pytest.approx(0.1)   # never collapses


def test_rotation_matches_quaternions() -> None:
    q = (0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4))   # 90° about z
    assert np.allclose(gm.rotation(np.array([0, 0, 2.0]), math.pi / 2), quat_to_matrix(q), atol=1e-15)


def test_pivots() -> None:
    origins = np.array([[0.0, 0, 0], [1.0, 0, 0], [0.5, 3.0, 0]])
    centre, each = gm.pivots(origins, "median")
    assert np.allclose(centre, [0.5, 1.0, 0]) and np.allclose(each, centre)
    centre, each = gm.pivots(origins, "active", 1)
    assert np.allclose(centre, [1, 0, 0]) and np.allclose(each, [1, 0, 0])
    centre, each = gm.pivots(origins, "individual")
    assert np.allclose(centre, [0.5, 1.0, 0]) and np.allclose(each, origins)
    with pytest.raises(ValueError):
        gm.pivots(origins, "centroid")


def _parent() -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = gm.rotation(np.array([1.0, 1.0, 0.0]), 0.7) * 2.0   # turned and scaled twice
    m[:3, 3] = (0.3, -0.1, 0.2)
    return m


def _child() -> Transform:
    return Transform(translation=(0.1, 0.2, -0.05),
                     rotation=Transform.from_matrix(np.block([[gm.rotation(np.array([0, 1.0, 0]), 0.4),
                                                              np.zeros((3, 1))], [np.zeros((1, 3)), 1]])).rotation,
                     scale=(1.0, 2.0, 0.5))


def test_translated_moves_the_world_origin_by_exactly_the_delta() -> None:
    parent, child = _parent(), _child()
    delta = np.array([0.02, -0.01, 0.005])
    moved = gm.translated(child, parent, delta)
    before, after = parent @ child.matrix(), parent @ moved.matrix()
    assert np.allclose(after[:3, 3] - before[:3, 3], delta, atol=1e-15)
    assert moved.rotation == child.rotation and moved.scale == child.scale


def test_rotated_turns_about_the_pivot() -> None:
    parent, child = _parent(), _child()
    pivot = np.array([0.5, 0.5, 0.5])
    turn = gm.rotation(np.array([0.0, 0.0, 1.0]), math.radians(30))
    result = gm.rotated(child, parent, pivot, turn)
    expected = np.eye(4)
    expected[:3, :3] = turn
    expected[:3, 3] = pivot - turn @ pivot
    assert np.allclose(parent @ result.matrix(), expected @ parent @ child.matrix(), atol=1e-12)
    assert result.scale == child.scale


def test_scaled_uniformly_keeps_proportions_and_moves_the_origin_from_the_pivot() -> None:
    parent, child = _parent(), _child()
    pivot = np.array([0.1, 0.0, 0.0])
    result = gm.scaled(child, parent, pivot, np.eye(3), [1.5, 1.5, 1.5])
    assert np.allclose(np.divide(result.scale, child.scale), 1.5, atol=1e-15)
    before, after = (parent @ t.matrix() for t in (child, result))
    assert np.allclose(after[:3, 3] - pivot, 1.5 * (before[:3, 3] - pivot), atol=1e-12)


def test_scaled_along_a_part_s_own_axis_is_exact() -> None:
    child = _child()
    world = child.matrix()
    frame = gm.orientation_frame("local", world)
    result = gm.scaled(child, np.eye(4), world[:3, 3], frame, [1.0, 1.25, 1.0])
    assert np.allclose(result.scale, (1.0, 2.5, 0.5), atol=1e-12)
    assert result.translation == pytest.approx(child.translation)


def test_orientation_frame() -> None:
    world = _parent() @ _child().matrix()
    frame = gm.orientation_frame("local", world)
    assert np.allclose(frame.T @ frame, np.eye(3), atol=1e-12) and np.linalg.det(frame) > 0
    assert np.allclose(gm.orientation_frame("world", world), np.eye(3))


def test_screen_hit_helpers() -> None:
    assert gm.segment_distance(np.array([5.0, 3.0]), np.array([0.0, 0.0]), np.array([10.0, 0.0])) == 3.0
    assert gm.segment_distance(np.array([13.0, 4.0]), np.array([0.0, 0.0]), np.array([10.0, 0.0])) == 5.0
    square = np.array([(0, 0), (10, 0), (10, 10), (0, 10)], float)
    assert gm.inside_polygon(np.array([5.0, 5.0]), square) and not gm.inside_polygon(np.array([11.0, 5.0]), square)
    assert gm.polyline_distance(np.array([5.0, -2.0]), square) == 2.0
    assert gm.rect_contains((100, 100, 0, 0), (10, 10, 90, 90))
    assert not gm.rect_contains((0, 0, 100, 100), (10, 10, 101, 90))


def test_ray_sphere_hits_or_slides_along_the_outline() -> None:
    hit = gm.ray_sphere(np.array([0.0, 0, 5]), np.array([0.0, 0, -1]), np.zeros(3), 1.0)
    assert np.allclose(hit, [0, 0, 1])
    miss = gm.ray_sphere(np.array([3.0, 0, 5]), np.array([0.0, 0, -1]), np.zeros(3), 1.0)
    assert np.allclose(miss, [1, 0, 0])


def test_set_transforms_is_one_step_for_several_nodes_and_refuses_locked_ones() -> None:
    from dstudio_desktop.core.commands import SetNodeField, SetTransforms
    from dstudio_desktop.errors import DStudioError
    from dstudio_desktop.sample import build_sample

    project = build_sample()[0]
    shade, base = (next(n for n, _ in project.scene_graph.walk() if n.name == name) for name in ("Shade", "Base"))
    before = {n.id: n.transform.to_json() for n in (shade, base)}
    moved = {n.id: gm.translated(n.transform, np.eye(4), np.array([0.1, 0.0, 1 / 3])).to_json() for n in (shade, base)}
    command = SetTransforms(moved, label="Move 2 parts")
    command.do(project)
    assert {n.id: n.transform.to_json() for n in (shade, base)} == moved
    command.undo(project)
    assert {n.id: n.transform.to_json() for n in (shade, base)} == before   # exactly
    SetNodeField(base.id, "locked", True).do(project)
    with pytest.raises(DStudioError, match="locked"):
        SetTransforms(moved).do(project)
    assert {n.id: n.transform.to_json() for n in (shade, base)} == before   # nothing moved, not even the shade

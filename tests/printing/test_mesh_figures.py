"""The printability checks' numpy figures (printing.mesh_figures) against trimesh's own answers
for the same meshes: the checks were made on trimesh's meanings and must still find what they
found with it (trimesh is the reference here, not used by the checks any more)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from dstudio_desktop.meshio.meshdata import merge_exact
from dstudio_desktop.printing import mesh_figures, orient
from dstudio_desktop.printing.mesh_figures import Part, edge_figures, weld
from dstudio_desktop.printing.printability import check


def _box() -> trimesh.Trimesh:
    return trimesh.creation.box((20, 20, 20))


def _variants() -> dict[str, trimesh.Trimesh]:
    box = _box()
    open_box = box.copy()
    open_box.update_faces(np.arange(len(box.faces))[2:])
    flipped = box.copy()
    flipped.faces[3] = flipped.faces[3][::-1]
    inverted = trimesh.Trimesh(box.vertices, box.faces[:, ::-1], process=False)
    degenerate = trimesh.Trimesh(box.vertices, np.vstack([box.faces, [[0, 0, 1], [2, 3, 3]]]), process=False)
    two = trimesh.util.concatenate([box, box.copy().apply_translation((40, 0, 0))])
    # three triangles on one edge (a fin on a closed box's edge), a non-manifold part
    v = np.vstack([box.vertices, [[-31, -17, 3.0]]])
    e = box.edges_unique[0]
    fin = trimesh.Trimesh(v, np.vstack([box.faces, [[e[0], e[1], len(v) - 1]]]), process=False)
    rng = np.random.default_rng(7)
    sphere = trimesh.creation.icosphere(3, 10)
    messy = sphere.copy()
    flip = rng.random(len(messy.faces)) < 0.1
    messy.faces[flip] = messy.faces[flip][:, ::-1]
    messy.update_faces(rng.random(len(messy.faces)) > 0.05)
    return {"box": box, "open": open_box, "flipped": flipped, "inverted": inverted, "degenerate": degenerate,
            "two shells": two, "fin": fin, "torus": trimesh.creation.torus(40, 10, 60, 20), "messy": messy}


def _trimesh_edge_answers(mesh: trimesh.Trimesh) -> tuple[int, int, bool, int]:
    _, counts = np.unique(mesh.edges_sorted, axis=0, return_counts=True)
    shells = len(trimesh.graph.connected_components(mesh.face_adjacency, nodes=np.arange(len(mesh.faces)),
                                                    min_len=1))
    return int((counts == 1).sum()), int((counts > 2).sum()), bool(mesh.is_winding_consistent), shells


@pytest.mark.parametrize("name", list(_variants()))
def test_edge_and_face_figures_agree_with_trimesh(name: str) -> None:
    mesh = _variants()[name]
    expected = _trimesh_edge_answers(mesh)
    for vertex_count in (len(mesh.vertices), 2**40):   # the packed sort, and the argsort beyond its reach
        figures = edge_figures(mesh.faces, vertex_count)
        assert (figures.boundary, figures.non_manifold, figures.winding_consistent, figures.shells) == expected, \
            (name, vertex_count)
    face = Part.of(mesh).face
    assert np.allclose(face.areas, mesh.area_faces)
    tri = mesh.triangles   # the sum of the tetrahedra to the origin (the old check's formula)
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0
    assert face.signed_volume == pytest.approx(volume, rel=1e-9, abs=1e-6)
    if mesh.is_watertight and mesh.is_winding_consistent:
        assert face.signed_volume == pytest.approx(mesh.volume, rel=1e-9)
    real = mesh.area_faces > 0
    assert np.allclose(face.normals.T[real], mesh.face_normals[real])
    assert np.allclose(face.centers.T, mesh.triangles_center)
    assert np.allclose(Part.of(mesh).extents, mesh.extents)


def test_the_checks_find_what_each_broken_variant_has() -> None:
    found = {name: {f.code for f in check(mesh, (220, 220, 250))} for name, mesh in _variants().items()}
    assert found["box"] == set() and found["torus"] == set()
    assert found["open"] == {"open_mesh"}
    assert found["flipped"] == {"inconsistent_winding"}
    assert found["inverted"] == {"inverted_normals"}
    assert "degenerate_faces" in found["degenerate"] and "degenerate_faces" not in found["fin"]
    assert found["two shells"] == {"multiple_shells"}
    assert "non_manifold_edges" in found["fin"]
    assert {"open_mesh", "inconsistent_winding"} <= found["messy"]


def test_weld_is_exact_and_survives_a_hash_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    """An STL's triangle soup welded as ``merge_exact`` welds it, -0.0 and 0.0 as one; a hash
    that collides for every corner still gives the exact answer (the fallback)."""
    mesh = trimesh.creation.torus(40, 10, 60, 20)
    soup = mesh.vertices[mesh.faces].astype(np.float32)
    zeros = np.flatnonzero(soup.ravel() == 0)
    assert len(zeros) > 10
    soup.ravel()[zeros[::2]] = -0.0    # the same corner written with either zero
    expected_vertices, _ = merge_exact(soup.reshape(-1, 3), np.arange(soup.size // 3).reshape(-1, 3))
    for mix in (mesh_figures._MIX, (np.uint64(0),) * 3):
        monkeypatch.setattr(mesh_figures, "_MIX", mix)
        vertices, faces = weld(soup)
        assert len(vertices) == len(expected_vertices) == len(mesh.vertices)
        assert np.array_equal(vertices[faces].astype(np.float32), soup + np.float32(0))
        assert (faces.max() + 1, faces.min()) == (len(vertices), 0)


def test_a_part_stands_on_its_flat_sides_that_lie_on_its_extreme_planes() -> None:
    """The sides offered are flat groups of faces the part can rest on, the largest contact
    first: a channel's inner floor faces up as its walls' tops do, but lies below them, so only
    the tops touch; a tilted box offers its own faces; a finely curved dome its flat side."""
    base = trimesh.creation.box((40, 40, 5)).apply_translation((0, 0, 2.5))
    walls = [trimesh.creation.box((5, 40, 30)).apply_translation((x, 0, 15)) for x in (-17.5, 17.5)]
    channel = Part.of(trimesh.util.concatenate([base, *walls]))
    sides = orient.flat_sides(channel)
    # all faces facing up have 2000 mm² (the floor with the walls' tops) and would come first;
    # touching, the tops are 400: after the underside (1600) and the outer sides (1400 each)
    assert np.allclose(sides[0], (0, 0, -1))
    order = [next(i for i, n in enumerate(sides) if np.allclose(n, d)) for d in ((1, 0, 0), (-1, 0, 0), (0, 0, 1))]
    assert order[2] > max(order[:2])
    tilt = trimesh.transformations.rotation_matrix(np.radians(30), (1, 0, 0))
    box = trimesh.creation.box((30, 20, 10)).apply_transform(tilt)
    expected = tilt[:3, :3] @ np.array([0, 0, -1.0])
    assert any(np.allclose(n, expected, atol=1e-6) for n in orient.flat_sides(Part.of(box)))
    current, best = orient.best_orientation(box)
    assert best is not current and best.support_mm2 == pytest.approx(0, abs=1e-6)
    assert best.height_mm == pytest.approx(10, abs=1e-6)   # on one of its two largest faces
    arc = np.linspace(np.pi / 2, 0, 200)   # a bowl 30 mm deep: a quarter circle turned about Z, flat on top
    dome = trimesh.creation.revolve(np.r_[np.c_[30 * np.cos(arc), -30 * np.sin(arc)], [[0, 0]]], sections=400)
    assert dome.is_volume and dome.volume > 0
    current, best = orient.best_orientation(dome)   # standing on its dome, the flat side up
    assert best is not current and best.height_mm == pytest.approx(30, abs=0.1)
    assert (best.rotation[:3, :3] @ np.array([0, 0, 1.0]))[2] == pytest.approx(-1, abs=1e-6)


def test_self_intersections_count_each_crossing_pair_once() -> None:
    """The grid's candidate pairs, each kept in one cell, against every pair of a small soup
    tested directly: a pair sharing several cells must not count twice, nor a pair be missed."""
    from dstudio_desktop.printing.printability import _edges_cross, self_intersections, triangle_columns

    rng = np.random.default_rng(7)
    # small triangles (some sharing corners) crowded in a box: each spans a cell or a few
    corners = (rng.random((600, 1, 3)) * 12 + rng.random((600, 3, 3)) * 3).reshape(-1, 3)
    vertices, faces = corners, np.arange(len(corners)).reshape(-1, 3)
    faces[::7, 0] = faces[1::7, 1][:len(faces[::7])]
    a, b = np.triu_indices(len(faces), 1)
    apart = ~(faces[a][:, :, None] == faces[b][:, None, :]).any(axis=(1, 2))
    ta, tb = triangle_columns(vertices[faces[a[apart]]]), triangle_columns(vertices[faces[b[apart]]])
    expected = int((_edges_cross(ta, tb) | _edges_cross(tb, ta)).sum())
    assert expected > 500
    assert self_intersections(vertices, faces) == expected
    assert self_intersections(vertices, faces, max_candidates=2_000) == expected   # coarser cells, same pairs


def test_two_threads_asking_for_a_figure_work_it_out_once(monkeypatch) -> None:
    """The checks count the edges while a second thread scores orientations: a figure both ask
    for at once is made by one of them and waited for by the other, and the findings are those
    of one thread alone."""
    import threading
    import time

    from dstudio_desktop.printing.check_cache import findings_of

    made = []
    real = mesh_figures.face_figures

    def slow_face_figures(vertices, faces):
        made.append(threading.get_ident())
        time.sleep(0.2)   # long enough that the other thread asks while this one works
        return real(vertices, faces)

    monkeypatch.setattr(mesh_figures, "face_figures", slow_face_figures)
    box = trimesh.creation.box((30.0, 20.0, 10.0))
    part = Part(box.vertices, box.faces)
    both = [threading.Thread(target=lambda: part.face) for _ in range(2)]
    for t in both:
        t.start()
    for t in both:
        t.join()
    assert len(made) == 1

    made.clear()
    laid_flat = box.copy()
    laid_flat.apply_transform(trimesh.transformations.rotation_matrix(np.radians(35), [1, 0, 0]))
    found = findings_of(Part(laid_flat.vertices, laid_flat.faces), (220.0, 220.0, 250.0), "Ender 3")
    assert len(made) == 1
    assert sorted(f.code for f in found) == sorted(f.code for f in check(laid_flat, (220.0, 220.0, 250.0))) + [
        "orientation"]

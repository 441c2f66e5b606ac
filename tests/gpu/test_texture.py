"""The baked texture against the synthetic scene's true surfaces and cameras (no structure from
motion here, so each test takes seconds): it carries colour detail finer than the mesh, so
from cameras it was not baked from it matches the scene better than a colour per vertex;
every face sees a photo that is not hidden from it; the GLB carries it as a base-colour
texture that our importer reads back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from gpu import appearance, cleanup, synthetic, texture
from gpu.dense import View


def scene_mesh() -> trimesh.Trimesh:
    """The sphere and the box, as a mesh far coarser than the photos' texture detail."""
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=synthetic.SPHERE_R)
    sphere.apply_translation(synthetic.SPHERE_C)
    box = trimesh.creation.box(bounds=[synthetic.BOX_LO, synthetic.BOX_HI]).subdivide().subdivide().subdivide()
    return trimesh.util.concatenate([sphere, box])


def views_from(photos: Path, every: int = 1) -> list[View]:
    from PIL import Image

    out = []
    for cam in synthetic.cameras()[::every]:
        with Image.open(photos / f"{cam.name}.png") as im:
            image = np.asarray(im.convert("RGB"), np.float32) / 255
        out.append(View(cam.name, cam.K, cam.R, -cam.R @ cam.centre, image, 1.0, 5.0))
    return out


def held_out(angle: float, elevation: float = 32.0) -> tuple[synthetic.Camera, np.ndarray, np.ndarray]:
    """A camera between the two rings and between the photographed angles, its render, and
    the mask of the pixels that show the objects (not the ground or the sky)."""
    K = synthetic.cameras()[0].K
    target = np.array([0.0, 0.3, 0.0])
    el = np.radians(elevation)
    centre = target + 2.6 * np.array([np.cos(el) * np.cos(angle), np.sin(el), np.cos(el) * np.sin(angle)])
    cam = synthetic.Camera("held-out", K, synthetic.look_at(centre, target), centre)
    u, v = np.meshgrid(np.arange(synthetic.WIDTH) + 0.5, np.arange(synthetic.HEIGHT) + 0.5)
    dirs = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], 1) @ np.linalg.inv(K).T @ cam.R
    _, kind, _ = synthetic._intersect(cam.centre, dirs / np.linalg.norm(dirs, axis=1, keepdims=True))
    mask = ((kind >= 0) & (kind <= 1)).reshape(synthetic.HEIGHT, synthetic.WIDTH)
    return cam, synthetic.render(cam) / 255.0, mask


@pytest.fixture(scope="module")
def baked(synthetic_photos):
    mesh, views = scene_mesh(), views_from(synthetic_photos, every=2)
    return mesh, views, texture.bake(mesh, views, size=512)


def test_texture_beats_vertex_colour_from_cameras_it_was_not_baked_from(baked):
    mesh, views, result = baked
    vertices = np.asarray(mesh.vertices)
    textured = appearance.Surface(vertices[result.vertex_map], result.faces, uvs=result.uvs.astype(float),
                                  image=result.image / 255.0)
    per_vertex = appearance.Surface(vertices, np.asarray(mesh.faces), colours=cleanup.vertex_colours(mesh, views))
    for angle in (0.3, 3.5):
        cam, photo, mask = held_out(angle)
        tex_error, tex_cover, _ = appearance.colour_error(textured, photo, cam.K, cam.R, cam.centre, mask, 800_000)
        vert_error, _, _ = appearance.colour_error(per_vertex, photo, cam.K, cam.R, cam.centre, mask, 800_000)
        print(f"held-out view at {angle} rad: texture error {tex_error:.4f}, vertex colour {vert_error:.4f}")
        assert tex_cover > 0.9
        assert tex_error < 0.06 and tex_error < 0.75 * vert_error


def test_each_face_takes_a_photo_that_sees_it(baked):
    mesh, views, result = baked
    assert (result.vertex_map[result.faces] == np.asarray(mesh.faces)).all()   # the atlas keeps face order
    seen = result.labels >= 0
    centroids = np.asarray(mesh.triangles_center)
    # every face but those turned to the ground (the box's underside, the sphere's lower half)
    assert seen[(centroids[:, 1] > 0.05) & (np.asarray(mesh.face_normals)[:, 1] > -0.2)].mean() > 0.99
    # the chosen photo faces the face: no texture from a camera behind it
    towards = np.array([views[j].centre for j in result.labels[seen]]) - centroids[seen]
    facing = (np.asarray(mesh.face_normals)[seen] * towards).sum(1) / np.linalg.norm(towards, axis=1)
    assert facing.min() > 0.1
    # label smoothing leaves charts of one photo, not a speckle
    pairs = mesh.face_adjacency
    assert (result.labels[pairs[:, 0]] == result.labels[pairs[:, 1]]).mean() > 0.75   # 1 in 12 by chance


def test_the_atlas_pieces_share_one_texture_without_overlapping():
    """The surface is unwrapped in pieces (gpu.texture.atlas): each keeps its faces and
    vertices, and their charts lie side by side in the one texture. Texels on an edge shared
    by two faces count twice; stacked pieces would make it most of them."""
    mesh = scene_mesh()
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    assert len(texture._pieces(vertices[faces].mean(1), np.arange(len(faces)), texture.ATLAS_PIECE_FACES)) > 2
    vertex_map, atlas_faces, uvs = texture.atlas(vertices, faces, 512)
    assert (vertex_map[atlas_faces] == faces).all()
    assert uvs.min() >= 0 and uvs.max() <= 1
    texels, _, _ = texture.rasterise(uvs[atlas_faces], 512)
    _, claims = np.unique(texels, return_counts=True)
    assert (claims > 1).mean() < 0.02


def test_the_textured_glb_imports_with_its_texture(baked, tmp_path):
    from dstudio_desktop.meshio import read_scene
    from gpu.pipeline import _glb

    mesh, _, result = baked
    path = tmp_path / "scan.glb"
    path.write_bytes(_glb(mesh, None, result, "scan"))
    scene = read_scene(path)
    (node, _), = scene.world_geometry()
    material = scene.material(node.material_id)
    assert material.base_color_texture is not None and material.metallic_factor == 0.0
    texture_data = scene.textures[material.base_color_texture.asset_id]
    assert texture_data.media_type == "image/jpeg"
    data = scene.meshes[node.asset_id]
    assert data.uvs is not None and data.colors is None and data.triangle_count == len(mesh.faces)
    assert 0 <= data.uvs.min() and data.uvs.max() <= 1


def test_photo_coordinates_follow_each_side_of_the_working_image(tmp_path):
    """A photo of 798 x 598 has a working image of 400 x 300 (each side rounded on its own): a
    point's pixel in the photo, from the working image's camera, is where the photo's own camera
    puts it, in the bottom rows too (the width's factor for both axes put them half a pixel off)."""
    K_photo = np.array([[700.0, 0.0, 399.0], [0.0, 700.0, 299.0], [0.0, 0.0, 1.0]])
    K_work = K_photo.copy()
    K_work[0] *= 400 / 798
    K_work[1] *= 300 / 598
    view = View("v", K_work, np.eye(3), np.zeros(3), np.zeros((300, 400, 3), np.float32), 0.1, 10.0)
    points = np.array([[0.0, 0.0, 2.0], [0.5, 0.8, 2.0], [-0.5, 0.84, 2.0]])   # the centre and two near the bottom
    xy, _ = texture._project(view, points, (598, 798))
    uv = points @ K_photo.T
    expected = uv[:, :2] / uv[:, 2:]
    assert expected[1:, 1].min() > 570
    assert np.abs(xy - expected).max() < 1e-6

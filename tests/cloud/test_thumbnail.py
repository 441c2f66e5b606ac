"""The worker's thumbnail renderer (numpy only): the object framed on a light background, lit,
in its own vertex colours, nearer surfaces hiding farther ones."""

from __future__ import annotations

import numpy as np
import trimesh

from dstudio_worker.thumbnail import BACKGROUND, render


def _coloured(mesh: trimesh.Trimesh, rgb: tuple[int, int, int]) -> trimesh.Trimesh:
    mesh.visual.vertex_colors = np.tile([*rgb, 255], (len(mesh.vertices), 1)).astype(np.uint8)
    return mesh


def test_the_object_is_framed_lit_and_in_its_colours():
    red = _coloured(trimesh.creation.icosphere(subdivisions=3, radius=1.0), (200, 30, 30))
    image = render(red, 128)
    assert image.shape == (128, 128, 3) and image.dtype == np.uint8
    assert (image[0, 0] == BACKGROUND).all() and (image[-1, -1] == BACKGROUND).all()
    drawn = np.abs(image.astype(int) - BACKGROUND).sum(axis=-1) > 30
    assert 0.2 < drawn.mean() < 0.8
    pixels = image[drawn].astype(int)
    assert (pixels[:, 0] > pixels[:, 1] + 40).mean() > 0.95   # red, however it is lit
    assert pixels[:, 0].std() > 5                              # and shaded, not flat


def test_a_nearer_surface_hides_a_farther_one():
    # a small green cube between the camera (three-quarter view from above) and a blue sphere
    towards_camera = np.array([1.0, 0.8, 1.2]) / np.linalg.norm([1.0, 0.8, 1.2])
    sphere = _coloured(trimesh.creation.icosphere(subdivisions=3, radius=1.0), (30, 30, 220))
    cube = _coloured(trimesh.creation.box((0.5, 0.5, 0.5)), (30, 220, 30))
    cube.apply_translation(towards_camera * 1.5)
    # the cube comes first in the mesh: drawn in order, the sphere behind would paint over it
    image = render(trimesh.util.concatenate([cube, sphere]), 128).astype(int)
    centre = image[58:70, 58:70].reshape(-1, 3)
    assert (centre[:, 1] > centre[:, 2] + 40).mean() > 0.9   # the cube, in front, everywhere at the centre
    blue = (image[:, :, 2] > image[:, :, 1] + 40).mean()
    assert blue > 0.1                                        # and the sphere around it

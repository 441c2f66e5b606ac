"""Reconstruction's surface colour: the baked texture against a colour per vertex, on the same
reconstructed mesh of the synthetic scene, scored by the mean sRGB error against held-out
renders (cameras between the photographed ones, at an elevation between the two rings).

    python benchmarks/recon_surface_bench.py [--quality draft|normal] [--texture 1024]

Prints the time of each stage (structure, dense, fusion and clean-up as the pipeline runs
them; the atlas and bake separately), the two errors and their ratio."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def held_out_cameras(count: int = 4):
    from gpu import synthetic

    K = synthetic.cameras()[0].K
    target = np.array([0.0, 0.3, 0.0])
    el = np.radians(32)
    for k, angle in enumerate(np.linspace(0.3, 0.3 + 2 * np.pi, count, endpoint=False)):
        centre = target + 2.6 * np.array([np.cos(el) * np.cos(angle), np.sin(el), np.cos(el) * np.sin(angle)])
        yield synthetic.Camera(f"held_{k}", K, synthetic.look_at(centre, target), centre)


def object_mask(cam) -> np.ndarray:
    from gpu import synthetic

    u, v = np.meshgrid(np.arange(synthetic.WIDTH) + 0.5, np.arange(synthetic.HEIGHT) + 0.5)
    dirs = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], 1) @ np.linalg.inv(cam.K).T @ cam.R
    _, kind, _ = synthetic._intersect(cam.centre, dirs / np.linalg.norm(dirs, axis=1, keepdims=True))
    return ((kind >= 0) & (kind <= 1)).reshape(synthetic.HEIGHT, synthetic.WIDTH)


def main(argv: list[str] | None = None) -> None:
    from dstudio_desktop.core.progress import no_progress
    from gpu import appearance, cleanup, dense, evaluate, fusion, photoset, region, sfm, synthetic, texture
    from gpu.pipeline import QUALITIES

    parser = argparse.ArgumentParser()
    parser.add_argument("--quality", default="draft", choices=list(QUALITIES))
    parser.add_argument("--texture", type=int, default=1024)
    args = parser.parse_args(argv if argv is not None else [])
    q = QUALITIES[args.quality]
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        synthetic.write_photo_set(photos)
        (photos / "ground_truth.json").unlink()
        start = time.perf_counter()
        checked = photoset.check_photos(photos)
        model = sfm.run(photos, checked.images, Path(tmp) / "work", max_image_size=q.max_image_size,
                        max_features=q.max_features, use_cuda=False, progress=no_progress, cancel=None)
        times["structure"] = time.perf_counter() - start
        start = time.perf_counter()
        box = region.find(model.views, model.points)
        views = dense.load_views([box.view(v) for v in model.views], box.lo, box.hi, box.apply(model.points),
                                 q.dense_side)
        depths = [dense.depth_map(views, i, planes=q.planes, window=q.window)[0] for i in range(len(views))]
        depths = [d * dense.consistent(views, depths, i, q.planes) for i, d in enumerate(depths)]
        times["dense"] = time.perf_counter() - start
        start = time.perf_counter()
        box = region.tighten(box, dense.points(views, depths))
        volume = fusion.fuse(views, depths, box.lo, box.hi, resolution=q.voxels, close_bottom=box.ground)
        mesh, _ = cleanup.remove_floaters(fusion.surface(volume))
        if box.ground:
            mesh = cleanup.stand_on_ground(mesh, float(box.lo[1]), 0.75 * volume.voxel)
        mesh = cleanup.decimate(mesh, q.faces)
        times["fusion+surface+cleanup"] = time.perf_counter() - start
        start = time.perf_counter()
        colours = cleanup.vertex_colours(mesh, views)
        times["vertex colour"] = time.perf_counter() - start
        start = time.perf_counter()
        texture.atlas(np.asarray(mesh.vertices), np.asarray(mesh.faces), args.texture)
        times["atlas alone"] = time.perf_counter() - start
        start = time.perf_counter()
        baked = texture.bake(mesh, views, args.texture)
        times["texture (atlas + bake)"] = time.perf_counter() - start

    names = [v.name.rsplit(".", 1)[0] for v in views]
    true = {c.name: c.centre for c in synthetic.cameras()}
    s, R, t = evaluate.similarity(np.array([v.centre for v in views]), np.array([true[n] for n in names]))
    vertices = np.asarray(mesh.vertices)
    textured = appearance.Surface(vertices[baked.vertex_map], baked.faces, uvs=baked.uvs.astype(float),
                                  image=baked.image / 255.0).transformed(s, R, t)
    per_vertex = appearance.Surface(vertices, np.asarray(mesh.faces), colours=colours).transformed(s, R, t)
    errors = []
    for cam in held_out_cameras():
        photo, mask = synthetic.render(cam) / 255.0, object_mask(cam)
        tex, _, _ = appearance.colour_error(textured, photo, cam.K, cam.R, cam.centre, mask)
        vert, _, _ = appearance.colour_error(per_vertex, photo, cam.K, cam.R, cam.centre, mask)
        errors.append((tex, vert))
    print(f"synthetic scene, {args.quality} geometry ({len(mesh.faces)} faces), texture {args.texture}^2:")
    for name, seconds in times.items():
        print(f"  {name:24s} {seconds:7.1f} s")
    tex, vert = np.mean(errors, axis=0)
    print(f"  held-out colour error (mean |sRGB|, {len(errors)} views): texture {tex:.4f}, vertex colour {vert:.4f}, "
          f"ratio {tex / vert:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])

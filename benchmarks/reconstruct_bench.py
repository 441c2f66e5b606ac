"""`dstudio reconstruct` on the 24-image synthetic scene (640x480), with COLMAP's own CLI
(Debian's `colmap`) running feature extraction, exhaustive matching and mapping on the same
images in the same run.

Prints the time per stage at each quality, the F-score at 3% of the object's size, and the
ratio of our structure-from-motion stage (pycolmap, the same algorithms) to COLMAP's CLI.
COLMAP's CLI stops at a sparse model; the rest of our time is the dense stages it has no
CPU path for (its PatchMatch stereo needs CUDA)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh

from gpu import evaluate, synthetic

QUALITIES = ("draft", "normal")


def _colmap(images: Path, work: Path) -> dict[str, float] | None:
    exe = shutil.which("colmap")
    if exe is None:
        return None
    db, sparse = work / "colmap.db", work / "colmap_sparse"
    sparse.mkdir(parents=True, exist_ok=True)
    steps = {
        "features": [exe, "feature_extractor", "--database_path", db, "--image_path", images,
                     "--ImageReader.single_camera", "1", "--ImageReader.camera_model", "SIMPLE_RADIAL",
                     "--SiftExtraction.use_gpu", "0"],
        "matching": [exe, "exhaustive_matcher", "--database_path", db, "--SiftMatching.use_gpu", "0"],
        "mapping": [exe, "mapper", "--database_path", db, "--image_path", images, "--output_path", sparse],
    }
    times = {}
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for name, cmd in steps.items():
        start = time.perf_counter()
        subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env)
        times[name] = time.perf_counter() - start
    times["total"] = sum(times.values())
    return times


def _f_score(glb: Path, report: dict) -> float:
    mesh = trimesh.load(glb, force="mesh")
    samples, _ = trimesh.sample.sample_surface(mesh, 40000, seed=1)
    truth = synthetic.surface_samples(60000)
    seen = synthetic.views_seeing(truth, synthetic.cameras()) >= 2
    centres = np.array([i["center"] for i in report["images"]])
    true_centres = np.array([c.centre for c in synthetic.cameras()])
    return evaluate.score(np.asarray(samples), truth, centres, true_centres, 0.03 * synthetic.object_size(),
                          seen).f_score


def main() -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images = tmp / "photos"
        synthetic.write_photo_set(images)
        (images / "ground_truth.json").unlink()
        for quality in QUALITIES:
            out, report_path = tmp / f"{quality}.glb", tmp / f"{quality}.json"
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "dstudio_desktop", "reconstruct", str(images), "-o", str(out),
                            "--report", str(report_path), "--quality", quality], check=True,
                           stdout=subprocess.DEVNULL, env={**os.environ, "DSTUDIO_HOME": str(tmp / "home")})
            wall = time.perf_counter() - start
            report = json.loads(report_path.read_text())
            results[quality] = {"wall_s": wall, "timings": report["timings"], "faces": report["faces"],
                                "f_score": _f_score(out, report)}
        results["colmap"] = _colmap(images, tmp)

    print("Reconstruction of the synthetic scene: 24 images, 640x480, CPU (2 cores)")
    stages = list(results[QUALITIES[0]]["timings"])
    print(f"{'stage':10s}" + "".join(f"{q:>10s}" for q in QUALITIES))
    for stage in stages:
        print(f"{stage:10s}" + "".join(f"{results[q]['timings'][stage]:9.1f}s" for q in QUALITIES))
    print(f"{'wall':10s}" + "".join(f"{results[q]['wall_s']:9.1f}s" for q in QUALITIES)
          + "   (the whole CLI: start-up, worker, every stage)")
    print(f"{'triangles':10s}" + "".join(f"{results[q]['faces']:10d}" for q in QUALITIES))
    print(f"{'F-score':10s}" + "".join(f"{results[q]['f_score']:10.3f}" for q in QUALITIES) + "   (at 3% of size)")
    colmap = results["colmap"]
    if colmap is None:
        print("COLMAP CLI not found (apt-get install colmap); no peer figure")
    else:
        ours = results["normal"]["timings"]["structure"]
        print(f"COLMAP CLI: features {colmap['features']:.1f} s, matching {colmap['matching']:.1f} s, "
              f"mapping {colmap['mapping']:.1f} s, total {colmap['total']:.1f} s")
        print(f"our structure stage (normal) / COLMAP CLI sparse: {ours / colmap['total']:.2f}x; "
              f"our whole normal run / COLMAP sparse: {results['normal']['wall_s'] / colmap['total']:.2f}x")
    return results


if __name__ == "__main__":
    main()
